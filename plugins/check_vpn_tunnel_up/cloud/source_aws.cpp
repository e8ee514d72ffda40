// SPDX-License-Identifier: GPL-2.0-or-later
#include "aws.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "session.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::aws {

namespace {

constexpr const char* ec2_version = "2016-11-15";
constexpr const char* sts_version = "2011-06-15";

std::string trim(std::string_view s)
{
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

std::string home(const Environment& env)
{
  return env.get("HOME").value_or("/nonexistent");
}

std::string text_of(const pugi::xml_node& n, const char* child)
{
  return trim(n.child(child).text().as_string());
}

// Text that came from AWS, for our output.
std::string outside(std::string_view s, std::size_t max = 160)
{
  return sanitize_quote(s, max);
}

struct ProfileValues {
  std::map<std::string, std::string> values;
  std::string where;
  bool found = false;
};

// A profile's settings from both shared files; the credentials file wins,
// as in the AWS CLI.
tl::expected<ProfileValues, std::string> read_profile(const Environment& env, const FileSystem& fs,
                                                      const std::string& profile)
{
  ProfileValues out;
  auto conf_path = config_file(env);
  auto conf = fs.read_secret_file(conf_path);
  if (conf.status == FileRead::Status::Refused) return tl::unexpected(conf.error);
  if (conf.status == FileRead::Status::Ok) {
    auto ini = parse_ini(conf.text);
    auto it = ini.find(profile == "default" ? "default" : "profile " + profile);
    if (it == ini.end() && profile == "default") it = ini.find("profile default");
    if (it != ini.end()) {
      out.values = it->second;
      out.where = conf_path;
      out.found = true;
    }
  }
  auto cred_path = credentials_file(env);
  auto cred = fs.read_secret_file(cred_path);
  if (cred.status == FileRead::Status::Refused) return tl::unexpected(cred.error);
  if (cred.status == FileRead::Status::Ok) {
    auto ini = parse_ini(cred.text);
    auto it = ini.find(profile);
    if (it != ini.end()) {
      for (const auto& [k, v] : it->second) out.values[k] = v;
      out.where = cred_path;
      out.found = true;
    }
  }
  return out;
}

tl::expected<Credentials, std::string> credentials_from_json(std::string_view body, const std::string& source,
                                                             double now)
{
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(source + " returned malformed JSON");
  auto str = [&j](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  Credentials c;
  c.access_key = str("AccessKeyId");
  c.secret_key = str("SecretAccessKey");
  c.session_token = str("Token");
  c.source = source;
  if (c.access_key.empty() || c.secret_key.empty())
    return tl::unexpected(source + " returned no AccessKeyId/SecretAccessKey");
  if (auto exp = str("Expiration"); !exp.empty()) {
    c.expiration = parse_time(exp);
    if (c.expiration && *c.expiration <= now)
      return tl::unexpected(source + " returned credentials that expired at " + outside(exp, 40));
  }
  return c;
}

bool loopback_http(std::string_view url)
{
  for (const char* p : {"http://127.", "http://localhost", "http://[::1]", "http://169.254.170.2",
                        "http://169.254.170.23"})
    if (url.rfind(p, 0) == 0) return true;
  return false;
}

std::optional<tl::expected<Credentials, std::string>> container_credentials(const Environment& env,
                                                                            const FileSystem& fs, HttpClient& http,
                                                                            const Deadline& deadline, double now,
                                                                            const Trace& trace)
{
  std::string url;
  if (auto rel = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) url = "http://169.254.170.2" + *rel;
  else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) url = *full;
  else return std::nullopt;
  // Plain HTTP only to the container agent or loopback, as the AWS SDKs
  // require: the answer is a set of credentials.
  if (url.rfind("https://", 0) != 0 && !loopback_http(url))
    return tl::unexpected<std::string>("container credentials URI " + outside(url, 100) +
                          " is neither HTTPS nor a loopback or container-agent address");
  HttpRequest rq;
  rq.url = url;
  rq.max_time = std::chrono::milliseconds(2000);
  std::string token;
  if (auto tf = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto f = fs.read_secret_file(*tf);
    if (f.status != FileRead::Status::Ok)
      return tl::unexpected(f.status == FileRead::Status::Missing ? "container token file " + *tf + " not found"
                                                                  : f.error);
    token = trim(f.text);
  } else if (auto t = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *t;
  }
  if (!token.empty()) rq.headers.push_back({"Authorization", token});
  trace(1, "aws: container credentials from " + url_origin(url));
  auto rs = http.send(rq, deadline);
  if (!rs) return tl::unexpected<std::string>("container credentials endpoint: " + rs.error().message);
  if (rs->status != 200)
    return tl::unexpected(fmt::format("container credentials endpoint answered HTTP {}", rs->status));
  return credentials_from_json(rs->body, "container credentials", now);
}

tl::expected<Credentials, std::string> imds_credentials(const Environment& env, HttpClient& http,
                                                        const Deadline& deadline, double now, const Trace& trace)
{
  std::string base = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  trace(1, "aws: instance metadata (IMDSv2) at " + url_origin(base));
  // IMDS answers in milliseconds or not at all (not on EC2): short caps so
  // the rest of the budget is left for the real call.
  const auto cap = std::chrono::milliseconds(1000);
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "60"});
  put.max_time = cap;
  auto tok = http.send(put, deadline);
  if (!tok) return tl::unexpected<std::string>("IMDS token: " + tok.error().message);
  if (tok->status != 200) return tl::unexpected(fmt::format("IMDS token request answered HTTP {}", tok->status));
  const std::string token = trim(tok->body);
  HttpRequest get;
  get.url = base + "/latest/meta-data/iam/security-credentials/";
  get.headers.push_back({"X-aws-ec2-metadata-token", token});
  get.max_time = cap;
  auto role = http.send(get, deadline);
  if (!role) return tl::unexpected<std::string>("IMDS role: " + role.error().message);
  if (role->status != 200)
    return tl::unexpected(fmt::format("IMDS: no instance role (HTTP {})", role->status));
  auto name = trim(role->body.substr(0, role->body.find('\n')));
  if (name.empty() || name.find('/') != std::string::npos) return tl::unexpected<std::string>("IMDS: no instance role");
  get.url += name;
  auto cred = http.send(get, deadline);
  if (!cred) return tl::unexpected<std::string>("IMDS credentials: " + cred.error().message);
  if (cred->status != 200) return tl::unexpected(fmt::format("IMDS credentials answered HTTP {}", cred->status));
  return credentials_from_json(cred->body, "instance role " + outside(name, 64) + " (IMDSv2)", now);
}

} // namespace

Ini parse_ini(std::string_view text)
{
  Ini ini;
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      ini[section];
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    ini[section][trim(std::string_view(line).substr(0, eq))] = trim(std::string_view(line).substr(eq + 1));
  }
  return ini;
}

std::string credentials_file(const Environment& env)
{
  return env.get("AWS_SHARED_CREDENTIALS_FILE").value_or(home(env) + "/.aws/credentials");
}

std::string config_file(const Environment& env)
{
  return env.get("AWS_CONFIG_FILE").value_or(home(env) + "/.aws/config");
}

std::string profile_name(const Environment& env, const std::string& cli_profile)
{
  if (!cli_profile.empty()) return cli_profile;
  return env.get("AWS_PROFILE").value_or("default");
}

tl::expected<std::string, std::string> resolve_region(const Environment& env, const FileSystem& fs,
                                                      const std::string& cli_region, const std::string& cli_profile)
{
  if (!cli_region.empty()) return cli_region;
  if (auto r = env.get("AWS_REGION")) return *r;
  if (auto r = env.get("AWS_DEFAULT_REGION")) return *r;
  auto p = read_profile(env, fs, profile_name(env, cli_profile));
  if (!p) return tl::unexpected(p.error());
  if (auto it = p->values.find("region"); it != p->values.end() && !it->second.empty()) return it->second;
  return tl::unexpected<std::string>("no AWS region: give --region, set AWS_REGION, or set region in the profile");
}

tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs,
                                                           HttpClient& http, const Deadline& deadline,
                                                           const std::string& cli_profile, double now,
                                                           const Trace& trace)
{
  // An explicit --profile means that profile, even if the environment
  // holds other keys (the AWS CLI does the same).
  if (cli_profile.empty()) {
    auto id = env.get("AWS_ACCESS_KEY_ID");
    auto secret = env.get("AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
      trace(1, "aws: credentials from the environment");
      return Credentials{*id, *secret, env.get("AWS_SESSION_TOKEN").value_or(""), "environment", std::nullopt};
    }
    if (id || secret)
      return tl::unexpected<std::string>("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }

  const std::string profile = profile_name(env, cli_profile);
  auto p = read_profile(env, fs, profile);
  if (!p) return tl::unexpected(p.error());
  const bool named = !cli_profile.empty() || env.get("AWS_PROFILE");
  if (p->found) {
    auto get = [&p](const char* k) {
      auto it = p->values.find(k);
      return it == p->values.end() ? std::string() : it->second;
    };
    auto id = get("aws_access_key_id");
    auto secret = get("aws_secret_access_key");
    if (!id.empty() && !secret.empty()) {
      trace(1, "aws: credentials from profile " + profile + " in " + p->where);
      return Credentials{id, secret, get("aws_session_token"), "profile " + profile, std::nullopt};
    }
    if (named)
      return tl::unexpected<std::string>("profile " + profile + " in " + p->where +
                            " has no aws_access_key_id/aws_secret_access_key");
  } else if (named) {
    return tl::unexpected<std::string>("AWS profile " + profile + " not found in " + credentials_file(env) + " or " +
                          config_file(env));
  }

  if (auto c = container_credentials(env, fs, http, deadline, now, trace)) return *c;

  auto disabled = env.get("AWS_EC2_METADATA_DISABLED");
  if (disabled && (*disabled == "true" || *disabled == "TRUE" || *disabled == "1"))
    return tl::unexpected<std::string>("no AWS credentials found (environment, shared files, container; IMDS disabled)");
  auto imds = imds_credentials(env, http, deadline, now, trace);
  if (!imds)
    return tl::unexpected<std::string>("no AWS credentials found (environment, shared files, container, IMDS: " + imds.error() +
                          ")");
  return imds;
}

std::optional<ApiError> parse_error(std::string_view xml, long http)
{
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  auto err = doc.select_node("//Error").node();
  if (!err) return std::nullopt;
  ApiError e;
  e.http = http;
  e.code = text_of(err, "Code");
  e.message = text_of(err, "Message");
  if (e.code.empty()) return std::nullopt;
  return e;
}

bool is_auth_error(const ApiError& e)
{
  static const char* codes[] = {"AuthFailure", "UnauthorizedOperation", "SignatureDoesNotMatch",
                                "InvalidClientTokenId", "ExpiredToken", "RequestExpired", "AccessDenied",
                                "OptInRequired", "MissingAuthenticationToken", "IncompleteSignature",
                                "Blocked", "InvalidAccessKeyId"};
  for (const char* c : codes)
    if (e.code == c) return true;
  return e.http == 401 || e.http == 403;
}

bool is_retryable(const ApiError& e)
{
  return e.http >= 500 || e.code == "Throttling" || e.code == "ThrottlingException" ||
         e.code == "RequestLimitExceeded" || e.code == "InternalError" || e.code == "ServiceUnavailable";
}

std::optional<double> parse_time(std::string_view text)
{
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  // Only UTC ("Z" or +00:00) is what the APIs send; an offset is applied.
  double offset = 0;
  auto tpos = t.find('T');
  auto zone = t.find_first_of("Z+-", tpos);
  if (zone != std::string::npos && t[zone] != 'Z') {
    int oh = 0, om = 0;
    if (std::sscanf(t.c_str() + zone + 1, "%2d:%2d", &oh, &om) >= 1)
      offset = (t[zone] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  }
  return static_cast<double>(timegm(&tm)) - offset;
}

tl::expected<std::vector<VpnConnection>, std::string> parse_vpn_connections(std::string_view xml)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from EC2 ({} at byte {})", ok.description(), ok.offset));
  auto root = doc.child("DescribeVpnConnectionsResponse");
  if (!root) return tl::unexpected<std::string>("unexpected reply from EC2: no DescribeVpnConnectionsResponse");
  std::vector<VpnConnection> out;
  for (auto item : root.child("vpnConnectionSet").children("item")) {
    VpnConnection c;
    c.id = text_of(item, "vpnConnectionId");
    c.state = text_of(item, "state");
    c.type = text_of(item, "type");
    auto opts = item.child("options");
    c.bgp = !opts || trim(opts.child("staticRoutesOnly").text().as_string()) != "true";
    for (auto t : item.child("vgwTelemetry").children("item")) {
      Telemetry tel;
      tel.outside_ip = text_of(t, "outsideIpAddress");
      tel.status = text_of(t, "status");
      tel.last_change = parse_time(text_of(t, "lastStatusChange"));
      tel.message = text_of(t, "statusMessage");
      if (auto n = parse_number(text_of(t, "acceptedRouteCount"))) tel.accepted_routes = *n;
      c.telemetry.push_back(std::move(tel));
    }
    out.push_back(std::move(c));
  }
  return out;
}

tl::expected<Credentials, std::string> parse_assume_role(std::string_view xml)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from STS ({} at byte {})", ok.description(), ok.offset));
  auto c = doc.child("AssumeRoleResponse").child("AssumeRoleResult").child("Credentials");
  Credentials out;
  out.access_key = text_of(c, "AccessKeyId");
  out.secret_key = text_of(c, "SecretAccessKey");
  out.session_token = text_of(c, "SessionToken");
  out.expiration = parse_time(text_of(c, "Expiration"));
  if (out.access_key.empty() || out.secret_key.empty() || out.session_token.empty())
    return tl::unexpected<std::string>("unexpected reply from STS AssumeRole: no credentials");
  return out;
}

tl::expected<RouteFinding, std::string> parse_route_tables(std::string_view xml, const std::string& table_id,
                                                           const std::string& destination)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from EC2 ({} at byte {})", ok.description(), ok.offset));
  auto root = doc.child("DescribeRouteTablesResponse");
  if (!root) return tl::unexpected<std::string>("unexpected reply from EC2: no DescribeRouteTablesResponse");
  RouteFinding f;
  f.table_id = table_id;
  f.destination = destination;
  bool table = false;
  for (auto t : root.child("routeTableSet").children("item")) {
    if (text_of(t, "routeTableId") != table_id) continue;
    table = true;
    for (auto r : t.child("routeSet").children("item")) {
      auto dest = text_of(r, "destinationCidrBlock");
      if (dest.empty()) dest = text_of(r, "destinationIpv6CidrBlock");
      if (dest != destination) continue;
      f.found = true;
      f.state = text_of(r, "state");
      f.origin = text_of(r, "origin");
      for (const char* k : {"instanceId", "networkInterfaceId", "gatewayId", "transitGatewayId", "natGatewayId",
                            "vpcPeeringConnectionId", "carrierGatewayId", "localGatewayId", "coreNetworkArn"}) {
        auto v = text_of(r, k);
        if (!v.empty()) {
          f.target = v;
          break;
        }
      }
    }
  }
  if (!table) return tl::unexpected<std::string>("route table " + table_id + " not in EC2's answer");
  return f;
}

std::vector<Link> missing_links(const std::string& id, const std::string& why)
{
  std::vector<Link> out;
  for (int i = 1; i <= 2; ++i) {
    Link l;
    l.name = fmt::format("{}/tunnel{}", id, i);
    l.group = id;
    l.state = LinkState::Missing;
    l.detail = why;
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<Link> links_of(const VpnConnection& c)
{
  std::vector<Link> out;
  const bool gone = c.state == "deleted" || c.state == "deleting";
  for (const auto& t : c.telemetry) {
    Link l;
    l.name = c.id + "/" + (t.outside_ip.empty() ? std::string("?") : t.outside_ip);
    l.group = c.id;
    l.bgp = c.bgp;
    l.accepted_routes = t.accepted_routes;
    l.since_epoch = t.last_change;
    if (t.status == "UP") l.state = LinkState::Up;
    else l.state = LinkState::Down;
    std::vector<std::string> parts;
    if (t.status != "UP" && t.status != "DOWN") parts.push_back("status " + outside(t.status, 32));
    if (!t.message.empty()) parts.push_back(outside(t.message, 120));
    if (c.bgp && t.accepted_routes) parts.push_back(format_number(*t.accepted_routes) + " BGP routes");
    if (c.state != "available") {
      parts.push_back("connection " + outside(c.state, 32));
      if (gone) l.state = LinkState::Down;
      else if (c.state == "pending" && l.state != LinkState::Up) l.state = LinkState::Connecting;
    }
    for (const auto& p : parts) l.detail += (l.detail.empty() ? "" : ", ") + p;
    out.push_back(std::move(l));
  }
  // Every Site-to-Site VPN connection has two tunnels; one without
  // telemetry is not there as far as the check can tell.
  for (auto i = c.telemetry.size(); i < 2; ++i) {
    Link l;
    l.name = fmt::format("{}/tunnel{}", c.id, i + 1);
    l.group = c.id;
    l.state = LinkState::Missing;
    l.detail = "no telemetry for this tunnel" + (c.state != "available" ? ", connection " + outside(c.state, 32) : "");
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::string> ids_in_message(std::string_view message)
{
  std::vector<std::string> out;
  static const std::regex re("vpn-[0-9a-fA-F]+");
  std::string m(message);
  for (auto it = std::sregex_iterator(m.begin(), m.end(), re); it != std::sregex_iterator(); ++it)
    if (std::find(out.begin(), out.end(), it->str()) == out.end()) out.push_back(it->str());
  return out;
}

namespace {

struct CallError {
  std::optional<ApiError> api; // the API answered with an error
  std::string text;
  bool timed_out = false;
};

std::string service_endpoint(const Request& req, const Environment& env, const std::string& service,
                             const std::string& region)
{
  std::string upper = service;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auto e = env.get("AWS_ENDPOINT_URL_" + upper)) return *e;
  if (!req.endpoint_url.empty()) return req.endpoint_url;
  if (auto e = env.get("AWS_ENDPOINT_URL")) return *e;
  return "https://" + service + "." + region + ".amazonaws.com/";
}

// One Query API call: POST, form body, SigV4; throttling and 5xx retried
// once when the budget allows.
tl::expected<std::string, CallError> call(const Session& s, const std::string& url, const std::string& service,
                                          const std::string& region, const Credentials& creds,
                                          const std::string& action, const std::string& form)
{
  HttpRequest rq;
  rq.method = "POST";
  rq.url = url;
  rq.body = "Action=" + action + "&" + form;
  rq.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  rq.aws = AwsSigning{region, service, creds.access_key, creds.secret_key, creds.session_token};
  for (int attempt = 1;; ++attempt) {
    s.activity("calling " + action + " at " + url_origin(url));
    s.debug(1, fmt::format("aws: POST {} to {} (attempt {})", action, url_origin(url), attempt));
    s.debug(3, "aws: request body: " + rq.body);
    const double t0 = s.deadline.elapsed();
    auto rs = s.http.send(rq, s.deadline);
    const double took = s.deadline.elapsed() - t0;
    if (!rs) {
      CallError e;
      e.timed_out = rs.error().kind == HttpErrorKind::Timeout;
      e.text = fmt::format("{} at {}: {}", action, url_origin(url), rs.error().message);
      return tl::unexpected(std::move(e));
    }
    s.debug(2, fmt::format("aws: {} answered HTTP {}, {} bytes in {} ms", action, rs->status, rs->body.size(),
                           static_cast<long>(took * 1000)));
    if (rs->status == 200) return std::move(rs->body);
    CallError e;
    e.api = parse_error(rs->body, rs->status);
    if (!e.api) e.api = ApiError{rs->status, fmt::format("HTTP{}", rs->status), "no error document in the reply"};
    if (rs->status >= 300 && rs->status < 400) e.api->message = "redirect to " + outside(rs->header("Location"), 100) + " not followed";
    e.text = fmt::format("{} failed: {}: {}", action, outside(e.api->code, 64), outside(e.api->message));
    if (attempt == 1 && is_retryable(*e.api) && s.can_retry(took)) {
      s.debug(1, "aws: " + e.api->code + ", retrying once");
      s.backoff();
      continue;
    }
    if (is_retryable(*e.api)) e.text += attempt > 1 ? " (after one retry)" : " (no time left to retry)";
    return tl::unexpected(std::move(e));
  }
}

struct Prepared {
  std::string region;
  Credentials creds;
};

tl::expected<Prepared, CallError> prepare(const Session& s, const Environment& env, const FileSystem& fs, double now)
{
  Trace trace = [&s](int level, const std::string& line) { s.debug(level, line); };
  auto region = resolve_region(env, fs, s.req.region, s.req.profile);
  if (!region) return tl::unexpected(CallError{std::nullopt, region.error(), false});
  s.debug(1, "aws: region " + *region);
  s.activity("looking for AWS credentials");
  auto creds = resolve_credentials(env, fs, s.http, s.deadline, s.req.profile, now, trace);
  if (!creds) return tl::unexpected(CallError{std::nullopt, creds.error(), false});
  if (!s.req.role_arn.empty()) {
    const auto sts = service_endpoint(s.req, env, "sts", *region);
    std::string form = "RoleArn=" + url_encode(s.req.role_arn) + "&RoleSessionName=sitelink-check" +
                       "&DurationSeconds=900&Version=" + sts_version;
    auto body = call(s, sts, "sts", *region, *creds, "AssumeRole", form);
    if (!body) {
      auto e = body.error();
      e.text = "cannot assume role " + outside(s.req.role_arn, 120) + " with " + creds->source + ": " + e.text;
      return tl::unexpected(std::move(e));
    }
    auto assumed = parse_assume_role(*body);
    if (!assumed) return tl::unexpected(CallError{std::nullopt, assumed.error(), false});
    assumed->source = "role " + s.req.role_arn + " assumed with " + creds->source;
    s.debug(1, "aws: assumed role " + s.req.role_arn);
    creds = std::move(*assumed);
  }
  return Prepared{*region, std::move(*creds)};
}

Reply& fail_call(const Session& s, const CallError& e)
{
  s.reply.status = e.timed_out ? Reply::Status::TimedOut : Reply::Status::Failed;
  s.reply.error = e.api && is_auth_error(*e.api) ? "AWS refused the request: " + e.text : e.text;
  return s.reply;
}

} // namespace

Reply run_vpn(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto prep = prepare(s, env, fs, now);
  if (!prep) return fail_call(s, prep.error());
  const auto url = service_endpoint(req, env, "ec2", prep->region);
  reply.api = "AWS EC2 at " + url_origin(url);

  std::vector<std::string> ids = req.vpn_connection_ids;
  std::map<std::string, std::vector<Link>> by_id;
  // A NotFound error names the missing IDs and answers nothing for the
  // others, so ask again without them (at most once per requested ID).
  for (std::size_t round = 0; !ids.empty() && round <= req.vpn_connection_ids.size(); ++round) {
    std::string form;
    for (std::size_t i = 0; i < ids.size(); ++i) form += fmt::format("VpnConnectionId.{}={}&", i + 1, url_encode(ids[i]));
    form += std::string("Version=") + ec2_version;
    auto body = call(s, url, "ec2", prep->region, prep->creds, "DescribeVpnConnections", form);
    if (!body) {
      const auto& e = body.error();
      if (e.api && e.api->code == "InvalidVpnConnectionID.NotFound") {
        auto gone = ids_in_message(e.api->message);
        if (gone.empty() && ids.size() == 1) gone = ids;
        std::size_t before = ids.size();
        for (const auto& g : gone) {
          by_id[g] = missing_links(g, "VPN connection " + g + " not found");
          ids.erase(std::remove(ids.begin(), ids.end(), g), ids.end());
        }
        if (ids.size() != before) continue;
      }
      return fail_call(s, e);
    }
    auto conns = parse_vpn_connections(*body);
    if (!conns) return s.fail(conns.error());
    for (const auto& c : *conns) {
      if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) continue;
      by_id[c.id] = links_of(c);
      if (c.state != "available") {
        reply.summary_notes.push_back(c.id + " " + outside(c.state, 32));
        reply.notes.push_back("VPN connection " + c.id + " is " + outside(c.state, 32) + ", not available");
      }
      s.debug(2, fmt::format("aws: {} state {}, {} routing, {} tunnel(s) in telemetry", c.id, c.state,
                             c.bgp ? "BGP" : "static", c.telemetry.size()));
    }
    for (const auto& id : ids)
      if (by_id.find(id) == by_id.end()) by_id[id] = missing_links(id, "VPN connection " + id + " not in EC2's answer");
    ids.clear();
  }
  for (const auto& id : req.vpn_connection_ids) {
    auto it = by_id.find(id);
    if (it == by_id.end()) continue;
    for (auto& l : it->second) {
      if (std::find(reply.expected.begin(), reply.expected.end(), l.name) != reply.expected.end()) continue;
      reply.expected.push_back(l.name);
      reply.links.push_back(std::move(l));
    }
    by_id.erase(it);
  }
  reply.status = Reply::Status::Ok;
  return reply;
}

Reply run_route(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
                const Deadline& deadline, double now)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto prep = prepare(s, env, fs, now);
  if (!prep) return fail_call(s, prep.error());
  const auto url = service_endpoint(req, env, "ec2", prep->region);
  reply.api = "AWS EC2 at " + url_origin(url);
  std::string form = "RouteTableId.1=" + url_encode(req.route_table_id) + "&Version=" + ec2_version;
  auto body = call(s, url, "ec2", prep->region, prep->creds, "DescribeRouteTables", form);
  if (!body) return fail_call(s, body.error());
  auto f = parse_route_tables(*body, req.route_table_id, req.destination);
  if (!f) return s.fail(f.error());
  s.debug(2, fmt::format("aws: route {} in {}: {}", req.destination, req.route_table_id,
                         f->found ? f->state + " via " + f->target : std::string("absent")));
  reply.route = std::move(*f);
  reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::aws
