// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/source_wireguard.hpp"
#include "fake_stream.hpp"
#include "fixture.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using sitelink::test::FakeStream;
using sitelink::test::read_fixture;

namespace {

const std::string peer_b = "uFmW/sycfx/G0lcqdu2hHVm8sgvo5UOxXOS9hajnWjM=";
const std::string peer_never = "WEAuaVuhdyscyTCXVfBDJR6nf9zxD75jmJzrfhkyE3Y=";
const std::string private_hex = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a";
const std::string private_b64 = "6EtabScXwQA6E7QxVwNT26ypFGzxUMX4V1aA/rpSAno=";
const std::string psk_hex = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52";

std::string everything(const Result& r, const std::vector<std::string>& trace)
{
  std::string s = r.summary + "\n" + render_perfdata(r.perfdata);
  for (const auto& d : r.details) s += "\n" + d;
  for (const auto& t : trace) s += "\n" + t;
  return s;
}

} // namespace

TEST_CASE("vpn::wireguard::key_to_base64")
{
  CHECK(wireguard::key_to_base64("b85996fecc9c7f1fc6d2572a76eda11d59bcb20be8e543b15ce4bd85a8e75a33") == peer_b);
  CHECK(wireguard::key_to_base64(peer_b) == peer_b);
  CHECK(wireguard::key_to_base64(std::string(64, 'z')) == std::string(64, 'z'));
}

TEST_CASE("vpn::wireguard::observe")
{
  const std::string reply = read_fixture("vpn/wireguard-uapi-get.txt");
  SUBCASE("peers by key; never-handshaked peer is down")
  {
    auto o = wireguard::observe(reply, 1795314600.5, {}, {}).value();
    REQUIRE(o.tunnels.size() == 2);
    CHECK(o.has_handshakes);
    CHECK(o.configured == std::vector<std::string>{peer_b, peer_never});
    CHECK(o.tunnels[0].state == TunnelState::Up);
    CHECK(o.tunnels[0].handshake_age == 100);
    CHECK(o.tunnels[0].bytes_in == 10548);
    CHECK(o.tunnels[0].detail == "endpoint 192.0.2.2:51820");
    CHECK(o.tunnels[1].state == TunnelState::Down);
    CHECK(o.tunnels[1].detail == "no handshake yet, no endpoint");
    CHECK(o.tunnels[0].keepalive == 25);
    CHECK(o.tunnels[1].keepalive == 0);
  }
  SUBCASE("a peer without keepalive and an old handshake: idle or down, cannot tell")
  {
    std::string quiet = reply;
    const auto at = quiet.find("persistent_keepalive_interval=25");
    REQUIRE(at != std::string::npos);
    const std::string_view with = "persistent_keepalive_interval=25";
    quiet.replace(at, with.size(), "persistent_keepalive_interval=0");
    auto o = wireguard::observe(quiet, 1795314800.5, {{peer_b, "site-b"}}, {}).value();
    CHECK(o.tunnels[0].keepalive == 0);
    Policy p;
    p.expected = {"site-b"};
    p.handshake_limit = 180;
    auto r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 1 tunnels up; site-b: no handshake for 300 s and no keepalive set: idle or down, "
                       "cannot tell; set PersistentKeepalive on this peer");
  }
  SUBCASE("aliases name peers; the handshake limit decides staleness")
  {
    auto o = wireguard::observe(reply, 1795314660.5, {{peer_b, "site-b"}}, {}).value();
    CHECK(o.tunnels[0].name == "site-b");
    Policy p;
    p.expected = {"site-b"};
    p.handshake_limit = 180;
    CHECK(evaluate(o, p).state == State::Ok);
    p.handshake_limit = 150;
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: site-b stale (last handshake 160 s ago, limit 150 s)");
    p.expected = {"site-b", peer_never};
    p.handshake_limit = 180;
    CHECK(evaluate(o, p).state == State::Warning);
  }
  SUBCASE("private and preshared keys never reach the result or the trace")
  {
    std::vector<std::string> trace;
    auto o = wireguard::observe(reply, 1795314600, {}, [&](int, const std::string& l) { trace.push_back(l); }).value();
    std::string all = everything(evaluate(o, {}), trace);
    CHECK(all.find(private_hex) == std::string::npos);
    CHECK(all.find(private_b64) == std::string::npos);
    CHECK(all.find(psk_hex) == std::string::npos);
    CHECK(all.find("private_key=(redacted)") != std::string::npos);
  }
  SUBCASE("errors")
  {
    CHECK(wireguard::observe("errno=2\n\n", 0, {}, {}).error().find("errno=2") != std::string::npos);
    CHECK_FALSE(wireguard::observe("public_key=abc\n\n", 0, {}, {}).has_value());
    CHECK_FALSE(wireguard::observe("garbage\n\n", 0, {}, {}).has_value());
    CHECK_FALSE(wireguard::observe("errno=0\n", 0, {}, {}).has_value());
    CHECK_FALSE(wireguard::observe("listen_port=1\nerrno=0", 0, {}, {}).has_value());
    CHECK_FALSE(wireguard::observe("public_key=" + std::string(64, '0') + "\nrx_bytes=-1\n\n", 0, {}, {}).has_value());
    CHECK(wireguard::observe("errno=0\n\n", 0, {}, {}).value().tunnels.empty());
  }
}

TEST_CASE("vpn::wireguard::query")
{
  SUBCASE("sends get=1 and reads to the blank line")
  {
    FakeStream s(read_fixture("vpn/wireguard-uapi-get.txt"), 17);
    auto o = wireguard::query(s, "/run/wireguard/wg0.sock", 1795314600.5, {}, {});
    CHECK(s.written == "get=1\n\n");
    CHECK(o.status == Observation::Status::Read);
    CHECK(o.endpoint == "/run/wireguard/wg0.sock");
    CHECK(o.tunnels.size() == 2);
  }
  SUBCASE("silence, garbage and an endless reply are Failed")
  {
    FakeStream silent("");
    CHECK(wireguard::query(silent, "x", 0, {}, {}).status == Observation::Status::Failed);
    FakeStream garbage("<html>\n\n");
    CHECK(wireguard::query(garbage, "x", 0, {}, {}).status == Observation::Status::Failed);
    FakeStream endless(std::string(2 * 1024 * 1024, 'a'), 65536);
    auto o = wireguard::query(endless, "x", 0, {}, {});
    CHECK(o.status == Observation::Status::Failed);
    CHECK(o.error.find("1 MiB") != std::string::npos);
  }
}
