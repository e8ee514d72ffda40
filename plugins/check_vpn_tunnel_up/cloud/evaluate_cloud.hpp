// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The pure judgement of --backend aws, aws-route and openstack: the module's
// Reply (cloud_api.hpp) judged like the daemons' tunnels. Nothing here links
// libcurl; the module does the I/O.

#include <string>

#include "../evaluate.hpp"
#include "cloud_api.hpp"

namespace sitelink::vpn::cloud {

// The reply's links as tunnels; `now` (epoch) dates their state changes.
Observation observation_of(const Reply& reply, double now);
// aws, openstack: the tunnels against -w/-c (the expected ones are the
// reply's), plus a WARNING for a BGP tunnel that is up with no routes.
Result judge(const Reply& reply, Policy policy, double now);
// aws-route: blackhole or missing CRITICAL, another target than expected
// WARNING (failed over).
Result evaluate_route(const RouteFinding& route, const std::string& expect_target);
// aws-route: a failed reply is UNKNOWN with the same perfdata labels.
Result evaluate_route_reply(const Reply& reply, const std::string& expect_target);

} // namespace sitelink::vpn::cloud
