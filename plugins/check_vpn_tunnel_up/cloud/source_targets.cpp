// SPDX-License-Identifier: GPL-2.0-or-later
// The route targets' tunnels, read from their daemons (--target-tunnel).
#include "source_targets.hpp"

#include <algorithm>

#include "../source_openvpn.hpp"
#include "../source_strongswan.hpp"

namespace sitelink::vpn::cloud {

std::vector<TargetTunnel> read_targets(const std::vector<TargetSource>& sources, const std::vector<std::string>& first,
                                       const std::optional<std::string>& password, double now, const Deadline& deadline,
                                       const Trace& trace)
{
  std::vector<const TargetSource*> order;
  for (const auto& s : sources) order.push_back(&s);
  std::stable_partition(order.begin(), order.end(), [&first](const TargetSource* s) {
    return std::find(first.begin(), first.end(), s->target) != first.end();
  });
  std::vector<TargetTunnel> out;
  for (const TargetSource* s : order) {
    if (trace) trace(1, "aws-route: tunnel of " + s->target + " from " + s->endpoint.text());
    // A point-to-point OpenVPN instance is one tunnel, named after its target.
    Observation obs = s->vici ? strongswan::read(s->endpoint, deadline, trace)
                              : openvpn::read(s->endpoint, password, s->target, now, deadline, trace);
    out.push_back(target_tunnel(s->target, obs));
  }
  return out;
}

} // namespace sitelink::vpn::cloud
