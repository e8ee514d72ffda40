// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/range.hpp"

#include <cmath>

#include "sitelink/number.hpp"

namespace sitelink {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// One end of a range: a number with an optional trailing '%', which the
// Monitoring Plugins ignore ("1:12%" is 1:12), so it is ignored here too.
tl::expected<double, std::string> parse_end(std::string_view text)
{
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  return parse_number(text);
}

tl::expected<Range, std::string> malformed(std::string_view text, std::string_view why)
{
  std::string message = "malformed range '" + std::string(text) + "'";
  if (!why.empty()) message += ": " + std::string(why);
  return tl::unexpected(message);
}

} // namespace

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
    auto v = parse_end(t);
    if (!v) return malformed(text, "");
    r.end = *v;
    return r.start > r.end ? malformed(text, "start is greater than end") : tl::expected<Range, std::string>(r);
  }
  auto s = t.substr(0, colon);
  auto e = t.substr(colon + 1);
  if (e.find(':') != std::string_view::npos) return malformed(text, "more than one ':'");
  // An empty start is 0 (":5.75" is 0:5.75, as in the Monitoring Plugins);
  // a lone ':' gives neither end and stays an error.
  if (s.empty() && e.empty()) return malformed(text, "no start and no end");
  if (s == "~") {
    r.start = -inf;
  } else if (!s.empty()) {
    auto v = parse_end(s);
    if (!v) return malformed(text, "bad start");
    r.start = *v;
  }
  if (!e.empty()) {
    auto v = parse_end(e);
    if (!v) return malformed(text, "bad end");
    r.end = *v;
  }
  if (r.start > r.end) return malformed(text, "start is greater than end");
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
