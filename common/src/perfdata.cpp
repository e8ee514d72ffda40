// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/perfdata.hpp"

#include <cmath>

#include "sitelink/number.hpp"

namespace sitelink {

std::string_view to_string(Uom u) noexcept
{
  switch (u) {
  case Uom::None: return "";
  case Uom::Seconds: return "s";
  case Uom::Milliseconds: return "ms";
  case Uom::Microseconds: return "us";
  case Uom::Percent: return "%";
  case Uom::Bytes: return "B";
  case Uom::KB: return "KB";
  case Uom::MB: return "MB";
  case Uom::GB: return "GB";
  case Uom::TB: return "TB";
  case Uom::Counter: return "c";
  }
  return "";
}

std::string format_label(std::string_view label)
{
  bool plain = !label.empty();
  for (char c : label) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) != 0 && u < 0x80) && c != '_') plain = false;
  }
  if (plain) return std::string(label);
  std::string out = "'";
  for (char c : label) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '=') out += '_';
    else if (u < 0x20 || u == 0x7f || c == '|') continue;
    else out += c;
  }
  out += '\'';
  return out;
}

std::string Perfdatum::render() const
{
  std::string out = format_label(label);
  out += '=';
  if (value && std::isfinite(*value)) {
    out += format_number(*value);
    out += to_string(uom);
  } else {
    out += 'U';
  }
  std::string fields[4] = {
      warn ? warn->perfdata_form() : std::string(),
      crit ? crit->perfdata_form() : std::string(),
      min ? format_number(*min) : std::string(),
      max ? format_number(*max) : std::string(),
  };
  int last = -1;
  for (int i = 0; i < 4; ++i)
    if (!fields[i].empty()) last = i;
  for (int i = 0; i <= last; ++i) {
    out += ';';
    out += fields[i];
  }
  return out;
}

std::string render_perfdata(const std::vector<Perfdatum>& items)
{
  std::string out;
  for (const auto& p : items) {
    if (!out.empty()) out += ' ';
    out += p.render();
  }
  return out;
}

} // namespace sitelink
