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

namespace {

// Values of "preSharedKey" members that occur nowhere else in the body.
std::vector<std::string> keys_in(std::string_view body)
{
  std::vector<std::string> keys;
  std::string rest(body);
  const std::string_view tag = "\"preSharedKey\"";
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
  for (const auto& k : keys_in(body))
    if (out.find(k) != std::string::npos) fuzz::fail("a Cloud Director preSharedKey reached the output", k);
  return 0;
}
