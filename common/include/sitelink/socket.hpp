// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Stream sockets whose every blocking step ends at a deadline.
//
// A control socket that accepts and never answers, or a TCP peer whose packets
// are silently dropped, must not hold a check past its budget. So connect,
// read and write here are non-blocking calls driven by poll() with the time
// left until an absolute deadline (taken from the check's Deadline), and the
// line reader caps how much it buffers so an endless stream cannot grow
// memory without bound.
//
// Protocol code talks to the Stream interface, so it is unit-tested against
// in-memory fakes.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sitelink::net {

using TimePoint = std::chrono::steady_clock::time_point;

enum class ErrorKind {
  NotFound,   // no socket at that path / name does not resolve
  Refused,    // nobody listening
  Permission, // EACCES/EPERM on the socket
  Timeout,    // the deadline passed
  Closed,     // the peer closed before the reply was complete
  TooLarge,   // the reply exceeded a size cap
  Protocol,   // the reply did not follow the protocol
  Other,
};

struct IoError {
  ErrorKind kind = ErrorKind::Other;
  int err = 0; // errno where one applies
  std::string message;
};

std::string_view to_string(ErrorKind k) noexcept;

class Stream {
public:
  virtual ~Stream() = default;
  // Reads at least one byte (or reports Closed/Timeout/...).
  virtual tl::expected<std::size_t, IoError> read_some(char* buf, std::size_t len) = 0;
  virtual tl::expected<void, IoError> write_all(std::string_view data) = 0;
};

class Socket final : public Stream {
public:
  // A path, or "unix://PATH". Errors: NotFound, Refused, Permission, Timeout.
  static tl::expected<Socket, IoError> connect_unix(const std::string& path, TimePoint deadline);
  // HOST:PORT or [V6]:PORT. Name resolution is the only step poll() cannot
  // bound; the watchdog covers it.
  static tl::expected<Socket, IoError> connect_tcp(const std::string& host, const std::string& port,
                                                   TimePoint deadline);

  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() override;

  void set_deadline(TimePoint d) noexcept { deadline_ = d; }
  TimePoint deadline() const noexcept { return deadline_; }
  tl::expected<std::size_t, IoError> read_some(char* buf, std::size_t len) override;
  tl::expected<void, IoError> write_all(std::string_view data) override;

private:
  Socket(int fd, TimePoint deadline) : fd_(fd), deadline_(deadline) {}
  int fd_ = -1;
  TimePoint deadline_;
};

// Reads exactly `len` bytes.
tl::expected<void, IoError> read_exact(Stream& s, char* buf, std::size_t len);

// Splits a stream into lines ("\n", a trailing "\r" removed), never holding
// more than `max_line` bytes of one line.
class LineReader {
public:
  explicit LineReader(Stream& s, std::size_t max_line = 64 * 1024) : s_(s), max_line_(max_line) {}
  tl::expected<std::string, IoError> next();
  // Bytes received but not yet returned as a line (for prompts without a
  // newline, such as a password prompt).
  const std::string& pending() const noexcept { return buf_; }
  // Reads more into the pending buffer (at least one byte).
  tl::expected<void, IoError> fill();
  // Drops the first `n` pending bytes (a prompt that was handled).
  void consume(std::size_t n) noexcept { buf_.erase(0, n); }

private:
  Stream& s_;
  std::size_t max_line_;
  std::string buf_;
};

// An absolute deadline `budget` from now.
TimePoint deadline_in(std::chrono::milliseconds budget) noexcept;

} // namespace sitelink::net
