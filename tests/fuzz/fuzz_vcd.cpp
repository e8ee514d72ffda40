// SPDX-License-Identifier: GPL-2.0-or-later
// --backend vcd: /api/versions XML, the OAuth token and CloudAPI replies
// (edgeGateways, an ipsec/tunnels page, a tunnel's status, errors), the
// Link header, the NSX-V IPsec statistics XML and the credentials file,
// then the Links and the plugin's judgement.
// Input: the response body (each parser is tried on it).
#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/source_vcd.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view body = fuzz::as_view(data, size);
  (void)vcd::negotiate_version(body);
  (void)vcd::parse_access_token(body);
  (void)vcd::parse_session_id(body);
  (void)vcd::api_error(body);
  (void)vcd::parse_edges(body);
  (void)vcd::next_page(body);
  (void)vcd::parse_token_file(body, "/fuzz/token.json");
  if (auto f = vcd::parse_credentials_json(body, "/fuzz/vcd.json")) (void)vcd::auth_of(*f, "fuzz");
  (void)vcd::version_less(body, "39.1");

  auto page = vcd::parse_tunnel_page(body);
  auto status = vcd::parse_tunnel_status(body);
  std::map<std::string, vcd::TunnelStatus> statuses;
  if (page && status)
    for (const auto& t : page->tunnels) statuses[t.id] = *status;
  Reply reply;
  reply.status = Reply::Status::Ok;
  reply.api = "Cloud Director at https://vcd.example";
  vcd::fill_nsxt(reply, page ? page->tunnels : std::vector<vcd::TunnelConf>{}, statuses, {});
  auto sites = vcd::parse_nsxv_statistics(body);
  vcd::fill_nsxv(reply, sites ? *sites : std::vector<vcd::NsxvSite>{}, {"dr-site"});
  std::string out = fuzz::render_checked("VPN_TUNNEL", judge(reply, Policy{}, 1.7e9));
  for (const auto& n : reply.notes) out += n + "\n";
  for (const auto& l : reply.links) out += l.name + "\n" + l.detail + "\n" + l.warning + "\n";
  for (const auto& k : fuzz::secret_values(body, "preSharedKey"))
    if (out.find(k) != std::string::npos) fuzz::fail("a Cloud Director preSharedKey reached the output", k);
  return 0;
}
