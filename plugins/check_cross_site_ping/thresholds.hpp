// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Command-line values of check_cross_site_ping that are not Nagios ranges:
// check_icmp-style "RTA,PL%" thresholds, durations with a unit suffix and
// host lists. All parsing is strict: the whole text must be consumed.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace sitelink::ping {

// Round-trip average in milliseconds and packet loss in percent; a value at
// or above either one alerts.
struct Thresholds {
  double rta_ms = 0;
  double pl = 0;
  bool operator==(const Thresholds& o) const noexcept { return rta_ms == o.rta_ms && pl == o.pl; }
};

// "500us", "0.5ms", "0.5" (milliseconds when no suffix), "1s" -> milliseconds.
// Negative, empty and non-finite values are refused.
tl::expected<double, std::string> parse_duration_ms(std::string_view text);

// "RTA,PL%" (the % is optional), e.g. "200,20%", "1.5ms,5%", "2s,100".
// Both parts are required: check_icmp silently drops a part it cannot read,
// which is how "5,20%" ends up without its loss limit there.
tl::expected<Thresholds, std::string> parse_thresholds(std::string_view text);

// check_icmp's mode thresholds (-R, -P, -J, -M, -S): "WARN[,CRIT]", each
// number optionally followed by "ms", "m" or "%" (check_icmp drops those
// characters in every mode). Without ",CRIT" only the warning limit is
// given and the critical one keeps its default, as in check_icmp.
struct ModeLimits {
  double warn = 0;
  std::optional<double> crit;
};
tl::expected<ModeLimits, std::string> parse_mode_limits(std::string_view text);

// Checks that warning does not exceed critical in either part.
tl::expected<void, std::string> check_order(const Thresholds& warn, const Thresholds& crit);

// Flattens repeated -H values that may hold comma-separated lists, trims
// blanks, strips [brackets] around IPv6 literals and drops repeats (the
// first occurrence wins, so perfdata labels stay unique).
tl::expected<std::vector<std::string>, std::string> split_hosts(const std::vector<std::string>& values);

} // namespace sitelink::ping
