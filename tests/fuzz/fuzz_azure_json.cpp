// SPDX-License-Identifier: GPL-2.0-or-later
// --backend azure: Entra ID and IMDS token responses, the ARM connection
// resource and BGP peer status, error documents, then the plugin's
// judgement. Input: the response body. A sharedKey never reaches the output.
#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/parse_azure.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view body = fuzz::as_view(data, size);
  (void)azure::parse_token(body);
  (void)azure::entra_message(body);
  (void)azure::arm_message(body);
  (void)azure::parse_time(body);
  Reply reply;
  reply.status = Reply::Status::Ok;
  reply.api = "Azure Resource Manager at https://management.azure.com";
  std::vector<azure::Found> found;
  std::map<std::string, azure::GatewayBgp> bgp;
  auto conn = azure::parse_connection(body);
  auto peers = azure::parse_bgp_peers(body);
  if (conn) {
    bgp[conn->gateway_id] = {peers ? *peers : std::vector<azure::BgpPeer>{}, peers ? "" : peers.error()};
    found.push_back({"cn", *conn});
  }
  found.push_back({"cn-missing", std::nullopt});
  azure::fill_reply(reply, found, bgp);
  std::string out = fuzz::render_checked("VPN_TUNNEL", judge(reply, Policy{}, 1.7e9));
  for (const auto& n : reply.notes) out += n + "\n";
  for (const auto& n : reply.summary_notes) out += n + "\n";
  for (const auto& l : reply.links) out += l.name + "\n" + l.detail + "\n";
  for (const auto& k : fuzz::secret_values(body, "sharedKey"))
    if (out.find(k) != std::string::npos) fuzz::fail("a sharedKey reached the output", k);
  return 0;
}
