// SPDX-License-Identifier: GPL-2.0-or-later
// WireGuard through the cross-platform UAPI socket (wireguard-go): "get=1"
// returns the interface and its peers as key=value lines. The reply carries
// the interface's private key and any preshared keys: they are skipped while
// parsing, never stored, never traced, and the buffer is wiped afterwards.
#include <cmath>

#include <fmt/format.h>

#include "parse_wireguard.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::wireguard {

namespace {

bool is_secret(std::string_view key)
{
  return key == "private_key" || key == "preshared_key";
}

int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

struct Peer {
  std::string key; // base64
  std::string endpoint;
  double hs_sec = 0, hs_nsec = 0;
  std::optional<double> rx, tx;
  std::optional<double> keepalive; // persistent_keepalive_interval, 0 = off
};

Tunnel to_tunnel(const Peer& p, double now, const std::map<std::string, std::string>& aliases)
{
  Tunnel t;
  auto a = aliases.find(p.key);
  t.name = a == aliases.end() ? p.key : a->second;
  t.bytes_in = p.rx;
  t.bytes_out = p.tx;
  t.keepalive = p.keepalive;
  std::string ep = p.endpoint.empty() ? "no endpoint" : "endpoint " + sanitize_quote(p.endpoint, 60);
  if (p.hs_sec == 0) {
    // WireGuard has no session state: a peer that never completed a
    // handshake has never carried a packet.
    t.state = TunnelState::Down;
    t.detail = "no handshake yet, " + ep;
    return t;
  }
  t.state = TunnelState::Up;
  t.handshake_age = std::max(0.0, now - (p.hs_sec + p.hs_nsec / 1e9));
  t.detail = ep;
  if (a != aliases.end()) t.detail += ", key " + p.key.substr(0, 8) + "...";
  return t;
}

} // namespace

std::string key_to_base64(std::string_view key)
{
  if (key.size() != 64) return std::string(key);
  unsigned char raw[32];
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = hexval(key[2 * i]), lo = hexval(key[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::string(key);
    raw[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < 32; i += 3) {
    unsigned v = static_cast<unsigned>(raw[i]) << 16;
    if (i + 1 < 32) v |= static_cast<unsigned>(raw[i + 1]) << 8;
    if (i + 2 < 32) v |= raw[i + 2];
    out.push_back(tbl[(v >> 18) & 63]);
    out.push_back(tbl[(v >> 12) & 63]);
    out.push_back(i + 1 < 32 ? tbl[(v >> 6) & 63] : '=');
    out.push_back(i + 2 < 32 ? tbl[v & 63] : '=');
  }
  return out;
}

tl::expected<Observation, std::string> observe(std::string_view reply, double now,
                                               const std::map<std::string, std::string>& aliases, const Trace& trace)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "wireguard-go";
  o.has_handshakes = true;
  std::vector<Peer> peers;
  bool ended = false;
  std::size_t pos = 0;
  while (pos < reply.size()) {
    auto nl = reply.find('\n', pos);
    if (nl == std::string_view::npos) return tl::unexpected(std::string("UAPI reply ends inside a line"));
    std::string_view line = reply.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) {
      ended = true;
      break;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return tl::unexpected("UAPI reply line without key=value: '" + sanitize_quote(line.substr(0, 30), 30) + "'");
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (is_secret(key)) {
      if (trace) trace(3, "uapi < " + std::string(key) + "=(redacted)");
      continue;
    }
    if (trace) trace(3, "uapi < " + sanitize_quote(line, 200));
    auto n = [&]() -> tl::expected<double, std::string> {
      auto v = parse_number(value);
      if (!v || *v < 0) return tl::unexpected("bad number in UAPI reply for " + std::string(key));
      return *v;
    };
    if (key == "errno") {
      auto v = n();
      if (!v) return tl::unexpected(v.error());
      if (*v != 0) return tl::unexpected(fmt::format("wireguard-go answered errno={}", format_number(*v)));
    } else if (key == "public_key") {
      if (value.size() != 64) return tl::unexpected(std::string("UAPI public_key is not 64 hex digits"));
      peers.emplace_back();
      peers.back().key = key_to_base64(value);
      if (peers.back().key.size() != 44) return tl::unexpected(std::string("UAPI public_key is not hex"));
    } else if (!peers.empty()) {
      Peer& p = peers.back();
      if (key == "endpoint") p.endpoint = std::string(value);
      else if (key == "last_handshake_time_sec" || key == "last_handshake_time_nsec" || key == "rx_bytes" ||
               key == "tx_bytes" || key == "persistent_keepalive_interval") {
        auto v = n();
        if (!v) return tl::unexpected(v.error());
        if (key == "last_handshake_time_sec") p.hs_sec = *v;
        else if (key == "last_handshake_time_nsec") p.hs_nsec = *v;
        else if (key == "rx_bytes") p.rx = *v;
        else if (key == "persistent_keepalive_interval") p.keepalive = *v;
        else p.tx = *v;
      }
    }
  }
  if (!ended) return tl::unexpected(std::string("UAPI reply is not terminated by an empty line"));
  for (const auto& p : peers) {
    Tunnel t = to_tunnel(p, now, aliases);
    o.configured.push_back(t.name);
    o.tunnels.push_back(std::move(t));
  }
  return o;
}

} // namespace sitelink::vpn::wireguard
