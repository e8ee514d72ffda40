// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "check_tunnel_traffic/classify.hpp"
#include "fixture.hpp"

using namespace sitelink::traffic;

namespace {

struct Frame {
  std::vector<std::uint8_t> bytes;
};

std::uint32_t le32(const std::uint8_t* p)
{
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// A minimal reader for the little-endian classic pcap files in the fixtures,
// so the classifier is tested frame by frame without libpcap.
std::vector<Frame> frames_of(const std::string& name, std::uint32_t* linktype = nullptr)
{
  const std::string bytes = sitelink::test::read_fixture("traffic/" + name);
  std::vector<std::uint8_t> d(bytes.begin(), bytes.end());
  REQUIRE(d.size() >= 24);
  REQUIRE(le32(d.data()) == 0xa1b2c3d4);
  if (linktype != nullptr) *linktype = le32(d.data() + 20);
  std::vector<Frame> out;
  std::size_t off = 24;
  while (off + 16 <= d.size()) {
    const std::uint32_t caplen = le32(d.data() + off + 8);
    REQUIRE(off + 16 + caplen <= d.size());
    out.push_back({std::vector<std::uint8_t>(d.begin() + static_cast<long>(off + 16),
                                             d.begin() + static_cast<long>(off + 16 + caplen))});
    off += 16 + caplen;
  }
  return out;
}

Classified one(const std::vector<std::uint8_t>& b, LinkType lt = LinkType::Ethernet, ClassifyConfig cfg = {})
{
  return classify(b.data(), b.size(), lt, cfg);
}

const Address A4 = *Address::parse("192.0.2.1");
const Address B4 = *Address::parse("192.0.2.2");

} // namespace

TEST_CASE("traffic::classify")
{
  SUBCASE("ESP in UDP 4500, recorded from the lab")
  {
    auto fr = frames_of("ipsec-flowing.pcap");
    REQUIRE(fr.size() == 38);
    int out = 0, in = 0;
    for (const auto& f : fr) {
      auto c = one(f.bytes);
      CHECK(c.decode == Decode::Ok);
      CHECK(c.proto == Proto::Esp);
      CHECK(c.transport == 17);
      CHECK(c.sport == 4500);
      CHECK(c.ip_length == 148);
      if (c.src == A4 && c.dst == B4) ++out;
      if (c.src == B4 && c.dst == A4) ++in;
    }
    CHECK(out == 19);
    CHECK(in == 19);
  }
  SUBCASE("IKE on 500 and behind the non-ESP marker on 4500, requests and responses")
  {
    auto fr = frames_of("ike-handshake.pcap");
    REQUIRE(fr.size() == 6);
    // INFORMATIONAL (37) request/response on 4500, IKE_SA_INIT (34) on 500,
    // IKE_AUTH (35) on 4500.
    const IkeRole roles[] = {IkeRole::Request,  IkeRole::Response, IkeRole::Request,
                             IkeRole::Response, IkeRole::Request,  IkeRole::Response};
    const std::uint8_t exchanges[] = {37, 37, 34, 34, 35, 35};
    const std::uint16_t ports[] = {4500, 4500, 500, 500, 4500, 4500};
    for (std::size_t i = 0; i < fr.size(); ++i) {
      CAPTURE(i);
      auto c = one(fr[i].bytes);
      CHECK(c.decode == Decode::Ok);
      CHECK(c.proto == Proto::Ike);
      CHECK(c.ike == roles[i]);
      CHECK(c.message_type == exchanges[i]);
      CHECK(c.dport == ports[i]);
    }
  }
  SUBCASE("WireGuard message types 1 to 4")
  {
    int types[5] = {};
    for (const auto& f : frames_of("wireguard-handshake.pcap")) {
      auto c = one(f.bytes);
      REQUIRE(c.proto == Proto::WireGuard);
      types[c.message_type] += 1;
    }
    CHECK(types[1] == 1);
    CHECK(types[2] == 1);
    CHECK(types[4] == 12);
  }
  SUBCASE("OpenVPN on UDP 1194, and on a moved port only when configured")
  {
    auto fr = frames_of("openvpn-flowing.pcap");
    REQUIRE(!fr.empty());
    auto c = one(fr[0].bytes);
    CHECK(c.proto == Proto::OpenVpn);
    CHECK(c.message_type == 9); // P_DATA_V2 (pings travel in the data channel)
    ClassifyConfig moved;
    moved.openvpn_port = 1195;
    CHECK(one(fr[0].bytes, LinkType::Ethernet, moved).decode == Decode::NoTunnel);
    ClassifyConfig no_ovpn;
    no_ovpn.openvpn = false;
    CHECK(one(fr[0].bytes, LinkType::Ethernet, no_ovpn).decode == Decode::NoTunnel);
  }
  SUBCASE("Linux cooked capture v2")
  {
    std::uint32_t lt = 0;
    auto fr = frames_of("ipsec-flowing-sll2.pcap", &lt);
    CHECK(lt == 276);
    for (const auto& f : fr) CHECK(one(f.bytes, LinkType::LinuxSll2).proto == Proto::Esp);
    // The same frame read as Ethernet is not IP.
    CHECK(one(fr[0].bytes, LinkType::Ethernet).decode != Decode::Ok);
  }
  SUBCASE("Linux cooked capture v1 built from an Ethernet frame")
  {
    auto eth = frames_of("ipsec-flowing.pcap")[0].bytes;
    std::vector<std::uint8_t> sll(16, 0);
    sll[14] = 0x08; // protocol IPv4
    sll.insert(sll.end(), eth.begin() + 14, eth.end());
    auto c = one(sll, LinkType::LinuxSll);
    CHECK(c.proto == Proto::Esp);
    CHECK(c.src == A4);
  }
  SUBCASE("raw IPv6: ESP protocol 50, extension headers, fragments")
  {
    auto fr = frames_of("synthetic-raw-ipv6.pcap");
    REQUIRE(fr.size() == 5);
    auto c = one(fr[0].bytes, LinkType::Raw);
    CHECK(c.proto == Proto::Esp);
    CHECK(c.transport == 50);
    CHECK(c.src.to_string() == "2001:db8::1");
    CHECK(one(fr[1].bytes, LinkType::Raw).dst.to_string() == "2001:db8::1");
    c = one(fr[3].bytes, LinkType::Raw); // hop-by-hop, then UDP 4500 IKE
    CHECK(c.proto == Proto::Ike);
    CHECK(c.ike == IkeRole::Request);
    CHECK(one(fr[4].bytes, LinkType::Raw).decode == Decode::Fragment);
    // The same packets with the IPv6 link type.
    CHECK(one(fr[0].bytes, LinkType::Ipv6).proto == Proto::Esp);
    CHECK(one(fr[0].bytes, LinkType::Ipv4).decode == Decode::Malformed);
    // BSD loopback: 4 bytes of family first.
    std::vector<std::uint8_t> null = {24, 0, 0, 0};
    null.insert(null.end(), fr[0].bytes.begin(), fr[0].bytes.end());
    CHECK(one(null, LinkType::Null).proto == Proto::Esp);
  }
  SUBCASE("VLAN tag, NAT-T keepalive, IKEv1, not-IP, other ports, bad sizes, TCP")
  {
    auto fr = frames_of("synthetic-vlan.pcap");
    REQUIRE(fr.size() == 9);
    CHECK(one(fr[0].bytes).proto == Proto::NatKeepalive);
    auto v1 = one(fr[1].bytes);
    CHECK(v1.proto == Proto::Ike);
    CHECK(v1.ike == IkeRole::None); // IKEv1 has no response flag
    CHECK(one(fr[3].bytes).decode == Decode::NotIp);
    CHECK(one(fr[4].bytes).decode == Decode::NoTunnel);
    auto wg = one(fr[5].bytes);
    CHECK(wg.decode == Decode::Ok);
    CHECK(wg.proto == Proto::Other); // 33 bytes is no WireGuard message
    CHECK(one(fr[6].bytes).proto == Proto::OpenVpn);
    CHECK(one(fr[7].bytes).proto == Proto::OpenVpn);     // a bare ACK of the connection
    CHECK(one(fr[8].bytes).decode == Decode::Malformed); // UDP length beyond the IP packet
  }
  SUBCASE("every prefix of every recorded frame: no crash, never Ok past the end")
  {
    for (const char* name : {"ipsec-flowing.pcap", "ike-handshake.pcap", "wireguard-handshake.pcap",
                             "openvpn-flowing.pcap", "synthetic-vlan.pcap"}) {
      for (const auto& f : frames_of(name)) {
        for (std::size_t n = 0; n < f.bytes.size(); ++n) {
          auto c = one(std::vector<std::uint8_t>(f.bytes.begin(), f.bytes.begin() + static_cast<long>(n)));
          // A cut frame may still be classified (snap length), but then the
          // headers it needed were all there.
          if (c.decode == Decode::Ok && c.proto == Proto::Esp) CHECK(n >= 14 + 20 + 8);
        }
      }
    }
    CHECK(classify(nullptr, 100, LinkType::Ethernet, {}).decode == Decode::Truncated);
  }
  SUBCASE("header fields that cannot be valid")
  {
    auto f = frames_of("ipsec-flowing.pcap")[0].bytes;
    auto bad = f;
    bad[14] = 0x44; // IHL 16 bytes
    CHECK(one(bad).decode == Decode::Malformed);
    bad = f;
    bad[16] = 0;
    bad[17] = 10; // total length shorter than the header
    CHECK(one(bad).decode == Decode::Malformed);
    bad = f;
    bad[20] = 0x00;
    bad[21] = 0x10; // fragment offset 16
    CHECK(one(bad).decode == Decode::Fragment);
    bad = f;
    bad[38] = 0;
    bad[39] = 4; // UDP length below its header
    CHECK(one(bad).decode == Decode::Malformed);
  }
}

TEST_CASE("traffic::Address::parse")
{
  CHECK(Address::parse("192.0.2.2") == B4);
  CHECK(Address::parse("::ffff:192.0.2.2") == B4);
  CHECK(Address::parse("2001:db8::2")->to_string() == "2001:db8::2");
  CHECK(Address::parse("2001:DB8:0::2")->to_string() == "2001:db8::2");
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "host.example", "2001:db8::2%eth0", "1.2.3.4 ", "::g"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(Address::parse(bad).has_value());
  }
  CHECK(Address{}.to_string() == "-");
  CHECK(A4 < B4);
  CHECK(B4 < *Address::parse("::1")); // IPv4 sorts before IPv6
}
