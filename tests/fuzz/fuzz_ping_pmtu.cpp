// SPDX-License-Identifier: GPL-2.0-or-later
// check_cross_site_ping --mtu: the error queue parser (whatever the kernel,
// or a forged ICMP message through it, puts in a sock_extended_err and its
// offender) and the search driven by any sequence of replies, signals and
// round ends.
// Input: byte 0 bit 0: IPv6 (SOL_IPV6/IPV6_RECVERR), else SOL_IP/IP_RECVERR;
// byte 1: length L of the error queue data; then L bytes of it; then the
// search script: floor and top (2 bytes each, big-endian), then (op, 2-byte
// size) triples: op % 3 = 0 answered, 1 signalled (the size as the MTU), 2
// round end (and the next round).
#include <netinet/in.h>
#include <string>
#include <vector>

#include "check_cross_site_ping/pmtu.hpp"
#include "fuzz_support.hpp"

using namespace sitelink::ping;

namespace {

void check_signal(bool v6, const std::uint8_t* data, std::size_t len)
{
  std::vector<std::uint8_t> copy(data, data + len); // exactly sized: ASan sees overreads
  auto s = parse_path_error(v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_RECVERR : IP_RECVERR, copy.data(), copy.size());
  if (!s) return;
  if (s->mtu < (v6 ? ipv6_min_mtu : ipv4_min_mtu) || s->mtu > max_packet_size)
    sitelink::fuzz::fail("MTU outside the family's range accepted", std::to_string(s->mtu));
  const bool local = s->kind == PathSignal::Kind::local_too_big;
  if (local != s->hop.empty()) sitelink::fuzz::fail("a hop for a local error, or none for an ICMP one", s->hop);
  if (v6 && s->kind == PathSignal::Kind::frag_needed) sitelink::fuzz::fail("ICMPv4 frag-needed on an IPv6 socket");
  if (!v6 && s->kind == PathSignal::Kind::packet_too_big) sitelink::fuzz::fail("ICMPv6 packet-too-big on IPv4");
}

void check_ladder(const std::vector<int>& sizes, int lo, int hi)
{
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] <= lo || sizes[i] > hi) sitelink::fuzz::fail("rung outside the sizes in doubt");
    if (i > 0 && sizes[i] <= sizes[i - 1]) sitelink::fuzz::fail("rungs not ascending and distinct");
  }
  if (sizes.size() > static_cast<std::size_t>(pmtu_rungs) + 1)
    sitelink::fuzz::fail("more rungs than asked for", std::to_string(sizes.size()));
}

void check_search(const std::uint8_t* p, std::size_t n)
{
  if (n < 4) return;
  const int floor = (p[0] << 8) | p[1];
  const int top = (p[2] << 8) | p[3];
  PmtuSearch s(floor, top);
  auto round = s.next_round();
  check_ladder(round, floor, top);
  for (std::size_t i = 4; i + 3 <= n; i += 3) {
    const int size = (p[i + 1] << 8) | p[i + 2];
    switch (p[i] % 3) {
    case 0: s.answered(size); break;
    case 1: s.signalled(PathSignal{PathSignal::Kind::frag_needed, size, "192.0.2.1"}); break;
    default:
      s.end_round();
      const int before = s.finding().largest_passed;
      round = s.next_round();
      check_ladder(round, before, top);
    }
    const PmtuFinding& f = s.finding();
    if (f.rounds > pmtu_max_rounds) sitelink::fuzz::fail("more than three rounds");
    if (f.largest_passed < floor) sitelink::fuzz::fail("the floor was lost");
    if (f.smallest_lost && *f.smallest_lost <= f.largest_passed) sitelink::fuzz::fail("a lost size below a passed one");
    if (f.signalled_mtu && *f.signalled_mtu < f.largest_passed) sitelink::fuzz::fail("a signal below a passed size");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 2) return 0;
  const bool v6 = (data[0] & 1) != 0;
  const std::size_t len = std::min<std::size_t>(data[1], size - 2);
  check_signal(v6, data + 2, len);
  check_search(data + 2 + len, size - 2 - len);
  return 0;
}
