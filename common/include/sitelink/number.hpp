// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sitelink {

// Parses a decimal number; the whole string must be consumed. Locale-free
// (std::from_chars). Rejects empty input, "nan", "inf" and trailing junk.
tl::expected<double, std::string> parse_number(std::string_view text);

// Shortest exact decimal form in the C locale, '.' as decimal point and never
// an exponent: 0.0000001, 100, -95.99. Non-finite values give "U".
std::string format_number(double value);

} // namespace sitelink
