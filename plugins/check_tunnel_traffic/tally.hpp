// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Per-peer, per-direction counters fed with classified packets.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "classify.hpp"

namespace sitelink::traffic {

struct DirectionCounters {
  std::array<std::uint64_t, proto_count> packets{};
  std::array<std::uint64_t, proto_count> bytes{};
  std::uint64_t ike_requests = 0;
  std::uint64_t ike_responses = 0;
  // When the first packet of each protocol was seen (epoch seconds, 0 for
  // none), so packets sent too late in the window to be answered in it can be
  // told apart from unanswered ones.
  std::array<double, proto_count> first_seen{};

  std::uint64_t count(Proto p) const noexcept { return packets[static_cast<std::size_t>(p)]; }
  // Packets of a tunnel protocol: NAT-T keepalives only say that a NAT
  // binding is kept open and "other" is not a tunnel message, so neither
  // counts toward a verdict.
  std::uint64_t tunnel_packets() const noexcept;
  std::uint64_t tunnel_bytes() const noexcept;
  // Packets that carry user data or keep a data channel alive.
  std::uint64_t data_packets() const noexcept;
};

struct PeerTally {
  Address peer;
  bool configured = false; // named with --peer (reported even when silent)
  DirectionCounters out;   // sent to the peer
  DirectionCounters in;    // received from the peer
};

// Where each packet belongs. With peers configured, a packet to a peer is
// "out" and one from a peer is "in" (this is how capture files are read).
// Without peers, the local addresses decide and the other end is the peer.
class Tally {
public:
  static constexpr std::size_t max_discovered = 32;

  Tally(const std::vector<Address>& peers, std::vector<Address> local);

  // Byte counts are IP lengths, so they do not depend on the link type.
  // `ts` is the packet's capture time (epoch seconds).
  void add(const Classified& c, double ts = 0);

  const std::vector<PeerTally>& peers() const noexcept { return peers_; }
  bool peers_configured() const noexcept { return configured_; }

  std::uint64_t frames = 0; // every frame handed to add()
  std::uint64_t not_ip = 0;
  std::uint64_t undecodable = 0; // truncated or malformed headers
  std::uint64_t fragments = 0;
  std::uint64_t unrelated = 0;  // not to or from a peer (or a local address)
  std::uint64_t not_tunnel = 0; // IP, but no tunnel protocol's port or protocol
  std::uint64_t over_limit = 0; // from peers beyond max_discovered

private:
  PeerTally* find_or_add(const Address& a);
  bool is_local(const Address& a) const noexcept;

  std::vector<PeerTally> peers_;
  std::vector<Address> local_;
  bool configured_ = false;
};

} // namespace sitelink::traffic
