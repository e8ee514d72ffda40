// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Path-MTU search of check_cross_site_ping (--mtu): the size ladder, the
// search state over at most three rounds, and the parser of the kernel's
// socket error queue entries (ICMP fragmentation-needed, ICMPv6 packet too
// big, local EMSGSIZE). Pure: the source sends and reads, this decides.
//
// Sizes are IP packet sizes in bytes (IP header + ICMP header + payload),
// the unit of an MTU.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sitelink::ping {

constexpr int ipv4_min_mtu = 68;   // RFC 791
constexpr int ipv6_min_mtu = 1280; // RFC 8200
constexpr int max_packet_size = 65535;
constexpr int pmtu_max_rounds = 3; // round trips of the search (issue 23)
constexpr int pmtu_rungs = 16;     // sizes per round and target
constexpr int pmtu_copies = 2;     // probes per size: one random loss does not make a false black hole

int ip_header_size(bool ipv6) noexcept;                        // 20 or 40
int echo_packet_size(bool ipv6, std::size_t payload) noexcept; // IP + ICMP header + payload
std::size_t echo_payload_for(bool ipv6, int size) noexcept;    // the inverse (0 when too small)

// `rungs` distinct sizes spread evenly over (lo, hi], hi included,
// ascending; empty when hi <= lo. Fewer when the interval is narrower.
std::vector<int> size_ladder(int lo, int hi, int rungs);

// What the network (or the local kernel) said about a size.
struct PathSignal {
  enum class Kind { frag_needed, packet_too_big, local_too_big };
  Kind kind = Kind::frag_needed;
  int mtu = 0;     // the MTU the message names
  std::string hop; // numeric offender address; empty for a local error
};

// One error queue entry: the control message's level and type
// (SOL_IP/IP_RECVERR or SOL_IPV6/IPV6_RECVERR) and its data (a
// sock_extended_err followed by the offender's sockaddr). nullopt for
// anything else (timestamps, other ICMP errors, truncated data, an MTU
// outside what the family allows, an offender of the wrong family).
std::optional<PathSignal> parse_path_error(int level, int type, const std::uint8_t* data, std::size_t len);

// The result of one target's search.
struct PmtuFinding {
  int largest_passed = 0;           // largest size answered (the floor: the small probes)
  std::optional<int> smallest_lost; // smallest size above it that got no reply
  bool lost_twice = false;          // smallest_lost was sent again in a later round and lost again
  std::optional<int> signalled_mtu; // the smallest MTU an ICMP error (or the kernel) named
  std::string hop;                  // who signalled it; empty: the local kernel
  bool local = false;               // the signal was the kernel refusing the send (EMSGSIZE)
  int top = 0;                      // the search stopped here (--mtu EXPECTED)
  int rounds = 0;
  int probes = 0;
  long long took_ns = 0;
};

// The search for one target between `floor` (a size known to cross: the
// small probes') and `top` (EXPECTED). Each round sends the ladder over the
// sizes still in doubt; a size passes when any copy is answered, and every
// size below a passing one passes too (a lost small rung is loss, not MTU).
class PmtuSearch {
public:
  PmtuSearch(int floor, int top, int rungs = pmtu_rungs);
  // The sizes of the next round (the ladder, then the smallest lost size
  // again, to confirm it); empty when the search is done.
  std::vector<int> next_round();
  void answered(int size);
  void signalled(const PathSignal& s);
  // Closes the round: sizes sent and not answered are lost.
  void end_round();
  bool done() const;
  const PmtuFinding& finding() const noexcept { return f_; }
  PmtuFinding& finding() noexcept { return f_; }

private:
  int upper() const; // the largest size still worth a probe
  int rungs_;
  std::vector<int> round_;
  std::vector<bool> got_;
  PmtuFinding f_;
};

} // namespace sitelink::ping
