// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/output.hpp"

#include <fmt/format.h>

#include "sitelink/utf8.hpp"

namespace sitelink {

std::string sanitize(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : valid_utf8(text)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '|') out += ' ';
    else if (u < 0x20 || u == 0x7f) continue;
    else out += c;
  }
  return out;
}

std::string sanitize_quote(std::string_view text, std::size_t max)
{
  std::string s = sanitize(text);
  if (s.size() > max) {
    s.resize(max);
    // Do not leave half a UTF-8 sequence behind.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "...";
  }
  return s;
}

namespace {

// Room kept for one marker line in the long output.
constexpr std::size_t marker_reserve = 64;

struct Line1 {
  std::string text;         // with its newline
  std::size_t perf_dropped; // perfdata items left out to stay under the cap
};

// "<SERVICE> <STATE> - <summary>[ | <perfdata>]\n". When it would pass `cap`,
// whole perfdata items are dropped from the end (Nagios cuts at 8 KiB and
// would cut an item in the middle) until it fits with room for the marker
// line; the state and summary are never cut.
Line1 render_line1(std::string_view service, const Result& result, std::size_t cap)
{
  std::string head = fmt::format("{} {} - {}", service, to_string(result.state), sanitize(result.summary));
  std::vector<std::string> items;
  for (const auto& p : result.perfdata) items.push_back(p.render());
  std::size_t size = head.size() + 1;
  for (const auto& i : items) size += i.size() + (&i == &items.front() ? 3 : 1);
  std::size_t kept = items.size();
  if (size > cap) {
    const std::size_t limit = cap > marker_reserve ? cap - marker_reserve : 0;
    for (; kept > 0 && size > limit; --kept) size -= items[kept - 1].size() + (kept == 1 ? 3 : 1);
  }
  for (std::size_t i = 0; i < kept; ++i) head += (i == 0 ? " | " : " ") + items[i];
  return {head + '\n', items.size() - kept};
}

// The long output lines that fit in `budget` bytes, then a marker line for
// the ones that did not.
std::string render_details(const std::vector<std::string>& details, std::size_t budget)
{
  std::string out;
  std::size_t shown = 0;
  for (const auto& d : details) {
    std::string line = sanitize(d) + '\n';
    if (out.size() + line.size() > budget) break;
    out += line;
    ++shown;
  }
  if (shown < details.size())
    out += fmt::format("... {} more lines omitted (8 KiB output limit)\n", details.size() - shown);
  return out;
}

} // namespace

std::string render(std::string_view service, const Result& result, const std::vector<std::string>& runbook_lines,
                   std::size_t cap)
{
  Line1 line1 = render_line1(service, result, cap);
  std::string out = line1.text;
  if (line1.perf_dropped > 0)
    out += fmt::format("... {} perfdata items omitted (8 KiB output limit)\n", line1.perf_dropped);

  std::vector<std::string> tail;
  std::size_t tail_size = 0;
  for (const auto& l : runbook_lines) {
    tail.push_back(sanitize(l) + '\n');
    tail_size += tail.back().size();
  }
  // The runbook block is what the on-call engineer needs most, so details
  // are cut before it.
  std::size_t budget = cap > out.size() ? cap - out.size() : 0;
  out += render_details(result.details, budget > tail_size + marker_reserve ? budget - tail_size - marker_reserve : 0);
  for (const auto& l : tail) {
    if (out.size() + l.size() > cap) break;
    out += l;
  }
  return out;
}

} // namespace sitelink
