// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The judgement of check_cross_site_ping: plain data in, Result out. No
// sockets here, so every rule is unit-tested.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pmtu.hpp"
#include "sitelink/result.hpp"
#include "thresholds.hpp"

namespace sitelink::ping {

// What one target's probes gave.
struct TargetObservation {
  std::string name;          // as given with -H
  std::string address;       // numeric address probed; empty when unresolved
  std::string resolve_error; // why the name did not resolve
  std::string setup_error;   // the plugin could not probe (no permission, bad source): UNKNOWN
  std::string send_error;    // the network refused the probes (no route, ...): CRITICAL
  int sent = 0;
  // One entry per probe sent, in sending order; nullopt = no reply in time.
  std::vector<std::optional<double>> rtt_ms;
  // The probe index of each reply, in the order the replies arrived (-O).
  std::vector<int> reply_order;
  int refused = 0;         // --tcp: replies that were a refused connection (RST)
  std::string probe_error; // --tcp: last error of an unanswered probe (e.g. "No route to host")
  // Probes the kernel refused to send because they exceed the path MTU it
  // knows (EMSGSIZE with don't-fragment): not loss, the size does not fit.
  int too_big = 0;
  int probe_size = 0;              // IP packet size of the echo probes (-b)
  std::optional<int> known_mtu;    // the kernel's path MTU to the target, when it refused
  std::optional<PmtuFinding> pmtu; // --mtu: the search's result (nullopt: not searched)
};

struct Observation {
  std::vector<TargetObservation> targets;
  std::optional<int> tcp_port; // set for --tcp
};

// A limit that alerts when the value is at or below it (MOS, score).
struct LowLimits {
  double warn = 0;
  double crit = 0;
};

struct Policy {
  Thresholds warn{200, 20};
  Thresholds crit{500, 60};
  std::optional<double> jitter_warn_ms;
  std::optional<double> jitter_crit_ms;
  // check_icmp's modes (-R -P -J -M -S -O): naming any of them judges only
  // the named ones; without them rta and loss are judged (check_icmp's rule).
  bool judge_rta = true;
  bool judge_pl = true;
  bool jitter_mode = false;        // -J (limits in jitter_*_ms): adds jitter_avg/min/max perfdata
  std::optional<LowLimits> mos;    // -M
  std::optional<LowLimits> score;  // -S
  bool order_mode = false;         // -O: CRITICAL when a reply arrives out of order
  std::optional<int> min_alive;    // -m
  std::optional<int> mtu_expected; // --mtu: the path MTU (bytes) each target must carry
};

// Round-trip statistics of one target.
struct Stats {
  int sent = 0;
  int received = 0;
  double pl = 100;                                 // percent
  std::optional<double> rta, rtmin, rtmax, jitter; // ms; nullopt without replies
  std::optional<double> jitter_min, jitter_max;    // ms; nullopt with fewer than 2 replies
  std::optional<double> score, mos;                // quality.hpp; nullopt with fewer than 2 replies
  int out_of_order = 0;                            // replies that arrived after a later probe's
};

// Jitter is the mean absolute difference between consecutive replies'
// round-trip times (check_icmp's definition); it needs two replies, and so
// do the score (R) and MOS computed from rta, jitter and loss.
Stats compute_stats(const TargetObservation& t);

// Per-target perfdata is kept while it stays small; beyond that only
// aggregate items are emitted. The choice depends only on the command line
// (number and names of targets), so the labels are the same in every state.
constexpr std::size_t max_per_target_perfdata_targets = 20;
constexpr std::size_t max_per_target_perfdata_bytes = 5120;
// `items` is the number of perfdata items per target.
bool per_target_perfdata(const std::vector<std::string>& names, std::size_t items = 5);
std::size_t perfdata_items(const Policy& p);

// The --mtu verdict of one target: OK when the path carries `expected`;
// WARNING when it is smaller and an ICMP error (or the kernel) says so;
// CRITICAL for a black hole (larger probes vanish while smaller ones are
// answered). nullopt when the target was not searched.
struct PmtuVerdict {
  State state = State::Ok;
  std::string reason; // for the summary (empty when OK)
  std::string detail; // one long-output line
};
std::optional<PmtuVerdict> judge_pmtu(const TargetObservation& t, int expected);

Result evaluate(const Observation& obs, const Policy& policy);

} // namespace sitelink::ping
