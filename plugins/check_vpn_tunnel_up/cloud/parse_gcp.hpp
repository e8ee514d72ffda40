// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend gcp, the pure half: the credentials file (service-account key or
// authorized user, as Application Default Credentials find them), Google's
// OAuth 2.0 token response, and the Compute Engine vpnTunnels list read into
// Links. The tunnel's sharedSecret is never asked for (fields=) nor read.
//
// References (read for the fields, nothing copied):
//   Compute Engine API v1 REST reference, vpnTunnels.list
//     (GET projects/{project}/regions/{region}/vpnTunnels; VpnTunnel: name,
//     status, detailedStatus, peerIp, vpnGateway, vpnGatewayInterface,
//     targetVpnGateway; VpnTunnelList: items, nextPageToken) and the
//     VpnTunnel.Status values (google-cloud-compute's VpnTunnel.Types.Status)
//   "Using OAuth 2.0 for Server to Server Applications" (JWT claims iss,
//     scope, aud, iat, exp; grant type
//     urn:ietf:params:oauth:grant-type:jwt-bearer) and the service-account
//     key file fields (type, client_email, private_key, private_key_id,
//     token_uri)
//   Google API error format: {"error": {"code", "message", "status"}}

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"

namespace sitelink::vpn::cloud::gcp {

inline constexpr const char* compute_scope = "https://www.googleapis.com/auth/compute.readonly";
// fields= of the list request: what the judgement uses, nothing else.
inline constexpr const char* list_fields =
    "items(name,status,detailedStatus,peerIp,vpnGateway,vpnGatewayInterface,targetVpnGateway),nextPageToken";

struct KeyFile {
  std::string type; // service_account or authorized_user
  std::string client_email, private_key, private_key_id, token_uri;
  std::string client_id, client_secret, refresh_token; // authorized_user
};
tl::expected<KeyFile, std::string> parse_key_file(std::string_view json, const std::string& path);

// The signed JWT assertion's header and claims (JSON texts).
std::string assertion_header(const KeyFile& key);
std::string assertion_claims(const KeyFile& key, double now);

// access_token of a token response.
tl::expected<std::string, std::string> parse_token(std::string_view json);
// "403 PERMISSION_DENIED: Required 'compute.vpnTunnels.list' permission"
// (Google API error) or "invalid_grant: Invalid JWT Signature." (OAuth
// error), sanitised; empty if neither.
std::string error_message(std::string_view body);

struct Tunnel {
  std::string name, status, detailed_status, peer_ip;
  std::string gateway;          // HA: vpnGateway's name; classic: targetVpnGateway's
  std::optional<int> interface; // HA: vpnGatewayInterface (0 or 1)
};
struct Page {
  std::vector<Tunnel> tunnels;
  std::string next_page_token;
};
tl::expected<Page, std::string> parse_tunnels(std::string_view json);

// ESTABLISHED up; PROVISIONING, WAITING_FOR_FULL_CONFIG, FIRST_HANDSHAKE,
// ALLOCATING_RESOURCES (and NEGOTIATING) connecting; every failure state and
// anything unknown down.
LinkState state_of(std::string_view status);

// Links for the wanted tunnels (empty: every tunnel in the region), HA VPN
// gateways' interfaces grouped in the long output, the checklist for a
// tunnel that is not up.
void fill_reply(Reply& reply, const std::vector<Tunnel>& tunnels, const std::vector<std::string>& wanted);

// Google's Cloud VPN troubleshooting steps for this status, in short.
std::vector<std::string> checklist(const std::string& name, std::string_view status);

} // namespace sitelink::vpn::cloud::gcp
