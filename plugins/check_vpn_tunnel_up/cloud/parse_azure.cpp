// SPDX-License-Identifier: GPL-2.0-or-later
// The pure half of --backend azure (see parse_azure.hpp for the references).
// No I/O here; source_azure.cpp does it. The connection's sharedKey is
// never read, so it cannot reach a Link, a note or a debug line.
#include "parse_azure.hpp"
#include "json_fields.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::azure {

using nlohmann::json;

namespace {

std::string bytes_text(const std::optional<double>& in, const std::optional<double>& out)
{
  if (!in && !out) return {};
  return fmt::format("{} B in, {} B out", in ? format_number(*in) : "?", out ? format_number(*out) : "?");
}

} // namespace

tl::expected<Token, std::string> parse_token(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected<std::string>("malformed JSON in the token response");
  Token t;
  t.access_token = jstr(j, "access_token");
  if (t.access_token.empty()) return tl::unexpected<std::string>("the token response has no access_token");
  // Entra ID sends a number, IMDS a string of digits.
  if (auto n = jnum(j, "expires_in")) t.expires_in = *n;
  else if (auto s = jstr(j, "expires_in"); !s.empty()) t.expires_in = std::atof(s.c_str());
  return t;
}

std::string entra_message(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  auto code = jstr(j, "error");
  auto desc = jstr(j, "error_description");
  desc = desc.substr(0, desc.find_first_of("\r\n"));
  if (code.empty() && desc.empty()) return {};
  return outside(code.empty() ? desc : desc.empty() ? code : code + ": " + desc, 240);
}

std::string arm_code(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return {};
  return outside(jstr(j["error"], "code"), 64);
}

std::string arm_message(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return {};
  auto code = jstr(j["error"], "code");
  auto msg = jstr(j["error"], "message");
  if (code.empty() && msg.empty()) return {};
  return outside(code, 64) + ": " + outside(msg, 240);
}

tl::expected<Connection, std::string> parse_connection(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("properties") || !j["properties"].is_object())
    return tl::unexpected<std::string>("malformed JSON from Azure Resource Manager (connection)");
  const auto& p = j["properties"];
  Connection c;
  c.name = jstr(j, "name");
  c.status = jstr(p, "connectionStatus");
  c.type = jstr(p, "connectionType");
  c.provisioning = jstr(p, "provisioningState");
  if (p.contains("enableBgp") && p["enableBgp"].is_boolean()) c.bgp = p["enableBgp"].get<bool>();
  if (p.contains("virtualNetworkGateway1") && p["virtualNetworkGateway1"].is_object())
    c.gateway_id = jstr(p["virtualNetworkGateway1"], "id");
  c.bytes_in = jnum(p, "ingressBytesTransferred");
  c.bytes_out = jnum(p, "egressBytesTransferred");
  if (p.contains("tunnelConnectionStatus") && p["tunnelConnectionStatus"].is_array()) {
    for (const auto& t : p["tunnelConnectionStatus"]) {
      TunnelHealth h;
      h.tunnel = jstr(t, "tunnel");
      h.status = jstr(t, "connectionStatus");
      h.last_established = jstr(t, "lastConnectionEstablishedUtcTime");
      h.bytes_in = jnum(t, "ingressBytesTransferred");
      h.bytes_out = jnum(t, "egressBytesTransferred");
      if (!h.tunnel.empty()) c.tunnels.push_back(std::move(h));
    }
  }
  return c;
}

tl::expected<std::vector<BgpPeer>, std::string> parse_bgp_peers(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("value") || !j["value"].is_array())
    return tl::unexpected<std::string>("malformed JSON from Azure Resource Manager (BGP peer status)");
  std::vector<BgpPeer> out;
  for (const auto& p : j["value"]) out.push_back({jstr(p, "neighbor"), jstr(p, "state"), jnum(p, "routesReceived")});
  return out;
}

LinkState state_of(std::string_view status)
{
  if (status == "Connected") return LinkState::Up;
  if (status == "Connecting") return LinkState::Connecting;
  return LinkState::Down;
}

std::optional<double> parse_time(std::string_view text)
{
  if (text.size() < 8 || text.size() > 40) return std::nullopt;
  const std::string s(text);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, used = 0;
  char ampm[3] = {0, 0, 0};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6) {
    // Fraction and "Z" or "+00:00" follow; Azure reports UTC.
  } else if (std::sscanf(s.c_str(), "%2d/%2d/%4d %2d:%2d:%2d %2[AMP]", &mo, &d, &y, &h, &mi, &sec, ampm) == 7) {
    if (h < 1 || h > 12) return std::nullopt;
    if (ampm[0] == 'P' && h != 12) h += 12;
    if (ampm[0] == 'A' && h == 12) h = 0;
  } else {
    return std::nullopt;
  }
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return std::nullopt;
  return utc_seconds(y, mo, d, h, mi, sec);
}

std::vector<std::string> checklist(const std::string& name)
{
  return {
      name + " is not connected; Azure site-to-site checklist:",
      "- the shared key is the same on the connection and on the on-premises device",
      "- the local network gateway's IP address is the device's public IP, and its address space matches "
      "the on-premises ranges (no overlap with the virtual network)",
      "- the device and its IKE/IPsec policy are supported (route-based vs policy-based, custom policy)",
      "- no NSG or route table on the GatewaySubnet blocks the gateway; UDP 500/4500 reach it",
      "- the gateway's diagnostics (IKE logs, 'VPN troubleshoot') name the failed phase; reset the gateway "
      "as the last step",
  };
}

namespace {

void add_bgp_note(Reply& reply, const Connection& c, const std::map<std::string, GatewayBgp>& bgp)
{
  auto it = bgp.find(c.gateway_id);
  const std::string gw = outside(last_segment(c.gateway_id), 80);
  if (it == bgp.end()) return;
  const std::string line_prefix = "gateway " + gw + ": BGP ";
  for (const auto& n : reply.notes)
    if (n.rfind(line_prefix, 0) == 0) return; // one line per gateway
  if (!it->second.error.empty()) {
    reply.notes.push_back(line_prefix + "peer status not known: " + outside(it->second.error, 200));
    return;
  }
  const auto& peers = it->second.peers;
  auto connected = std::count_if(peers.begin(), peers.end(), [](const BgpPeer& p) { return p.state == "Connected"; });
  std::string line = fmt::format("{}{} of {} peer(s) connected", line_prefix, connected, peers.size());
  for (const auto& p : peers)
    line += fmt::format("; {} {}{}", outside(p.neighbor, 64), outside(p.state, 24),
                        p.routes ? fmt::format(" ({} routes)", format_number(*p.routes)) : std::string());
  reply.notes.push_back(line);
  if (connected == 0 && !peers.empty()) reply.summary_notes.push_back("gateway " + gw + " has no BGP peer connected");
}

std::string connection_detail(const Connection& c)
{
  std::string d = "connectionStatus " + (c.status.empty() ? std::string("absent") : outside(c.status, 32));
  if (!c.provisioning.empty() && c.provisioning != "Succeeded") d += ", provisioning " + outside(c.provisioning, 32);
  if (!c.gateway_id.empty()) d += ", gateway " + outside(last_segment(c.gateway_id), 80);
  return d;
}

void add_connection(Reply& reply, const Connection& c, const std::string& name)
{
  const bool up = state_of(c.status) == LinkState::Up;
  if (c.tunnels.empty()) {
    Link l;
    l.name = name;
    l.group = name;
    l.state = state_of(c.status);
    l.detail = connection_detail(c);
    l.bytes_in = c.bytes_in;
    l.bytes_out = c.bytes_out;
    reply.expected.push_back(l.name);
    reply.links.push_back(std::move(l));
  } else {
    // Active-active: each gateway instance has its own tunnel; the group
    // thresholds count them, so one lost instance is lost redundancy.
    reply.notes.push_back(
        "connection " + outside(name, 80) + ": " + connection_detail(c) +
        (bytes_text(c.bytes_in, c.bytes_out).empty() ? "" : ", " + bytes_text(c.bytes_in, c.bytes_out)));
    for (const auto& t : c.tunnels) {
      Link l;
      l.name = name + "/" + t.tunnel;
      l.group = name;
      l.state = state_of(t.status);
      l.detail = "tunnel " + outside(t.status, 32);
      if (!t.last_established.empty()) l.detail += ", last established " + outside(t.last_established, 40);
      if (l.state == LinkState::Up) l.since_epoch = parse_time(t.last_established);
      l.bytes_in = t.bytes_in;
      l.bytes_out = t.bytes_out;
      reply.expected.push_back(l.name);
      reply.links.push_back(std::move(l));
    }
  }
  if (!up) {
    for (auto& line : checklist(outside(name, 80))) reply.notes.push_back(std::move(line));
  }
}

} // namespace

void fill_reply(Reply& reply, const std::vector<Found>& found, const std::map<std::string, GatewayBgp>& bgp)
{
  for (const auto& f : found) {
    if (!f.connection) {
      Link l;
      l.name = f.name;
      l.group = f.name;
      l.state = LinkState::Missing;
      l.detail = "no connection with this name in the resource group";
      reply.expected.push_back(l.name);
      reply.links.push_back(std::move(l));
      continue;
    }
    add_connection(reply, *f.connection, f.name);
    if (f.connection->bgp) add_bgp_note(reply, *f.connection, bgp);
  }
}

} // namespace sitelink::vpn::cloud::azure
