// SPDX-License-Identifier: GPL-2.0-or-later
#include "packet.hpp"

#include <algorithm>

namespace sitelink::ping {

namespace {

constexpr std::uint8_t icmp4_echo_request = 8;
constexpr std::uint8_t icmp4_echo_reply = 0;
constexpr std::uint8_t icmp6_echo_request = 128;
constexpr std::uint8_t icmp6_echo_reply = 129;

void put16(std::uint8_t* p, std::uint16_t v)
{
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v & 0xff);
}

void put32(std::uint8_t* p, std::uint32_t v)
{
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

std::uint16_t get16(const std::uint8_t* p)
{
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

std::uint32_t get32(const std::uint8_t* p)
{
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | p[i];
  return v;
}

} // namespace

std::uint16_t inet_checksum(const std::uint8_t* data, std::size_t len)
{
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < len; i += 2) sum += static_cast<std::uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < len) sum += static_cast<std::uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::vector<std::uint8_t> build_echo_request(bool ipv6, std::uint16_t ident, std::uint16_t seq, const EchoId& id,
                                             std::size_t payload)
{
  payload = std::max(payload, echo_min_payload);
  std::vector<std::uint8_t> p(echo_header_size + payload, 0);
  p[0] = ipv6 ? icmp6_echo_request : icmp4_echo_request;
  p[1] = 0;
  put16(&p[4], ident);
  put16(&p[6], seq);
  std::uint8_t* d = &p[echo_header_size];
  put32(d, static_cast<std::uint32_t>(id.cookie >> 32));
  put32(d + 4, static_cast<std::uint32_t>(id.cookie & 0xffffffffu));
  put32(d + 8, id.target);
  put32(d + 12, id.probe);
  for (std::size_t i = 16; i < payload; ++i) d[i] = static_cast<std::uint8_t>(i);
  if (!ipv6) put16(&p[2], inet_checksum(p.data(), p.size()));
  return p;
}

std::optional<EchoReply> parse_echo_reply(bool ipv6, bool with_ip_header, const std::uint8_t* data, std::size_t len)
{
  if (with_ip_header) {
    if (len < 20 || (data[0] >> 4) != 4) return std::nullopt;
    std::size_t ihl = static_cast<std::size_t>(data[0] & 0x0f) * 4;
    if (ihl < 20 || len < ihl || data[9] != 1) return std::nullopt;
    data += ihl;
    len -= ihl;
  }
  if (len < echo_header_size + 16) return std::nullopt;
  if (data[0] != (ipv6 ? icmp6_echo_reply : icmp4_echo_reply) || data[1] != 0) return std::nullopt;
  // The kernel checks ICMPv6 checksums (and datagram sockets' ICMPv4 ones);
  // raw IPv4 sockets see packets before that, so check here.
  if (!ipv6 && with_ip_header && inet_checksum(data, len) != 0) return std::nullopt;
  EchoReply r;
  r.ident = get16(data + 4);
  r.seq = get16(data + 6);
  const std::uint8_t* d = data + echo_header_size;
  r.id.cookie = (static_cast<std::uint64_t>(get32(d)) << 32) | get32(d + 4);
  r.id.target = get32(d + 8);
  r.id.probe = get32(d + 12);
  return r;
}

std::optional<EchoId> find_echo_id(const std::uint8_t* data, std::size_t len, std::uint64_t cookie)
{
  std::uint8_t want[8];
  put32(want, static_cast<std::uint32_t>(cookie >> 32));
  put32(want + 4, static_cast<std::uint32_t>(cookie & 0xffffffffu));
  for (std::size_t i = 0; i + 16 <= len; ++i) {
    bool match = true;
    for (std::size_t j = 0; j < 8 && match; ++j) match = data[i + j] == want[j];
    if (!match) continue;
    EchoId id;
    id.cookie = cookie;
    id.target = get32(data + i + 8);
    id.probe = get32(data + i + 12);
    return id;
  }
  return std::nullopt;
}

} // namespace sitelink::ping
