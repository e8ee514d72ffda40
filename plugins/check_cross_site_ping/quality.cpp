// SPDX-License-Identifier: GPL-2.0-or-later
#include "quality.hpp"

#include <algorithm>
#include <cmath>

namespace sitelink::ping {

std::optional<JitterStats> jitter_stats(const std::vector<std::optional<double>>& rtt_ms)
{
  std::optional<double> prev;
  JitterStats s;
  double sum = 0;
  int n = 0;
  for (const auto& r : rtt_ms) {
    if (!r) continue;
    if (prev) {
      const double d = std::fabs(*r - *prev);
      s.min = n == 0 ? d : std::min(s.min, d);
      s.max = n == 0 ? d : std::max(s.max, d);
      sum += d;
      ++n;
    }
    prev = r;
  }
  if (n == 0) return std::nullopt;
  s.avg = sum / n;
  return s;
}

double r_factor(double rta_ms, double jitter_ms, double loss_pct)
{
  const double el = rta_ms + 2 * jitter_ms + 10;
  double r = el < 160 ? 93.2 - el / 40 : 93.2 - (el - 120) / 10;
  r -= 2.5 * loss_pct;
  return std::max(0.0, r);
}

double mos_from_r(double r)
{
  return 1 + 0.035 * r + 0.000007 * r * (r - 60) * (100 - r);
}

int out_of_order(const std::vector<int>& arrival)
{
  int count = 0;
  int highest = -1;
  for (int k : arrival) {
    if (k < highest) ++count;
    highest = std::max(highest, k);
  }
  return count;
}

} // namespace sitelink::ping
