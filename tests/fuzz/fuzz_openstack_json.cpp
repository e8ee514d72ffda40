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
  for (const auto& k : fuzz::secret_values(body, "psk"))
    if (out.find(k) != std::string::npos) fuzz::fail("a Neutron psk reached the output", k);
  return 0;
}
