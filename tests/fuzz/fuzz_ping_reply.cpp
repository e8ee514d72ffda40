// SPDX-License-Identifier: GPL-2.0-or-later
// The ICMP echo reply parser of check_cross_site_ping: whatever a raw socket
// hands over (any ICMP packet of the host, with or without the IPv4 header).
// Input: byte 0 selects the socket kind (bit 0: IPv6, bit 1: IPv4 header
// first); the rest is the packet.
#include <cstring>
#include <vector>

#include "check_cross_site_ping/packet.hpp"
#include "fuzz_support.hpp"

using namespace sitelink::ping;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) return 0;
  const bool v6 = (data[0] & 1) != 0;
  const bool with_ip = !v6 && (data[0] & 2) != 0;
  // A copy of exactly the packet, so ASan sees any read past its end.
  std::vector<std::uint8_t> pkt(data + 1, data + size);

  // The transmit-timestamp copy scan, with the packet's first 8 bytes as the
  // cookie: a match lies wholly inside the packet and starts with it.
  if (pkt.size() >= 8) {
    std::uint64_t cookie = 0;
    for (int i = 0; i < 8; ++i) cookie = (cookie << 8) | pkt[static_cast<std::size_t>(i)];
    auto id = find_echo_id(pkt.data(), pkt.size(), cookie);
    if (pkt.size() >= 16 && (!id || id->cookie != cookie)) sitelink::fuzz::fail("cookie at offset 0 not found");
    if (pkt.size() < 16 && id) sitelink::fuzz::fail("echo id found in fewer than 16 bytes");
  }

  auto r = parse_echo_reply(v6, with_ip, pkt.data(), pkt.size());
  if (!r) return 0;

  // Accepted: there is an echo reply of at least header + id at the offset.
  std::size_t off = 0;
  if (with_ip) {
    if (pkt.size() < 20 || (pkt[0] >> 4) != 4) sitelink::fuzz::fail("IPv4 packet accepted without a header");
    off = static_cast<std::size_t>(pkt[0] & 0x0f) * 4;
    if (off < 20 || off > pkt.size()) sitelink::fuzz::fail("IPv4 header length outside the packet");
    if (inet_checksum(pkt.data() + off, pkt.size() - off) != 0) sitelink::fuzz::fail("bad ICMP checksum accepted");
  }
  if (pkt.size() - off < echo_header_size + 16) sitelink::fuzz::fail("short echo reply accepted");
  if (pkt[off] != (v6 ? 129 : 0) || pkt[off + 1] != 0) sitelink::fuzz::fail("not an echo reply, accepted");

  // Round trip: the request we would send with these fields, answered by a
  // host (type changed, checksum recomputed), parses back to the same fields.
  auto req = build_echo_request(v6, r->ident, r->seq, r->id);
  req[0] = v6 ? 129 : 0;
  req[2] = req[3] = 0;
  if (!v6) {
    auto c = inet_checksum(req.data(), req.size());
    req[2] = static_cast<std::uint8_t>(c >> 8);
    req[3] = static_cast<std::uint8_t>(c & 0xff);
  }
  std::vector<std::uint8_t> framed;
  if (with_ip) {
    framed.assign(20, 0);
    framed[0] = 0x45;
    framed[9] = 1;
  }
  framed.insert(framed.end(), req.begin(), req.end());
  auto back = parse_echo_reply(v6, with_ip, framed.data(), framed.size());
  if (!back || back->ident != r->ident || back->seq != r->seq || back->id.cookie != r->id.cookie ||
      back->id.target != r->id.target || back->id.probe != r->id.probe)
    sitelink::fuzz::fail("echo request/reply round trip changed the fields");
  return 0;
}
