// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend aws and aws-route: the credential chain, the EC2/STS Query API
// calls, and the pure parsing of their XML into Links and RouteFindings.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud {

using Trace = std::function<void(int level, const std::string& line)>;

namespace aws {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string source; // "environment", "profile prod (/root/.aws/credentials)", ...
  std::optional<double> expiration; // epoch
};

// [section] -> key -> value; "[profile x]" sections keep their full name.
using Ini = std::map<std::string, std::map<std::string, std::string>>;
Ini parse_ini(std::string_view text);

std::string credentials_file(const Environment& env);
std::string config_file(const Environment& env);
// --profile, then AWS_PROFILE, then "default".
std::string profile_name(const Environment& env, const std::string& cli_profile);

tl::expected<std::string, std::string> resolve_region(const Environment& env, const FileSystem& fs,
                                                      const std::string& cli_region, const std::string& cli_profile);

// AWS's order: environment, shared files, container credentials, IMDSv2.
// `now` (epoch) rejects credentials that have already expired.
tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs,
                                                           HttpClient& http, const Deadline& deadline,
                                                           const std::string& cli_profile, double now,
                                                           const Trace& trace);

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
  bool bgp = false;  // not staticRoutesOnly
  std::vector<Telemetry> telemetry;
};

// Reads only the fields listed above; customerGatewayConfiguration (which
// holds the tunnels' pre-shared keys) is never touched.
tl::expected<std::vector<VpnConnection>, std::string> parse_vpn_connections(std::string_view xml);
tl::expected<Credentials, std::string> parse_assume_role(std::string_view xml);
// The route to `destination` in table `table_id` (found=false when absent).
tl::expected<RouteFinding, std::string> parse_route_tables(std::string_view xml, const std::string& table_id,
                                                           const std::string& destination);

// Two tunnels per connection are expected; absent ones are Missing.
std::vector<Link> links_of(const VpnConnection& c);
std::vector<Link> missing_links(const std::string& id, const std::string& why);
// The connection IDs an InvalidVpnConnectionID.NotFound message names.
std::vector<std::string> ids_in_message(std::string_view message);

// The whole backends over an HttpClient (a fake in unit tests).
Reply run_vpn(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now);
Reply run_route(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
                const Deadline& deadline, double now);

} // namespace aws
} // namespace sitelink::vpn::cloud
