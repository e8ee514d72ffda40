// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace sitelink::net {

std::string_view to_string(ErrorKind k) noexcept
{
  switch (k) {
  case ErrorKind::NotFound: return "not found";
  case ErrorKind::Refused: return "connection refused";
  case ErrorKind::Permission: return "permission denied";
  case ErrorKind::Timeout: return "timed out";
  case ErrorKind::Closed: return "connection closed";
  case ErrorKind::TooLarge: return "reply too large";
  case ErrorKind::Protocol: return "protocol error";
  case ErrorKind::Other: break;
  }
  return "error";
}

TimePoint deadline_in(std::chrono::milliseconds budget) noexcept
{
  return std::chrono::steady_clock::now() + budget;
}

namespace {

IoError from_errno(int err, const std::string& what)
{
  IoError e;
  e.err = err;
  e.message = what + ": " + std::strerror(err);
  switch (err) {
  case ENOENT:
  case ENOTDIR: e.kind = ErrorKind::NotFound; break;
  case ECONNREFUSED: e.kind = ErrorKind::Refused; break;
  case EACCES:
  case EPERM: e.kind = ErrorKind::Permission; break;
  case ETIMEDOUT: e.kind = ErrorKind::Timeout; break;
  case ECONNRESET:
  case EPIPE: e.kind = ErrorKind::Closed; break;
  default: e.kind = ErrorKind::Other; break;
  }
  return e;
}

IoError timeout_error(const std::string& what)
{
  return IoError{ErrorKind::Timeout, ETIMEDOUT, what + ": no answer before the deadline"};
}

// Milliseconds left for poll(); 0 once the deadline has passed.
int ms_left(TimePoint deadline) noexcept
{
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<long long>(left.count(), 1'000'000));
}

// Waits for `events` on fd; false on timeout. EINTR (the watchdog's alarm,
// which ends the process anyway) just retries with the time left.
tl::expected<bool, IoError> wait_for(int fd, short events, TimePoint deadline, const char* what)
{
  for (;;) {
    int ms = ms_left(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(from_errno(errno, what));
    }
    if (r == 0) continue; // re-check the clock: poll may wake early
    return true;
  }
}

int socket_error(int fd)
{
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
  return err;
}

class FdGuard {
public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard()
  {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() noexcept
  {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  int get() const noexcept { return fd_; }

private:
  int fd_;
};

} // namespace

tl::expected<Socket, IoError> Socket::connect_unix(const std::string& path_in, TimePoint deadline)
{
  std::string path = path_in;
  if (path.rfind("unix://", 0) == 0) path = path.substr(7);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return tl::unexpected(IoError{ErrorKind::Other, ENAMETOOLONG, "socket path '" + path + "' is empty or too long"});
  std::memcpy(addr.sun_path, path.data(), path.size());
  FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return tl::unexpected(from_errno(errno, "socket()"));
  const std::string what = "connect to " + path;
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
    int err = errno;
    if (err == EINTR) continue;
    // A full listen backlog: Linux answers EAGAIN for non-blocking unix
    // sockets instead of queueing, so retry briefly until the deadline.
    if (err == EAGAIN) {
      if (ms_left(deadline) == 0) return tl::unexpected(timeout_error(what));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (err == EINPROGRESS) {
      auto ready = wait_for(fd.get(), POLLOUT, deadline, what.c_str());
      if (!ready) return tl::unexpected(ready.error());
      if (!*ready) return tl::unexpected(timeout_error(what));
      int se = socket_error(fd.get());
      if (se != 0) return tl::unexpected(from_errno(se, what));
      break;
    }
    return tl::unexpected(from_errno(err, what));
  }
  return Socket(fd.release(), deadline);
}

tl::expected<Socket, IoError> Socket::connect_tcp(const std::string& host, const std::string& port, TimePoint deadline)
{
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  if (gai != 0)
    return tl::unexpected(IoError{ErrorKind::NotFound, 0, "cannot resolve " + host + ": " + ::gai_strerror(gai)});
  IoError last{ErrorKind::Other, 0, "no address for " + host};
  const std::string what = "connect to " + host + " port " + port;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    FdGuard fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (fd.get() < 0) {
      last = from_errno(errno, "socket()");
      continue;
    }
    int r = ::connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (r != 0 && errno != EINPROGRESS) {
      last = from_errno(errno, what);
      continue;
    }
    if (r != 0) {
      auto ready = wait_for(fd.get(), POLLOUT, deadline, what.c_str());
      if (!ready) {
        last = ready.error();
        continue;
      }
      if (!*ready) {
        last = timeout_error(what);
        break; // no time left for another address
      }
      int se = socket_error(fd.get());
      if (se != 0) {
        last = from_errno(se, what);
        continue;
      }
    }
    ::freeaddrinfo(res);
    return Socket(fd.release(), deadline);
  }
  ::freeaddrinfo(res);
  return tl::unexpected(last);
}

Socket::Socket(Socket&& o) noexcept : fd_(o.fd_), deadline_(o.deadline_)
{
  o.fd_ = -1;
}

Socket& Socket::operator=(Socket&& o) noexcept
{
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    deadline_ = o.deadline_;
    o.fd_ = -1;
  }
  return *this;
}

Socket::~Socket()
{
  if (fd_ >= 0) ::close(fd_);
}

tl::expected<std::size_t, IoError> Socket::read_some(char* buf, std::size_t len)
{
  for (;;) {
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) return tl::unexpected(IoError{ErrorKind::Closed, 0, "the peer closed the connection"});
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return tl::unexpected(from_errno(errno, "read"));
    auto ready = wait_for(fd_, POLLIN, deadline_, "read");
    if (!ready) return tl::unexpected(ready.error());
    if (!*ready) return tl::unexpected(timeout_error("read"));
  }
}

tl::expected<void, IoError> Socket::write_all(std::string_view data)
{
  while (!data.empty()) {
    // MSG_NOSIGNAL: a peer that went away is an error here, not a SIGPIPE.
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return tl::unexpected(from_errno(errno, "write"));
    auto ready = wait_for(fd_, POLLOUT, deadline_, "write");
    if (!ready) return tl::unexpected(ready.error());
    if (!*ready) return tl::unexpected(timeout_error("write"));
  }
  return {};
}

tl::expected<void, IoError> read_exact(Stream& s, char* buf, std::size_t len)
{
  std::size_t have = 0;
  while (have < len) {
    auto n = s.read_some(buf + have, len - have);
    if (!n) return tl::unexpected(n.error());
    have += *n;
  }
  return {};
}

tl::expected<void, IoError> LineReader::fill()
{
  char chunk[4096];
  auto n = s_.read_some(chunk, sizeof chunk);
  if (!n) return tl::unexpected(n.error());
  buf_.append(chunk, *n);
  return {};
}

tl::expected<std::string, IoError> LineReader::next()
{
  for (;;) {
    auto nl = buf_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buf_.size() > max_line_)
      return tl::unexpected(
          IoError{ErrorKind::TooLarge, 0, "a reply line is longer than " + std::to_string(max_line_) + " bytes"});
    auto f = fill();
    if (!f) return tl::unexpected(f.error());
  }
}

} // namespace sitelink::net
