// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

namespace {
Link link(const std::string& name, LinkState s, bool bgp = false, std::optional<double> routes = std::nullopt)
{
  Link l;
  l.name = name;
  l.state = s;
  l.bgp = bgp;
  l.accepted_routes = routes;
  return l;
}

Reply reply(std::vector<Link> links)
{
  Reply r;
  r.status = Reply::Status::Ok;
  r.api = "AWS EC2 at http://x";
  for (auto& l : links) {
    r.expected.push_back(l.name);
    r.links.push_back(std::move(l));
  }
  return r;
}

bool has_line(const Result& r, const std::string& line)
{
  return std::find(r.details.begin(), r.details.end(), line) != r.details.end();
}
} // namespace

TEST_CASE("cloud::evaluate::observation_of")
{
  auto r = reply({link("a", LinkState::Up), link("b", LinkState::Missing)});
  r.links[0].since_epoch = 1000;
  auto obs = observation_of(r, 1600);
  CHECK(obs.status == Observation::Status::Read);
  CHECK(obs.daemon == "AWS EC2");
  CHECK(obs.endpoint == "http://x");
  REQUIRE(obs.tunnels.size() == 2);
  CHECK(obs.tunnels[0].since.value() == 600);
  CHECK(obs.tunnels[1].state == TunnelState::Missing);
  SUBCASE("a change time in the future gives no duration")
  {
    r.links[0].since_epoch = 2000;
    CHECK_FALSE(observation_of(r, 1600).tunnels[0].since.has_value());
  }
}

TEST_CASE("cloud::evaluate::judge")
{
  Policy p;
  SUBCASE("both up")
  {
    auto res = judge(reply({link("v/1", LinkState::Up), link("v/2", LinkState::Up)}), p, 0);
    CHECK(res.state == State::Ok);
  }
  SUBCASE("one down: WARNING by the default -w N:")
  {
    CHECK(judge(reply({link("v/1", LinkState::Up), link("v/2", LinkState::Down)}), p, 0).state == State::Warning);
  }
  SUBCASE("both down, and connecting does not count as up")
  {
    CHECK(judge(reply({link("v/1", LinkState::Connecting), link("v/2", LinkState::Down)}), p, 0).state ==
          State::Critical);
  }
  SUBCASE("BGP up with 0 routes is WARNING, with a perfdata item")
  {
    auto res = judge(reply({link("v/1", LinkState::Up, true, 0.0), link("v/2", LinkState::Up, true, 4.0)}), p, 0);
    CHECK(res.state == State::Warning);
    CHECK(res.summary == "2 of 2 tunnels up; v/1 up but no routes");
    auto it = std::find_if(res.perfdata.begin(), res.perfdata.end(),
                           [](const Perfdatum& d) { return d.label == "v/2_routes"; });
    REQUIRE(it != res.perfdata.end());
    CHECK(it->value.value() == 4);
  }
  SUBCASE("no-routes never lowers a CRITICAL")
  {
    auto res = judge(reply({link("v/1", LinkState::Up, true, 0.0), link("v/2", LinkState::Down, true, 0.0)}),
                     Policy{{}, std::nullopt, Range::parse("2:").value(), {}, {}}, 0);
    CHECK(res.state == State::Critical);
  }
  SUBCASE("active/passive pair")
  {
    Policy ap;
    ap.warn = Range::parse("1:1").value();
    ap.crit = Range::parse("1:").value();
    CHECK(judge(reply({link("v/1", LinkState::Up), link("v/2", LinkState::Down)}), ap, 0).state == State::Ok);
  }
  SUBCASE("notes go to the long output, summary notes to line 1")
  {
    auto r = reply({link("v/1", LinkState::Up), link("v/2", LinkState::Up)});
    r.notes = {"VPN connection v is pending, not available"};
    r.summary_notes = {"v pending"};
    auto res = judge(r, p, 0);
    CHECK(res.summary == "2 of 2 tunnels up; v pending");
    CHECK(has_line(res, "VPN connection v is pending, not available"));
  }
  SUBCASE("a failed reply is UNKNOWN with the module's error")
  {
    Reply r;
    r.status = Reply::Status::Failed;
    r.error = "AWS refused the request: DescribeVpnConnections failed: AuthFailure: no";
    auto res = judge(r, p, 0);
    CHECK(res.state == State::Unknown);
    CHECK(res.summary == r.error);
  }
}

TEST_CASE("cloud::evaluate::evaluate_route")
{
  RouteFinding f;
  f.table_id = "rtb-1";
  f.destination = "10.1.0.0/16";
  f.found = true;
  f.state = "active";
  f.target = "i-a";
  f.origin = "CreateRoute";
  SUBCASE("active")
  {
    auto r = evaluate_route(f, "i-a");
    CHECK(r.state == State::Ok);
    CHECK(r.perfdata[0].value.value() == 1);
    CHECK(r.perfdata[1].value.value() == 1);
  }
  SUBCASE("failed over")
  {
    f.target = "i-b";
    auto r = evaluate_route(f, "i-a");
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "route to 10.1.0.0/16 failed over to i-b (expected i-a)");
    CHECK(evaluate_route(f, "").state == State::Ok);
  }
  SUBCASE("blackhole")
  {
    f.state = "blackhole";
    auto r = evaluate_route(f, "i-a");
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 is a blackhole: target i-a is gone");
    CHECK(r.perfdata[0].value.value() == 0);
  }
  SUBCASE("absent")
  {
    f.found = false;
    auto r = evaluate_route(f, "i-a");
    CHECK(r.state == State::Critical);
    CHECK_FALSE(r.perfdata[1].value.has_value());
  }
}
