// SPDX-License-Identifier: GPL-2.0-or-later
#include "thresholds.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "sitelink/number.hpp"

namespace sitelink::ping {

namespace {

bool ends_with(std::string_view s, std::string_view suffix)
{
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Unsigned decimal, no sign, no exponent, whole string.
tl::expected<double, std::string> plain_number(std::string_view text)
{
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text.front())) != 0 || text.front() == '.'))
    return tl::unexpected(std::string("not a number"));
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v))
    return tl::unexpected(std::string("not a number"));
  return v;
}

std::string_view trim(std::string_view s)
{
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

} // namespace

tl::expected<ModeLimits, std::string> parse_mode_limits(std::string_view text)
{
  auto one = [](std::string_view part) -> tl::expected<double, std::string> {
    part = trim(part);
    if (ends_with(part, "ms")) part.remove_suffix(2);
    else if (ends_with(part, "m") || ends_with(part, "%")) part.remove_suffix(1);
    return plain_number(part);
  };
  const auto bad = [&] {
    return tl::unexpected(fmt::format("invalid thresholds '{}': expected WARN[,CRIT], e.g. 40,50 or 3.5,3", text));
  };
  const auto comma = text.find(',');
  auto warn = one(text.substr(0, comma));
  if (!warn) return bad();
  ModeLimits m;
  m.warn = *warn;
  if (comma != std::string_view::npos) {
    auto crit = one(text.substr(comma + 1));
    if (!crit) return bad();
    m.crit = *crit;
  }
  return m;
}

tl::expected<double, std::string> parse_duration_ms(std::string_view text)
{
  double scale = 1;
  std::string_view num = text;
  if (ends_with(num, "us")) {
    scale = 0.001;
    num.remove_suffix(2);
  } else if (ends_with(num, "ms")) {
    num.remove_suffix(2);
  } else if (ends_with(num, "s")) {
    scale = 1000;
    num.remove_suffix(1);
  }
  auto v = plain_number(num);
  // The scale can overflow a finite number to infinity (a 308-digit "s").
  if (!v || !std::isfinite(*v * scale))
    return tl::unexpected(
        fmt::format("invalid duration '{}': expected a number with an optional us, ms or s suffix", text));
  return *v * scale;
}

tl::expected<Thresholds, std::string> parse_thresholds(std::string_view text)
{
  auto bad = [&](std::string_view why) {
    return tl::unexpected(fmt::format("invalid threshold '{}' ({}): expected RTA,PL% such as 200ms,20%", text, why));
  };
  auto comma = text.find(',');
  if (comma == std::string_view::npos) return bad("missing the packet loss part");
  auto rta_text = text.substr(0, comma);
  auto pl_text = text.substr(comma + 1);
  if (rta_text.empty()) return bad("empty round-trip part");
  if (pl_text.empty()) return bad("empty packet loss part");
  auto rta = parse_duration_ms(rta_text);
  if (!rta) return bad("bad round-trip time");
  if (ends_with(pl_text, "%")) pl_text.remove_suffix(1);
  auto pl = plain_number(pl_text);
  if (!pl) return bad("bad packet loss");
  if (*pl > 100) return bad("packet loss above 100%");
  return Thresholds{*rta, *pl};
}

tl::expected<void, std::string> check_order(const Thresholds& warn, const Thresholds& crit)
{
  if (warn.rta_ms > crit.rta_ms)
    return tl::unexpected(fmt::format("warning round-trip {} ms is above critical {} ms", format_number(warn.rta_ms),
                                      format_number(crit.rta_ms)));
  if (warn.pl > crit.pl)
    return tl::unexpected(
        fmt::format("warning packet loss {}% is above critical {}%", format_number(warn.pl), format_number(crit.pl)));
  return {};
}

tl::expected<std::vector<std::string>, std::string> split_hosts(const std::vector<std::string>& values)
{
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& value : values) {
    std::string_view rest = value;
    while (true) {
      auto comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      if (item.size() >= 2 && item.front() == '[' && item.back() == ']') item = item.substr(1, item.size() - 2);
      if (item.empty()) return tl::unexpected(fmt::format("empty host name in '{}'", value));
      if (item.size() > 253) return tl::unexpected(fmt::format("host name too long ({} characters)", item.size()));
      std::string host(item);
      if (seen.insert(host).second) out.push_back(std::move(host));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

} // namespace sitelink::ping
