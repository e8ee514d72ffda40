// SPDX-License-Identifier: GPL-2.0-or-later
// The pure judgement of a route with the tunnels behind its targets
// (aws-route) and of an Elastic IP between two instances (aws-eip).
#include "evaluate_failover.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "evaluate_cloud.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud {

namespace {

std::string q(const std::string& s, std::size_t max = 64)
{
  return sanitize_quote(s, max);
}

bool route_names(const RouteFinding& r, const std::string& id)
{
  if (id.empty()) return false;
  return r.target == id || std::find(r.target_ids.begin(), r.target_ids.end(), id) != r.target_ids.end();
}

// The tunnel known for `id`; a target nothing reads is unreadable.
TargetTunnel tunnel_of(const std::vector<TargetTunnel>& known, const std::string& id)
{
  for (const auto& t : known)
    if (t.target == id) return t;
  TargetTunnel t;
  t.target = id;
  t.what = "no --target-tunnel says where the tunnel of " + q(id) + " is read";
  return t;
}

// The tunnel of the route's own target (any of the IDs the route names).
TargetTunnel current_tunnel(const std::vector<TargetTunnel>& known, const RouteFinding& route)
{
  for (const auto& id : route.target_ids)
    for (const auto& t : known)
      if (t.target == id) return t;
  return tunnel_of(known, route.target);
}

// The targets the check names besides the route's, preferred first:
// expected, standby, the --target-tunnel ones, then the gateways read.
std::vector<TargetTunnel> other_tunnels(const std::vector<TargetTunnel>& known, const RouteFinding& route,
                                        const RoutePolicy& p)
{
  std::vector<std::string> ids{p.expect, p.standby};
  ids.insert(ids.end(), p.tunnel_targets.begin(), p.tunnel_targets.end());
  for (const auto& t : known) ids.push_back(t.target);
  std::vector<TargetTunnel> out;
  for (const auto& id : ids) {
    if (id.empty() || route_names(route, id)) continue;
    if (std::any_of(out.begin(), out.end(), [&id](const TargetTunnel& t) { return t.target == id; })) continue;
    out.push_back(tunnel_of(known, id));
  }
  return out;
}

std::string_view known_text(TargetTunnel::Known k)
{
  switch (k) {
  case TargetTunnel::Known::Up: return "up";
  case TargetTunnel::Known::Down: return "down";
  case TargetTunnel::Known::Unreadable: return "unknown";
  }
  return "unknown";
}

std::string tunnel_line(const TargetTunnel& t, const std::string& role)
{
  return fmt::format("{}{}: tunnel {}, {}", q(t.target), role, known_text(t.state), q(t.what, 300));
}

std::optional<double> up_value(const TargetTunnel& t)
{
  if (t.state == TargetTunnel::Known::Unreadable) return std::nullopt;
  return t.state == TargetTunnel::Known::Up ? 1.0 : 0.0;
}

// What the state is, and whether an UNKNOWN comes from running out of time.
struct Verdict {
  State state = State::Ok;
  std::string summary;
  std::vector<std::string> extra; // "; ..." parts of the summary
  bool timed_out = false;
  std::string activity;
  void raise(State s) { state = worst(state, s); }
};

// The other named targets: one down leaves nothing to fail over to
// (WARNING), one unreadable is UNKNOWN.
void judge_others(Verdict& v, const std::vector<TargetTunnel>& others, const RoutePolicy& p)
{
  for (const auto& t : others) {
    // The expected target is either the route's or the reason for a
    // fail-over that is already a WARNING.
    const bool named = t.target == p.standby ||
                       std::find(p.tunnel_targets.begin(), p.tunnel_targets.end(), t.target) != p.tunnel_targets.end();
    if (!named || t.target == p.expect) continue;
    if (t.state == TargetTunnel::Known::Down) {
      v.raise(State::Warning);
      v.extra.push_back("no fail-over left: the tunnel of " + q(t.target) + " is down");
    } else if (t.state == TargetTunnel::Known::Unreadable) {
      v.raise(State::Unknown);
      v.extra.push_back("cannot read the tunnel of " + q(t.target) + ": " + q(t.what, 160));
      if (t.timed_out) {
        v.timed_out = true;
        v.activity = t.activity;
      }
    }
  }
}

// An active route: its target's tunnel decides, then the other targets.
Verdict judge_active(const RouteFinding& route, const RoutePolicy& p, const TargetTunnel& cur,
                     const std::vector<TargetTunnel>& others, const TargetTunnel* live)
{
  Verdict v;
  const std::string dest = q(route.destination), target = q(route.target);
  const bool on_expected = p.expect.empty() || route_names(route, p.expect);
  if (cur.state == TargetTunnel::Known::Down) {
    v.state = State::Critical;
    v.summary = fmt::format("traffic for {} is routed into a dead tunnel via {} ({})", dest, target, q(cur.what, 120));
    const bool unsure = std::any_of(others.begin(), others.end(),
                                    [](const TargetTunnel& t) { return t.state == TargetTunnel::Known::Unreadable; });
    if (live) v.extra.push_back("the tunnel of " + q(live->target) + " is up: repoint the route");
    else v.extra.push_back(unsure ? "no other target's tunnel is known to be up" : "no target has a live tunnel");
    return v;
  }
  if (cur.state == TargetTunnel::Known::Unreadable) {
    v.state = State::Unknown;
    v.summary = fmt::format("cannot tell whether the tunnel via {} is up: {}", target, q(cur.what, 160));
    v.timed_out = cur.timed_out;
    v.activity = cur.activity;
  } else if (on_expected) {
    v.summary = fmt::format("route to {} in {} active via {}, tunnel up", dest, q(route.table_id), target);
  } else {
    v.state = State::Warning;
    const bool standby = route_names(route, p.standby);
    v.summary = fmt::format("route to {} failed over to {}{} (expected {}), tunnel up", dest,
                            standby ? "the standby " : "", target, q(p.expect));
  }
  judge_others(v, others, p);
  return v;
}

const TargetTunnel* first_live(const std::vector<TargetTunnel>& others)
{
  for (const auto& t : others)
    if (t.state == TargetTunnel::Known::Up && !replace_route_command({}, t.target).empty()) return &t;
  return nullptr;
}

} // namespace

bool RoutePolicy::tunnels_named() const
{
  return !tunnel_targets.empty() || !standby.empty() || expect.rfind("vgw-", 0) == 0;
}

std::vector<TargetTunnel> gateway_tunnels(const Reply& reply)
{
  std::vector<TargetTunnel> out;
  if (!reply.gateways) return out;
  for (const auto& g : reply.gateways->gateways) {
    TargetTunnel t;
    t.target = g;
    if (!reply.gateways->read) {
      t.what = "its VPN connections could not be read: " + reply.gateways->error;
      t.timed_out = reply.gateways->timed_out;
      t.activity = reply.activity;
      out.push_back(std::move(t));
      continue;
    }
    std::vector<std::string> up, all;
    for (const auto& l : reply.links) {
      if (l.gateway != g) continue;
      all.push_back(l.name);
      if (l.state == LinkState::Up) up.push_back(l.name);
    }
    t.state = up.empty() ? TargetTunnel::Known::Down : TargetTunnel::Known::Up;
    if (all.empty()) t.what = "no VPN connection on " + g;
    else
      t.what = fmt::format("{} of {} VPN tunnels up{}{}", up.size(), all.size(), up.empty() ? "" : ": ",
                           up.empty() ? "" : up.front() + (up.size() > 1 ? " and more" : ""));
    out.push_back(std::move(t));
  }
  return out;
}

TargetTunnel target_tunnel(const std::string& target, const Observation& obs)
{
  TargetTunnel t;
  t.target = target;
  const std::string at = obs.daemon + " at " + obs.endpoint;
  switch (obs.status) {
  case Observation::Status::Read: break;
  case Observation::Status::DaemonDown: // nothing runs there: the tunnel is down
    t.state = TargetTunnel::Known::Down;
    t.what = at + ": " + obs.error;
    return t;
  case Observation::Status::NoPermission:
  case Observation::Status::Failed:
    t.what = at + ": " + obs.error + (obs.hint.empty() ? "" : " (" + obs.hint + ")");
    t.timed_out = obs.timed_out;
    t.activity = obs.activity;
    return t;
  }
  std::vector<std::string> up, not_up;
  for (const auto& tu : obs.tunnels)
    (tu.state == TunnelState::Up ? up : not_up)
        .push_back(tu.name + (tu.state == TunnelState::Up ? "" : " " + std::string(to_string(tu.state))));
  t.state = up.empty() ? TargetTunnel::Known::Down : TargetTunnel::Known::Up;
  t.what = fmt::format("{}: {} of {} tunnel(s) up", at, up.size(), obs.tunnels.size());
  if (obs.tunnels.empty()) t.what = at + ": no tunnel";
  else if (up.empty()) t.what += " (" + not_up.front() + ")";
  return t;
}

std::string replace_route_command(const RouteFinding& route, const std::string& target)
{
  std::string kind;
  if (target.rfind("i-", 0) == 0) kind = "--instance-id";
  else if (target.rfind("eni-", 0) == 0) kind = "--network-interface-id";
  else if (target.rfind("vgw-", 0) == 0) kind = "--gateway-id";
  else return {};
  const bool v6 = route.destination.find(':') != std::string::npos;
  return fmt::format("aws ec2 replace-route --route-table-id {} --{} {} {} {}", q(route.table_id),
                     v6 ? "destination-ipv6-cidr-block" : "destination-cidr-block", q(route.destination), kind,
                     q(target));
}

Result evaluate_route_tunnels(const Reply& reply, const RoutePolicy& policy, const std::vector<TargetTunnel>& sources)
{
  if (reply.status != Reply::Status::Ok || !reply.route) {
    Result r = evaluate_route_reply(reply, policy.expect);
    if (policy.tunnels_named()) r.perfdata.push_back({"route_tunnel_up", std::nullopt, Uom::None, {}, {}, 0.0, 1.0});
    return r;
  }
  const RouteFinding& route = *reply.route;
  std::vector<TargetTunnel> known = sources;
  for (auto& g : gateway_tunnels(reply)) known.push_back(std::move(g));
  if (known.empty() && !policy.tunnels_named()) return evaluate_route(route, policy.expect);

  Result r = evaluate_route(route, policy.expect); // route_active, route_on_expected_target, the route line
  const bool active = route.found && route.state == "active";
  if (active && !policy.expect.empty()) r.perfdata[1].value = route_names(route, policy.expect) ? 1.0 : 0.0;
  const auto others = other_tunnels(known, route, policy);
  const TargetTunnel* live = first_live(others);
  std::optional<double> cur_up;
  if (active) {
    const TargetTunnel cur = current_tunnel(known, route);
    cur_up = up_value(cur);
    Verdict v = judge_active(route, policy, cur, others, live);
    r.details.push_back(tunnel_line(cur, " (the route's target)"));
    for (const auto& t : others) r.details.push_back(tunnel_line(t, ""));
    r.state = v.state;
    r.summary = v.summary;
    for (const auto& e : v.extra) r.summary += "; " + e;
    if (v.state == State::Critical && live)
      r.details.push_back("Action: " + replace_route_command(route, live->target));
    if (v.state == State::Unknown && v.timed_out) {
      Result t = Result::timed_out(v.activity, r.details);
      t.perfdata = r.perfdata;
      r = std::move(t);
    }
  } else {
    // No route or not active: CRITICAL as evaluate_route says; a blackhole
    // can be repointed at a target whose tunnel is up.
    for (const auto& t : others) r.details.push_back(tunnel_line(t, ""));
    if (route.found && live) r.details.push_back("Action: " + replace_route_command(route, live->target));
  }
  if (policy.tunnels_named()) r.perfdata.push_back({"route_tunnel_up", cur_up, Uom::None, {}, {}, 0.0, 1.0});
  return r;
}

namespace {

const InstanceInfo* instance(const AddressFinding& a, const std::string& id)
{
  for (const auto& i : a.instances)
    if (i.id == id) return &i;
  return nullptr;
}

std::string instance_state(const AddressFinding& a, const std::string& id)
{
  const InstanceInfo* i = instance(a, id);
  return i ? q(i->state, 32) : std::string("not found");
}

std::string instance_text(const AddressFinding& a, const std::string& id)
{
  const InstanceInfo* i = instance(a, id);
  return q(id) + (i && !i->name.empty() ? " (" + q(i->name) + ")" : std::string());
}

std::vector<Perfdatum> eip_perfdata(std::optional<double> associated, std::optional<double> on_expected,
                                    std::optional<double> running)
{
  return {{"eip_associated", associated, Uom::None, {}, {}, 0.0, 1.0},
          {"eip_on_expected_instance", on_expected, Uom::None, {}, {}, 0.0, 1.0},
          {"eip_instance_running", running, Uom::None, {}, {}, 0.0, 1.0}};
}

} // namespace

Result evaluate_eip(const Reply& reply, const EipPolicy& p)
{
  Result r;
  if (reply.status != Reply::Status::Ok || !reply.address) {
    r = Result{State::Unknown, sanitize_quote(reply.error, 400), {}, {}};
    r.perfdata = eip_perfdata(std::nullopt, std::nullopt, std::nullopt);
    return r;
  }
  const AddressFinding& a = *reply.address;
  const std::string ip = q(a.public_ip.empty() ? p.address : a.public_ip);
  const std::string holder = a.instance_id;
  const bool running = !holder.empty() && instance_state(a, holder) == "running";
  r.perfdata = eip_perfdata(a.found && !holder.empty() ? 1.0 : 0.0, holder == p.expect_instance ? 1.0 : 0.0,
                            running ? 1.0 : 0.0);
  if (!a.found) {
    r.state = State::Critical;
    r.summary = "Elastic IP " + q(p.address) + " not found (released, or in another region)";
    return r;
  }
  if (holder.empty()) {
    r.state = State::Critical;
    r.summary = "Elastic IP " + ip + " is not associated with any instance" +
                (a.network_interface_id.empty() ? "" : " (on " + q(a.network_interface_id) + " alone)");
  } else if (!running) {
    r.state = State::Critical;
    r.summary =
        fmt::format("Elastic IP {} is on {}, which is {}", ip, instance_text(a, holder), instance_state(a, holder));
  } else if (holder == p.expect_instance) {
    r.state = State::Ok;
    r.summary = fmt::format("Elastic IP {} on the expected instance {} (running)", ip, instance_text(a, holder));
  } else if (holder == p.standby_instance) {
    r.state = State::Warning;
    r.summary = fmt::format("Elastic IP {} failed over to the standby {} (expected {}, {})", ip,
                            instance_text(a, holder), q(p.expect_instance), instance_state(a, p.expect_instance));
  } else {
    r.state = State::Critical;
    r.summary = fmt::format("Elastic IP {} is on {}, neither the expected {} nor a standby", ip,
                            instance_text(a, holder), q(p.expect_instance));
  }
  if (r.state == State::Ok && !p.standby_instance.empty() && instance_state(a, p.standby_instance) != "running") {
    r.state = State::Warning;
    r.summary +=
        "; no fail-over left: the standby " + q(p.standby_instance) + " is " + instance_state(a, p.standby_instance);
  }
  r.details.push_back(fmt::format("Elastic IP {} ({}): {}", ip, a.allocation_id.empty() ? "?" : q(a.allocation_id),
                                  holder.empty() ? "not on an instance" : "on " + instance_text(a, holder)));
  for (const auto& id : {p.expect_instance, p.standby_instance})
    if (!id.empty())
      r.details.push_back(fmt::format("{} ({}): {}", instance_text(a, id),
                                      id == p.expect_instance ? "expected" : "standby", instance_state(a, id)));
  // A CRITICAL address can be moved to a named instance that runs.
  if (r.state == State::Critical && !a.allocation_id.empty())
    for (const auto& id : {p.expect_instance, p.standby_instance})
      if (!id.empty() && id != holder && instance_state(a, id) == "running") {
        r.details.push_back(fmt::format("Action: aws ec2 associate-address --allocation-id {} --instance-id {} "
                                        "--allow-reassociation",
                                        q(a.allocation_id), q(id)));
        break;
      }
  return r;
}

} // namespace sitelink::vpn::cloud
