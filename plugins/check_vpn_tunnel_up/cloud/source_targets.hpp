// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend aws-route --target-tunnel TARGET=SOURCE: reads the tunnel of an
// instance or interface target from its VPN daemon, with the daemon sources
// the plugin already has (OpenVPN management, strongSwan VICI).

#include <optional>
#include <string>
#include <vector>

#include "../source.hpp"
#include "evaluate_failover.hpp"

namespace sitelink::vpn::cloud {

struct TargetSource {
  std::string target; // i-... or eni-...
  Endpoint endpoint;
  bool vici = false; // strongSwan (a unix:// or tcp:// URI), else OpenVPN management
};

// Each source in turn under the check's deadline: those of the route's
// target first (`first`: the IDs the route names), so that a source that
// hangs costs the others, not the one that decides. `password` is the
// OpenVPN management password, if any.
std::vector<TargetTunnel> read_targets(const std::vector<TargetSource>& sources, const std::vector<std::string>& first,
                                       const std::optional<std::string>& password, double now, const Deadline& deadline,
                                       const Trace& trace);

} // namespace sitelink::vpn::cloud
