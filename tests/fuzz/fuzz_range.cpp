// SPDX-License-Identifier: GPL-2.0-or-later
// Nagios ranges (-w/-c of every plugin) and -t SECONDS[:STATE].
// Input: the option text as typed.
#include <cmath>

#include "fuzz_support.hpp"
#include "sitelink/perfdata.hpp"
#include "sitelink/range.hpp"
#include "sitelink/timeout.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view text = fuzz::as_view(data, size);
  if (auto r = Range::parse(text)) {
    // A range that parsed is usable: ordered ends, no NaN, and the forms we
    // print for it are themselves well-formed.
    if (std::isnan(r->start) || std::isnan(r->end)) fuzz::fail("NaN end in a parsed range", text);
    if (r->start > r->end) fuzz::fail("start > end accepted", text);
    std::string form = r->perfdata_form();
    if (form.find_first_of(" ;|'=") != std::string::npos) fuzz::fail("perfdata form with a separator", form);
    // The printed form reads back as a range that alerts on the same values
    // (~:N prints as N, which means 0:N, so only compare where start is
    // finite or the range is "inside").
    auto back = Range::parse(form);
    if (!back) fuzz::fail("perfdata form does not parse back", form);
    if (std::isfinite(r->start) || r->inside) {
      for (double v : {r->start, r->end, 0.0, -1.0, 1e9}) {
        if (std::isfinite(v) && back->alerts(v) != r->alerts(v)) fuzz::fail("round trip changes alerting", form);
      }
    }
    (void)r->describe();
    Perfdatum p{"x", 1.0, Uom::None, *r, *r, std::nullopt, std::nullopt};
    (void)p.render();
  }
  if (auto t = parse_timeout(text)) {
    if (!(t->seconds > 0) || !std::isfinite(t->seconds)) fuzz::fail("non-positive or infinite timeout accepted", text);
  }
  return 0;
}
