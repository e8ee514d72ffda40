// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/state.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace sitelink {

int severity(State s) noexcept
{
  switch (s) {
  case State::Ok: return 0;
  case State::Unknown: return 1;
  case State::Warning: return 2;
  case State::Critical: return 3;
  }
  return 1;
}

State worst(State a, State b) noexcept
{
  return severity(a) >= severity(b) ? a : b;
}

std::string_view to_string(State s) noexcept
{
  switch (s) {
  case State::Ok: return "OK";
  case State::Warning: return "WARNING";
  case State::Critical: return "CRITICAL";
  case State::Unknown: return "UNKNOWN";
  }
  return "UNKNOWN";
}

int exit_code(State s) noexcept
{
  return static_cast<int>(s);
}

std::optional<State> parse_state(std::string_view text)
{
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "ok" || t == "0") return State::Ok;
  if (t == "warning" || t == "1") return State::Warning;
  if (t == "critical" || t == "2") return State::Critical;
  if (t == "unknown" || t == "3") return State::Unknown;
  return std::nullopt;
}

} // namespace sitelink
