// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// ICMP echo request/reply codec for IPv4 and IPv6, raw and datagram ("ping")
// sockets. Pure byte handling, unit-tested with hand-made packets.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace sitelink::ping {

// Echo payload: a per-run random cookie (so another instance's replies never
// match even when the 16-bit identifiers collide), the target index and the
// probe index, padded to the size of a classic ping.
constexpr std::size_t echo_payload_size = 56;
constexpr std::size_t echo_header_size = 8;
// The smallest payload that carries the EchoId (cookie, target, probe), and
// the largest an IPv4 datagram can hold (65535 - 20 - 8).
constexpr std::size_t echo_min_payload = 16;
constexpr std::size_t echo_max_payload = 65507;

struct EchoId {
  std::uint64_t cookie = 0;
  std::uint32_t target = 0;
  std::uint32_t probe = 0;
};

// Internet checksum (RFC 1071) over `len` bytes.
std::uint16_t inet_checksum(const std::uint8_t* data, std::size_t len);

// An echo request. For IPv4 the checksum is filled in (raw sockets need it;
// the kernel recomputes it for datagram sockets); for IPv6 the kernel always
// computes it, so it stays 0.
// `payload` bytes of payload (-b), at least echo_min_payload.
std::vector<std::uint8_t> build_echo_request(bool ipv6, std::uint16_t ident, std::uint16_t seq, const EchoId& id,
                                             std::size_t payload = echo_payload_size);

struct EchoReply {
  std::uint16_t ident = 0;
  std::uint16_t seq = 0;
  EchoId id;
};

// Parses what recvmsg() returned. `with_ip_header`: IPv4 raw sockets deliver
// the IP header first. Returns nullopt for anything that is not a well-formed
// echo reply carrying our payload layout (other ICMP types, short or
// truncated packets, bad IPv4 checksums).
std::optional<EchoReply> parse_echo_reply(bool ipv6, bool with_ip_header, const std::uint8_t* data, std::size_t len);

// Finds the payload of one of our echo requests (the run's cookie followed by
// target and probe) anywhere in `data`: a transmit timestamp comes back on
// the socket's error queue with a copy of the packet as the device sent it,
// whose headers (link, IP, extension) differ by device and family.
std::optional<EchoId> find_echo_id(const std::uint8_t* data, std::size_t len, std::uint64_t cookie);

} // namespace sitelink::ping
