// SPDX-License-Identifier: GPL-2.0-or-later
// check_cross_site_ping's own option values: "RTA,PL%" thresholds, durations
// with a unit, check_icmp's mode thresholds "WARN[,CRIT]" (-R -P -J -M -S)
// with the quality scores they are compared with, and -H host lists.
// Input: option texts separated by NUL bytes; the first two are tried as
// warning and critical thresholds and durations, all of them as -H values.
#include <cmath>

#include "check_cross_site_ping/quality.hpp"
#include "check_cross_site_ping/thresholds.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  auto parts = fuzz::split(fuzz::as_view(data, size), '\0', 64);
  for (auto p : parts) {
    if (auto d = ping::parse_duration_ms(p)) {
      if (!std::isfinite(*d) || *d < 0) fuzz::fail("bad duration accepted", p);
    }
    if (auto t = ping::parse_thresholds(p)) {
      if (!std::isfinite(t->rta_ms) || t->rta_ms < 0 || std::isnan(t->pl) || t->pl < 0)
        fuzz::fail("bad threshold accepted", p);
    }
    if (auto m = ping::parse_mode_limits(p)) {
      if (!std::isfinite(m->warn) || m->warn < 0 || (m->crit && (!std::isfinite(*m->crit) || *m->crit < 0)))
        fuzz::fail("bad mode threshold accepted", p);
      // The score of any accepted figures stays in 0..93.2, its MOS in 0.98..4.5
      // (G.107's cubic dips to 0.989 near R = 3).
      const double r = ping::r_factor(m->warn, m->crit.value_or(0), std::fmod(m->warn, 100.0));
      const double mos = ping::mos_from_r(r);
      if (!(r >= 0 && r <= 93.2) || !(mos >= 0.98 && mos <= 4.5)) fuzz::fail("score out of range", p);
    }
  }
  if (parts.size() >= 2) {
    auto w = ping::parse_thresholds(parts[0]);
    auto c = ping::parse_thresholds(parts[1]);
    if (w && c) (void)ping::check_order(*w, *c);
  }
  std::vector<std::string> values(parts.begin(), parts.end());
  if (auto hosts = ping::split_hosts(values)) {
    for (std::size_t i = 0; i < hosts->size(); ++i) {
      if ((*hosts)[i].empty()) fuzz::fail("empty host accepted");
      for (std::size_t j = i + 1; j < hosts->size(); ++j)
        if ((*hosts)[i] == (*hosts)[j]) fuzz::fail("repeated host kept", (*hosts)[i]);
    }
  }
  return 0;
}
