// SPDX-License-Identifier: GPL-2.0-or-later
// check_tunnel_traffic's per-packet classifier and tally, and the address
// parser of --peer.
// Input: byte 0 picks the link type and which protocols are enabled, byte 1
// moves the OpenVPN/WireGuard ports; the rest is one captured frame (the
// fuzzer's buffer has exactly that size, so any read past the capture
// length is an ASan report). The whole input is also tried as an address.
#include "check_tunnel_traffic/classify.hpp"
#include "check_tunnel_traffic/tally.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::traffic;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (auto a = Address::parse(fuzz::as_view(data, size))) {
    if (a->family != 4 && a->family != 6) fuzz::fail("parsed address without a family");
    auto back = Address::parse(a->to_string());
    if (!back || *back != *a) fuzz::fail("address does not survive to_string/parse", a->to_string());
  }
  if (size < 2) return 0;
  const auto link = static_cast<LinkType>(data[0] % 8);
  ClassifyConfig cfg;
  cfg.ipsec = (data[0] & 0x10) == 0;
  cfg.openvpn = (data[0] & 0x20) == 0;
  cfg.wireguard = (data[0] & 0x40) == 0;
  if ((data[1] & 1) != 0) cfg.openvpn_port = 4500;   // collide with NAT-T on purpose
  if ((data[1] & 2) != 0) cfg.wireguard_port = 1194; // and with each other
  if ((data[1] & 4) != 0) cfg.openvpn_port = 443;

  Classified c = classify(data + 2, size - 2, link, cfg);
  if (c.decode == Decode::Ok) {
    if ((c.src.family != 4 && c.src.family != 6) || c.src.family != c.dst.family)
      fuzz::fail("decoded packet with bad address families");
    if (static_cast<std::size_t>(c.proto) >= proto_count) fuzz::fail("protocol out of range");
    if (c.proto == Proto::Ike && c.transport != 17) fuzz::fail("IKE outside UDP");
  }
  Tally with_peer({c.dst}, {});
  with_peer.add(c);
  Tally discovering({}, {c.src});
  discovering.add(c);
  if (with_peer.frames != 1 || discovering.frames != 1) fuzz::fail("frame not counted once");
  return 0;
}
