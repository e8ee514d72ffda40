// SPDX-License-Identifier: GPL-2.0-or-later
// check_cross_site_ping's own option values: "RTA,PL%" thresholds, durations
// with a unit, and -H host lists.
// Input: option texts separated by NUL bytes; the first two are tried as
// warning and critical thresholds and durations, all of them as -H values.
#include <cmath>

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
