// SPDX-License-Identifier: GPL-2.0-or-later
// The pure judgement of the cloud backends' replies: tunnels through the
// plugin's evaluate, plus BGP routes (aws) and the route (aws-route).
#include "evaluate_cloud.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud {

namespace {

TunnelState tunnel_state(LinkState s)
{
  switch (s) {
  case LinkState::Up: return TunnelState::Up;
  case LinkState::Down: return TunnelState::Down;
  case LinkState::Connecting: return TunnelState::Connecting;
  case LinkState::Missing: return TunnelState::Missing;
  }
  return TunnelState::Down;
}

std::string daemon_of(const Reply& reply)
{
  auto at = reply.api.find(" at ");
  return at == std::string::npos ? reply.api : reply.api.substr(0, at);
}

} // namespace

Observation observation_of(const Reply& reply, double now)
{
  Observation obs;
  obs.daemon = daemon_of(reply);
  auto at = reply.api.find(" at ");
  obs.endpoint = at == std::string::npos ? std::string() : reply.api.substr(at + 4);
  obs.status = reply.status == Reply::Status::Ok ? Observation::Status::Read : Observation::Status::Failed;
  obs.error = reply.error;
  for (const auto& l : reply.links) {
    Tunnel t;
    t.name = l.name;
    t.state = tunnel_state(l.state);
    if (l.since_epoch && now >= *l.since_epoch) t.since = now - *l.since_epoch;
    t.detail = l.detail;
    t.bytes_in = l.bytes_in;
    t.bytes_out = l.bytes_out;
    t.group = l.group;
    obs.tunnels.push_back(std::move(t));
  }
  obs.configured = reply.expected;
  return obs;
}

Result judge(const Reply& reply, Policy policy, double now)
{
  policy.expected = reply.expected;
  policy.stale.reset();
  policy.handshake_limit.reset();
  auto obs = observation_of(reply, now);
  Result r = evaluate(obs, policy);
  if (reply.status != Reply::Status::Ok) {
    r.state = State::Unknown;
    r.summary = sanitize_quote(reply.error, 400);
    return r;
  }
  std::vector<std::string> extra;
  // <name>_routes only beside the other per-tunnel items (see
  // per_tunnel_perfdata), counted as a fifth item per tunnel.
  bool per_tunnel = per_tunnel_perfdata(reply.expected, 5);
  if (per_tunnel && !reply.expected.empty()) {
    // With groups, their items take part of the budget: follow evaluate.
    const std::string first = reply.expected.front() + "_up";
    per_tunnel =
        std::any_of(r.perfdata.begin(), r.perfdata.end(), [&first](const Perfdatum& p) { return p.label == first; });
  }
  for (const auto& l : reply.links) {
    if (!l.bgp) continue;
    if (per_tunnel) r.perfdata.push_back({l.name + "_routes", l.accepted_routes, Uom::None, {}, {}, 0.0, {}});
    if (l.state == LinkState::Up && l.accepted_routes && *l.accepted_routes == 0) {
      extra.push_back(sanitize_quote(l.name, 64) + " up but no routes");
      r.details.push_back(sanitize_quote(l.name, 64) +
                          ": BGP session up but 0 routes accepted; traffic cannot use this tunnel");
      if (r.state == State::Ok || r.state == State::Unknown) r.state = State::Warning;
    }
  }
  // vcd: a tunnel that is up but impaired (NSX-T DEGRADED); the reason is
  // in summary_notes.
  for (const auto& l : reply.links)
    if (l.state == LinkState::Up && !l.warning.empty() && (r.state == State::Ok || r.state == State::Unknown))
      r.state = State::Warning;
  for (const auto& n : reply.summary_notes) extra.push_back(n);
  if (!extra.empty()) {
    std::string joined;
    for (const auto& e : extra) joined += (joined.empty() ? "" : ", ") + e;
    r.summary += "; " + joined;
  }
  for (const auto& n : reply.notes) r.details.push_back(n);
  return r;
}

Result evaluate_route(const RouteFinding& route, const std::string& expect_target)
{
  Result r;
  const std::string dest = sanitize_quote(route.destination, 64);
  const std::string table = sanitize_quote(route.table_id, 64);
  const std::string target = sanitize_quote(route.target, 64);
  const bool active = route.found && route.state == "active";
  std::optional<double> on_expected;
  if (!expect_target.empty() && route.found) on_expected = active && route.target == expect_target ? 1.0 : 0.0;
  if (!route.found) {
    r.state = State::Critical;
    r.summary = fmt::format("no route to {} in {}", dest, table);
  } else if (route.state == "blackhole") {
    r.state = State::Critical;
    r.summary =
        fmt::format("route to {} in {} is a blackhole: target {} is gone", dest, table, target.empty() ? "?" : target);
  } else if (!active) {
    r.state = State::Critical;
    r.summary = fmt::format("route to {} in {} is {}, not active (target {})", dest, table,
                            sanitize_quote(route.state, 32), target);
  } else if (!expect_target.empty() && route.target != expect_target) {
    r.state = State::Warning;
    r.summary =
        fmt::format("route to {} failed over to {} (expected {})", dest, target, sanitize_quote(expect_target, 64));
  } else {
    r.state = State::Ok;
    r.summary = fmt::format("route to {} in {} active via {}", dest, table, target);
  }
  if (route.found)
    r.details.push_back(fmt::format("{} in {}: state {}, target {}, origin {}", dest, table,
                                    sanitize_quote(route.state, 32), target.empty() ? "?" : target,
                                    route.origin.empty() ? "?" : sanitize_quote(route.origin, 64)));
  r.perfdata.push_back({"route_active", active ? 1.0 : 0.0, Uom::None, {}, {}, 0.0, 1.0});
  r.perfdata.push_back({"route_on_expected_target", on_expected, Uom::None, {}, {}, 0.0, 1.0});
  return r;
}

Result evaluate_route_reply(const Reply& reply, const std::string& expect_target)
{
  if (reply.status != Reply::Status::Ok || !reply.route) {
    Result r{State::Unknown, sanitize_quote(reply.error, 400), {}, {}};
    r.perfdata.push_back({"route_active", std::nullopt, Uom::None, {}, {}, 0.0, 1.0});
    r.perfdata.push_back({"route_on_expected_target", std::nullopt, Uom::None, {}, {}, 0.0, 1.0});
    return r;
  }
  return evaluate_route(*reply.route, expect_target);
}

} // namespace sitelink::vpn::cloud
