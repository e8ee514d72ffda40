// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <limits>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sitelink {

// A Nagios threshold range, "[@]start:end", both ends inclusive. "~" is minus
// infinity, a missing end is plus infinity, a missing start is 0 (":N"), a
// lone number N means 0:N, and a '%' after a number is ignored ("1:12%"), as
// in the Monitoring Plugins' parser. Unlike theirs, text that is not a number
// ("abc", "1:~") is an error instead of 0.
struct Range {
  double start = 0;
  double end = std::numeric_limits<double>::infinity();
  bool inside = false; // '@': alert when the value is inside

  static tl::expected<Range, std::string> parse(std::string_view text);

  // True when the value is one the range alerts on.
  bool alerts(double value) const noexcept;

  // The form echoed in perfdata threshold fields: a plain upper bound (10,
  // ~:10, 0:10) is a plain number because Icinga 2 drops range syntax there;
  // anything else is the normalised range.
  std::string perfdata_form() const;

  // Human description of what alerts, e.g. "above 900", "below 2",
  // "outside 10..20", "inside 10..20".
  std::string describe() const;

  bool operator==(const Range& o) const noexcept { return start == o.start && end == o.end && inside == o.inside; }
};

// Boost.Program_options validator hook (found by ADL), so a bad -w/-c is a
// usage error naming the option.
} // namespace sitelink
