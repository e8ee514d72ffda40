// SPDX-License-Identifier: GPL-2.0-or-later
// The pure half of --backend openstack: clouds.yaml, the Keystone token
// request and catalog, and Neutron's VPNaaS JSON read into Links (PSKs are
// never read). No I/O here; source_openstack.cpp does it.
#include "parse_openstack.hpp"
#include "json_fields.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::openstack {

using nlohmann::json;

namespace {

std::string yaml_str(const YAML::Node& n, const char* key)
{
  if (!n || !n.IsMap()) return {};
  auto v = n[key];
  if (!v || !v.IsScalar()) return {};
  return v.as<std::string>();
}

std::string normalise(std::string_view status)
{
  std::string s(status);
  for (auto& c : s) c = c == ' ' || c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

std::string keystone_message(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) return outside(jstr(j["error"], "message"));
  if (j.is_object() && j.contains("NeutronError") && j["NeutronError"].is_object())
    return outside(jstr(j["NeutronError"], "message"));
  return {};
}

std::vector<std::string> clouds_yaml_paths(const Environment& env)
{
  std::vector<std::string> out;
  if (auto f = env.get("OS_CLIENT_CONFIG_FILE")) out.push_back(*f);
  out.emplace_back("clouds.yaml");
  auto xdg = env.get("XDG_CONFIG_HOME");
  if (xdg) out.push_back(*xdg + "/openstack/clouds.yaml");
  else if (auto home = env.get("HOME")) out.push_back(*home + "/.config/openstack/clouds.yaml");
  out.emplace_back("/etc/openstack/clouds.yaml");
  return out;
}

tl::expected<Auth, std::string> parse_clouds_yaml(std::string_view text, const std::string& cloud,
                                                  const std::string& path)
{
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return tl::unexpected(fmt::format("{}: malformed YAML at line {}", path, e.mark.line + 1));
  }
  if (!root.IsMap() || !root["clouds"] || !root["clouds"].IsMap())
    return tl::unexpected(path + " has no 'clouds' mapping");
  auto c = root["clouds"][cloud];
  if (!c || !c.IsMap()) return tl::unexpected<std::string>("cloud '" + cloud + "' not found in " + path);
  auto a = c["auth"];
  Auth out;
  out.source = "clouds.yaml cloud '" + cloud + "' (" + path + ")";
  out.auth_url = yaml_str(a, "auth_url");
  out.username = yaml_str(a, "username");
  out.user_id = yaml_str(a, "user_id");
  out.password = yaml_str(a, "password");
  out.user_domain_name = yaml_str(a, "user_domain_name");
  out.user_domain_id = yaml_str(a, "user_domain_id");
  out.project_name = yaml_str(a, "project_name");
  if (out.project_name.empty()) out.project_name = yaml_str(a, "tenant_name");
  out.project_id = yaml_str(a, "project_id");
  out.project_domain_name = yaml_str(a, "project_domain_name");
  out.project_domain_id = yaml_str(a, "project_domain_id");
  out.app_cred_id = yaml_str(a, "application_credential_id");
  out.app_cred_name = yaml_str(a, "application_credential_name");
  out.app_cred_secret = yaml_str(a, "application_credential_secret");
  // domain_name/domain_id apply to both user and project when the
  // specific ones are absent.
  if (auto d = yaml_str(a, "domain_name"); !d.empty()) {
    if (out.user_domain_name.empty()) out.user_domain_name = d;
    if (out.project_domain_name.empty()) out.project_domain_name = d;
  }
  auto type = yaml_str(c, "auth_type");
  if (type == "v3applicationcredential" || type == "application_credential" ||
      (type.empty() && !out.app_cred_secret.empty()))
    out.method = "application_credential";
  else if (!type.empty() && type != "password" && type != "v3password")
    return tl::unexpected<std::string>("auth_type '" + outside(type, 40) + "' of cloud '" + cloud +
                                       "' is not supported (password or v3applicationcredential)");
  out.region = yaml_str(c, "region_name");
  if (auto i = yaml_str(c, "interface"); !i.empty()) out.interface = i;
  out.cacert = yaml_str(c, "cacert");
  return out;
}

std::string tokens_url(const std::string& auth_url)
{
  std::string u = auth_url;
  while (!u.empty() && u.back() == '/') u.pop_back();
  if (u.size() < 3 || u.compare(u.size() - 3, 3, "/v3") != 0) u += "/v3";
  return u + "/auth/tokens";
}

std::string token_request_body(const Auth& a)
{
  json identity;
  if (a.method == "application_credential") {
    json cred = {{"secret", a.app_cred_secret}};
    if (!a.app_cred_id.empty()) cred["id"] = a.app_cred_id;
    else {
      cred["name"] = a.app_cred_name;
      json user = a.user_id.empty() ? json{{"name", a.username}} : json{{"id", a.user_id}};
      if (a.user_id.empty())
        user["domain"] = a.user_domain_id.empty()
                             ? json{{"name", a.user_domain_name.empty() ? "Default" : a.user_domain_name}}
                             : json{{"id", a.user_domain_id}};
      cred["user"] = user;
    }
    identity = {{"methods", {"application_credential"}}, {"application_credential", cred}};
    // An application credential carries its own project scope.
    return json{{"auth", {{"identity", identity}}}}.dump();
  }
  json user = a.user_id.empty() ? json{{"name", a.username}} : json{{"id", a.user_id}};
  user["password"] = a.password;
  if (a.user_id.empty())
    user["domain"] = a.user_domain_id.empty()
                         ? json{{"name", a.user_domain_name.empty() ? "Default" : a.user_domain_name}}
                         : json{{"id", a.user_domain_id}};
  identity = {{"methods", {"password"}}, {"password", {{"user", user}}}};
  json auth = {{"identity", identity}};
  if (!a.project_id.empty()) {
    auth["scope"] = {{"project", {{"id", a.project_id}}}};
  } else if (!a.project_name.empty()) {
    json domain = a.project_domain_id.empty()
                      ? json{{"name", a.project_domain_name.empty() ? "Default" : a.project_domain_name}}
                      : json{{"id", a.project_domain_id}};
    auth["scope"] = {{"project", {{"name", a.project_name}, {"domain", domain}}}};
  }
  return json{{"auth", auth}}.dump();
}

tl::expected<std::string, std::string> network_endpoint(std::string_view token_json, const std::string& interface,
                                                        const std::string& region)
{
  auto j = json::parse(token_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("token") || !j["token"].is_object())
    return tl::unexpected<std::string>("malformed JSON from Keystone");
  const auto& tok = j["token"];
  if (!tok.contains("catalog") || !tok["catalog"].is_array())
    return tl::unexpected<std::string>("Keystone's token has no service catalog (is the token scoped to a project?)");
  for (const auto& svc : tok["catalog"]) {
    if (jstr(svc, "type") != "network" || !svc.contains("endpoints") || !svc["endpoints"].is_array()) continue;
    for (const auto& ep : svc["endpoints"]) {
      if (jstr(ep, "interface") != interface) continue;
      if (!region.empty() && jstr(ep, "region") != region && jstr(ep, "region_id") != region) continue;
      auto url = jstr(ep, "url");
      if (!url.empty()) return url;
    }
  }
  return tl::unexpected(fmt::format("no network endpoint (interface {}{}) in the service catalog",
                                    outside(interface, 32),
                                    region.empty() ? std::string() : ", region " + outside(region, 64)));
}

tl::expected<std::vector<Connection>, std::string> parse_connections(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ipsec_site_connections") ||
      !j["ipsec_site_connections"].is_array())
    return tl::unexpected<std::string>("malformed JSON from Neutron (ipsec-site-connections)");
  std::vector<Connection> out;
  for (const auto& c : j["ipsec_site_connections"]) {
    Connection x;
    x.id = jstr(c, "id");
    x.name = jstr(c, "name");
    x.status = jstr(c, "status");
    x.vpnservice_id = jstr(c, "vpnservice_id");
    x.peer_address = jstr(c, "peer_address");
    x.peer_ep_group_id = jstr(c, "peer_ep_group_id");
    if (c.is_object() && c.contains("peer_cidrs") && c["peer_cidrs"].is_array())
      for (const auto& cidr : c["peer_cidrs"])
        if (cidr.is_string()) x.peer_cidrs.push_back(cidr.get<std::string>());
    if (c.is_object() && c.contains("admin_state_up") && c["admin_state_up"].is_boolean())
      x.admin_up = c["admin_state_up"].get<bool>();
    out.push_back(std::move(x));
  }
  return out;
}

tl::expected<std::vector<Service>, std::string> parse_services(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("vpnservices") || !j["vpnservices"].is_array())
    return tl::unexpected<std::string>("malformed JSON from Neutron (vpnservices)");
  std::vector<Service> out;
  for (const auto& s : j["vpnservices"])
    out.push_back({jstr(s, "id"), jstr(s, "name"), jstr(s, "status"), jstr(s, "router_id")});
  return out;
}

LinkState state_of(std::string_view status)
{
  auto s = normalise(status);
  if (s == "ACTIVE") return LinkState::Up;
  if (s == "BUILD" || s.rfind("PENDING_", 0) == 0) return LinkState::Connecting;
  return LinkState::Down;
}

std::vector<std::string> checklist(const std::string& name)
{
  return {
      name + " has not become ACTIVE; VPNaaS checklist:",
      "- IKE policies match at both ends (IKE version, encryption, integrity, DH group, lifetime)",
      "- IPsec policies match at both ends (transform, encryption, integrity, PFS, lifetime)",
      "- the pre-shared key is the same at both ends",
      "- UDP 500 and 4500 are allowed between the peers (security groups, firewalls)",
  };
}

namespace {

std::string short_id(const std::string& id)
{
  return id.substr(0, 8);
}

// The name, "name [1234abcd]" when another connection of the project has the
// same name, the ID when there is no name.
std::string label_of(const Connection& c, const std::vector<Connection>& all)
{
  if (c.name.empty()) return c.id;
  const auto same = std::count_if(all.begin(), all.end(), [&c](const Connection& x) { return x.name == c.name; });
  return same > 1 ? c.name + " [" + short_id(c.id) + "]" : c.name;
}

// The site a connection reaches: its peer CIDRs, else its peer endpoint
// group, else its peer address. Connections to one site are redundant paths;
// different sites are judged apart (evaluate's groups).
std::string site_of(const Connection& c)
{
  if (!c.peer_cidrs.empty()) {
    auto cidrs = c.peer_cidrs;
    std::sort(cidrs.begin(), cidrs.end());
    std::string s;
    for (const auto& x : cidrs) s += (s.empty() ? "" : "+") + x;
    return outside(s, 64);
  }
  if (!c.peer_ep_group_id.empty()) return "peer group " + short_id(c.peer_ep_group_id);
  return outside(c.peer_address, 64);
}

// The connections `wanted` names (an ID, else every connection of that
// name), in order; a name matching several says so.
std::vector<const Connection*> choose(Reply& reply, const std::vector<Connection>& conns,
                                      const std::vector<std::string>& wanted, std::vector<std::string>& missing)
{
  std::vector<const Connection*> chosen;
  if (wanted.empty())
    for (const auto& c : conns) chosen.push_back(&c);
  for (const auto& w : wanted) {
    std::vector<const Connection*> hits;
    for (const auto& c : conns)
      if (c.id == w) hits.push_back(&c);
    if (hits.empty())
      for (const auto& c : conns)
        if (c.name == w) hits.push_back(&c);
    if (hits.empty()) missing.push_back(w);
    if (hits.size() > 1) {
      std::string ids;
      for (const auto* h : hits) ids += (ids.empty() ? "" : ", ") + outside(h->id, 40);
      reply.summary_notes.push_back(
          fmt::format("{} matches {} connections, judging each", outside(w, 64), hits.size()));
      reply.notes.push_back(
          fmt::format("--tunnel {} matches {} connections ({}); each is judged", outside(w, 64), hits.size(), ids));
    }
    for (const auto* h : hits)
      if (std::find(chosen.begin(), chosen.end(), h) == chosen.end()) chosen.push_back(h);
  }
  return chosen;
}

// A service's state once, in the notes; one that is not ACTIVE in the
// summary too, with the likely cause when its router carries another VPN
// service (a router holds one).
void note_service(Reply& reply, const Service& svc, const std::vector<Service>& services)
{
  const auto sname = outside(svc.name.empty() ? svc.id : svc.name, 64);
  reply.notes.push_back("VPN service " + sname + ": " + outside(svc.status, 32));
  if (normalise(svc.status) == "ACTIVE") return;
  std::string note = "VPN service " + sname + " " + outside(svc.status, 32);
  for (const auto& other : services) {
    if (other.id == svc.id || svc.router_id.empty() || other.router_id != svc.router_id) continue;
    const auto oname = outside(other.name.empty() ? other.id : other.name, 64);
    note += " (its router also carries VPN service " + oname + ": likely cause)";
    reply.notes.push_back("VPN service " + sname + " is " + outside(svc.status, 32) + " and its router " +
                          outside(svc.router_id, 40) + " also carries VPN service " + oname + " (" +
                          outside(other.status, 32) +
                          "): a router holds one VPN service, so this is the likely cause; move one to another "
                          "router or put its connections on the other service");
    break;
  }
  reply.summary_notes.push_back(note);
}

} // namespace

void fill_reply(Reply& reply, const std::vector<Connection>& conns, const std::vector<Service>& services,
                const std::vector<std::string>& wanted)
{
  auto service_of = [&services](const std::string& id) -> const Service* {
    for (const auto& s : services)
      if (s.id == id) return &s;
    return nullptr;
  };
  std::vector<std::string> missing;
  const std::vector<const Connection*> chosen = choose(reply, conns, wanted, missing);
  std::vector<std::string> reported_services;
  for (const auto* c : chosen) {
    Link l;
    l.name = label_of(*c, conns);
    l.group = site_of(*c);
    l.state = state_of(c->status);
    std::vector<std::string> parts;
    parts.push_back("status " + outside(c->status, 32));
    if (!c->admin_up) {
      l.state = LinkState::Down;
      parts.push_back("administratively down");
    }
    const Service* svc = service_of(c->vpnservice_id);
    if (svc != nullptr) {
      auto sname = svc->name.empty() ? svc->id : svc->name;
      parts.push_back("VPN service " + outside(sname, 64) + " " + outside(svc->status, 32));
      if (std::find(reported_services.begin(), reported_services.end(), svc->id) == reported_services.end()) {
        reported_services.push_back(svc->id);
        note_service(reply, *svc, services);
      }
    } else if (!c->vpnservice_id.empty()) {
      parts.push_back("VPN service " + outside(c->vpnservice_id, 64) + " not found");
    }
    if (!c->peer_address.empty()) parts.push_back("peer " + outside(c->peer_address, 64));
    for (const auto& p : parts) l.detail += (l.detail.empty() ? "" : ", ") + p;
    // Neutron keeps no history, so any connection that is enabled but not
    // ACTIVE gets the checklist: for one that never came up (PENDING_CREATE,
    // DOWN or ERROR from the start) it is where the fault almost always is.
    if (l.state != LinkState::Up && c->admin_up) {
      l.checklist = true;
      for (auto& line : checklist(outside(l.name, 64))) reply.notes.push_back(std::move(line));
    }
    reply.expected.push_back(l.name);
    reply.links.push_back(std::move(l));
  }
  add_missing(reply, missing, "no ipsec-site-connection with this name or ID");
}

} // namespace sitelink::vpn::cloud::openstack
