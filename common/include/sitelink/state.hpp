// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string_view>

namespace sitelink {

// Exit codes of the Nagios plugin API. Nothing else is ever returned.
enum class State { Ok = 0, Warning = 1, Critical = 2, Unknown = 3 };

// Severity used for aggregation: CRITICAL > WARNING > UNKNOWN > OK, so an
// UNKNOWN part never hides a CRITICAL one.
int severity(State s) noexcept;
State worst(State a, State b) noexcept;

std::string_view to_string(State s) noexcept;
int exit_code(State s) noexcept;

// "ok", "warning", "critical", "unknown" (any case) or "0".."3".
std::optional<State> parse_state(std::string_view text);

} // namespace sitelink
