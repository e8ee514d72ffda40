// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/output.hpp"

#include <fmt/format.h>

namespace sitelink {

std::string sanitize(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
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

std::string render(std::string_view service, const Result& result,
                   const std::vector<std::string>& runbook_lines, std::size_t cap)
{
  std::string line1 = fmt::format("{} {} - {}", service, to_string(result.state), sanitize(result.summary));
  if (!result.perfdata.empty()) line1 += " | " + render_perfdata(result.perfdata);
  line1 += '\n';

  std::vector<std::string> tail;
  for (const auto& l : runbook_lines) tail.push_back(sanitize(l) + '\n');
  std::size_t tail_size = 0;
  for (const auto& l : tail) tail_size += l.size();

  std::string out = line1;
  std::size_t budget = cap > line1.size() ? cap - line1.size() : 0;
  // The runbook block is what the on-call engineer needs most, so details
  // are cut before it.
  const std::size_t marker_reserve = 64;
  std::size_t detail_budget = budget > tail_size + marker_reserve ? budget - tail_size - marker_reserve : 0;
  std::size_t used = 0;
  std::size_t shown = 0;
  for (const auto& d : result.details) {
    std::string line = sanitize(d) + '\n';
    if (used + line.size() > detail_budget) break;
    out += line;
    used += line.size();
    ++shown;
  }
  if (shown < result.details.size())
    out += fmt::format("... {} more lines omitted (8 KiB output limit)\n", result.details.size() - shown);
  for (const auto& l : tail) {
    if (out.size() + l.size() > cap) break;
    out += l;
  }
  return out;
}

} // namespace sitelink
