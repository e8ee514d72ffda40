// SPDX-License-Identifier: GPL-2.0-or-later
// The pure half of --backend gcp (see parse_gcp.hpp for the references).
#include "parse_gcp.hpp"
#include "json_fields.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::gcp {

using nlohmann::json;

tl::expected<KeyFile, std::string> parse_key_file(std::string_view body, const std::string& path)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(path + ": malformed JSON");
  KeyFile k;
  k.type = jstr(j, "type");
  if (k.type == "service_account") {
    k.client_email = jstr(j, "client_email");
    k.private_key = jstr(j, "private_key");
    k.private_key_id = jstr(j, "private_key_id");
    k.token_uri = jstr(j, "token_uri");
    if (k.token_uri.empty()) k.token_uri = "https://oauth2.googleapis.com/token";
    if (k.client_email.empty() || k.private_key.empty())
      return tl::unexpected(path + ": service-account key without client_email or private_key");
    return k;
  }
  if (k.type == "authorized_user") {
    k.client_id = jstr(j, "client_id");
    k.client_secret = jstr(j, "client_secret");
    k.refresh_token = jstr(j, "refresh_token");
    k.token_uri = jstr(j, "token_uri");
    if (k.token_uri.empty()) k.token_uri = "https://oauth2.googleapis.com/token";
    if (k.client_id.empty() || k.client_secret.empty() || k.refresh_token.empty())
      return tl::unexpected(path + ": authorized_user credentials without client_id, client_secret or refresh_token");
    return k;
  }
  return tl::unexpected(path + ": credentials of type '" + outside(k.type, 40) +
                        "' are not supported (service_account or authorized_user)");
}

std::string assertion_header(const KeyFile& key)
{
  json h = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key.private_key_id.empty()) h["kid"] = key.private_key_id;
  return h.dump();
}

std::string assertion_claims(const KeyFile& key, double now)
{
  const auto t = static_cast<long long>(now);
  return json{
      {"iss", key.client_email}, {"scope", compute_scope}, {"aud", key.token_uri}, {"iat", t}, {"exp", t + 3600}}
      .dump();
}

tl::expected<std::string, std::string> parse_token(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected<std::string>("malformed JSON in the token response");
  auto t = jstr(j, "access_token");
  if (t.empty()) return tl::unexpected<std::string>("the token response has no access_token");
  return t;
}

std::string error_message(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return {};
  const auto& e = j["error"];
  if (e.is_object()) {
    std::string code = e.contains("code") && e["code"].is_number_integer() ? std::to_string(e["code"].get<long>()) : "";
    auto status = jstr(e, "status");
    auto head = (code + " " + status);
    head = head == " " ? std::string() : head;
    return outside(head, 64) + (head.empty() ? "" : ": ") + outside(jstr(e, "message"), 240);
  }
  if (e.is_string()) {
    auto desc = jstr(j, "error_description");
    return outside(e.get<std::string>(), 64) + (desc.empty() ? "" : ": " + outside(desc, 240));
  }
  return {};
}

tl::expected<Page, std::string> parse_tunnels(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected<std::string>("malformed JSON from Compute Engine");
  Page p;
  p.next_page_token = jstr(j, "nextPageToken");
  if (!j.contains("items")) return p; // an empty region has no items member
  if (!j["items"].is_array()) return tl::unexpected<std::string>("malformed JSON from Compute Engine (items)");
  for (const auto& t : j["items"]) {
    Tunnel x;
    x.name = jstr(t, "name");
    x.status = jstr(t, "status");
    x.detailed_status = jstr(t, "detailedStatus");
    x.peer_ip = jstr(t, "peerIp");
    auto ha = jstr(t, "vpnGateway");
    x.gateway = last_segment(ha.empty() ? jstr(t, "targetVpnGateway") : ha);
    if (!ha.empty() && t.contains("vpnGatewayInterface") && t["vpnGatewayInterface"].is_number_integer()) {
      auto i = t["vpnGatewayInterface"].get<long>();
      if (i >= 0 && i <= 9) x.interface = static_cast<int>(i);
    }
    if (!x.name.empty()) p.tunnels.push_back(std::move(x));
  }
  return p;
}

LinkState state_of(std::string_view s)
{
  if (s == "ESTABLISHED") return LinkState::Up;
  if (s == "FIRST_HANDSHAKE" || s == "NEGOTIATING" || s == "PROVISIONING" || s == "WAITING_FOR_FULL_CONFIG" ||
      s == "ALLOCATING_RESOURCES")
    return LinkState::Connecting;
  return LinkState::Down;
}

std::vector<std::string> checklist(const std::string& name, std::string_view status)
{
  std::vector<std::string> out = {name + " is not ESTABLISHED; Cloud VPN checklist:"};
  if (status == "NO_INCOMING_PACKETS" || status == "NETWORK_ERROR")
    out.emplace_back("- nothing arrives from the peer: is the peer gateway up, does it initiate, do its firewall "
                     "and ISP pass UDP 500/4500 and ESP to the Cloud VPN address?");
  else if (status == "AUTHORIZATION_ERROR")
    out.emplace_back("- authentication failed: the shared secret differs between the tunnel and the peer");
  else if (status == "PEER_IDENTITY_MISMATCH")
    out.emplace_back("- the peer's IKE identity is not its public IP (behind NAT?): set its local ID to the "
                     "public address");
  else if (status == "NEGOTIATION_FAILURE" || status == "TS_NARROWING_NOT_ALLOWED")
    out.emplace_back("- IKE/IPsec negotiation failed: compare IKE version, ciphers and traffic selectors with "
                     "Google's supported IKE ciphers (HA VPN needs 0.0.0.0/0 selectors)");
  out.emplace_back("- the peer IP and IKE version on the tunnel match the peer device's configuration");
  out.emplace_back("- Cloud Logging for the gateway (resource.type=\"vpn_gateway\") shows why IKE stopped");
  out.emplace_back("- HA VPN: the Cloud Router's BGP session for this tunnel is up and routes are learnt");
  return out;
}

namespace {

void add_gateway_notes(Reply& reply, const std::vector<const Tunnel*>& chosen)
{
  // gateway -> interface -> tunnels (HA VPN only: it has two interfaces
  // and 99.99 % availability needs a tunnel up on each).
  std::map<std::string, std::map<int, std::vector<const Tunnel*>>> ha;
  for (const auto* t : chosen)
    if (t->interface) ha[t->gateway][*t->interface].push_back(t);
  for (const auto& [gw, ifaces] : ha) {
    std::string line = "HA VPN gateway " + outside(gw, 64) + ":";
    std::vector<int> dark;
    for (const auto& [i, ts] : ifaces) {
      line += fmt::format(" interface {}:", i);
      bool any_up = false;
      for (const auto* t : ts) {
        line += " " + outside(t->name, 64) + " " + outside(t->status, 32);
        any_up = any_up || state_of(t->status) == LinkState::Up;
      }
      line += ";";
      if (!any_up) dark.push_back(i);
    }
    line.pop_back();
    reply.notes.push_back(line);
    if (!dark.empty() && dark.size() < ifaces.size())
      reply.summary_notes.push_back(
          fmt::format("HA gateway {} interface {} has no tunnel up", outside(gw, 64), dark.front()));
  }
}

} // namespace

void fill_reply(Reply& reply, const std::vector<Tunnel>& tunnels, const std::vector<std::string>& wanted)
{
  std::vector<const Tunnel*> chosen;
  std::vector<std::string> missing;
  if (wanted.empty())
    for (const auto& t : tunnels) chosen.push_back(&t);
  for (const auto& w : wanted) {
    auto it = std::find_if(tunnels.begin(), tunnels.end(), [&w](const Tunnel& t) { return t.name == w; });
    if (it == tunnels.end()) missing.push_back(w);
    else if (std::find(chosen.begin(), chosen.end(), &*it) == chosen.end()) chosen.push_back(&*it);
  }
  for (const auto* t : chosen) {
    Link l;
    l.name = t->name;
    l.group = t->gateway;
    l.state = state_of(t->status);
    l.detail = "status " + (t->status.empty() ? std::string("absent") : outside(t->status, 40));
    if (!t->detailed_status.empty()) l.detail += ": " + outside(t->detailed_status, 200);
    if (!t->gateway.empty())
      l.detail += ", gateway " + outside(t->gateway, 64) +
                  (t->interface ? fmt::format(" interface {}", *t->interface) : std::string());
    if (!t->peer_ip.empty()) l.detail += ", peer " + outside(t->peer_ip, 64);
    if (l.state != LinkState::Up)
      for (auto& line : checklist(outside(t->name, 64), t->status)) reply.notes.push_back(std::move(line));
    reply.expected.push_back(l.name);
    reply.links.push_back(std::move(l));
  }
  add_gateway_notes(reply, chosen);
  add_missing(reply, missing, "no VPN tunnel with this name in the region");
}

} // namespace sitelink::vpn::cloud::gcp
