// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Helpers shared by the libFuzzer harnesses: the shared fake Stream that
// replays the fuzz input as a daemon's reply, input splitting, and the invariants every
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

#include "fake_stream.hpp"

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

// A peer that replays the fuzz input as its reply (tests/support/fake_stream.hpp).
using ReplayStream = test::FakeStream;

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
