// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/perfdata.hpp"

#include <array>
#include <cctype>
#include <cmath>

#include "sitelink/labels.hpp"
#include "sitelink/number.hpp"
#include "sitelink/utf8.hpp"

namespace sitelink {

std::string_view to_string(Uom u) noexcept
{
  // Indexed by Uom, in its declaration order.
  static constexpr std::array<std::string_view, 11> units{"", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"};
  const auto i = static_cast<std::size_t>(u);
  return i < units.size() ? units[i] : std::string_view{};
}

namespace {

// The label as it will appear: ' and = become _, control characters and '|'
// are dropped, invalid UTF-8 becomes U+FFFD.
std::string sanitize_label(std::string_view label)
{
  std::string out;
  out.reserve(label.size());
  for (char c : valid_utf8(label)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '=') out += '_';
    else if (u < 0x20 || u == 0x7f || c == '|') continue;
    else out += c;
  }
  return out;
}

bool plain_label(std::string_view label) noexcept
{
  if (label.empty()) return false;
  for (char c : label) {
    auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) != 0 && u < 0x80) && c != '_') return false;
  }
  return true;
}

} // namespace

std::string format_label(std::string_view label)
{
  std::string clean = sanitize_label(label);
  if (plain_label(clean)) return clean;
  return "'" + clean + "'";
}

std::string address_label(std::string_view address)
{
  std::string out(address);
  for (char& c : out) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) c = '_';
  }
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
