// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The VICI protocol of strongSwan's charon (versatile IKE control interface),
// spoken natively: Debian ships no usable libvici, and shelling out to
// swanctl costs a process start and text parsing per check.
//
// Wire format (strongSwan src/libcharon/plugins/vici/README.md): a packet is
// a u32 big-endian length, then a u8 type, then for named types a u8 name
// length and the name, then the message. A message is a sequence of
// elements: SECTION_START(name) ... SECTION_END, KEY_VALUE(name, u16 length,
// value), LIST_START(name) LIST_ITEM(u16 length, value)... LIST_END.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "sitelink/socket.hpp"

namespace sitelink::vici {

enum class PacketType : std::uint8_t {
  CmdRequest = 0,
  CmdResponse = 1,
  CmdUnknown = 2,
  EventRegister = 3,
  EventUnregister = 4,
  EventConfirm = 5,
  EventUnknown = 6,
  Event = 7,
};

std::string_view to_string(PacketType t) noexcept;
// Types that carry a name (requests, registrations, events).
bool is_named(PacketType t) noexcept;

// Same limit as charon's own (VICI_MESSAGE_SIZE_MAX): larger packets are
// refused rather than buffered.
constexpr std::size_t max_packet_size = 512 * 1024;
// Nesting deeper than this is not something charon sends.
constexpr int max_depth = 32;

// A message or a section of one; elements keep their order.
struct Section {
  std::string name; // empty for the top level
  std::vector<std::pair<std::string, std::string>> values;
  std::vector<std::pair<std::string, std::vector<std::string>>> lists;
  std::vector<Section> sections;

  const std::string* value(std::string_view key) const noexcept;
  const std::vector<std::string>* list(std::string_view key) const noexcept;
  const Section* section(std::string_view key) const noexcept;
  bool empty() const noexcept { return values.empty() && lists.empty() && sections.empty(); }
};

// Encodes values, then lists, then sections (charon does not care about the
// order between kinds). Fails for names over 255 bytes or values over 65535.
tl::expected<std::string, std::string> encode_message(const Section& msg);
tl::expected<Section, std::string> decode_message(std::string_view data);

struct Packet {
  PacketType type = PacketType::CmdRequest;
  std::string name; // for named types
  Section message;
};

// With the u32 length prefix.
tl::expected<std::string, std::string> encode_packet(const Packet& p);
// `data` is one packet without its length prefix.
tl::expected<Packet, std::string> decode_packet(std::string_view data);

// Reads one length-prefixed packet (refusing more than max_packet_size).
tl::expected<Packet, net::IoError> read_packet(net::Stream& s);
tl::expected<void, net::IoError> write_packet(net::Stream& s, const Packet& p);

// A client session on a connected stream. Errors are IoErrors; protocol
// violations (unexpected packet types, CMD_UNKNOWN, EVENT_UNKNOWN, a
// malformed message) are ErrorKind::Protocol.
class Client {
public:
  explicit Client(net::Stream& s) : s_(s) {}

  // A plain command: CMD_REQUEST, then one CMD_RESPONSE.
  tl::expected<Section, net::IoError> call(const std::string& command, const Section& request = {});

  // A streaming command (list-sas, list-conns): registers for `event` and
  // sends the command in one go, then hands each EVENT to `on_event` until the
  // CMD_RESPONSE. The registration lasts until the connection closes. At most
  // `max_events` events are accepted.
  tl::expected<Section, net::IoError> call_streamed(const std::string& command, const std::string& event,
                                                    const Section& request,
                                                    const std::function<void(Section&&)>& on_event,
                                                    std::size_t max_events = 10000);

  // Every packet sent and received, for -vvv ("> list-sas", "< EVENT list-sa").
  std::function<void(const std::string&)> trace;

private:
  tl::expected<void, net::IoError> event_control(PacketType type, const std::string& event);
  tl::expected<Packet, net::IoError> receive();
  net::Stream& s_;
};

} // namespace sitelink::vici
