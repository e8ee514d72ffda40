// SPDX-License-Identifier: GPL-2.0-or-later
// --backend gcp, the I/O half (see source_gcp.hpp). API calls per check: one
// token request and one vpnTunnels.list per page of 500 tunnels (one for
// any ordinary region), asking with fields= for the status fields only,
// never sharedSecret.
//
// References: Google's "Using OAuth 2.0 for Server to Server Applications"
// (JWT bearer grant at the key's token_uri), "Application Default
// Credentials" (search order), the Compute Engine metadata server
// documentation (GET computeMetadata/v1/instance/service-accounts/default/
// token with Metadata-Flavor: Google), and the Compute Engine v1 REST
// reference for vpnTunnels.list (maxResults, pageToken, fields).
#include "source_gcp.hpp"

#include <fmt/format.h>

#include "jwt.hpp"
#include "rest.hpp"
#include "session.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::gcp {

namespace {

bool plain_http_allowed(const std::string& url)
{
  // A token request carries a signed assertion or a refresh token: HTTPS,
  // or plain HTTP to this machine only (tests, local proxies).
  if (url.rfind("https://", 0) == 0) return true;
  for (const char* p : {"http://127.", "http://localhost:", "http://localhost/", "http://[::1]"})
    if (url.rfind(p, 0) == 0) return true;
  return false;
}

tl::expected<std::optional<KeyFile>, std::string> key_at(const FileSystem& fs, const std::string& path, bool named)
{
  auto f = fs.read_secret_file(path);
  if (f.status == FileRead::Status::Missing) {
    if (named) return tl::unexpected("GOOGLE_APPLICATION_CREDENTIALS names " + path + ", which does not exist");
    return std::optional<KeyFile>{};
  }
  if (f.status == FileRead::Status::Refused) return tl::unexpected(f.error);
  auto k = parse_key_file(f.text, path);
  if (!k) return tl::unexpected(k.error());
  if (!plain_http_allowed(k->token_uri))
    return tl::unexpected(path + ": token_uri " + sanitize_quote(k->token_uri, 100) + " is not HTTPS");
  return std::optional<KeyFile>(std::move(*k));
}

} // namespace

tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs)
{
  if (auto path = env.get("GOOGLE_APPLICATION_CREDENTIALS")) {
    auto k = key_at(fs, *path, true);
    if (!k) return tl::unexpected(k.error());
    return Credentials{std::move(*k), (*k)->type + " credentials from GOOGLE_APPLICATION_CREDENTIALS (" + *path + ")"};
  }
  std::string dir;
  if (auto c = env.get("CLOUDSDK_CONFIG")) dir = *c;
  else if (auto h = env.get("HOME")) dir = *h + "/.config/gcloud";
  if (!dir.empty()) {
    const std::string path = dir + "/application_default_credentials.json";
    auto k = key_at(fs, path, false);
    if (!k) return tl::unexpected(k.error());
    if (*k) return Credentials{std::move(*k), (*k)->type + " credentials from " + path};
  }
  return Credentials{std::nullopt, "the metadata server's default service account"};
}

std::string compute_endpoint(const Environment& env)
{
  std::string e =
      env.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE").value_or("https://compute.googleapis.com/compute/v1/");
  if (e.empty() || e.back() != '/') e += '/';
  return e;
}

namespace {

using rest::fail;
using rest::Failure;

tl::expected<std::string, Failure> metadata_token(const Session& s, const Environment& env)
{
  const std::string host = env.get("GCE_METADATA_HOST").value_or("metadata.google.internal");
  HttpRequest rq;
  rq.url = "http://" + host +
           "/computeMetadata/v1/instance/service-accounts/default/token?scopes=" + url_encode(compute_scope);
  rq.headers.push_back({"Metadata-Flavor", "Google"});
  // The metadata server answers in milliseconds or not at all (not on GCP).
  rq.max_time = std::chrono::milliseconds(1000);
  s.activity("asking the metadata server for a token");
  s.debug(1, "gcp: token from the metadata server at " + url_origin(rq.url));
  auto rs = s.http.send(rq, s.deadline);
  if (!rs)
    return tl::unexpected(Failure{false, "no Google credentials: GOOGLE_APPLICATION_CREDENTIALS unset, no "
                                         "application_default_credentials.json, and the metadata server at " +
                                             url_origin(rq.url) + " did not answer (" + rs.error().message + ")"});
  if (rs->status != 200 || rs->header("Metadata-Flavor") != "Google") {
    auto msg = error_message(rs->body);
    return tl::unexpected(Failure{false, fmt::format("the metadata server gave no token (HTTP {}){}", rs->status,
                                                     msg.empty() ? "" : ": " + msg)});
  }
  auto t = parse_token(rs->body);
  if (!t) return tl::unexpected(Failure{false, "metadata server: " + t.error()});
  return *t;
}

tl::expected<std::string, Failure> fetch_token(const Session& s, const Environment& env, const Credentials& c,
                                               double now)
{
  if (!c.key) return metadata_token(s, env);
  const KeyFile& k = *c.key;
  HttpRequest rq;
  rq.method = "POST";
  rq.url = k.token_uri;
  rq.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  if (k.type == "service_account") {
    auto assertion = jwt::sign_rs256(assertion_header(k), assertion_claims(k, now), k.private_key);
    if (!assertion)
      return tl::unexpected(Failure{false, "service-account key of " + k.client_email + ": " + assertion.error()});
    rq.body = "grant_type=" + url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
              "&assertion=" + url_encode(*assertion);
  } else {
    rq.body = "grant_type=refresh_token&client_id=" + url_encode(k.client_id) +
              "&client_secret=" + url_encode(k.client_secret) + "&refresh_token=" + url_encode(k.refresh_token);
  }
  s.activity("asking Google for a token at " + url_origin(rq.url));
  s.debug(1, "gcp: token request with the " + c.source);
  auto rs = rest::send(s, rq, "Google's token endpoint", "gcp");
  if (!rs) return tl::unexpected(Failure{rs.error().timed_out, rs.error().text});
  if (rs->status != 200) {
    auto msg = error_message(rs->body);
    return tl::unexpected(Failure{
        false, fmt::format("Google refused the {} (HTTP {}){}{}", c.source, rs->status, msg.empty() ? "" : ": " + msg,
                           rest::throttle_note(rs->status, rs->header("X-Sitelink-Attempts").empty() ? 1 : 2))});
  }
  auto t = parse_token(rs->body);
  if (!t) return tl::unexpected(Failure{false, "Google's token endpoint: " + t.error()});
  return *t;
}

} // namespace

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline,
          double now)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  const std::string base = compute_endpoint(env);
  reply.api = "Compute Engine at " + url_origin(base);
  s.activity("looking for Google credentials");
  auto creds = resolve_credentials(env, fs);
  if (!creds) return s.fail(creds.error());
  auto token = fetch_token(s, env, *creds, now);
  if (!token) return fail(s, token.error());

  std::vector<Tunnel> tunnels;
  std::string page_token;
  bool refreshed = false;
  for (int page = 0; page < 20; ++page) {
    HttpRequest rq;
    rq.url = base + "projects/" + url_encode(req.project) + "/regions/" + url_encode(req.region) +
             "/vpnTunnels?maxResults=500&fields=" + url_encode(list_fields) +
             (page_token.empty() ? "" : "&pageToken=" + url_encode(page_token));
    rq.headers.push_back({"Authorization", "Bearer " + *token});
    rq.headers.push_back({"Accept", "application/json"});
    s.activity("listing VPN tunnels at " + url_origin(base));
    auto rs = rest::send(s, rq, "Compute Engine", "gcp");
    if (!rs) return fail(s, Failure{rs.error().timed_out, rs.error().text});
    if (rs->status == 401 && !refreshed) {
      // The token expired or was revoked since it was issued: one fresh one.
      refreshed = true;
      s.debug(1, "gcp: token refused, asking for a fresh one");
      token = fetch_token(s, env, *creds, now);
      if (!token) return fail(s, token.error());
      --page;
      continue;
    }
    if (rs->status != 200) {
      auto msg = error_message(rs->body);
      return s.fail(fmt::format("Compute Engine {} (HTTP {}){}{}",
                                rs->status == 401 ? "refused the token even after a fresh one" : "failed", rs->status,
                                msg.empty() ? "" : ": " + msg,
                                rest::throttle_note(rs->status, rs->header("X-Sitelink-Attempts").empty() ? 1 : 2)));
    }
    auto p = parse_tunnels(rs->body);
    if (!p) return s.fail(p.error());
    s.debug(2, fmt::format("gcp: page {}: {} tunnel(s)", page + 1, p->tunnels.size()));
    for (auto& t : p->tunnels) tunnels.push_back(std::move(t));
    page_token = p->next_page_token;
    if (page_token.empty()) break;
  }
  if (!page_token.empty()) return s.fail("Compute Engine: more than 20 pages of VPN tunnels");
  fill_reply(reply, tunnels, req.tunnels);
  reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::gcp
