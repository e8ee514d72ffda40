// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The judgement: counters in, verdicts and perfdata out. No I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/result.hpp"
#include "tally.hpp"

namespace sitelink::traffic {

enum class Verdict { Flowing, OneWayOut, OneWayIn, IkeUnanswered, Idle };
std::string_view to_string(Verdict v) noexcept;

// The tunnel families, judged separately: a peer whose WireGuard tunnel
// flows while its IPsec tunnel is a black hole is not fine.
enum class Kind { Ipsec, OpenVpn, WireGuard };
constexpr Kind all_kinds[] = {Kind::Ipsec, Kind::OpenVpn, Kind::WireGuard};
std::string_view to_string(Kind k) noexcept;

std::uint64_t kind_packets(const DirectionCounters& d, Kind k) noexcept;

// One tunnel family's verdict from a peer's counters. Outgoing packets first
// seen after `answer_by` (epoch seconds) were sent too late in the window to
// expect an answer within it: they alone do not make a one-way verdict.
Verdict judge(const PeerTally& t, Kind k, std::optional<double> answer_by = std::nullopt) noexcept;

struct Judgement {
  Verdict verdict = Verdict::Idle;
  std::optional<Kind> kind; // the family the verdict is about (none when idle)
  std::vector<Kind> active; // every family that had packets
};
// The peer's verdict: the worst of the families that had packets.
Judgement judge(const PeerTally& t, std::optional<double> answer_by = std::nullopt);

struct Observation {
  std::string where;            // "on wan1", "in capture file x.pcap"
  std::optional<double> window; // seconds the counts cover; none for a file without a time span
  Tally tally;
  std::optional<std::uint64_t> dropped; // packets the kernel dropped (live capture)
  std::optional<double> end_time;       // epoch seconds the window ended
};

struct Policy {
  // Both ways silent is a quiet link, not a fault: OK unless --idle-state.
  State idle_state = State::Ok;
  // How long before the end of the window a packet must have left for its
  // answer to be expected inside the window (round trip plus the peer's
  // processing; IKE retransmits after 1 s at the earliest).
  double answer_grace = 1.0;
};

Result evaluate(const Observation& obs, const Policy& policy);

} // namespace sitelink::traffic
