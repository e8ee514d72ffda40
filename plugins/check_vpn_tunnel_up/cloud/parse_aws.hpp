// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend aws and aws-route, the pure half: the shared files' INI, the
// EC2/STS Query API's XML and the credential endpoints' JSON, read into
// Credentials, VPN connections, Links and RouteFindings.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "json_fields.hpp"

namespace sitelink::vpn::cloud::aws {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string source;               // "environment", "profile prod (/root/.aws/credentials)", ...
  std::optional<double> expiration; // epoch
};

// Whitespace trimmed at both ends.
std::string trim(std::string_view s);
// Text that came from AWS, sanitised and shortened for our output
// (json_fields.hpp).
using cloud::outside;

// [section] -> key -> value; "[profile x]" sections keep their full name.
using Ini = std::map<std::string, std::map<std::string, std::string>>;
Ini parse_ini(std::string_view text);

// The container agent's or IMDS's credential JSON; `now` (epoch) rejects
// credentials that have already expired.
tl::expected<Credentials, std::string> credentials_from_json(std::string_view body, const std::string& source,
                                                             double now);
// Plain HTTP is allowed only to loopback and the container agent.
bool loopback_http(std::string_view url);

struct ApiError {
  long http = 0;
  std::string code;
  std::string message;
};
// EC2 (<Response><Errors><Error>) and STS (<ErrorResponse><Error>) forms.
std::optional<ApiError> parse_error(std::string_view xml, long http);
bool is_auth_error(const ApiError& e);
bool is_retryable(const ApiError& e);

// ISO 8601 UTC ("2024-05-01T12:34:56.000Z") to epoch seconds.
std::optional<double> parse_time(std::string_view text);

struct Telemetry {
  std::string outside_ip;
  std::string status; // UP, DOWN
  std::optional<double> last_change;
  std::string message;
  std::optional<double> accepted_routes;
};

struct VpnConnection {
  std::string id;
  std::string state; // pending, available, deleting, deleted
  std::string type;
  std::string gateway; // vpnGatewayId (empty for a transit gateway attachment)
  bool bgp = false;    // not staticRoutesOnly
  std::vector<Telemetry> telemetry;
};

// Reads only the fields listed above; customerGatewayConfiguration (which
// holds the tunnels' pre-shared keys) is never touched.
tl::expected<std::vector<VpnConnection>, std::string> parse_vpn_connections(std::string_view xml);
tl::expected<Credentials, std::string> parse_assume_role(std::string_view xml);
// The route to `destination` in table `table_id` (found=false when absent).
tl::expected<RouteFinding, std::string> parse_route_tables(std::string_view xml, const std::string& table_id,
                                                           const std::string& destination);

// DescribeAddresses: the first address in the answer (found=false when none).
tl::expected<AddressFinding, std::string> parse_addresses(std::string_view xml);
// DescribeInstances: every instance of every reservation.
tl::expected<std::vector<InstanceInfo>, std::string> parse_instances(std::string_view xml);

// Two tunnels per connection are expected; absent ones are Missing.
std::vector<Link> links_of(const VpnConnection& c);
std::vector<Link> missing_links(const std::string& id, const std::string& why);
// The connection IDs an InvalidVpnConnectionID.NotFound message names.
std::vector<std::string> ids_in_message(std::string_view message);

} // namespace sitelink::vpn::cloud::aws
