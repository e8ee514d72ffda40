// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Per-packet classification of tunnel traffic. Pure functions over the bytes
// of one captured frame: no libpcap types here, so the classifier is tested
// and benchmarked without a capture handle.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sitelink::traffic {

// The link layers we decode. The capture source maps libpcap's DLT_* values
// onto these.
enum class LinkType { Ethernet, LinuxSll, LinuxSll2, Raw, Ipv4, Ipv6, Null, Loop };

// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes.
struct Address {
  std::uint8_t family = 0; // 4 or 6, 0 for none
  std::array<std::uint8_t, 16> bytes{};

  static std::optional<Address> parse(std::string_view text);
  std::string to_string() const;
  bool operator==(const Address& o) const noexcept { return family == o.family && bytes == o.bytes; }
  bool operator!=(const Address& o) const noexcept { return !(*this == o); }
  bool operator<(const Address& o) const noexcept { return family != o.family ? family < o.family : bytes < o.bytes; }
};

enum class Proto : std::uint8_t {
  Other,        // on a tunnel port but not a message of the tunnel's protocol
  Ike,          // IKE on UDP 500, or on 4500 behind the non-ESP marker
  Esp,          // IP protocol 50, or ESP-in-UDP on 4500 (non-zero SPI)
  NatKeepalive, // the one-byte 0xFF NAT-T keepalive on 4500
  OpenVpn,
  WireGuard,
};
constexpr std::size_t proto_count = 6;
std::string_view to_string(Proto p) noexcept;

// IKEv2 messages carry a Response flag; IKEv1 has none, so its role is None.
enum class IkeRole : std::uint8_t { None, Request, Response };

enum class Decode : std::uint8_t {
  Ok,
  NotIp,     // ARP, LLDP, ...: not ours to count
  Truncated, // the capture ends inside a header we need
  Malformed, // a header that cannot be valid
  Fragment,  // a non-first IP fragment: no transport header to look at
  NoTunnel,  // a transport the tunnel protocols do not use
};

struct Classified {
  Decode decode = Decode::NotIp;
  Proto proto = Proto::Other;
  IkeRole ike = IkeRole::None;
  std::uint8_t message_type = 0; // WireGuard message type 1-4, OpenVPN opcode
  std::uint8_t transport = 0;    // 17 UDP, 6 TCP, 50 ESP
  Address src;
  Address dst;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::uint32_t ip_length = 0; // the IP packet's length on the wire, headers included
};

// Which protocols count and on which ports (OpenVPN and WireGuard ports can
// be moved with --port; IKE is always on 500 and 4500).
struct ClassifyConfig {
  bool ipsec = true;
  bool openvpn = true;
  bool wireguard = true;
  std::uint16_t openvpn_port = 1194;
  std::uint16_t wireguard_port = 51820;
};

// `caplen` bytes of a frame as captured (possibly cut by the snap length).
Classified classify(const std::uint8_t* data, std::size_t caplen, LinkType link, const ClassifyConfig& config) noexcept;

} // namespace sitelink::traffic
