// SPDX-License-Identifier: GPL-2.0-or-later
// --backend vcd, the I/O half. The calls, as read (never copied) from
// vmware/go-vcloud-director and the Cloud Director API reference:
//   GET  /api/versions                        (govcd/api_vcd_versions.go)
//   POST /oauth/tenant/{org}/token, /oauth/provider/token for System,
//        form grant_type=refresh_token&refresh_token=...
//                                             (govcd/api_token.go)
//   POST /cloudapi/1.0.0/sessions, .../sessions/provider for System, with
//        Basic user@org:password; the token comes back in
//        X-VMWARE-VCLOUD-ACCESS-TOKEN     (govcd/api_vcd.go)
//   then Authorization: Bearer TOKEN and Accept: application/json;version=V
//                                             (govcd/openapi.go newOpenApiRequest)
//   GET  /cloudapi/1.0.0/edgeGateways?filter=name==N or .../edgeGateways/{urn}
//   GET  /cloudapi/1.0.0/edgeGateways/{id}/ipsec/tunnels, paged by the Link
//        header's rel="nextPage" or page < pageCount (govcd/openapi.go)
//   GET  /cloudapi/1.0.0/edgeGateways/{id}/ipsec/tunnels/{tid}/status
//                                             (types/v56/constants.go)
//   GET  /network/edges/{uuid}/ipsec/statistics (NSX-V, proxied by Cloud
//        Director: govcd/edgegateway.go buildProxiedEdgeEndpointURL)
//   DELETE /cloudapi/1.0.0/sessions/{id}, or .../sessions/current (API 36.0+)
//        for a session made from an API token
#include "source_vcd.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "session.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::vcd {

tl::expected<Auth, std::string> resolve_auth(const Environment& env, const FileSystem& fs,
                                             const std::string& credentials_file)
{
  CredentialFields f;
  std::string source;
  if (!credentials_file.empty()) {
    auto r = fs.read_secret_file(credentials_file);
    if (r.status == FileRead::Status::Missing)
      return tl::unexpected("credentials file " + credentials_file + " not found");
    if (r.status == FileRead::Status::Refused) return tl::unexpected(r.error);
    auto parsed = parse_credentials_json(r.text, credentials_file);
    if (!parsed) return tl::unexpected(parsed.error());
    f = std::move(*parsed);
    source = "credentials file " + credentials_file;
  } else {
    auto get = [&env](const char* k) { return env.get(k).value_or(""); };
    f.url = get("VCD_URL");
    f.org = get("VCD_ORG");
    f.sysorg = get("VCD_SYS_ORG");
    f.user = get("VCD_USER");
    f.password = get("VCD_PASSWORD");
    f.api_token = get("VCD_API_TOKEN");
    f.api_token_file = get("VCD_API_TOKEN_FILE");
    source = "VCD_* environment";
    if (f.url.empty())
      return tl::unexpected<std::string>(
          "no Cloud Director credentials: set VCD_URL and VCD_ORG with VCD_API_TOKEN (or VCD_USER and "
          "VCD_PASSWORD), or give --credentials-file");
  }
  if (f.api_token.empty() && !f.api_token_file.empty()) {
    auto r = fs.read_secret_file(f.api_token_file);
    if (r.status == FileRead::Status::Missing)
      return tl::unexpected("API token file " + f.api_token_file + " not found");
    if (r.status == FileRead::Status::Refused) return tl::unexpected(r.error);
    auto t = parse_token_file(r.text, f.api_token_file);
    if (!t) return tl::unexpected(t.error());
    f.api_token = std::move(*t);
  }
  return auth_of(f, source);
}

namespace {

// The conversation with one Cloud Director: the token, the version, and the
// request rules shared by every call (one retry on throttling, one new
// token on a 401, the API's error text).
class Api {
public:
  Api(const Session& s, Auth auth) : s_(s), auth_(std::move(auth)) {}

  const std::string& base() const { return auth_.base; }
  const std::string& version() const { return version_; }

  // Sets version_ from --api-version or GET /api/versions.
  bool negotiate(const std::string& forced)
  {
    if (!forced.empty()) {
      version_ = forced;
      s_.debug(1, "vcd: API version " + version_ + " (--api-version)");
      return true;
    }
    HttpRequest rq;
    rq.url = base() + "/api/versions";
    rq.headers.push_back({"Accept", "application/*+xml"});
    auto rs = send(rq, "reading the API versions of " + url_origin(rq.url));
    if (!rs) return false;
    auto v = negotiate_version(rs->body);
    if (!v) return fail(v.error());
    version_ = *v;
    s_.debug(1, "vcd: API version " + version_ + " negotiated");
    return true;
  }

  bool login()
  {
    HttpRequest rq;
    rq.method = "POST";
    if (auth_.token()) {
      rq.url =
          base() + (auth_.provider() ? "/oauth/provider/token" : "/oauth/tenant/" + url_encode(auth_.org) + "/token");
      rq.headers.push_back({"Accept", "application/json"});
      rq.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
      rq.body = "grant_type=refresh_token&refresh_token=" + url_encode(auth_.api_token);
    } else {
      rq.url = base() + (auth_.provider() ? "/cloudapi/1.0.0/sessions/provider" : "/cloudapi/1.0.0/sessions");
      rq.headers.push_back({"Accept", "application/json;version=" + version_});
      rq.headers.push_back({"Authorization", basic_auth(auth_)});
    }
    const char* method = auth_.token() ? "API token" : "user and password";
    s_.debug(1, fmt::format("vcd: logging in to organisation {} with the {} from {}", sanitize_quote(auth_.org, 64),
                            method, auth_.source));
    auto rs = send(rq, "logging in to Cloud Director at " + url_origin(rq.url));
    if (!rs) return false;
    if (rs->status != 200 && rs->status != 201) {
      auto msg = api_error(rs->body);
      return fail(fmt::format("Cloud Director refused the {} from {} (HTTP {}){}", method, auth_.source, rs->status,
                              msg.empty() ? std::string() : ": " + msg));
    }
    if (auth_.token()) {
      auto t = parse_access_token(rs->body);
      if (!t) return fail(t.error());
      token_ = std::move(*t);
      session_id_.clear();
    } else {
      token_ = rs->header("X-VMWARE-VCLOUD-ACCESS-TOKEN");
      if (token_.empty()) return fail("Cloud Director sent no X-VMWARE-VCLOUD-ACCESS-TOKEN");
      session_id_ = parse_session_id(rs->body);
    }
    logged_in_ = true;
    return true;
  }

  // An authorised GET; 401 once logs in again (the token expired).
  std::optional<HttpResponse> get(const std::string& url, const std::string& what, bool xml = false)
  {
    for (int attempt = 0; attempt < 2; ++attempt) {
      HttpRequest rq;
      rq.url = url;
      rq.headers.push_back(
          {"Accept", std::string(xml ? "application/*+xml" : "application/json") + ";version=" + version_});
      rq.headers.push_back({"Authorization", "Bearer " + token_});
      s_.debug(1, "vcd: GET " + url);
      auto rs = send(rq, what);
      if (!rs) return std::nullopt;
      if (rs->status == 401 && attempt == 0) {
        s_.debug(1, "vcd: token refused (expired?), logging in again");
        logged_in_ = false;
        if (!login()) return std::nullopt;
        continue;
      }
      if (rs->status != 200) {
        auto msg = api_error(rs->body);
        fail(fmt::format("Cloud Director: {} failed (HTTP {}){}{}", what, rs->status,
                         msg.empty() ? std::string() : ": " + msg,
                         rs->status == 401 ? " even after logging in again" : ""));
        return std::nullopt;
      }
      return rs;
    }
    return std::nullopt;
  }

  // Closes the session: best effort, only with time to spare.
  void logout()
  {
    if (!logged_in_ || s_.deadline.remaining() < 0.3) return;
    if (session_id_.empty() && version_less(version_, "36.0")) {
      s_.debug(1, "vcd: API " + version_ + " has no sessions/current; the access token's session expires by itself");
      return;
    }
    HttpRequest rq;
    rq.method = "DELETE";
    rq.url = base() + "/cloudapi/1.0.0/sessions/" + (session_id_.empty() ? "current" : url_encode(session_id_));
    rq.headers.push_back({"Accept", "application/json;version=" + version_});
    rq.headers.push_back({"Authorization", "Bearer " + token_});
    rq.max_time = std::chrono::milliseconds(1000);
    auto rs = s_.http.send(rq, s_.deadline);
    s_.debug(1, "vcd: DELETE " + rq.url + (rs ? fmt::format(" -> HTTP {}", rs->status) : " -> " + rs.error().message));
    logged_in_ = false;
  }

private:
  bool fail(const std::string& e) const
  {
    s_.fail(e);
    return false;
  }

  // One request; HTTP 429 or 503 (throttled, or the cell busy) is retried
  // once while a second attempt still fits the budget.
  std::optional<HttpResponse> send(const HttpRequest& rq, const std::string& what)
  {
    s_.activity(what);
    for (int attempt = 0;; ++attempt) {
      const double started = s_.deadline.elapsed();
      auto rs = s_.http.send(rq, s_.deadline);
      if (!rs) {
        s_.fail(rs.error(), "Cloud Director at " + url_origin(rq.url));
        return std::nullopt;
      }
      s_.debug(2, fmt::format("vcd: HTTP {}, {} bytes", rs->status, rs->body.size()));
      if ((rs->status == 429 || rs->status == 503) && attempt == 0 && s_.can_retry(s_.deadline.elapsed() - started)) {
        s_.debug(1, fmt::format("vcd: throttled (HTTP {}), retrying once", rs->status));
        s_.backoff();
        continue;
      }
      return std::move(*rs);
    }
  }

  const Session& s_;
  Auth auth_;
  std::string version_;
  std::string token_;
  std::string session_id_;
  bool logged_in_ = false;
};

// An ID as a path segment: URNs keep their colons (as go-vcloud-director
// sends them); anything outside the unreserved set is escaped.
std::string segment(const std::string& id)
{
  const bool plain = std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '-' || c == '.' || c == '_';
  });
  return plain ? id : url_encode(id);
}

std::optional<Edge> find_edge(Api& api, const Session& s, const std::string& wanted)
{
  const bool by_id = wanted.rfind("urn:vcloud:gateway:", 0) == 0;
  const std::string url = api.base() + "/cloudapi/1.0.0/edgeGateways" +
                          (by_id ? "/" + segment(wanted) : "?filter=" + url_encode("name==" + wanted));
  auto rs = api.get(url, "finding edge gateway " + sanitize_quote(wanted, 64));
  if (!rs) return std::nullopt;
  auto edges = parse_edges(rs->body);
  if (!edges) {
    s.fail(edges.error());
    return std::nullopt;
  }
  std::vector<Edge> hits;
  for (auto& e : *edges)
    if (e.id == wanted || e.name == wanted) hits.push_back(e);
  if (hits.size() != 1) {
    s.fail(hits.empty() ? "no edge gateway named " + sanitize_quote(wanted, 64) + " is visible to this user"
                        : fmt::format("{} edge gateways are named {}; give --edge-gateway urn:vcloud:gateway:...",
                                      hits.size(), sanitize_quote(wanted, 64)));
    return std::nullopt;
  }
  s.debug(1, "vcd: edge " + sanitize_quote(hits[0].id, 80) + " (" + sanitize_quote(hits[0].type, 32) + ")");
  return hits[0];
}

// Every page of the edge's IPsec tunnels (at most 100 pages of 128).
std::optional<std::vector<TunnelConf>> list_tunnels(Api& api, const Session& s, const Edge& edge)
{
  std::vector<TunnelConf> all;
  std::string url = api.base() + "/cloudapi/1.0.0/edgeGateways/" + segment(edge.id) + "/ipsec/tunnels?pageSize=128";
  const std::string first = url;
  for (int pages = 0; pages < 100 && !url.empty(); ++pages) {
    auto rs = api.get(url, "reading the IPsec tunnels of " + sanitize_quote(edge.name, 64));
    if (!rs) return std::nullopt;
    auto page = parse_tunnel_page(rs->body);
    if (!page) {
      s.fail(page.error());
      return std::nullopt;
    }
    for (auto& t : page->tunnels) all.push_back(std::move(t));
    std::string next = next_page(rs->header("Link"));
    if (next.empty() && page->page > 0 && page->page < page->page_count)
      next = first + "&page=" + std::to_string(page->page + 1);
    // Only follow links to the same Cloud Director (never send the token elsewhere).
    if (!next.empty() && url_origin(next) != url_origin(api.base())) next.clear();
    url = next;
  }
  return all;
}

bool read_nsxt(Api& api, const Session& s, const Edge& edge)
{
  auto tunnels = list_tunnels(api, s, edge);
  if (!tunnels) return false;
  s.debug(1, fmt::format("vcd: {} IPsec tunnel(s) on the edge", tunnels->size()));
  std::map<std::string, TunnelStatus> status;
  for (const auto* t : chosen(*tunnels, s.req.tunnels)) {
    if (!t->enabled) continue;
    auto rs = api.get(api.base() + "/cloudapi/1.0.0/edgeGateways/" + segment(edge.id) + "/ipsec/tunnels/" +
                          segment(t->id) + "/status",
                      "reading the status of tunnel " + sanitize_quote(t->name, 64));
    if (!rs) return false;
    auto st = parse_tunnel_status(rs->body);
    if (!st) {
      s.fail(st.error());
      return false;
    }
    status[t->id] = std::move(*st);
  }
  fill_nsxt(s.reply, *tunnels, status, s.req.tunnels);
  return true;
}

bool read_nsxv(Api& api, const Session& s, const Edge& edge)
{
  auto rs = api.get(api.base() + "/network/edges/" + segment(edge_uuid(edge.id)) + "/ipsec/statistics",
                    "reading the IPsec statistics of " + sanitize_quote(edge.name, 64), true);
  if (!rs) return false;
  auto sites = parse_nsxv_statistics(rs->body);
  if (!sites) {
    s.fail(sites.error());
    return false;
  }
  fill_nsxv(s.reply, *sites, s.req.tunnels);
  return true;
}

} // namespace

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto auth = resolve_auth(env, fs, req.credentials_file);
  if (!auth) return s.fail(auth.error());
  Api api(s, std::move(*auth));
  reply.api = "Cloud Director at " + url_origin(api.base());
  if (!api.negotiate(req.api_version) || !api.login()) return reply;
  bool ok = false;
  if (auto edge = find_edge(api, s, req.edge_gateway)) {
    const bool nsxv = edge->type == "NSXV_BACKED";
    ok = nsxv ? read_nsxv(api, s, *edge) : read_nsxt(api, s, *edge);
    if (ok)
      reply.notes.push_back("edge gateway " + sanitize_quote(edge->name, 64) + " (" + (nsxv ? "NSX-V" : "NSX-T") +
                            ", API " + api.version() + ")");
  }
  api.logout();
  if (ok) reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::vcd
