// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Helpers shared by the libFuzzer harnesses: the shared fake Stream that
// replays the fuzz input as a daemon's reply, input splitting, the invariants every
// rendered result must keep whatever the input was, and the secrets that must
// never reach it.

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

// Values of the JSON member `member` (e.g. "psk") that are at least 16
// characters long, hold no backslash or space, and occur nowhere else in
// `body` (nor in its sanitized form): a harness fails when one of them
// reaches the output, because only the secret itself could have put it there.
inline std::vector<std::string> secret_values(std::string_view body, std::string_view member)
{
  std::vector<std::string> keys;
  std::string rest(body);
  const std::string tag = "\"" + std::string(member) + "\"";
  for (std::size_t p = 0; (p = rest.find(tag, p)) != std::string::npos;) {
    p += tag.size();
    auto q1 = rest.find_first_not_of(" \t\r\n:", p);
    if (q1 == std::string::npos || rest[q1] != '"') continue;
    auto q2 = rest.find('"', q1 + 1);
    if (q2 == std::string::npos) break;
    if (q2 - q1 - 1 >= 16) keys.push_back(rest.substr(q1 + 1, q2 - q1 - 1));
    rest.erase(q1 + 1, q2 - q1 - 1);
  }
  std::vector<std::string> out;
  for (auto& k : keys)
    if (k.find_first_of("\\ ") == std::string::npos && rest.find(k) == std::string::npos &&
        sanitize(rest).find(k) == std::string::npos)
      out.push_back(std::move(k));
  return out;
}

} // namespace sitelink::fuzz
