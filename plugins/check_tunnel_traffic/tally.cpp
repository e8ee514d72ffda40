// SPDX-License-Identifier: GPL-2.0-or-later
#include "tally.hpp"

#include <algorithm>

namespace sitelink::traffic {

namespace {
constexpr std::size_t idx(Proto p) noexcept
{
  return static_cast<std::size_t>(p);
}
} // namespace

std::uint64_t DirectionCounters::tunnel_packets() const noexcept
{
  return packets[idx(Proto::Ike)] + packets[idx(Proto::Esp)] + packets[idx(Proto::OpenVpn)] +
         packets[idx(Proto::WireGuard)];
}

std::uint64_t DirectionCounters::tunnel_bytes() const noexcept
{
  return bytes[idx(Proto::Ike)] + bytes[idx(Proto::Esp)] + bytes[idx(Proto::OpenVpn)] + bytes[idx(Proto::WireGuard)];
}

std::uint64_t DirectionCounters::data_packets() const noexcept
{
  return packets[idx(Proto::Esp)] + packets[idx(Proto::OpenVpn)] + packets[idx(Proto::WireGuard)];
}

Tally::Tally(const std::vector<Address>& peers, std::vector<Address> local) : local_(std::move(local))
{
  for (const auto& p : peers) {
    if (std::any_of(peers_.begin(), peers_.end(), [&](const PeerTally& t) { return t.peer == p; })) continue;
    PeerTally t;
    t.peer = p;
    t.configured = true;
    peers_.push_back(t);
  }
  configured_ = !peers_.empty();
}

bool Tally::is_local(const Address& a) const noexcept
{
  return std::find(local_.begin(), local_.end(), a) != local_.end();
}

PeerTally* Tally::find_or_add(const Address& a)
{
  for (auto& t : peers_)
    if (t.peer == a) return &t;
  if (configured_) return nullptr;
  if (peers_.size() >= max_discovered) {
    ++over_limit;
    return nullptr;
  }
  // Discovered peers are kept sorted so the output order does not depend
  // on which peer happened to send first.
  PeerTally t;
  t.peer = a;
  auto pos = std::lower_bound(peers_.begin(), peers_.end(), a,
                              [](const PeerTally& x, const Address& y) { return x.peer < y; });
  return &*peers_.insert(pos, t);
}

void Tally::add(const Classified& c, double ts)
{
  ++frames;
  switch (c.decode) {
  case Decode::Ok: break;
  case Decode::NotIp: ++not_ip; return;
  case Decode::Truncated:
  case Decode::Malformed: ++undecodable; return;
  case Decode::Fragment: ++fragments; return;
  case Decode::NoTunnel: ++not_tunnel; return;
  }
  bool out = false;
  const Address* other = nullptr;
  if (configured_) {
    auto has = [&](const Address& a) {
      return std::any_of(peers_.begin(), peers_.end(), [&](const PeerTally& t) { return t.peer == a; });
    };
    if (has(c.dst)) {
      out = true;
      other = &c.dst;
    } else if (has(c.src)) {
      other = &c.src;
    }
  } else if (is_local(c.src) && !is_local(c.dst)) {
    out = true;
    other = &c.dst;
  } else if (is_local(c.dst) && !is_local(c.src)) {
    other = &c.src;
  }
  if (other == nullptr) {
    ++unrelated;
    return;
  }
  PeerTally* t = find_or_add(*other);
  if (t == nullptr) {
    if (configured_) ++unrelated;
    return;
  }
  DirectionCounters& d = out ? t->out : t->in;
  d.packets[idx(c.proto)] += 1;
  d.bytes[idx(c.proto)] += c.ip_length;
  double& first = d.first_seen[idx(c.proto)];
  if (first == 0 || ts < first) first = ts;
  if (c.proto == Proto::Ike) {
    if (c.ike == IkeRole::Request) ++d.ike_requests;
    else if (c.ike == IkeRole::Response) ++d.ike_responses;
  }
}

} // namespace sitelink::traffic
