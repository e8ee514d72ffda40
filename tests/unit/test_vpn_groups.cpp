// SPDX-License-Identifier: GPL-2.0-or-later
// Sites (groups of tunnels) in check_vpn_tunnel_up's judgement: per-site
// ranges, "cut off" sites, per-site perfdata, OpenVPN pairs (merge_servers)
// and the cloud replies' groups (aws: VPN connections; openstack: peers).
#include <algorithm>

#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/evaluate.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::vpn;

namespace {

Tunnel tunnel(const std::string& name, const std::string& group, TunnelState s)
{
  Tunnel t;
  t.name = name;
  t.group = group;
  t.state = s;
  t.detail = s == TunnelState::Up ? "IKE ESTABLISHED" : "no IKE SA";
  return t;
}

Observation read(std::vector<Tunnel> tunnels)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "charon";
  o.endpoint = "/run/charon.vici";
  for (const auto& t : tunnels) o.configured.push_back(t.name);
  o.tunnels = std::move(tunnels);
  return o;
}

Range range(const char* s)
{
  return Range::parse(s).value();
}

const Perfdatum* perf(const Result& r, const std::string& label)
{
  for (const auto& p : r.perfdata)
    if (p.label == label) return &p;
  return nullptr;
}

std::vector<std::string> labels(const Result& r)
{
  std::vector<std::string> out;
  for (const auto& p : r.perfdata) out.push_back(p.label);
  return out;
}

// Two sites, a and b, two tunnels each; `b_up` of b's are up.
Observation two_sites(int a_up, int b_up)
{
  auto s = [](int i, int n) { return i < n ? TunnelState::Up : TunnelState::Down; };
  return read({tunnel("a-1", "a", s(0, a_up)), tunnel("a-2", "a", s(1, a_up)), tunnel("b-1", "b", s(0, b_up)),
               tunnel("b-2", "b", s(1, b_up))});
}

} // namespace

TEST_CASE("vpn::evaluate groups")
{
  SUBCASE("one of two sites cut off is CRITICAL, even when the total would only warn")
  {
    auto r = evaluate(two_sites(2, 0), {});
    CHECK(r.state == State::Critical);
    CHECK(r.summary.rfind("site b cut off: 0 of 2 tunnels up; 2 of 4 tunnels up (a 2 of 2, b 0 of 2): "
                          "b-1 down (no IKE SA), b-2 down (no IKE SA)",
                          0) == 0);
    CHECK(r.details[0] == "site a: 2 of 2 tunnels up");
    CHECK(r.details[1] == "site b: 0 of 2 tunnels up, cut off");
    // The same tunnels without groups: 2 of 4 up is only WARNING.
    Observation flat = two_sites(2, 0);
    for (auto& t : flat.tunnels) t.group.clear();
    CHECK(evaluate(flat, {}).state == State::Warning);
  }
  SUBCASE("a cut-off site is CRITICAL whatever -c says")
  {
    Policy p;
    p.crit = range("0:");
    p.warn = range("0:");
    CHECK(evaluate(two_sites(2, 0), p).state == State::Critical);
  }
  SUBCASE("each site against the ranges: one of a site's two down is WARNING by default")
  {
    auto r = evaluate(two_sites(2, 1), {});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "3 of 4 tunnels up (a 2 of 2, b 1 of 2): b-2 down (no IKE SA)");
  }
  SUBCASE("active/passive per site (-w 1:1 -c 1:): one up in each is OK, both up in one warns")
  {
    Policy p;
    p.warn = range("1:1");
    p.crit = range("1:");
    CHECK(evaluate(two_sites(1, 1), p).state == State::Ok);
    auto r = evaluate(two_sites(2, 1), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "3 of 4 tunnels up (a 2 of 2 (warning outside 1..1), b 1 of 2): b-2 down (no IKE SA)");
  }
  SUBCASE("every site up is OK; the worst site decides")
  {
    CHECK(evaluate(two_sites(2, 2), {}).state == State::Ok);
    CHECK(evaluate(two_sites(1, 0), {}).state == State::Critical);
    CHECK(evaluate(two_sites(0, 0), {})
              .summary.rfind("site a cut off: 0 of 2 tunnels up; site b cut off: 0 of 2 tunnels up; 0 of 4", 0) == 0);
  }
  SUBCASE("per-site perfdata with each site's ranges, the same labels in every state")
  {
    auto ok = evaluate(two_sites(2, 2), {});
    auto bad = evaluate(two_sites(2, 0), {});
    CHECK(labels(ok) == labels(bad));
    const auto* b = perf(bad, "b_tunnels_up");
    REQUIRE(b != nullptr);
    CHECK(render_perfdata({*b}) == "b_tunnels_up=0;2:;1:;0;2");
    CHECK(render_perfdata({*perf(ok, "tunnels_up")}) == "tunnels_up=4;;;0;4");
    CHECK(perf(ok, "a-1_up") != nullptr);
  }
  SUBCASE("--group names the sites of tunnels the daemon does not group")
  {
    Observation o = two_sites(2, 0);
    for (auto& t : o.tunnels) t.group.clear();
    Policy p;
    p.group_of = {{"a-1", "office-a"}, {"a-2", "office-a"}, {"b-1", "office-b"}, {"b-2", "office-b"}};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary.rfind("site office-b cut off: 0 of 2 tunnels up;", 0) == 0);
    // A tunnel the daemon lacks keeps its --group site.
    p.expected = {"a-1", "a-2", "b-1", "b-2", "b-3"};
    p.group_of.emplace_back("b-3", "office-b");
    r = evaluate(o, p);
    CHECK(r.summary.find("office-b 0 of 3") != std::string::npos);
  }
  SUBCASE("one site behaves as without groups")
  {
    Observation o = read({tunnel("a-1", "a", TunnelState::Up), tunnel("a-2", "a", TunnelState::Down)});
    Observation flat = o;
    for (auto& t : flat.tunnels) t.group.clear();
    auto r = evaluate(o, {});
    auto f = evaluate(flat, {});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == f.summary);
    CHECK(render_perfdata(r.perfdata) == render_perfdata(f.perfdata));
    CHECK(r.details == f.details);
  }
  SUBCASE("many sites stay within the output budget: group items dropped, texts counted")
  {
    std::vector<Tunnel> ts;
    for (int i = 0; i < 300; ++i)
      ts.push_back(tunnel("connection-with-a-long-name-" + std::to_string(i),
                          "site-with-a-long-name-" + std::to_string(i),
                          i % 2 == 0 ? TunnelState::Up : TunnelState::Down));
    auto r = evaluate(read(ts), {});
    CHECK(r.state == State::Critical);
    CHECK(perf(r, "site-with-a-long-name-0_tunnels_up") == nullptr);
    CHECK(perf(r, "in_idle_max") != nullptr);
    CHECK(r.summary.find("more sites cut off") != std::string::npos);
    CHECK(r.summary.size() + render_perfdata(r.perfdata).size() < 4096);
  }
}

TEST_CASE("vpn::merge_servers (an OpenVPN pair)")
{
  auto server = [](std::vector<Tunnel> ts) {
    Observation o;
    o.status = Observation::Status::Read;
    o.daemon = "OpenVPN";
    o.endpoint = "/run/x.sock";
    o.configured = {"openvpn"};
    o.tunnels = std::move(ts);
    return o;
  };
  auto p2p = [](TunnelState s) {
    Tunnel t;
    t.name = "openvpn";
    t.state = s;
    return t;
  };
  Observation gone;
  gone.status = Observation::Status::DaemonDown;
  gone.daemon = "OpenVPN";
  gone.endpoint = "/run/primary.sock";
  gone.error = "no socket at /run/primary.sock";
  Policy pair;
  pair.warn = range("1:1");
  pair.crit = range("1:");

  SUBCASE("active/passive: exactly one of the two up is OK with -w 1:1 -c 1:")
  {
    std::vector<std::string> expected;
    auto o = merge_servers(
        {{"primary", server({p2p(TunnelState::Up)})}, {"secondary", server({p2p(TunnelState::Connecting)})}}, {},
        expected);
    CHECK(expected == std::vector<std::string>{"primary/openvpn", "secondary/openvpn"});
    pair.expected = expected;
    auto r = evaluate(o, pair);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "1 of 2 tunnels up: secondary/openvpn connecting");
  }
  SUBCASE("both up warns, none up is CRITICAL")
  {
    std::vector<std::string> e1, e2;
    auto both = merge_servers(
        {{"primary", server({p2p(TunnelState::Up)})}, {"secondary", server({p2p(TunnelState::Up)})}}, {}, e1);
    pair.expected = e1;
    CHECK(evaluate(both, pair).state == State::Warning);
    auto none = merge_servers(
        {{"primary", server({p2p(TunnelState::Down)})}, {"secondary", server({p2p(TunnelState::Down)})}}, {}, e2);
    pair.expected = e2;
    CHECK(evaluate(none, pair).state == State::Critical);
  }
  SUBCASE("a server that cannot be reached counts its tunnel as down, with the reason")
  {
    std::vector<std::string> expected;
    auto o = merge_servers({{"primary", gone}, {"secondary", server({p2p(TunnelState::Up)})}}, {}, expected);
    CHECK(o.status == Observation::Status::Read);
    CHECK(expected == std::vector<std::string>{"primary/openvpn", "secondary/openvpn"});
    pair.expected = expected;
    auto r = evaluate(o, pair);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "1 of 2 tunnels up: primary/openvpn down (OpenVPN is not running (no socket at "
                       "/run/primary.sock))");
    // Both gone: CRITICAL (no server answers), not UNKNOWN.
    std::vector<std::string> e2;
    Observation gone2 = gone;
    gone2.endpoint = "/run/secondary.sock";
    auto none = merge_servers({{"primary", gone}, {"secondary", gone2}}, {}, e2);
    pair.expected = e2;
    CHECK(evaluate(none, pair).state == State::Critical);
  }
  SUBCASE("a refused permission on every server stays UNKNOWN")
  {
    Observation denied = gone;
    denied.status = Observation::Status::NoPermission;
    denied.error = "permission denied";
    std::vector<std::string> expected;
    auto o = merge_servers({{"primary", denied}, {"secondary", denied}}, {}, expected);
    CHECK(evaluate(o, pair).state == State::Unknown);
  }
  SUBCASE("server mode: each client is a site across the pair; one cut off everywhere is CRITICAL")
  {
    auto client = [](const std::string& cn) {
      Tunnel t;
      t.name = cn;
      t.state = TunnelState::Up;
      return t;
    };
    Observation a = server({client("site-b")}), b = server({client("site-c")});
    a.configured.clear();
    b.configured.clear();
    std::vector<std::string> expected;
    auto o = merge_servers({{"primary", a}, {"secondary", b}}, {"site-b", "site-c", "site-d"}, expected);
    CHECK(expected.size() == 6);
    pair.expected = expected;
    auto r = evaluate(o, pair);
    CHECK(r.state == State::Critical);
    CHECK(r.summary.rfind("site site-d cut off: 0 of 2 tunnels up; 2 of 6 tunnels up (site-b 1 of 2, site-c 1 of 2, "
                          "site-d 0 of 2)",
                          0) == 0);
  }
}

TEST_CASE("cloud::judge groups (aws: one site per VPN connection)")
{
  using namespace sitelink::vpn::cloud;
  auto link = [](const std::string& vpn, const std::string& ip, LinkState s) {
    Link l;
    l.name = vpn + "/" + ip;
    l.group = vpn;
    l.state = s;
    return l;
  };
  Reply r;
  r.status = Reply::Status::Ok;
  r.api = "AWS EC2 at http://x";
  r.links = {link("vpn-1", "192.0.2.1", LinkState::Up), link("vpn-1", "192.0.2.2", LinkState::Up),
             link("vpn-2", "192.0.2.3", LinkState::Down), link("vpn-2", "192.0.2.4", LinkState::Down)};
  for (const auto& l : r.links) r.expected.push_back(l.name);
  auto res = judge(r, {}, 0);
  CHECK(res.state == State::Critical);
  CHECK(res.summary.rfind("site vpn-2 cut off: 0 of 2 tunnels up; 2 of 4 tunnels up (vpn-1 2 of 2, vpn-2 0 of 2)", 0) ==
        0);
  CHECK(perf(res, "vpn-2_tunnels_up") != nullptr);
  r.links[2].state = LinkState::Up;
  Policy pair;
  pair.warn = range("1:1");
  pair.crit = range("1:");
  CHECK(judge(r, pair, 0).state == State::Warning); // vpn-1 has both up
  r.links[1].state = LinkState::Down;
  CHECK(judge(r, pair, 0).state == State::Ok);
}
