// SPDX-License-Identifier: GPL-2.0-or-later
#include "wording.hpp"

#include <cmath>

#include "sitelink/number.hpp"

namespace sitelink::replication {

std::string seconds_text(double s)
{
  if (std::fabs(s) >= 100) return format_number(std::round(s));
  return format_number(std::round(s * 10) / 10);
}

std::string bytes_text(double b)
{
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t u = 0;
  double v = b;
  while (std::fabs(v) >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    ++u;
  }
  double shown = u == 0 ? std::round(v) : std::round(v * 10) / 10;
  return format_number(shown) + " " + units[u];
}

double round_ms(double s)
{
  return std::round(s * 1000) / 1000;
}

} // namespace sitelink::replication
