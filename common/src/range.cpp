// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/range.hpp"

#include <cmath>

#include "sitelink/number.hpp"

namespace sitelink {

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
}

tl::expected<Range, std::string> Range::parse(std::string_view text)
{
  Range r;
  std::string_view t = text;
  if (t.empty()) return tl::unexpected(std::string("empty range"));
  if (t.front() == '@') {
    r.inside = true;
    t.remove_prefix(1);
    if (t.empty()) return tl::unexpected(std::string("'@' without a range"));
  }
  auto colon = t.find(':');
  if (colon == std::string_view::npos) {
    auto v = parse_number(t);
    if (!v) return tl::unexpected("malformed range '" + std::string(text) + "'");
    r.start = 0;
    r.end = *v;
  } else {
    auto s = t.substr(0, colon);
    auto e = t.substr(colon + 1);
    if (e.find(':') != std::string_view::npos)
      return tl::unexpected("malformed range '" + std::string(text) + "': more than one ':'");
    if (s == "~") {
      r.start = -inf;
    } else if (s.empty()) {
      return tl::unexpected("malformed range '" + std::string(text) + "': missing start (use ~ for minus infinity)");
    } else {
      auto v = parse_number(s);
      if (!v) return tl::unexpected("malformed range '" + std::string(text) + "': bad start");
      r.start = *v;
    }
    if (e.empty()) {
      r.end = inf;
    } else {
      auto v = parse_number(e);
      if (!v) return tl::unexpected("malformed range '" + std::string(text) + "': bad end");
      r.end = *v;
    }
  }
  if (r.start > r.end)
    return tl::unexpected("malformed range '" + std::string(text) + "': start is greater than end");
  return r;
}

bool Range::alerts(double value) const noexcept
{
  bool within = value >= start && value <= end;
  return inside ? within : !within;
}

std::string Range::perfdata_form() const
{
  // ~:N with a negative N has no plain form: "-1" would read back as 0:-1.
  if (!inside && std::isfinite(end) && (start == 0 || (start == -inf && end >= 0))) return format_number(end);
  std::string out = inside ? "@" : "";
  out += std::isinf(start) ? std::string("~") : format_number(start);
  out += ':';
  if (std::isfinite(end)) out += format_number(end);
  return out;
}

std::string Range::describe() const
{
  const std::string s = std::isinf(start) ? "-inf" : format_number(start);
  const std::string e = format_number(end);
  if (inside) {
    if (std::isinf(start) && std::isinf(end)) return "always";
    if (std::isinf(end)) return "at or above " + s;
    if (std::isinf(start)) return "at or below " + e;
    return "inside " + s + ".." + e;
  }
  if (std::isinf(start) && std::isinf(end)) return "never";
  if (std::isinf(end)) return "below " + s;
  if (std::isinf(start)) return "above " + e;
  if (start == 0) return "above " + e; // values below 0 do not occur for our metrics
  return "outside " + s + ".." + e;
}

} // namespace sitelink
