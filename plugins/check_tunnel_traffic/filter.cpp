// SPDX-License-Identifier: GPL-2.0-or-later
#include "filter.hpp"

#include <fmt/format.h>

namespace sitelink::traffic {

std::string bpf_filter(const ClassifyConfig& config, const std::vector<Address>& peers)
{
  std::vector<std::string> protos;
  if (config.ipsec) protos.emplace_back("udp port 500 or udp port 4500 or ip proto 50 or ip6 proto 50");
  if (config.openvpn) protos.push_back(fmt::format("udp port {0} or tcp port {0}", config.openvpn_port));
  if (config.wireguard) protos.push_back(fmt::format("udp port {}", config.wireguard_port));
  std::string f = "(" + fmt::format("{}", fmt::join(protos, " or ")) + ")";
  if (!peers.empty()) {
    std::vector<std::string> hosts;
    for (const auto& p : peers) hosts.push_back("host " + p.to_string());
    f += " and (" + fmt::format("{}", fmt::join(hosts, " or ")) + ")";
  }
  return f;
}

} // namespace sitelink::traffic
