// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/range.hpp"

namespace sitelink {

enum class Uom { None, Seconds, Milliseconds, Microseconds, Percent, Bytes, KB, MB, GB, TB, Counter };

std::string_view to_string(Uom u) noexcept;

// One performance data item: label=value[UOM];[warn];[crit];[min];[max]
struct Perfdatum {
  std::string label;
  std::optional<double> value; // nullopt: could not be measured, rendered "U"
  Uom uom = Uom::None;
  std::optional<Range> warn;
  std::optional<Range> crit;
  std::optional<double> min;
  std::optional<double> max;

  std::string render() const;
};

// The label with ' and = turned into _, control characters and '|' dropped
// and invalid UTF-8 replaced; quoted unless that final label is [A-Za-z0-9_]+.
std::string format_label(std::string_view label);

// Items separated by one space.
std::string render_perfdata(const std::vector<Perfdatum>& items);

} // namespace sitelink
