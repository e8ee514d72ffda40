// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_tunnel_traffic/tally.hpp"

using namespace sitelink::traffic;

namespace {
Address addr(const char* s)
{
  return *Address::parse(s);
}

Classified pkt(const char* src, const char* dst, Proto p, IkeRole role = IkeRole::None, std::uint32_t len = 100)
{
  Classified c;
  c.decode = Decode::Ok;
  c.proto = p;
  c.ike = role;
  c.src = addr(src);
  c.dst = addr(dst);
  c.ip_length = len;
  return c;
}
} // namespace

TEST_CASE("traffic::Tally::add")
{
  SUBCASE("configured peers decide the direction")
  {
    Tally t({addr("192.0.2.2"), addr("192.0.2.2"), addr("198.51.100.2")}, {});
    REQUIRE(t.peers().size() == 2); // duplicates collapse
    t.add(pkt("192.0.2.1", "192.0.2.2", Proto::Esp, IkeRole::None, 148));
    t.add(pkt("192.0.2.2", "192.0.2.1", Proto::Esp, IkeRole::None, 148));
    t.add(pkt("192.0.2.1", "192.0.2.2", Proto::Ike, IkeRole::Request));
    t.add(pkt("192.0.2.2", "192.0.2.1", Proto::Ike, IkeRole::Response));
    t.add(pkt("192.0.2.1", "192.0.2.9", Proto::Esp)); // not a peer
    const auto& p = t.peers()[0];
    CHECK(p.configured);
    CHECK(p.out.count(Proto::Esp) == 1);
    CHECK(p.out.bytes[static_cast<std::size_t>(Proto::Esp)] == 148);
    CHECK(p.in.count(Proto::Esp) == 1);
    CHECK(p.out.ike_requests == 1);
    CHECK(p.in.ike_responses == 1);
    CHECK(p.out.tunnel_packets() == 2);
    CHECK(p.out.data_packets() == 1);
    CHECK(t.peers()[1].out.tunnel_packets() == 0);
    CHECK(t.unrelated == 1);
    CHECK(t.frames == 5);
  }
  SUBCASE("without peers the local addresses decide and peers are discovered in order")
  {
    Tally t({}, {addr("192.0.2.1"), addr("2001:db8::1")});
    t.add(pkt("192.0.2.1", "198.51.100.7", Proto::WireGuard));
    t.add(pkt("192.0.2.1", "192.0.2.2", Proto::WireGuard));
    t.add(pkt("2001:db8::2", "2001:db8::1", Proto::Esp));
    t.add(pkt("10.0.0.1", "10.0.0.2", Proto::Esp)); // forwarded, not ours
    REQUIRE(t.peers().size() == 3);
    CHECK(t.peers()[0].peer.to_string() == "192.0.2.2");
    CHECK(t.peers()[1].peer.to_string() == "198.51.100.7");
    CHECK(t.peers()[2].peer.to_string() == "2001:db8::2");
    CHECK(t.peers()[2].in.count(Proto::Esp) == 1);
    CHECK_FALSE(t.peers()[0].configured);
    CHECK(t.unrelated == 1);
  }
  SUBCASE("discovered peers are capped")
  {
    Tally t({}, {addr("192.0.2.1")});
    for (int i = 0; i < 40; ++i) {
      std::string dst = "198.51.100." + std::to_string(i + 1);
      t.add(pkt("192.0.2.1", dst.c_str(), Proto::Esp));
    }
    CHECK(t.peers().size() == Tally::max_discovered);
    CHECK(t.over_limit == 40 - Tally::max_discovered);
  }
  SUBCASE("what is not a tunnel packet is counted apart")
  {
    Tally t({addr("192.0.2.2")}, {});
    Classified c;
    c.decode = Decode::NotIp;
    t.add(c);
    c.decode = Decode::Truncated;
    t.add(c);
    c.decode = Decode::Malformed;
    t.add(c);
    c.decode = Decode::Fragment;
    t.add(c);
    c.decode = Decode::NoTunnel;
    t.add(c);
    t.add(pkt("192.0.2.1", "192.0.2.2", Proto::NatKeepalive));
    t.add(pkt("192.0.2.1", "192.0.2.2", Proto::Other));
    CHECK(t.not_ip == 1);
    CHECK(t.undecodable == 2);
    CHECK(t.fragments == 1);
    CHECK(t.not_tunnel == 1);
    CHECK(t.peers()[0].out.tunnel_packets() == 0);
    CHECK(t.peers()[0].out.count(Proto::NatKeepalive) == 1);
    CHECK(t.peers()[0].out.count(Proto::Other) == 1);
  }
}
