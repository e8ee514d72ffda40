// SPDX-License-Identifier: GPL-2.0-or-later
// OpenVPN's management replies as tunnels: "state" for a point-to-point
// instance, "status 2" (CLIENT_LIST, ROUTING_TABLE) for a server.
#include <algorithm>

#include "parse_openvpn.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::openvpn {

namespace {

std::vector<std::string> split_csv(std::string_view line)
{
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = line.find(',', start);
    out.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<double> num(const std::string& s)
{
  auto n = parse_number(s);
  if (!n || *n < 0) return std::nullopt;
  return *n;
}

} // namespace

tl::expected<StateLine, std::string> parse_state(const std::vector<std::string>& lines)
{
  for (const auto& line : lines) {
    auto f = split_csv(line);
    if (f.size() < 3) continue;
    auto t = num(f[0]);
    if (!t) continue;
    StateLine s;
    s.time = *t;
    s.state = f[1];
    s.description = f[2];
    if (f.size() > 4) s.remote = f[4];
    if (f.size() > 5) s.remote_port = f[5];
    return s;
  }
  return tl::unexpected(std::string("the reply to 'state' has no state line"));
}

tl::expected<Status, std::string> parse_status(const std::vector<std::string>& lines)
{
  Status st;
  std::map<std::string, std::vector<std::string>> headers;
  bool known = false;
  for (const auto& line : lines) {
    auto f = split_csv(line);
    if (f.empty()) continue;
    if (f[0] == "OpenVPN STATISTICS" || f[0] == "TITLE") known = true;
    if (f[0] == "HEADER" && f.size() > 2) {
      headers[f[1]] = std::vector<std::string>(f.begin() + 2, f.end());
      if (f[1] == "CLIENT_LIST") st.server = true;
      continue;
    }
    if (f[0] == "TIME" && f.size() > 2) {
      st.time = num(f[2]);
      continue;
    }
    auto col = [&](const char* table, const char* name) -> std::optional<std::size_t> {
      auto h = headers.find(table);
      if (h == headers.end()) return std::nullopt;
      for (std::size_t i = 0; i < h->second.size(); ++i)
        if (h->second[i] == name && i + 1 < f.size()) return i + 1;
      return std::nullopt;
    };
    if (f[0] == "CLIENT_LIST") {
      Client c;
      auto cn = col("CLIENT_LIST", "Common Name");
      if (!cn) return tl::unexpected(std::string("CLIENT_LIST line before its HEADER"));
      c.common_name = f[*cn];
      if (auto i = col("CLIENT_LIST", "Real Address")) c.real_address = f[*i];
      if (auto i = col("CLIENT_LIST", "Bytes Received")) c.bytes_in = num(f[*i]);
      if (auto i = col("CLIENT_LIST", "Bytes Sent")) c.bytes_out = num(f[*i]);
      if (auto i = col("CLIENT_LIST", "Connected Since (time_t)")) c.connected_since = num(f[*i]);
      st.clients.push_back(std::move(c));
    } else if (f[0] == "ROUTING_TABLE") {
      auto cn = col("ROUTING_TABLE", "Common Name");
      auto ref = col("ROUTING_TABLE", "Last Ref (time_t)");
      if (!cn || !ref) continue;
      auto t = num(f[*ref]);
      for (auto& c : st.clients)
        if (c.common_name == f[*cn] && t && (!c.last_ref || *t > *c.last_ref)) c.last_ref = t;
    } else if (f.size() == 2 && !st.server) {
      if (auto v = num(f[1])) st.counters[f[0]] = *v;
    }
  }
  if (!known) return tl::unexpected(std::string("the reply to 'status 2' is not an OpenVPN status"));
  return st;
}

Observation observe(const StateLine& state, const Status& status, const std::string& p2p_name, double now)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "OpenVPN";
  auto age = [&](double then) { return std::max(0.0, now - then); };
  if (status.server) {
    const double server_now = status.time.value_or(now);
    for (const auto& c : status.clients) {
      Tunnel t;
      t.name = c.common_name;
      t.state = TunnelState::Up;
      if (c.connected_since) t.since = std::max(0.0, server_now - *c.connected_since);
      if (c.last_ref) t.last_inbound = std::max(0.0, server_now - *c.last_ref);
      t.bytes_in = c.bytes_in;
      t.bytes_out = c.bytes_out;
      t.detail = "client from " + sanitize_quote(c.real_address, 60);
      o.tunnels.push_back(std::move(t));
    }
    if (state.state != "CONNECTED") o.error = "server state " + state.state;
    return o;
  }
  Tunnel t;
  t.name = p2p_name;
  t.since = age(state.time);
  std::string desc = sanitize_quote(state.state, 30);
  if (!state.description.empty()) desc += ", " + sanitize_quote(state.description, 40);
  if (state.state == "CONNECTED") {
    t.state = TunnelState::Up;
    t.detail = "CONNECTED to " + sanitize_quote(state.remote, 60) +
               (state.remote_port.empty() ? "" : ":" + sanitize_quote(state.remote_port, 8));
  } else if (state.state == "EXITING") {
    t.state = TunnelState::Down;
    t.detail = desc;
  } else {
    // RECONNECTING, WAIT, AUTH, GET_CONFIG, ASSIGN_IP, ADD_ROUTES, RESOLVE,
    // TCP_CONNECT, CONNECTING: working on it, no traffic meanwhile.
    t.state = TunnelState::Connecting;
    t.detail = desc;
  }
  auto counter = [&](const char* key) -> std::optional<double> {
    auto it = status.counters.find(key);
    return it == status.counters.end() ? std::nullopt : std::optional<double>(it->second);
  };
  // Payload through the tunnel: what the TUN device wrote (received from the
  // peer) and read (sent to the peer).
  t.bytes_in = counter("TUN/TAP write bytes");
  t.bytes_out = counter("TUN/TAP read bytes");
  o.configured.push_back(p2p_name);
  o.tunnels.push_back(std::move(t));
  return o;
}

} // namespace sitelink::vpn::openvpn
