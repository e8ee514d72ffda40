// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/cloud/evaluate_failover.hpp"
#include "check_vpn_tunnel_up/cloud/parse_aws.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

namespace {

using Known = TargetTunnel::Known;

Reply route_reply(const std::string& target, const std::string& state = "active")
{
  Reply r;
  r.status = Reply::Status::Ok;
  r.api = "AWS EC2 at http://x";
  RouteFinding f;
  f.table_id = "rtb-1";
  f.destination = "10.1.0.0/16";
  f.found = true;
  f.state = state;
  f.target = target;
  f.target_ids = {target};
  if (target == "i-a") f.target_ids.push_back("eni-a");
  r.route = f;
  return r;
}

TargetTunnel tunnel(const std::string& target, Known k, bool timed_out = false)
{
  TargetTunnel t;
  t.target = target;
  t.state = k;
  t.what = k == Known::Up ? "OpenVPN at /a: 1 of 1 tunnel(s) up" : k == Known::Down ? "down for test" : "unreadable";
  t.timed_out = timed_out;
  t.activity = "waiting for the OpenVPN management greeting at /a";
  return t;
}

RoutePolicy pair_policy()
{
  RoutePolicy p;
  p.expect = "i-a";
  p.standby = "i-b";
  p.tunnel_targets = {"i-a", "i-b"};
  return p;
}

std::vector<std::string> actions(const Result& r)
{
  std::vector<std::string> out;
  for (const auto& d : r.details)
    if (d.rfind("Action: ", 0) == 0) out.push_back(d);
  return out;
}

std::optional<double> perf(const Result& r, const std::string& label)
{
  for (const auto& p : r.perfdata)
    if (p.label == label) return p.value;
  FAIL("no perfdata " << label);
  return std::nullopt;
}

Link gw_link(const std::string& name, const std::string& gw, LinkState s)
{
  Link l;
  l.name = name;
  l.gateway = gw;
  l.state = s;
  return l;
}

} // namespace

TEST_CASE("cloud::failover::evaluate_route_tunnels with --target-tunnel")
{
  const auto p = pair_policy();
  SUBCASE("on the expected target, its tunnel up and the standby's up: OK")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Up), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 active via i-a, tunnel up");
    CHECK(perf(r, "route_tunnel_up") == 1.0);
    CHECK(perf(r, "route_on_expected_target") == 1.0);
    CHECK(actions(r).empty());
  }
  SUBCASE("the route names the ENI that --target-tunnel gives: the same target")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("eni-a", Known::Up), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Ok);
  }
  SUBCASE("on the standby with its tunnel up: WARNING failed over")
  {
    auto r = evaluate_route_tunnels(route_reply("i-b"), p, {tunnel("i-a", Known::Down), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "route to 10.1.0.0/16 failed over to the standby i-b (expected i-a), tunnel up");
    CHECK(perf(r, "route_on_expected_target") == 0.0);
  }
  SUBCASE("on another target with its tunnel up: WARNING failed over")
  {
    RoutePolicy q = p;
    q.tunnel_targets.push_back("i-c");
    auto r = evaluate_route_tunnels(route_reply("i-c"), q,
                                    {tunnel("i-a", Known::Up), tunnel("i-b", Known::Up), tunnel("i-c", Known::Up)});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "route to 10.1.0.0/16 failed over to i-c (expected i-a), tunnel up");
  }
  SUBCASE("into a dead tunnel with the standby's up: CRITICAL with the repoint command")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Down), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "traffic for 10.1.0.0/16 is routed into a dead tunnel via i-a (down for test); "
                       "the tunnel of i-b is up: repoint the route");
    CHECK(actions(r) == std::vector<std::string>{"Action: aws ec2 replace-route --route-table-id rtb-1 "
                                                 "--destination-cidr-block 10.1.0.0/16 --instance-id i-b"});
    CHECK(perf(r, "route_tunnel_up") == 0.0);
  }
  SUBCASE("failed over into a dead tunnel, the expected one up: repoint back")
  {
    auto r = evaluate_route_tunnels(route_reply("i-b"), p, {tunnel("i-a", Known::Up), tunnel("i-b", Known::Down)});
    CHECK(r.state == State::Critical);
    CHECK(actions(r).at(0).find("--instance-id i-a") != std::string::npos);
  }
  SUBCASE("no target with a live tunnel: CRITICAL, no command")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Down), tunnel("i-b", Known::Down)});
    CHECK(r.state == State::Critical);
    CHECK(r.summary.find("; no target has a live tunnel") != std::string::npos);
    CHECK(actions(r).empty());
  }
  SUBCASE("dead, and the other unreadable: CRITICAL, says it is not known")
  {
    auto r =
        evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Down), tunnel("i-b", Known::Unreadable)});
    CHECK(r.state == State::Critical);
    CHECK(r.summary.find("; no other target's tunnel is known to be up") != std::string::npos);
  }
  SUBCASE("the route's tunnel unreadable: UNKNOWN naming why, never OK")
  {
    auto r =
        evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Unreadable), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "cannot tell whether the tunnel via i-a is up: unreadable");
    CHECK_FALSE(perf(r, "route_tunnel_up").has_value());
  }
  SUBCASE("the route's tunnel ran out of time: a timeout")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p,
                                    {tunnel("i-a", Known::Unreadable, true), tunnel("i-b", Known::Up)});
    REQUIRE(r.timed_out_while.has_value());
    CHECK(*r.timed_out_while == "waiting for the OpenVPN management greeting at /a");
  }
  SUBCASE("a target nothing reads is unreadable")
  {
    RoutePolicy q;
    q.tunnel_targets = {"i-b"};
    auto r = evaluate_route_tunnels(route_reply("i-a"), q, {tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "cannot tell whether the tunnel via i-a is up: no --target-tunnel says where the tunnel of "
                       "i-a is read");
  }
  SUBCASE("on the expected target, the standby's tunnel down: WARNING, no fail-over left")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Up), tunnel("i-b", Known::Down)});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 active via i-a, tunnel up; no fail-over left: the tunnel of "
                       "i-b is down");
  }
  SUBCASE("on the expected target, the standby's tunnel unreadable: UNKNOWN")
  {
    auto r =
        evaluate_route_tunnels(route_reply("i-a"), p, {tunnel("i-a", Known::Up), tunnel("i-b", Known::Unreadable)});
    CHECK(r.state == State::Unknown);
    CHECK(r.summary.find("cannot read the tunnel of i-b: unreadable") != std::string::npos);
  }
  SUBCASE("blackhole: CRITICAL as before, with a command towards a live target")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a", "blackhole"), p,
                                    {tunnel("i-a", Known::Down), tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 is a blackhole: target i-a is gone");
    CHECK(actions(r).size() == 1);
    CHECK_FALSE(perf(r, "route_tunnel_up").has_value());
  }
  SUBCASE("no route: CRITICAL as before")
  {
    Reply rep = route_reply("i-a");
    rep.route->found = false;
    auto r = evaluate_route_tunnels(rep, p, {tunnel("i-b", Known::Up)});
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "no route to 10.1.0.0/16 in rtb-1");
    CHECK(actions(r).empty());
  }
  SUBCASE("a failed reply: UNKNOWN with the same labels")
  {
    Reply rep;
    rep.error = "AWS refused the request";
    auto r = evaluate_route_tunnels(rep, p, {});
    CHECK(r.state == State::Unknown);
    CHECK(r.perfdata.size() == 3);
  }
}

TEST_CASE("cloud::failover::evaluate_route_tunnels with virtual private gateways")
{
  RoutePolicy none;
  SUBCASE("without tunnels anywhere this is evaluate_route")
  {
    auto r = evaluate_route_tunnels(route_reply("i-a"), none, {});
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 active via i-a");
    CHECK(r.perfdata.size() == 2);
  }
  Reply rep = route_reply("vgw-1");
  rep.gateways = GatewayTunnels{{"vgw-1", "vgw-2"}, true, "", false};
  rep.links = {gw_link("vpn-1/203.0.113.1", "vgw-1", LinkState::Up),
               gw_link("vpn-1/203.0.113.2", "vgw-1", LinkState::Down),
               gw_link("vpn-2/203.0.113.3", "vgw-2", LinkState::Down)};
  SUBCASE("one of the gateway's tunnels up: OK, no extra options")
  {
    auto r = evaluate_route_tunnels(rep, none, {});
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "route to 10.1.0.0/16 in rtb-1 active via vgw-1, tunnel up");
    CHECK(r.perfdata.size() == 2);
  }
  SUBCASE("every tunnel of the gateway down: CRITICAL, repoint to a live gateway")
  {
    rep.route->target = "vgw-2";
    rep.route->target_ids = {"vgw-2"};
    RoutePolicy p;
    p.expect = "vgw-2";
    p.standby = "vgw-1";
    auto r = evaluate_route_tunnels(rep, p, {});
    CHECK(r.state == State::Critical);
    CHECK(r.summary.rfind("traffic for 10.1.0.0/16 is routed into a dead tunnel via vgw-2 (0 of 1 VPN tunnels up)",
                          0) == 0);
    CHECK(actions(r) == std::vector<std::string>{"Action: aws ec2 replace-route --route-table-id rtb-1 "
                                                 "--destination-cidr-block 10.1.0.0/16 --gateway-id vgw-1"});
  }
  SUBCASE("a gateway without connections is a dead tunnel")
  {
    rep.links.clear();
    auto r = evaluate_route_tunnels(rep, none, {});
    CHECK(r.state == State::Critical);
    CHECK(r.summary.find("(no VPN connection on vgw-1)") != std::string::npos);
  }
  SUBCASE("the connections unreadable: UNKNOWN")
  {
    rep.gateways->read = false;
    rep.gateways->error = "DescribeVpnConnections failed: UnauthorizedOperation: no";
    auto r = evaluate_route_tunnels(rep, none, {});
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "cannot tell whether the tunnel via vgw-1 is up: its VPN connections could not be read: "
                       "DescribeVpnConnections failed: UnauthorizedOperation: no");
  }
}

TEST_CASE("cloud::failover::target_tunnel")
{
  Observation o;
  o.daemon = "OpenVPN";
  o.endpoint = "/run/a.mgmt";
  SUBCASE("a tunnel up: up")
  {
    o.status = Observation::Status::Read;
    o.tunnels = {Tunnel{}};
    o.tunnels[0].name = "i-a";
    o.tunnels[0].state = TunnelState::Up;
    auto t = target_tunnel("i-a", o);
    CHECK(t.state == Known::Up);
    CHECK(t.what == "OpenVPN at /run/a.mgmt: 1 of 1 tunnel(s) up");
  }
  SUBCASE("connecting: down, says so")
  {
    o.status = Observation::Status::Read;
    o.tunnels = {Tunnel{}};
    o.tunnels[0].name = "i-a";
    o.tunnels[0].state = TunnelState::Connecting;
    auto t = target_tunnel("i-a", o);
    CHECK(t.state == Known::Down);
    CHECK(t.what == "OpenVPN at /run/a.mgmt: 0 of 1 tunnel(s) up (i-a connecting)");
  }
  SUBCASE("no tunnel at all (a server without clients): down")
  {
    o.status = Observation::Status::Read;
    CHECK(target_tunnel("i-a", o).state == Known::Down);
  }
  SUBCASE("the daemon is not running: down")
  {
    o.status = Observation::Status::DaemonDown;
    o.error = "connection refused at /run/a.mgmt";
    CHECK(target_tunnel("i-a", o).state == Known::Down);
  }
  SUBCASE("permission or protocol failure: unreadable; a timeout says so")
  {
    o.status = Observation::Status::NoPermission;
    o.error = "permission denied";
    CHECK(target_tunnel("i-a", o).state == Known::Unreadable);
    o.status = Observation::Status::Failed;
    o.timed_out = true;
    auto t = target_tunnel("i-a", o);
    CHECK(t.state == Known::Unreadable);
    CHECK(t.timed_out);
  }
}

TEST_CASE("cloud::failover::replace_route_command")
{
  RouteFinding f;
  f.table_id = "rtb-1";
  f.destination = "10.1.0.0/16";
  CHECK(
      replace_route_command(f, "eni-1") ==
      "aws ec2 replace-route --route-table-id rtb-1 --destination-cidr-block 10.1.0.0/16 --network-interface-id eni-1");
  CHECK(replace_route_command(f, "tgw-1").empty());
  f.destination = "fd00::/48";
  CHECK(replace_route_command(f, "vgw-1") ==
        "aws ec2 replace-route --route-table-id rtb-1 --destination-ipv6-cidr-block fd00::/48 --gateway-id vgw-1");
}

namespace {

Reply eip_reply(const std::string& holder, std::vector<InstanceInfo> instances)
{
  Reply r;
  r.status = Reply::Status::Ok;
  AddressFinding a;
  a.found = true;
  a.public_ip = "198.51.100.10";
  a.allocation_id = "eipalloc-1";
  a.instance_id = holder;
  a.instances = std::move(instances);
  r.address = a;
  return r;
}

const EipPolicy eip_policy{"198.51.100.10", "i-a", "i-b"};

} // namespace

TEST_CASE("cloud::failover::evaluate_eip")
{
  std::vector<InstanceInfo> both = {{"i-a", "running", "vpn-a"}, {"i-b", "running", ""}};
  SUBCASE("on the expected instance, running: OK")
  {
    auto r = evaluate_eip(eip_reply("i-a", both), eip_policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "Elastic IP 198.51.100.10 on the expected instance i-a (vpn-a) (running)");
    CHECK(perf(r, "eip_on_expected_instance") == 1.0);
  }
  SUBCASE("on the standby, running: WARNING failed over")
  {
    auto r = evaluate_eip(eip_reply("i-b", both), eip_policy);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "Elastic IP 198.51.100.10 failed over to the standby i-b (expected i-a, running)");
  }
  SUBCASE("on the expected, the standby stopped: WARNING, no fail-over left")
  {
    both[1].state = "stopped";
    auto r = evaluate_eip(eip_reply("i-a", both), eip_policy);
    CHECK(r.state == State::Warning);
    CHECK(r.summary.find("no fail-over left: the standby i-b is stopped") != std::string::npos);
  }
  SUBCASE("not associated: CRITICAL, with the command")
  {
    auto r = evaluate_eip(eip_reply("", both), eip_policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "Elastic IP 198.51.100.10 is not associated with any instance");
    CHECK(actions(r) == std::vector<std::string>{"Action: aws ec2 associate-address --allocation-id eipalloc-1 "
                                                 "--instance-id i-a --allow-reassociation"});
    CHECK(perf(r, "eip_associated") == 0.0);
  }
  SUBCASE("on another instance: CRITICAL")
  {
    auto r = evaluate_eip(eip_reply("i-c", {{"i-c", "running", ""}}), eip_policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "Elastic IP 198.51.100.10 is on i-c, neither the expected i-a nor a standby");
  }
  SUBCASE("on the expected instance, not running: CRITICAL")
  {
    both[0].state = "stopped";
    auto r = evaluate_eip(eip_reply("i-a", both), eip_policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "Elastic IP 198.51.100.10 is on i-a (vpn-a), which is stopped");
    CHECK(perf(r, "eip_instance_running") == 0.0);
  }
  SUBCASE("on the standby, not running: CRITICAL")
  {
    both[1].state = "terminated";
    CHECK(evaluate_eip(eip_reply("i-b", both), eip_policy).state == State::Critical);
  }
  SUBCASE("the holder not in DescribeInstances: CRITICAL")
  {
    auto r = evaluate_eip(eip_reply("i-a", {}), eip_policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "Elastic IP 198.51.100.10 is on i-a, which is not found");
  }
  SUBCASE("not found: CRITICAL")
  {
    Reply rep = eip_reply("", {});
    rep.address->found = false;
    auto r = evaluate_eip(rep, eip_policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "Elastic IP 198.51.100.10 not found (released, or in another region)");
  }
  SUBCASE("a failed reply: UNKNOWN, same labels")
  {
    Reply rep;
    rep.error = "timed out";
    auto r = evaluate_eip(rep, eip_policy);
    CHECK(r.state == State::Unknown);
    CHECK(r.perfdata.size() == 3);
    CHECK_FALSE(perf(r, "eip_associated").has_value());
  }
}

TEST_CASE("cloud::failover::parse")
{
  using namespace sitelink::vpn::cloud::aws;
  SUBCASE("DescribeAddresses")
  {
    auto a = parse_addresses(R"(<DescribeAddressesResponse><addressesSet><item><publicIp>198.51.100.10</publicIp>
      <allocationId>eipalloc-1</allocationId><instanceId>i-a</instanceId><networkInterfaceId>eni-a</networkInterfaceId>
      </item></addressesSet></DescribeAddressesResponse>)");
    REQUIRE(a);
    CHECK(a->found);
    CHECK(a->instance_id == "i-a");
    CHECK(a->network_interface_id == "eni-a");
    auto empty = parse_addresses("<DescribeAddressesResponse><addressesSet/></DescribeAddressesResponse>");
    REQUIRE(empty);
    CHECK_FALSE(empty->found);
    CHECK_FALSE(parse_addresses("<DescribeAddressesResponse>"));
    CHECK(parse_addresses("<Other/>").error() == "unexpected reply from EC2: no DescribeAddressesResponse");
  }
  SUBCASE("DescribeInstances")
  {
    auto i = parse_instances(R"(<DescribeInstancesResponse><reservationSet><item><instancesSet>
      <item><instanceId>i-a</instanceId><instanceState><code>16</code><name>running</name></instanceState>
      <tagSet><item><key>Name</key><value>vpn-a</value></item></tagSet></item>
      <item><instanceId>i-b</instanceId><instanceState><name>stopped</name></instanceState></item>
      </instancesSet></item></reservationSet></DescribeInstancesResponse>)");
    REQUIRE(i);
    REQUIRE(i->size() == 2);
    CHECK((*i)[0].state == "running");
    CHECK((*i)[0].name == "vpn-a");
    CHECK((*i)[1].state == "stopped");
  }
  SUBCASE("a route to an instance names its interface too")
  {
    auto f = parse_route_tables(R"(<DescribeRouteTablesResponse><routeTableSet><item><routeTableId>rtb-1</routeTableId>
      <routeSet><item><destinationCidrBlock>10.1.0.0/16</destinationCidrBlock><instanceId>i-a</instanceId>
      <networkInterfaceId>eni-a</networkInterfaceId><state>active</state></item></routeSet></item></routeTableSet>
      </DescribeRouteTablesResponse>)",
                                "rtb-1", "10.1.0.0/16");
    REQUIRE(f);
    CHECK(f->target == "i-a");
    CHECK(f->target_ids == std::vector<std::string>{"i-a", "eni-a"});
  }
  SUBCASE("a VPN connection's gateway")
  {
    auto c = parse_vpn_connections(R"(<DescribeVpnConnectionsResponse><vpnConnectionSet><item>
      <vpnConnectionId>vpn-1</vpnConnectionId><state>available</state><vpnGatewayId>vgw-1</vpnGatewayId>
      </item></vpnConnectionSet></DescribeVpnConnectionsResponse>)");
    REQUIRE(c);
    CHECK(c->at(0).gateway == "vgw-1");
    CHECK(links_of(c->at(0)).at(0).gateway == "vgw-1");
  }
}
