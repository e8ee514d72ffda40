// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Helpers shared by the libFuzzer harnesses: a Stream that replays the fuzz
// input as a daemon's reply, input splitting, and the invariants every
// rendered result must keep whatever the input was.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/output.hpp"
#include "sitelink/result.hpp"
#include "sitelink/socket.hpp"

namespace sitelink::fuzz {

// Aborts with a message, so libFuzzer records the input as a crash.
[[noreturn]] inline void fail(const char* what, std::string_view detail = {})
{
  std::fprintf(stderr, "fuzz invariant broken: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

inline std::string_view as_view(const std::uint8_t* data, std::size_t size)
{
  return {reinterpret_cast<const char*>(data), size};
}

// A peer that sends `reply` in chunks of `chunk` bytes and then either closes
// or goes silent (reported as a timeout, as a real deadline would). Writes are
// kept up to a cap, so a client that loops on writing is noticed as a hang by
// libFuzzer rather than as memory growth.
class ReplayStream final : public net::Stream {
public:
  ReplayStream(std::string_view reply, std::size_t chunk, bool close_at_end)
      : reply_(reply), chunk_(std::max<std::size_t>(chunk, 1)), close_at_end_(close_at_end)
  {
  }
  tl::expected<std::size_t, net::IoError> read_some(char* buf, std::size_t len) override
  {
    if (pos_ >= reply_.size()) {
      if (close_at_end_) return tl::unexpected(net::IoError{net::ErrorKind::Closed, 0, "closed"});
      return tl::unexpected(net::IoError{net::ErrorKind::Timeout, 0, "timed out"});
    }
    std::size_t n = std::min({len, chunk_, reply_.size() - pos_});
    std::copy_n(reply_.data() + pos_, n, buf);
    pos_ += n;
    return n;
  }
  tl::expected<void, net::IoError> write_all(std::string_view data) override
  {
    if (written.size() + data.size() > (1u << 20)) fail("client wrote more than 1 MiB to a peer");
    written.append(data);
    return {};
  }
  std::string written;

private:
  std::string_view reply_;
  std::size_t pos_ = 0;
  std::size_t chunk_;
  bool close_at_end_;
};

// Up to `max_parts` pieces separated by `sep`; the last piece keeps the rest.
inline std::vector<std::string_view> split(std::string_view s, char sep, std::size_t max_parts)
{
  std::vector<std::string_view> out;
  while (out.size() + 1 < max_parts) {
    auto p = s.find(sep);
    if (p == std::string_view::npos) break;
    out.push_back(s.substr(0, p));
    s.remove_prefix(p + 1);
  }
  out.push_back(s);
  return out;
}

// Renders `r` the way the runtime does and checks the output conventions
// that hold for any input: a valid state, line 1 starts with the service
// tag, no control characters but the line breaks, and the 8 KiB cap (which
// only line 1 may exceed).
inline std::string render_checked(std::string_view service, const Result& r,
                                  const std::vector<std::string>& runbook_lines = {})
{
  if (static_cast<int>(r.state) < 0 || static_cast<int>(r.state) > 3) fail("state out of range");
  std::string out = render(service, r, runbook_lines);
  if (out.compare(0, service.size(), service) != 0) fail("line 1 does not start with the service", out);
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\n') || u == 0x7f) fail("control character in the output", out);
  }
  auto nl = out.find('\n');
  std::size_t first = nl == std::string::npos ? out.size() : nl;
  if (out.size() > max_output_size && out.size() > first + 1) fail("output over 8 KiB beyond line 1", out);
  std::string_view line1(out.data(), first);
  auto bar = line1.find('|');
  if (bar != std::string_view::npos && line1.find('|', bar + 1) != std::string_view::npos)
    fail("more than one '|' on line 1", line1);
  return out;
}

} // namespace sitelink::fuzz
