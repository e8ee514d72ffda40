// SPDX-License-Identifier: GPL-2.0-or-later
#include "classify.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

namespace sitelink::traffic {

namespace {

constexpr std::uint16_t ike_port = 500;
constexpr std::uint16_t natt_port = 4500;
constexpr std::size_t ike_header_size = 28;

std::uint16_t be16(const std::uint8_t* p) noexcept
{
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// The layers as they are peeled off. `avail` is what was captured, `wire`
// what the headers say was sent; checks of message sizes use the latter,
// so a short snap length does not change the verdict.
struct Cursor {
  const std::uint8_t* p;
  std::size_t avail;
};

Classified finish(Classified c, Decode d) noexcept
{
  c.decode = d;
  return c;
}

Classified classify_udp(Classified c, Cursor cur, std::size_t ip_payload, const ClassifyConfig& cfg) noexcept
{
  if (cur.avail < 8) return finish(c, Decode::Truncated);
  c.sport = be16(cur.p);
  c.dport = be16(cur.p + 2);
  const std::size_t udp_len = be16(cur.p + 4);
  if (udp_len < 8 || udp_len > ip_payload) return finish(c, Decode::Malformed);
  const std::size_t len = udp_len - 8;                   // payload on the wire
  const std::size_t have = std::min(cur.avail - 8, len); // payload captured
  const std::uint8_t* d = cur.p + 8;
  auto on = [&](std::uint16_t port) { return c.sport == port || c.dport == port; };

  auto ike_at = [&](std::size_t off) {
    c.proto = Proto::Ike;
    if (len < off + ike_header_size) {
      c.proto = Proto::Other;
      return finish(c, Decode::Ok);
    }
    if (have < off + ike_header_size) return finish(c, Decode::Truncated);
    const std::uint8_t version = d[off + 17];
    const std::uint8_t flags = d[off + 19];
    if ((version >> 4) == 2) c.ike = (flags & 0x20) != 0 ? IkeRole::Response : IkeRole::Request;
    c.message_type = d[off + 18]; // exchange type
    return finish(c, Decode::Ok);
  };

  if (cfg.ipsec && on(ike_port)) return ike_at(0);
  if (cfg.ipsec && on(natt_port)) {
    if (len == 1) {
      if (have < 1) return finish(c, Decode::Truncated);
      c.proto = d[0] == 0xff ? Proto::NatKeepalive : Proto::Other;
      return finish(c, Decode::Ok);
    }
    if (len < 4) return finish(c, Decode::Ok); // Other: too short for a marker or an SPI
    if (have < 4) return finish(c, Decode::Truncated);
    if (d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 0) return ike_at(4);
    // ESP: SPI and sequence number at least.
    c.proto = len >= 8 ? Proto::Esp : Proto::Other;
    return finish(c, Decode::Ok);
  }
  if (cfg.wireguard && on(cfg.wireguard_port)) {
    if (len < 4) return finish(c, Decode::Ok);
    if (have < 4) return finish(c, Decode::Truncated);
    const std::uint8_t type = d[0];
    bool valid = d[1] == 0 && d[2] == 0 && d[3] == 0;
    // Fixed sizes from the WireGuard protocol; data messages are a 16-byte
    // header plus the padded plaintext and a 16-byte tag.
    switch (type) {
    case 1: valid = valid && len == 148; break;
    case 2: valid = valid && len == 92; break;
    case 3: valid = valid && len == 64; break;
    case 4: valid = valid && len >= 32 && len % 16 == 0; break;
    default: valid = false;
    }
    if (valid) {
      c.proto = Proto::WireGuard;
      c.message_type = type;
    }
    return finish(c, Decode::Ok);
  }
  if (cfg.openvpn && on(cfg.openvpn_port)) {
    if (len < 1) return finish(c, Decode::Ok);
    if (have < 1) return finish(c, Decode::Truncated);
    const std::uint8_t opcode = static_cast<std::uint8_t>(d[0] >> 3);
    if (opcode >= 1 && opcode <= 11) {
      c.proto = Proto::OpenVpn;
      c.message_type = opcode;
    }
    return finish(c, Decode::Ok);
  }
  return finish(c, Decode::NoTunnel);
}

Classified classify_tcp(Classified c, Cursor cur, const ClassifyConfig& cfg) noexcept
{
  if (cur.avail < 20) return finish(c, Decode::Truncated);
  c.sport = be16(cur.p);
  c.dport = be16(cur.p + 2);
  const std::size_t doff = static_cast<std::size_t>(cur.p[12] >> 4) * 4;
  if (doff < 20) return finish(c, Decode::Malformed);
  if (cfg.openvpn && (c.sport == cfg.openvpn_port || c.dport == cfg.openvpn_port)) {
    // A TCP stream has no message boundaries per segment: every segment of
    // the connection, acknowledgements included, is tunnel traffic.
    c.proto = Proto::OpenVpn;
    return finish(c, Decode::Ok);
  }
  return finish(c, Decode::NoTunnel);
}

Classified classify_transport(Classified c, std::uint8_t proto, Cursor cur, std::size_t ip_payload,
                              const ClassifyConfig& cfg) noexcept
{
  c.transport = proto;
  switch (proto) {
  case 17: return classify_udp(c, cur, ip_payload, cfg);
  case 6: return classify_tcp(c, cur, cfg);
  case 50:
    if (!cfg.ipsec) return finish(c, Decode::NoTunnel);
    c.proto = Proto::Esp;
    return finish(c, Decode::Ok);
  default: return finish(c, Decode::NoTunnel);
  }
}

Classified classify_ipv4(Cursor cur, const ClassifyConfig& cfg) noexcept
{
  Classified c;
  if (cur.avail < 20) return finish(c, Decode::Truncated);
  const std::uint8_t* h = cur.p;
  if ((h[0] >> 4) != 4) return finish(c, Decode::Malformed);
  const std::size_t ihl = static_cast<std::size_t>(h[0] & 0x0f) * 4;
  const std::size_t total = be16(h + 2);
  if (ihl < 20 || total < ihl) return finish(c, Decode::Malformed);
  c.ip_length = static_cast<std::uint32_t>(total);
  c.src.family = c.dst.family = 4;
  std::memcpy(c.src.bytes.data(), h + 12, 4);
  std::memcpy(c.dst.bytes.data(), h + 16, 4);
  if (cur.avail < ihl) return finish(c, Decode::Truncated);
  if ((be16(h + 6) & 0x1fff) != 0) return finish(c, Decode::Fragment);
  Cursor next{h + ihl, std::min(cur.avail, total) - ihl};
  return classify_transport(c, h[9], next, total - ihl, cfg);
}

Classified classify_ipv6(Cursor cur, const ClassifyConfig& cfg) noexcept
{
  Classified c;
  if (cur.avail < 40) return finish(c, Decode::Truncated);
  const std::uint8_t* h = cur.p;
  if ((h[0] >> 4) != 6) return finish(c, Decode::Malformed);
  c.src.family = c.dst.family = 6;
  std::memcpy(c.src.bytes.data(), h + 8, 16);
  std::memcpy(c.dst.bytes.data(), h + 24, 16);
  std::size_t payload = be16(h + 4);
  c.ip_length = static_cast<std::uint32_t>(40 + payload);
  std::uint8_t next = h[6];
  Cursor p{h + 40, std::min(cur.avail - 40, payload)};
  // Extension headers before the transport header (a bounded walk: a chain
  // of dozens is an attack, not traffic).
  for (int i = 0; i < 8; ++i) {
    std::size_t ext = 0;
    std::uint8_t following = 0;
    if (next == 0 || next == 43 || next == 60 || next == 44 || next == 51) {
      if (p.avail < 8) return finish(c, payload < 8 ? Decode::Malformed : Decode::Truncated);
      following = p.p[0];
      if (next == 44) {
        ext = 8;
        if ((be16(p.p + 2) & 0xfff8) != 0) return finish(c, Decode::Fragment);
      } else if (next == 51) {
        ext = (static_cast<std::size_t>(p.p[1]) + 2) * 4;
      } else {
        ext = (static_cast<std::size_t>(p.p[1]) + 1) * 8;
      }
    } else {
      return classify_transport(c, next, p, payload, cfg);
    }
    if (ext > payload) return finish(c, Decode::Malformed);
    if (ext > p.avail) return finish(c, Decode::Truncated);
    p.p += ext;
    p.avail -= ext;
    payload -= ext;
    next = following;
  }
  return finish(c, Decode::Malformed);
}

Classified classify_ip(Cursor cur, const ClassifyConfig& cfg) noexcept
{
  if (cur.avail < 1) return finish(Classified{}, Decode::Truncated);
  switch (cur.p[0] >> 4) {
  case 4: return classify_ipv4(cur, cfg);
  case 6: return classify_ipv6(cur, cfg);
  default: return finish(Classified{}, Decode::Malformed);
  }
}

Classified by_ethertype(std::uint16_t type, Cursor cur, const ClassifyConfig& cfg) noexcept
{
  switch (type) {
  case 0x0800: return classify_ipv4(cur, cfg);
  case 0x86dd: return classify_ipv6(cur, cfg);
  default: return finish(Classified{}, Decode::NotIp);
  }
}

Cursor skip(Cursor c, std::size_t n) noexcept
{
  return {c.p + n, c.avail - n};
}

} // namespace

std::string_view to_string(Proto p) noexcept
{
  switch (p) {
  case Proto::Other: return "other";
  case Proto::Ike: return "IKE";
  case Proto::Esp: return "ESP";
  case Proto::NatKeepalive: return "NAT-T keepalive";
  case Proto::OpenVpn: return "OpenVPN";
  case Proto::WireGuard: return "WireGuard";
  }
  return "?";
}

std::optional<Address> Address::parse(std::string_view text)
{
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string s(text);
  Address a;
  if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = 6;
    // An IPv4-mapped IPv6 address is the IPv4 peer on the wire.
    static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), mapped, 12) == 0) {
      Address v4;
      v4.family = 4;
      std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
      return v4;
    }
    return a;
  }
  return std::nullopt;
}

std::string Address::to_string() const
{
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 4) ::inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  else if (family == 6) ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  else return "-";
  return buf;
}

Classified classify(const std::uint8_t* data, std::size_t caplen, LinkType link, const ClassifyConfig& cfg) noexcept
{
  Cursor cur{data, data == nullptr ? 0 : caplen};
  switch (link) {
  case LinkType::Ethernet: {
    if (cur.avail < 14) return finish(Classified{}, Decode::Truncated);
    std::uint16_t type = be16(cur.p + 12);
    cur = skip(cur, 14);
    // 802.1Q / 802.1ad tags, at most two (QinQ).
    for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); ++i) {
      if (cur.avail < 4) return finish(Classified{}, Decode::Truncated);
      type = be16(cur.p + 2);
      cur = skip(cur, 4);
    }
    return by_ethertype(type, cur, cfg);
  }
  case LinkType::LinuxSll:
    if (cur.avail < 16) return finish(Classified{}, Decode::Truncated);
    return by_ethertype(be16(cur.p + 14), skip(cur, 16), cfg);
  case LinkType::LinuxSll2:
    if (cur.avail < 20) return finish(Classified{}, Decode::Truncated);
    return by_ethertype(be16(cur.p), skip(cur, 20), cfg);
  case LinkType::Raw: return classify_ip(cur, cfg);
  case LinkType::Ipv4: return classify_ipv4(cur, cfg);
  case LinkType::Ipv6: return classify_ipv6(cur, cfg);
  case LinkType::Null:
  case LinkType::Loop:
    // The 4-byte family differs in byte order and value between systems;
    // the IP version nibble after it is unambiguous.
    if (cur.avail < 4) return finish(Classified{}, Decode::Truncated);
    return classify_ip(skip(cur, 4), cfg);
  }
  return finish(Classified{}, Decode::NotIp);
}

} // namespace sitelink::traffic
