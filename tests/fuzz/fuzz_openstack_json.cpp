// SPDX-License-Identifier: GPL-2.0-or-later
// --backend openstack: the Keystone token (service catalog), Neutron VPNaaS
// ipsec-site-connections and vpnservices JSON, clouds.yaml, then the
// plugin's judgement.
// Input: the response body (also tried as a clouds.yaml document).
#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/source_openstack.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

namespace {

// Values of "psk" members that occur nowhere else in the body.
std::vector<std::string> psks_in(std::string_view body)
{
  std::vector<std::string> keys;
  std::string rest(body);
  const std::string_view tag = "\"psk\"";
  for (std::size_t p = 0; (p = rest.find(tag, p)) != std::string::npos;) {
    p += tag.size();
    auto q1 = rest.find_first_not_of(" \t\r\n:", p);
    if (q1 == std::string::npos || rest[q1] != '"') continue;
    auto q2 = rest.find('"', q1 + 1);
    if (q2 == std::string::npos) break;
    if (q2 - q1 - 1 >= 16) keys.push_back(rest.substr(q1 + 1, q2 - q1 - 1));
    rest.erase(q1 + 1, q2 - q1 - 1);
  }
  std::vector<std::string> out;
  for (auto& k : keys)
    if (k.find_first_of("\\ ") == std::string::npos && rest.find(k) == std::string::npos &&
        sanitize(rest).find(k) == std::string::npos)
      out.push_back(std::move(k));
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view body = fuzz::as_view(data, size);
  (void)openstack::parse_clouds_yaml(body, "site-a", "/fuzz/clouds.yaml");
  (void)openstack::network_endpoint(body, "public", "RegionOne");
  (void)openstack::network_endpoint(body, "internal", "");
  (void)openstack::state_of(body);

  auto conns = openstack::parse_connections(body);
  auto services = openstack::parse_services(body);
  Reply reply;
  reply.status = Reply::Status::Ok;
  reply.api = "Neutron at https://network.example";
  openstack::fill_reply(reply, conns ? *conns : std::vector<openstack::Connection>{},
                        services ? *services : std::vector<openstack::Service>{}, {});
  std::string out = fuzz::render_checked("VPN_TUNNEL", judge(reply, Policy{}, 1.7e9));
  for (const auto& n : reply.notes) out += n + "\n";
  for (const auto& l : reply.links) out += l.name + "\n" + l.detail + "\n";
  for (const auto& k : psks_in(body))
    if (out.find(k) != std::string::npos) fuzz::fail("a Neutron psk reached the output", k);
  return 0;
}
