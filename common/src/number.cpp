// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/number.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace sitelink {

tl::expected<double, std::string> parse_number(std::string_view text)
{
  if (text.empty()) return tl::unexpected(std::string("empty number"));
  std::string_view t = text;
  if (t.front() == '+') t.remove_prefix(1);
  if (t.empty() || !(std::isdigit(static_cast<unsigned char>(t.front())) || t.front() == '-' || t.front() == '.'))
    return tl::unexpected("not a number: '" + std::string(text) + "'");
  double value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(value))
    return tl::unexpected("not a number: '" + std::string(text) + "'");
  return value;
}

std::string format_number(double value)
{
  if (!std::isfinite(value)) return "U";
  if (value == 0) return "0"; // also folds -0
  std::array<char, 400> buf{};
  auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  if (ec != std::errc()) return "U";
  return std::string(buf.data(), ptr);
}

} // namespace sitelink
