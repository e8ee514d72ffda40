// SPDX-License-Identifier: GPL-2.0-or-later
// --backend aws-route: DescribeRouteTables for one route table, then, for the
// virtual private gateways among the route's targets, their Site-to-Site VPN
// connections (DescribeVpnConnections filtered by vpn-gateway-id). The route
// and the targets' tunnels are judged in evaluate_route.cpp.
#include <algorithm>

#include <fmt/format.h>

#include "source_aws.hpp"

namespace sitelink::vpn::cloud::aws {

namespace {

// The vgw- IDs among the route's target and the other targets the check
// names, each once.
std::vector<std::string> gateways_of(const RouteFinding& f, const std::vector<std::string>& others)
{
  std::vector<std::string> out;
  auto add = [&out](const std::string& id) {
    if (id.rfind("vgw-", 0) == 0 && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  };
  for (const auto& id : f.target_ids) add(id);
  for (const auto& id : others) add(id);
  return out;
}

// The gateways' VPN connections: their tunnels go into reply.links (deleted
// connections left out); a failed call is kept as data, because the route
// already read may decide the result on its own (a blackhole is CRITICAL
// whatever the tunnels say).
GatewayTunnels read_gateways(const Session& s, const Ec2& ec2, std::vector<std::string> gateways)
{
  GatewayTunnels g;
  g.gateways = std::move(gateways);
  std::string form = "Filter.1.Name=vpn-gateway-id";
  for (std::size_t i = 0; i < g.gateways.size(); ++i)
    form += fmt::format("&Filter.1.Value.{}={}", i + 1, url_encode(g.gateways[i]));
  auto body = ec2_call(s, ec2, "DescribeVpnConnections", form);
  if (!body) {
    g.timed_out = body.error().timed_out;
    g.error = body.error().text;
    return g;
  }
  auto conns = parse_vpn_connections(*body);
  if (!conns) {
    g.error = conns.error();
    return g;
  }
  g.read = true;
  for (const auto& c : *conns) {
    if (c.state == "deleted" || std::find(g.gateways.begin(), g.gateways.end(), c.gateway) == g.gateways.end())
      continue;
    s.debug(2, fmt::format("aws: {} on {}: state {}, {} tunnel(s) in telemetry", c.id, c.gateway, c.state,
                           c.telemetry.size()));
    for (auto& l : links_of(c)) {
      s.reply.expected.push_back(l.name);
      s.reply.links.push_back(std::move(l));
    }
  }
  return g;
}

} // namespace

Reply run_route(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
                const Deadline& deadline, double now)
{
  return with_ec2(req, env, fs, http, deadline, now, [&](const Session& s, const Ec2& ec2) -> Reply& {
    auto body = ec2_call(s, ec2, "DescribeRouteTables", "RouteTableId.1=" + url_encode(req.route_table_id));
    if (!body) return fail_call(s, body.error());
    auto f = parse_route_tables(*body, req.route_table_id, req.destination);
    if (!f) return s.fail(f.error());
    s.debug(2, fmt::format("aws: route {} in {}: {}", req.destination, req.route_table_id,
                           f->found ? f->state + " via " + f->target : std::string("absent")));
    auto gateways = gateways_of(*f, req.route_targets);
    s.reply.route = std::move(*f);
    if (!gateways.empty()) s.reply.gateways = read_gateways(s, ec2, std::move(gateways));
    s.reply.status = Reply::Status::Ok;
    return s.reply;
  });
}

} // namespace sitelink::vpn::cloud::aws
