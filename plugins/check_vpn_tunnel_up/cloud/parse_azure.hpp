// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend azure, the pure half: Microsoft Entra ID token responses, the
// Azure Resource Manager connection resource (Microsoft.Network
// connections, api-version network_api_version) and the gateway's BGP peer
// status, read into Links. The connection's sharedKey is never read.
//
// References (read for the fields, nothing copied):
//   Azure/azure-rest-api-specs specification/network/resource-manager/
//     Microsoft.Network/stable/2023-09-01/virtualNetworkGateway.json:
//     VirtualNetworkGatewayConnectionPropertiesFormat (connectionStatus:
//     Unknown, Connecting, Connected, NotConnected; tunnelConnectionStatus:
//     TunnelConnectionHealth {tunnel, connectionStatus,
//     ingressBytesTransferred, egressBytesTransferred,
//     lastConnectionEstablishedUtcTime}; enableBgp; virtualNetworkGateway1),
//     BgpPeerStatusListResult {value: BgpPeerStatus {neighbor, asn, state:
//     Unknown, Stopped, Idle, Connecting, Connected; routesReceived}}
//   Microsoft identity platform, OAuth 2.0 client credentials flow (v2.0
//     token endpoint: access_token, expires_in; errors: error,
//     error_description "AADSTS...") and the IMDS managed identity token
//     (expires_in as a string)
//   ARM error responses: {"error": {"code", "message"}}

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"

namespace sitelink::vpn::cloud::azure {

inline constexpr const char* network_api_version = "2023-09-01";

struct Token {
  std::string access_token;
  double expires_in = 0;
};
tl::expected<Token, std::string> parse_token(std::string_view json);

// "invalid_client: AADSTS7000215: Invalid client secret provided." (the
// first line of error_description), sanitised; empty if none.
std::string entra_message(std::string_view body);
// "ResourceNotFound: The Resource '...' was not found." sanitised; empty if
// the body is no ARM error.
std::string arm_message(std::string_view body);
// The code alone ("ResourceNotFound", "AuthorizationFailed").
std::string arm_code(std::string_view body);

struct TunnelHealth {
  std::string tunnel, status, last_established;
  std::optional<double> bytes_in, bytes_out;
};
struct Connection {
  std::string name, status, type, provisioning, gateway_id;
  bool bgp = false;
  std::optional<double> bytes_in, bytes_out;
  std::vector<TunnelHealth> tunnels;
};
tl::expected<Connection, std::string> parse_connection(std::string_view json);

struct BgpPeer {
  std::string neighbor, state;
  std::optional<double> routes;
};
tl::expected<std::vector<BgpPeer>, std::string> parse_bgp_peers(std::string_view json);

// Connected up; Connecting connecting; NotConnected, Unknown and anything
// else down.
LinkState state_of(std::string_view status);

// "2024-03-01T10:15:00Z" (fraction and offset allowed) or Azure's
// "3/1/2024 10:15:00 AM", as epoch seconds (UTC).
std::optional<double> parse_time(std::string_view text);

// What the check learnt of one named connection: the resource, or that it
// does not exist (`missing`).
struct Found {
  std::string name;
  std::optional<Connection> connection;
};
// What getBgpPeerStatus said of one gateway: the peers, or why not known.
struct GatewayBgp {
  std::vector<BgpPeer> peers;
  std::string error;
};

// Links (one per tunnel of an active-active connection, named
// <connection>/<tunnel>, else one per connection), notes, BGP peer counts
// and the troubleshooting checklist for a connection that is not up.
void fill_reply(Reply& reply, const std::vector<Found>& found, const std::map<std::string, GatewayBgp>& bgp);

// Microsoft's site-to-site troubleshooting steps, in short.
std::vector<std::string> checklist(const std::string& name);

} // namespace sitelink::vpn::cloud::azure
