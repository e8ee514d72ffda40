// SPDX-License-Identifier: GPL-2.0-or-later
// --backend gcp: the vpnTunnels list, credentials files, token responses
// and error documents, then the plugin's judgement. Input: the response
// body. A sharedSecret never reaches the output.
#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/parse_gcp.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view body = fuzz::as_view(data, size);
  (void)gcp::parse_key_file(body, "/fuzz/key.json");
  (void)gcp::parse_token(body);
  (void)gcp::error_message(body);
  (void)gcp::state_of(body);
  Reply reply;
  reply.status = Reply::Status::Ok;
  reply.api = "Compute Engine at https://compute.googleapis.com";
  auto page = gcp::parse_tunnels(body);
  gcp::fill_reply(reply, page ? page->tunnels : std::vector<gcp::Tunnel>{}, {});
  std::string out = fuzz::render_checked("VPN_TUNNEL", judge(reply, Policy{}, 1.7e9));
  for (const auto& n : reply.notes) out += n + "\n";
  for (const auto& n : reply.summary_notes) out += n + "\n";
  for (const auto& l : reply.links) out += l.name + "\n" + l.detail + "\n";
  for (const auto& k : fuzz::secret_values(body, "sharedSecret"))
    if (out.find(k) != std::string::npos) fuzz::fail("a sharedSecret reached the output", k);
  return 0;
}
