// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend vcd, the pure half: VMware Cloud Director credentials (the
// Terraform vcd provider's VCD_* variables or a JSON file with its argument
// names), API version negotiation (GET /api/versions), the OAuth token and
// CloudAPI replies (edgeGateways, NSX-T ipsec/tunnels and their status), the
// NSX-V edge's IPsec statistics, and the Links built from them. Pre-shared
// keys are never read: the tunnel list carries none (go-vcloud-director,
// govcd/nsxt_ipsec_vpn_tunnel.go: only the by-ID GET includes it, and this
// backend never makes that call) and no field of that name is looked at.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"

namespace sitelink::vpn::cloud::vcd {

// The oldest API version with CloudAPI sessions and edge IPsec status
// (Cloud Director 10.0), and the newest this backend was written against.
inline constexpr const char* min_api_version = "33.0";
inline constexpr const char* max_api_version = "39.1";

struct Auth {
  std::string base; // https://vcd.example.com (VCD_URL without /api)
  std::string org;  // the login organisation (VCD_SYS_ORG, else VCD_ORG); "System" is the provider
  std::string user, password;
  std::string api_token; // refresh token (VCD_API_TOKEN or an api_token_file)
  std::string source;    // "VCD_* environment" or "credentials file /path"
  bool provider() const;
  bool token() const { return !api_token.empty(); }
};

// A JSON object with the Terraform provider's argument names: url, org,
// sysorg, user, password, api_token (or api_token_file naming a file that
// holds {"refresh_token": ...}, as the provider's own token files do).
struct CredentialFields {
  std::string url, org, sysorg, user, password, api_token, api_token_file;
};
tl::expected<CredentialFields, std::string> parse_credentials_json(std::string_view text, const std::string& path);
// The refresh_token of an api_token_file.
tl::expected<std::string, std::string> parse_token_file(std::string_view text, const std::string& path);
// Fields (from the file or the environment) into an Auth, or what is missing.
tl::expected<Auth, std::string> auth_of(const CredentialFields& f, const std::string& source);

// VCD_URL is the API root (https://host/api); the backend needs the host.
std::string base_of(std::string url);

// The API version to speak: the highest one /api/versions lists within
// [min_api_version, max_api_version], not deprecated if a newer one is not.
tl::expected<std::string, std::string> negotiate_version(std::string_view versions_xml);
// "39.1" < "40.0" numerically; false for malformed input.
bool version_less(std::string_view a, std::string_view b);

// access_token of an /oauth/.../token reply.
tl::expected<std::string, std::string> parse_access_token(std::string_view json);
// id of a POST /cloudapi/1.0.0/sessions reply (for the DELETE), "" if none.
std::string parse_session_id(std::string_view json);
// "minorErrorCode - message" of a CloudAPI error (JSON) or a legacy API
// <Error> (XML), or an OAuth error; sanitised; "" if none.
std::string api_error(std::string_view body);

struct Edge {
  std::string id; // urn:vcloud:gateway:UUID
  std::string name;
  std::string type; // NSXT_BACKED, NSXV_BACKED, ...
};
// "Basic base64(user@org:password)", as go-vcloud-director's
// vcdCloudApiAuthorize (govcd/api_vcd.go) logs in.
std::string basic_auth(const Auth& a);

// A page of edgeGateways ({"values": [...]}) or one edge object.
tl::expected<std::vector<Edge>, std::string> parse_edges(std::string_view json);
// The UUID of urn:vcloud:gateway:UUID (the NSX-V proxy's edge ID).
std::string edge_uuid(const std::string& urn);

struct TunnelConf {
  std::string id, name;
  bool enabled = true;
  std::string local_address, remote_address;
};
struct Page {
  std::vector<TunnelConf> tunnels;
  int page = 0, page_count = 0;
};
tl::expected<Page, std::string> parse_tunnel_page(std::string_view json);
// The rel="nextPage" URL of a Link header, "" if none.
std::string next_page(std::string_view link_header);

struct TunnelStatus {
  std::string tunnel; // UP, DOWN, DEGRADED, UNKNOWN
  std::string ike;    // UP, DOWN, NEGOTIATING
  std::string reason; // failReason
};
tl::expected<TunnelStatus, std::string> parse_tunnel_status(std::string_view json);

// NSX-V: one IPsec site of the edge's statistics and its tunnels.
struct NsxvTunnel {
  std::string status, state, local_subnet, peer_subnet, failure, message;
};
struct NsxvSite {
  std::string peer_id, peer_ip, local_ip;
  std::string channel_status, channel_state, message;
  std::vector<NsxvTunnel> tunnels;
};
tl::expected<std::vector<NsxvSite>, std::string> parse_nsxv_statistics(std::string_view xml);

// NSX-T: Links for the wanted tunnels (names or IDs; empty: every enabled
// one). `status` is keyed by tunnel ID; an enabled tunnel without one was not
// read. A named disabled tunnel is down, "disabled".
void fill_nsxt(Reply& reply, const std::vector<TunnelConf>& tunnels, const std::map<std::string, TunnelStatus>& status,
               const std::vector<std::string>& wanted);
// The tunnels whose status must be read for fill_nsxt.
std::vector<const TunnelConf*> chosen(const std::vector<TunnelConf>& tunnels, const std::vector<std::string>& wanted);
// NSX-V: one Link per site, named by its peer ID (or peer IP); --tunnel
// matches either.
void fill_nsxv(Reply& reply, const std::vector<NsxvSite>& sites, const std::vector<std::string>& wanted);

// What to check when a tunnel is not up, after Cloud Director's own IPsec
// troubleshooting order; the IKE failure reason picks the first step.
std::vector<std::string> checklist(const std::string& name, const std::string& reason);

} // namespace sitelink::vpn::cloud::vcd
