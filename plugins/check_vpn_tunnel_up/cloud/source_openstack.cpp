// SPDX-License-Identifier: GPL-2.0-or-later
// --backend openstack, the I/O half: credentials from clouds.yaml or the
// OS_* environment, Keystone v3 authentication, and the two Neutron VPNaaS
// listings. parse_openstack.cpp reads the replies.
#include "source_openstack.hpp"

#include <fmt/format.h>

#include "session.hpp"

namespace sitelink::vpn::cloud::openstack {

tl::expected<Auth, std::string> resolve_auth(const Environment& env, const FileSystem& fs, const std::string& cli_cloud,
                                             const std::string& cli_region)
{
  Auth out;
  std::string cloud = cli_cloud.empty() ? env.get("OS_CLOUD").value_or("") : cli_cloud;
  if (!cloud.empty()) {
    bool found = false;
    for (const auto& path : clouds_yaml_paths(env)) {
      auto f = fs.read_secret_file(path);
      if (f.status == FileRead::Status::Missing) continue;
      if (f.status == FileRead::Status::Refused) return tl::unexpected(f.error);
      auto a = parse_clouds_yaml(f.text, cloud, path);
      if (!a) return tl::unexpected(a.error());
      out = std::move(*a);
      found = true;
      break;
    }
    if (!found)
      return tl::unexpected<std::string>("--os-cloud/OS_CLOUD '" + cloud + "' given but no clouds.yaml found");
  } else {
    auto get = [&env](const char* k) { return env.get(k).value_or(""); };
    out.source = "OS_* environment";
    out.auth_url = get("OS_AUTH_URL");
    out.username = get("OS_USERNAME");
    out.user_id = get("OS_USER_ID");
    out.password = get("OS_PASSWORD");
    out.user_domain_name = get("OS_USER_DOMAIN_NAME");
    out.user_domain_id = get("OS_USER_DOMAIN_ID");
    out.project_name = env.get("OS_PROJECT_NAME").value_or(get("OS_TENANT_NAME"));
    out.project_id = get("OS_PROJECT_ID");
    out.project_domain_name = get("OS_PROJECT_DOMAIN_NAME");
    out.project_domain_id = get("OS_PROJECT_DOMAIN_ID");
    out.app_cred_id = get("OS_APPLICATION_CREDENTIAL_ID");
    out.app_cred_name = get("OS_APPLICATION_CREDENTIAL_NAME");
    out.app_cred_secret = get("OS_APPLICATION_CREDENTIAL_SECRET");
    auto type = get("OS_AUTH_TYPE");
    if (type == "v3applicationcredential" || (type.empty() && !out.app_cred_secret.empty()))
      out.method = "application_credential";
    out.region = get("OS_REGION_NAME");
    out.cacert = get("OS_CACERT");
    if (out.auth_url.empty())
      return tl::unexpected<std::string>(
          "no OpenStack credentials: give --os-cloud (or OS_CLOUD) or set OS_AUTH_URL and friends");
  }
  // The environment names the interface and region explicitly, so it wins
  // over the file.
  if (auto i = env.get("OS_INTERFACE")) out.interface = *i;
  if (auto r = env.get("OS_REGION_NAME")) out.region = *r;
  if (!cli_region.empty()) out.region = cli_region;
  if (out.interface.size() > 3 && out.interface.compare(out.interface.size() - 3, 3, "URL") == 0)
    out.interface.resize(out.interface.size() - 3); // "publicURL" from v2-era configs
  if (out.auth_url.empty()) return tl::unexpected(out.source + " has no auth_url");
  if (out.method == "application_credential") {
    if (out.app_cred_secret.empty() || (out.app_cred_id.empty() && out.app_cred_name.empty()))
      return tl::unexpected(out.source + ": application credential needs an id (or name) and a secret");
  } else if (out.password.empty() || (out.username.empty() && out.user_id.empty())) {
    return tl::unexpected(out.source + ": password authentication needs a username (or user id) and a password");
  }
  return out;
}

namespace {

struct Token {
  std::string value;
  std::string network;
};

tl::expected<Token, std::pair<bool, std::string>> authenticate(const Session& s, const Auth& a)
{
  HttpRequest rq;
  rq.method = "POST";
  rq.url = tokens_url(a.auth_url);
  rq.headers.push_back({"Content-Type", "application/json"});
  rq.body = token_request_body(a);
  s.activity("authenticating at Keystone " + url_origin(rq.url));
  s.debug(1, "openstack: " + a.method + " authentication at " + rq.url + " with " + a.source);
  auto rs = s.http.send(rq, s.deadline);
  if (!rs)
    return tl::unexpected(std::make_pair(rs.error().kind == HttpErrorKind::Timeout,
                                         "Keystone at " + url_origin(rq.url) + ": " + rs.error().message));
  s.debug(2, fmt::format("openstack: Keystone answered HTTP {}, {} bytes", rs->status, rs->body.size()));
  if (rs->status != 201 && rs->status != 200) {
    auto msg = keystone_message(rs->body);
    return tl::unexpected(
        std::make_pair(false, fmt::format("Keystone refused the {} credentials from {} (HTTP {}){}", a.method, a.source,
                                          rs->status, msg.empty() ? std::string() : ": " + msg)));
  }
  Token t;
  auto ep = network_endpoint(rs->body, a.interface, a.region);
  if (!ep) return tl::unexpected(std::make_pair(false, ep.error()));
  t.value = rs->header("X-Subject-Token");
  if (t.value.empty()) return tl::unexpected(std::make_pair(false, std::string("Keystone sent no X-Subject-Token")));
  t.network = *ep;
  while (!t.network.empty() && t.network.back() == '/') t.network.pop_back();
  if (t.network.size() >= 5 && t.network.compare(t.network.size() - 5, 5, "/v2.0") == 0)
    t.network.resize(t.network.size() - 5);
  s.debug(1, "openstack: network endpoint " + t.network);
  return t;
}

} // namespace

Reply run(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http, const Deadline& deadline)
{
  Reply reply;
  Session s{req, http, deadline, reply};
  auto auth = resolve_auth(env, fs, req.os_cloud, req.os_region);
  if (!auth) return s.fail(auth.error());
  auto tok = authenticate(s, *auth);
  if (!tok) {
    s.fail(tok.error().second);
    if (tok.error().first) reply.status = Reply::Status::TimedOut;
    return reply;
  }
  reply.api = "Neutron at " + url_origin(tok->network);

  const std::string conn_url = tok->network + "/v2.0/vpn/ipsec-site-connections?fields=id&fields=name&fields=status"
                                              "&fields=vpnservice_id&fields=peer_address&fields=admin_state_up"
                                              "&fields=peer_cidrs&fields=peer_ep_group_id";
  const std::string svc_url =
      tok->network + "/v2.0/vpn/vpnservices?fields=id&fields=name&fields=status&fields=router_id";
  std::string bodies[2];
  const std::string* urls[2] = {&conn_url, &svc_url};
  bool reauthenticated = false;
  for (int i = 0; i < 2; ++i) {
    HttpRequest rq;
    rq.url = *urls[i];
    rq.headers.push_back({"X-Auth-Token", tok->value});
    rq.headers.push_back({"Accept", "application/json"});
    s.activity("reading " + std::string(i == 0 ? "ipsec-site-connections" : "vpnservices") + " from " +
               url_origin(rq.url));
    s.debug(1, "openstack: GET " + rq.url);
    auto rs = http.send(rq, deadline);
    if (!rs) return s.fail(rs.error(), "Neutron at " + url_origin(rq.url));
    s.debug(2, fmt::format("openstack: Neutron answered HTTP {}, {} bytes", rs->status, rs->body.size()));
    if (rs->status == 401 && !reauthenticated) {
      // The token expired between Keystone and Neutron (or was revoked):
      // one fresh token, then give up.
      reauthenticated = true;
      s.debug(1, "openstack: token refused, authenticating again");
      auto again = authenticate(s, *auth);
      if (!again) return s.fail(again.error().second);
      tok = std::move(again);
      --i;
      continue;
    }
    if (rs->status != 200) {
      auto msg = keystone_message(rs->body);
      return s.fail(fmt::format("Neutron {} (HTTP {}){}", rs->status == 401 ? "refused the token" : "failed",
                                rs->status, msg.empty() ? std::string() : ": " + msg) +
                    (rs->status == 404 && i == 0 ? " (is VPNaaS enabled?)" : "") +
                    (rs->status == 401 ? " even after re-authenticating" : ""));
    }
    bodies[i] = std::move(rs->body);
  }
  auto conns = parse_connections(bodies[0]);
  if (!conns) return s.fail(conns.error());
  auto services = parse_services(bodies[1]);
  if (!services) return s.fail(services.error());
  fill_reply(reply, *conns, *services, req.tunnels);
  reply.status = Reply::Status::Ok;
  return reply;
}

} // namespace sitelink::vpn::cloud::openstack
