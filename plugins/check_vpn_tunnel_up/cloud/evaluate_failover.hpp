// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The pure judgement of the HA topologies the cloud can show: a route whose
// targets carry tunnels (--backend aws-route with a virtual private gateway,
// --target-tunnel or --standby-target) and an Elastic IP moved between two
// instances (--backend aws-eip). No I/O: the module reads EC2, the plugin
// reads the targets' tunnel daemons (source_targets.hpp).

#include <string>
#include <vector>

#include "../evaluate.hpp"
#include "cloud_api.hpp"

namespace sitelink::vpn::cloud {

// What is known of one route target's tunnel.
struct TargetTunnel {
  enum class Known { Up, Down, Unreadable };
  std::string target; // i-..., eni-..., vgw-...
  Known state = Known::Unreadable;
  std::string what;       // "OpenVPN at 10.0.1.5:7505: 1 of 1 tunnel up", or why unreadable
  bool timed_out = false; // unreadable because the time ran out ...
  std::string activity;   // ... while doing this
};

// The targets a route check names (make_config).
struct RoutePolicy {
  std::string expect;                      // --expect-target
  std::string standby;                     // --standby-target
  std::vector<std::string> tunnel_targets; // --target-tunnel TARGETs, in command-line order
  // Judged with tunnels because the options name them (--target-tunnel,
  // --standby-target or a vgw- --expect-target): the perfdata then has
  // route_tunnel_up in every state.
  bool tunnels_named() const;
};

// A --target-tunnel source's answer as the target's tunnel: up when one of
// its tunnels is up; a daemon that is not running (no socket, connection
// refused) is a dead tunnel; any other failure leaves it unreadable.
TargetTunnel target_tunnel(const std::string& target, const Observation& obs);

// The tunnel of each virtual private gateway the module asked about: up
// when one of its connections' tunnels is up, down when none is (or the
// gateway has no VPN connection), unreadable when the call failed.
std::vector<TargetTunnel> gateway_tunnels(const Reply& reply);

// A route to its target and the tunnels behind the targets. The route is on
// the expected target and its tunnel up: OK; on the standby (or another
// target) with its tunnel up: WARNING failed over; on a target whose tunnel
// is down: CRITICAL, routed into a dead tunnel, with the replace-route
// command towards a target whose tunnel is up; a target whose tunnel cannot
// be read is never OK (UNKNOWN naming why, unless CRITICAL already). A named
// target other than the route's with its tunnel down is WARNING (nothing
// left to fail over to). Blackhole or no route: CRITICAL as
// evaluate_route. Without any tunnel (no vgw, nothing named) this is
// evaluate_route.
Result evaluate_route_tunnels(const Reply& reply, const RoutePolicy& policy, const std::vector<TargetTunnel>& sources);

// The command that points the route at `target`
// (aws ec2 replace-route --route-table-id ... --destination-cidr-block ...
// --instance-id|--network-interface-id|--gateway-id ...).
std::string replace_route_command(const RouteFinding& route, const std::string& target);

// --backend aws-eip: which instance holds the address.
struct EipPolicy {
  std::string address;          // --public-ip or --allocation-id, as given (for the text)
  std::string expect_instance;  // --expect-instance
  std::string standby_instance; // --standby-instance (optional)
};
// On the expected instance, running: OK (WARNING when the standby is named
// and not running: nothing to fail over to). On the standby, running:
// WARNING failed over. Not associated, on another instance or ENI, on an
// instance that is not running, or not found: CRITICAL. A failed reply is
// UNKNOWN with the same perfdata labels.
Result evaluate_eip(const Reply& reply, const EipPolicy& policy);

} // namespace sitelink::vpn::cloud
