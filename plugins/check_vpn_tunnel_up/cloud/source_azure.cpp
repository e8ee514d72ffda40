// SPDX-License-Identifier: GPL-2.0-or-later
// --backend azure, the I/O half (see source_azure.hpp). API calls per check:
// one token request, one GET per named connection, and for connections with
// BGP one getBgpPeerStatus per gateway (plus its polls when ARM answers 202).
// ARM has no field selection for these resources, so the connection comes
// whole; its sharedKey is never read (parse_azure.cpp).
//
// References: Microsoft identity platform "OAuth 2.0 client credentials
// flow" (v2.0 token endpoint, client_assertion for certificates: RS256 JWT
// with x5t, aud = token endpoint, iss = sub = client id), "Azure Instance
// Metadata Service: managed identities" (GET /metadata/identity/oauth2/token,
// api-version 2018-02-01, header Metadata: true), Azure Identity's
// DefaultAzureCredential and EnvironmentCredential documentation (variable
// names and order), and the ARM operations
// Microsoft.Network/connections/{name} (GET) and
// virtualNetworkGateways/{name}/getBgpPeerStatus (POST, long-running:
// 202 with Location, then 200).
#include "source_azure.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "jwt.hpp"
#include "rest.hpp"
#include "session.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::azure {

namespace {

std::string strip_slash(std::string s)
{
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string trim(std::string s)
{
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

tl::expected<std::string, std::string> read_file(const FileSystem& fs, const std::string& path, const char* what)
{
  auto f = fs.read_secret_file(path);
  if (f.status == FileRead::Status::Missing) return tl::unexpected(std::string(what) + " " + path + " not found");
  if (f.status == FileRead::Status::Refused) return tl::unexpected(f.error);
  return f.text;
}

} // namespace

Endpoints endpoints(const Environment& env)
{
  Endpoints ep;
  ep.authority = strip_slash(env.get("AZURE_AUTHORITY_HOST").value_or("https://login.microsoftonline.com"));
  if (ep.authority.find("://") == std::string::npos) ep.authority = "https://" + ep.authority;
  ep.management = strip_slash(env.get("AZURE_RESOURCE_MANAGER_ENDPOINT").value_or("https://management.azure.com"));
  ep.audience = strip_slash(env.get("AZURE_RESOURCE_MANAGER_AUDIENCE").value_or("https://management.azure.com"));
  ep.imds = strip_slash(env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST").value_or("http://169.254.169.254"));
  return ep;
}

tl::expected<Credential, std::string> resolve_credential(const Environment& env, const FileSystem& fs)
{
  Credential c;
  c.tenant = env.get("AZURE_TENANT_ID").value_or("");
  c.client_id = env.get("AZURE_CLIENT_ID").value_or("");
  auto secret = env.get("AZURE_CLIENT_SECRET");
  auto cert = env.get("AZURE_CLIENT_CERTIFICATE_PATH");
  if (secret || cert) {
    if (c.tenant.empty() || c.client_id.empty())
      return tl::unexpected<std::string>(std::string(secret ? "AZURE_CLIENT_SECRET" : "AZURE_CLIENT_CERTIFICATE_PATH") +
                                         " needs AZURE_TENANT_ID and AZURE_CLIENT_ID");
    if (secret) {
      c.kind = Credential::Kind::Secret;
      c.secret = *secret;
      c.source = "client secret (AZURE_CLIENT_SECRET) of " + c.client_id;
      return c;
    }
    auto pem = read_file(fs, *cert, "client certificate");
    if (!pem) return tl::unexpected(pem.error());
    if (env.get("AZURE_CLIENT_CERTIFICATE_PASSWORD"))
      return tl::unexpected<std::string>("AZURE_CLIENT_CERTIFICATE_PASSWORD is set: give an unencrypted PEM file "
                                         "with the certificate and its key instead");
    c.kind = Credential::Kind::Certificate;
    c.certificate = std::move(*pem);
    c.source = "client certificate (AZURE_CLIENT_CERTIFICATE_PATH) of " + c.client_id;
    return c;
  }
  if (auto file = env.get("AZURE_FEDERATED_TOKEN_FILE")) {
    if (c.tenant.empty() || c.client_id.empty())
      return tl::unexpected<std::string>("AZURE_FEDERATED_TOKEN_FILE needs AZURE_TENANT_ID and AZURE_CLIENT_ID");
    auto tok = read_file(fs, *file, "federated token file");
    if (!tok) return tl::unexpected(tok.error());
    c.kind = Credential::Kind::Workload;
    c.secret = trim(*tok);
    c.source = "workload identity (AZURE_FEDERATED_TOKEN_FILE) of " + c.client_id;
    return c;
  }
  c.kind = Credential::Kind::ManagedIdentity;
  c.source = c.client_id.empty() ? "managed identity" : "managed identity " + c.client_id;
  return c;
}

tl::expected<std::string, std::string> token_form(const Credential& c, const Endpoints& ep, double now)
{
  std::string form = "grant_type=client_credentials&client_id=" + url_encode(c.client_id) +
                     "&scope=" + url_encode(ep.audience + "/.default");
  if (c.kind == Credential::Kind::Secret) return form + "&client_secret=" + url_encode(c.secret);
  std::string assertion = c.secret;
  if (c.kind == Credential::Kind::Certificate) {
    auto thumb = jwt::x5t(c.certificate);
    if (!thumb) return tl::unexpected("client certificate: " + thumb.error());
    const auto t = static_cast<long long>(now);
    nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", *thumb}};
    nlohmann::json claims = {{"aud", ep.authority + "/" + c.tenant + "/oauth2/v2.0/token"},
                             {"iss", c.client_id},
                             {"sub", c.client_id},
                             {"jti", jwt::random_id()},
                             {"nbf", t},
                             {"iat", t},
                             {"exp", t + 600}};
    auto signed_jwt = jwt::sign_rs256(header.dump(), claims.dump(), c.certificate);
    if (!signed_jwt) return tl::unexpected("client certificate: " + signed_jwt.error());
    assertion = std::move(*signed_jwt);
  }
  return form + "&client_assertion_type=" + url_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
         "&client_assertion=" + url_encode(assertion);
}

namespace {

struct Client {
  const Session& s;
  const Credential& cred;
  const Endpoints& ep;
  double now;
  std::string token;
  bool refreshed = false;
};

using rest::fail;
using rest::Failure;

tl::expected<void, Failure> managed_identity_token(Client& c)
{
  HttpRequest rq;
  rq.url = c.ep.imds +
           "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + url_encode(c.ep.audience + "/") +
           (c.cred.client_id.empty() ? "" : "&client_id=" + url_encode(c.cred.client_id));
  rq.headers.push_back({"Metadata", "true"});
  // IMDS answers in milliseconds or not at all (not on Azure).
  rq.max_time = std::chrono::milliseconds(1000);
  c.s.activity("asking the managed identity endpoint for a token");
  c.s.debug(1, "azure: managed identity token from " + url_origin(rq.url));
  auto rs = c.s.http.send(rq, c.s.deadline);
  if (!rs)
    return tl::unexpected(Failure{false, "no Azure credentials: AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH and "
                                         "AZURE_FEDERATED_TOKEN_FILE unset, and the managed identity endpoint at " +
                                             url_origin(rq.url) + " did not answer (" + rs.error().message + ")"});
  if (rs->status != 200) {
    auto msg = entra_message(rs->body);
    return tl::unexpected(Failure{false, fmt::format("the managed identity endpoint refused a token (HTTP {}){}",
                                                     rs->status, msg.empty() ? "" : ": " + msg)});
  }
  auto t = parse_token(rs->body);
  if (!t) return tl::unexpected(Failure{false, "managed identity endpoint: " + t.error()});
  c.token = t->access_token;
  return {};
}

tl::expected<void, Failure> acquire_token(Client& c)
{
  if (c.cred.kind == Credential::Kind::ManagedIdentity) return managed_identity_token(c);
  auto form = token_form(c.cred, c.ep, c.now);
  if (!form) return tl::unexpected(Failure{false, form.error()});
  HttpRequest rq;
  rq.method = "POST";
  rq.url = c.ep.authority + "/" + url_encode(c.cred.tenant) + "/oauth2/v2.0/token";
  rq.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  rq.body = std::move(*form);
  c.s.activity("asking Microsoft Entra ID for a token at " + url_origin(rq.url));
  c.s.debug(1, "azure: token request with the " + c.cred.source);
  auto rs = rest::send(c.s, rq, "Microsoft Entra ID", "azure");
  if (!rs) return tl::unexpected(Failure{rs.error().timed_out, rs.error().text});
  if (rs->status != 200) {
    auto msg = entra_message(rs->body);
    return tl::unexpected(Failure{
        false, fmt::format("Microsoft Entra ID refused the {} (HTTP {}){}{}", c.cred.source, rs->status,
                           msg.empty() ? "" : ": " + msg,
                           rest::throttle_note(rs->status, rs->header("X-Sitelink-Attempts").empty() ? 1 : 2))});
  }
  auto t = parse_token(rs->body);
  if (!t) return tl::unexpected(Failure{false, "Microsoft Entra ID: " + t.error()});
  c.token = t->access_token;
  return {};
}

// One ARM request with the bearer token; a 401 gets one fresh token (the
// token expired or was revoked between the two requests).
tl::expected<HttpResponse, Failure> arm(Client& c, HttpRequest rq, const std::string& activity)
{
  for (;;) {
    rq.headers.clear();
    rq.headers.push_back({"Authorization", "Bearer " + c.token});
    rq.headers.push_back({"Accept", "application/json"});
    if (rq.method == "POST") rq.headers.push_back({"Content-Length", "0"});
    c.s.activity(activity);
    auto rs = rest::send(c.s, rq, "Azure Resource Manager", "azure");
    if (!rs) return tl::unexpected(Failure{rs.error().timed_out, rs.error().text});
    if (rs->status != 401 || c.refreshed) return std::move(*rs);
    c.refreshed = true;
    c.s.debug(1, "azure: token refused (" + arm_code(rs->body) + "), asking for a fresh one");
    auto again = acquire_token(c);
    if (!again) return tl::unexpected(again.error());
  }
}

std::string arm_error(const HttpResponse& rs, const std::string& what)
{
  auto msg = arm_message(rs.body);
  return fmt::format("Azure Resource Manager {} (HTTP {}){}{}", what, rs.status, msg.empty() ? "" : ": " + msg,
                     rest::throttle_note(rs.status, rs.header("X-Sitelink-Attempts").empty() ? 1 : 2));
}

// getBgpPeerStatus: 200 with the peers, or 202 and a Location to poll (same
// origin only: the token goes with it). Any failure is a note, not the
// check's answer: the connection's own status is already known.
GatewayBgp bgp_status(Client& c, const std::string& gateway_id)
{
  HttpRequest rq;
  rq.method = "POST";
  rq.url = c.ep.management + gateway_id + "/getBgpPeerStatus?api-version=" + network_api_version;
  auto rs = arm(c, rq, "reading the BGP peer status of " + gateway_id.substr(gateway_id.find_last_of('/') + 1));
  for (int polls = 0; rs && rs->status == 202 && polls < 10; ++polls) {
    auto location = rs->header("Location");
    if (location.empty()) location = rs->header("Azure-AsyncOperation");
    if (location.empty() || url_origin(location) != url_origin(c.ep.management))
      return {{}, "ARM answered 202 without a usable Location"};
    const double wait = std::min(rest::retry_after_seconds(rs->header("Retry-After")), 1.0);
    if (c.s.deadline.remaining() < wait + 1.0) return {{}, "not ready within the time budget"};
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    HttpRequest poll;
    poll.url = location;
    rs = arm(c, poll, "waiting for the BGP peer status");
  }
  if (!rs) return {{}, rs.error().text};
  if (rs->status != 200) return {{}, arm_error(*rs, "failed")};
  auto peers = parse_bgp_peers(rs->body);
  if (!peers) return {{}, peers.error()};
  return {std::move(*peers), {}};
}

} // namespace

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline,
          double now)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  const Endpoints ep = endpoints(env);
  reply.api = "Azure Resource Manager at " + url_origin(ep.management);
  s.activity("looking for Azure credentials");
  auto cred = resolve_credential(env, fs);
  if (!cred) return s.fail(cred.error());
  Client c{s, *cred, ep, now, {}, false};
  if (auto t = acquire_token(c); !t) return fail(s, t.error());

  const std::string base = ep.management + "/subscriptions/" + url_encode(req.subscription) + "/resourceGroups/" +
                           url_encode(req.resource_group) + "/providers/Microsoft.Network/connections/";
  std::vector<Found> found;
  std::map<std::string, GatewayBgp> bgp;
  for (const auto& name : req.connections) {
    HttpRequest rq;
    rq.url = base + url_encode(name) + "?api-version=" + network_api_version;
    auto rs = arm(c, rq, "reading connection " + name + " from " + url_origin(ep.management));
    if (!rs) return fail(s, rs.error());
    if (rs->status == 404 && arm_code(rs->body) == "ResourceNotFound") {
      found.push_back({name, std::nullopt});
      continue;
    }
    if (rs->status != 200)
      return s.fail(arm_error(*rs, rs->status == 401 ? "refused the token even after a fresh one" : "failed"));
    auto conn = parse_connection(rs->body);
    if (!conn) return s.fail(conn.error());
    s.debug(2, fmt::format("azure: {} connectionStatus {}, {} tunnel(s), BGP {}", name, conn->status,
                           conn->tunnels.size(), conn->bgp ? "on" : "off"));
    if (conn->bgp && !conn->gateway_id.empty() && bgp.find(conn->gateway_id) == bgp.end())
      bgp[conn->gateway_id] = bgp_status(c, conn->gateway_id);
    found.push_back({name, std::move(*conn)});
  }
  fill_reply(reply, found, bgp);
  reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::azure
