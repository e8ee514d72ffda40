// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The plugin's side of --backend aws, aws-route and openstack: the options,
// loading the sitelink_cloud module, and the pure judgement of its Reply.
// Nothing here links libcurl; the module does.

#include <optional>
#include <string>

#include "cloud_api.hpp"
#include "sitelink/plugin.hpp"
#include "tunnel.hpp"

namespace sitelink::vpn::cloud {

po::options_description options();

bool is_cloud_backend(const std::string& backend);

// For a cloud backend: runs it and returns the Result. For any other
// backend: refuses the cloud-only options and returns nothing. `policy`
// holds -w/-c as the plugin parsed them.
std::optional<Result> dispatch(Context& ctx, const std::string& backend, const Policy& policy);

// Pure parts, unit-tested.
Observation observation_of(const Reply& reply, double now);
Result judge(const Reply& reply, Policy policy, double now);
Result evaluate_route(const RouteFinding& route, const std::string& expect_target);

} // namespace sitelink::vpn::cloud
