// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/result.hpp"

namespace sitelink {

constexpr std::size_t max_output_size = 8192;

// Text from outside: '|' becomes a space, control characters (newlines
// included) are removed, and invalid UTF-8 becomes U+FFFD (valid_utf8), so
// the output is valid UTF-8 whatever a peer sent.
std::string sanitize(std::string_view text);

// Like sanitize, and cut to at most `max` bytes (with "..." when cut).
std::string sanitize_quote(std::string_view text, std::size_t max);

// Line 1 "<SERVICE> <STATE> - <summary>[ | <perfdata>]", the long output, then
// `runbook_lines` (already empty for OK). The whole text is capped at
// max_output_size: long output is cut first (with a marker line); when line 1
// alone would pass the cap, whole perfdata items are dropped from its end
// (with a marker line); the state and summary are never cut.
std::string render(std::string_view service, const Result& result, const std::vector<std::string>& runbook_lines,
                   std::size_t cap = max_output_size);

} // namespace sitelink
