// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// check_icmp's quality figures (monitoring-plugins 3.0.3,
// plugins-root/check_icmp.c, evaluate_target): jitter statistics, the
// simplified E-model R value (check_icmp's "score") and the MOS derived from
// it, and the out-of-order count behind -O. Pure arithmetic, unit-tested
// against the published formulas.

#include <optional>
#include <vector>

namespace sitelink::ping {

// Absolute differences between consecutive replies' round-trip times, in
// sending order, over the replies only (lost probes are skipped). Needs two
// replies.
struct JitterStats {
  double avg = 0, min = 0, max = 0; // ms
};
std::optional<JitterStats> jitter_stats(const std::vector<std::optional<double>>& rtt_ms);

// Simplified ITU-T G.107 E-model as published by SLAC
// (https://www.slac.stanford.edu/comp/net/wan-mon/tutorial.html#mos) and used
// by check_icmp:
//   effective latency EL = rta + 2 x jitter + 10 ms
//   R = 93.2 - EL / 40           when EL < 160 ms
//   R = 93.2 - (EL - 120) / 10   otherwise
//   R = R - 2.5 x loss%, at least 0
// check_icmp reports R as its "score" (0..100).
double r_factor(double rta_ms, double jitter_ms, double loss_pct);

// ITU-T G.107 (Annex B) conversion of R to a mean opinion score:
//   MOS = 1 + 0.035 R + 0.000007 R (R - 60) (100 - R)
// 1 for R = 0; about 4.4 at the highest R the formula above gives.
double mos_from_r(double r);

// Replies that arrived after a reply to a later probe of the same target:
// `arrival` holds the probe index of each reply in arrival order. 0 when
// every reply came in the order its probe was sent.
int out_of_order(const std::vector<int>& arrival);

} // namespace sitelink::ping
