// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/vici.hpp"

#include <cstring>

namespace sitelink::vici {

namespace {

enum Element : std::uint8_t {
  SectionStart = 1,
  SectionEnd = 2,
  KeyValue = 3,
  ListStart = 4,
  ListItem = 5,
  ListEnd = 6,
};

tl::expected<void, std::string> put_name(std::string& out, std::string_view name)
{
  if (name.size() > 255)
    return tl::unexpected("name longer than 255 bytes: '" + std::string(name.substr(0, 40)) + "...'");
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  return {};
}

tl::expected<void, std::string> put_value(std::string& out, std::string_view value)
{
  if (value.size() > 65535) return tl::unexpected(std::string("value longer than 65535 bytes"));
  out.push_back(static_cast<char>((value.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(value.size() & 0xff));
  out.append(value);
  return {};
}

tl::expected<void, std::string> encode_into(std::string& out, const Section& s)
{
  for (const auto& [k, v] : s.values) {
    out.push_back(static_cast<char>(KeyValue));
    if (auto r = put_name(out, k); !r) return r;
    if (auto r = put_value(out, v); !r) return r;
  }
  for (const auto& [k, items] : s.lists) {
    out.push_back(static_cast<char>(ListStart));
    if (auto r = put_name(out, k); !r) return r;
    for (const auto& item : items) {
      out.push_back(static_cast<char>(ListItem));
      if (auto r = put_value(out, item); !r) return r;
    }
    out.push_back(static_cast<char>(ListEnd));
  }
  for (const auto& sub : s.sections) {
    out.push_back(static_cast<char>(SectionStart));
    if (auto r = put_name(out, sub.name); !r) return r;
    if (auto r = encode_into(out, sub); !r) return r;
    out.push_back(static_cast<char>(SectionEnd));
  }
  return {};
}

class Reader {
public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool done() const noexcept { return pos_ >= d_.size(); }
  std::size_t pos() const noexcept { return pos_; }
  bool byte(std::uint8_t& b)
  {
    if (pos_ >= d_.size()) return false;
    b = static_cast<std::uint8_t>(d_[pos_++]);
    return true;
  }
  bool name(std::string& out)
  {
    std::uint8_t len;
    if (!byte(len) || d_.size() - pos_ < len) return false;
    out.assign(d_.substr(pos_, len));
    pos_ += len;
    return true;
  }
  bool value(std::string& out)
  {
    std::uint8_t hi, lo;
    if (!byte(hi) || !byte(lo)) return false;
    std::size_t len = (std::size_t{hi} << 8) | lo;
    if (d_.size() - pos_ < len) return false;
    out.assign(d_.substr(pos_, len));
    pos_ += len;
    return true;
  }

private:
  std::string_view d_;
  std::size_t pos_ = 0;
};

tl::unexpected<std::string> malformed(const Reader& r, const std::string& why)
{
  return tl::unexpected("malformed VICI message at byte " + std::to_string(r.pos()) + ": " + why);
}

net::IoError protocol(std::string message)
{
  return net::IoError{net::ErrorKind::Protocol, 0, std::move(message)};
}

} // namespace

std::string_view to_string(PacketType t) noexcept
{
  switch (t) {
  case PacketType::CmdRequest: return "CMD_REQUEST";
  case PacketType::CmdResponse: return "CMD_RESPONSE";
  case PacketType::CmdUnknown: return "CMD_UNKNOWN";
  case PacketType::EventRegister: return "EVENT_REGISTER";
  case PacketType::EventUnregister: return "EVENT_UNREGISTER";
  case PacketType::EventConfirm: return "EVENT_CONFIRM";
  case PacketType::EventUnknown: return "EVENT_UNKNOWN";
  case PacketType::Event: return "EVENT";
  }
  return "?";
}

bool is_named(PacketType t) noexcept
{
  return t == PacketType::CmdRequest || t == PacketType::EventRegister || t == PacketType::EventUnregister ||
         t == PacketType::Event;
}

const std::string* Section::value(std::string_view key) const noexcept
{
  for (const auto& kv : values)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

const std::vector<std::string>* Section::list(std::string_view key) const noexcept
{
  for (const auto& l : lists)
    if (l.first == key) return &l.second;
  return nullptr;
}

const Section* Section::section(std::string_view key) const noexcept
{
  for (const auto& s : sections)
    if (s.name == key) return &s;
  return nullptr;
}

tl::expected<std::string, std::string> encode_message(const Section& msg)
{
  std::string out;
  if (auto r = encode_into(out, msg); !r) return tl::unexpected(r.error());
  return out;
}

tl::expected<Section, std::string> decode_message(std::string_view data)
{
  Reader r(data);
  Section top;
  std::vector<Section*> stack{&top};
  // Pointers into `sections` vectors stay valid because a parent never gets a
  // new child while one of its children is still open.
  while (!r.done()) {
    std::uint8_t type;
    r.byte(type);
    Section& cur = *stack.back();
    switch (type) {
    case SectionStart: {
      if (static_cast<int>(stack.size()) > max_depth) return malformed(r, "sections nested too deeply");
      std::string name;
      if (!r.name(name)) return malformed(r, "truncated section name");
      cur.sections.emplace_back();
      cur.sections.back().name = std::move(name);
      stack.push_back(&cur.sections.back());
      break;
    }
    case SectionEnd:
      if (stack.size() == 1) return malformed(r, "section end without a section");
      stack.pop_back();
      break;
    case KeyValue: {
      std::string k, v;
      if (!r.name(k)) return malformed(r, "truncated key");
      if (!r.value(v)) return malformed(r, "truncated value of '" + k + "'");
      cur.values.emplace_back(std::move(k), std::move(v));
      break;
    }
    case ListStart: {
      std::string k;
      if (!r.name(k)) return malformed(r, "truncated list name");
      std::vector<std::string> items;
      for (;;) {
        std::uint8_t t;
        if (!r.byte(t)) return malformed(r, "unterminated list '" + k + "'");
        if (t == ListEnd) break;
        if (t != ListItem) return malformed(r, "element " + std::to_string(t) + " inside list '" + k + "'");
        std::string v;
        if (!r.value(v)) return malformed(r, "truncated item in list '" + k + "'");
        items.push_back(std::move(v));
      }
      cur.lists.emplace_back(std::move(k), std::move(items));
      break;
    }
    default: return malformed(r, "unexpected element type " + std::to_string(type));
    }
  }
  if (stack.size() != 1) return malformed(r, "unterminated section '" + stack.back()->name + "'");
  return top;
}

tl::expected<std::string, std::string> encode_packet(const Packet& p)
{
  std::string body;
  body.push_back(static_cast<char>(p.type));
  if (is_named(p.type))
    if (auto r = put_name(body, p.name); !r) return tl::unexpected(r.error());
  auto msg = encode_message(p.message);
  if (!msg) return tl::unexpected(msg.error());
  body += *msg;
  if (body.size() > max_packet_size) return tl::unexpected(std::string("packet larger than the VICI limit"));
  std::string out(4, '\0');
  auto n = static_cast<std::uint32_t>(body.size());
  out[0] = static_cast<char>((n >> 24) & 0xff);
  out[1] = static_cast<char>((n >> 16) & 0xff);
  out[2] = static_cast<char>((n >> 8) & 0xff);
  out[3] = static_cast<char>(n & 0xff);
  return out + body;
}

tl::expected<Packet, std::string> decode_packet(std::string_view data)
{
  if (data.empty()) return tl::unexpected(std::string("empty VICI packet"));
  auto t = static_cast<std::uint8_t>(data[0]);
  if (t > static_cast<std::uint8_t>(PacketType::Event))
    return tl::unexpected("unknown VICI packet type " + std::to_string(t));
  Packet p;
  p.type = static_cast<PacketType>(t);
  std::size_t pos = 1;
  if (is_named(p.type)) {
    if (data.size() < 2) return tl::unexpected(std::string("VICI packet truncated in its name"));
    auto len = static_cast<std::uint8_t>(data[1]);
    if (data.size() < 2u + len) return tl::unexpected(std::string("VICI packet truncated in its name"));
    p.name.assign(data.substr(2, len));
    pos = 2u + len;
  }
  auto msg = decode_message(data.substr(pos));
  if (!msg) return tl::unexpected(msg.error());
  p.message = std::move(*msg);
  return p;
}

tl::expected<Packet, net::IoError> read_packet(net::Stream& s)
{
  unsigned char hdr[4];
  if (auto r = net::read_exact(s, reinterpret_cast<char*>(hdr), sizeof hdr); !r) return tl::unexpected(r.error());
  std::uint32_t len = (std::uint32_t{hdr[0]} << 24) | (std::uint32_t{hdr[1]} << 16) | (std::uint32_t{hdr[2]} << 8) |
                      std::uint32_t{hdr[3]};
  if (len == 0) return tl::unexpected(protocol("VICI packet of length 0"));
  if (len > max_packet_size)
    return tl::unexpected(net::IoError{net::ErrorKind::TooLarge, 0,
                                       "VICI packet of " + std::to_string(len) + " bytes exceeds the " +
                                           std::to_string(max_packet_size) + "-byte limit"});
  std::string body(len, '\0');
  if (auto r = net::read_exact(s, body.data(), body.size()); !r) return tl::unexpected(r.error());
  auto p = decode_packet(body);
  if (!p) return tl::unexpected(protocol(p.error()));
  return std::move(*p);
}

tl::expected<void, net::IoError> write_packet(net::Stream& s, const Packet& p)
{
  auto bytes = encode_packet(p);
  if (!bytes) return tl::unexpected(protocol(bytes.error()));
  return s.write_all(*bytes);
}

tl::expected<Packet, net::IoError> Client::receive()
{
  auto p = read_packet(s_);
  if (p && trace) trace("< " + std::string(to_string(p->type)) + (p->name.empty() ? "" : " " + p->name));
  return p;
}

tl::expected<void, net::IoError> Client::event_control(PacketType type, const std::string& event)
{
  if (trace) trace("> " + std::string(to_string(type)) + " " + event);
  if (auto w = write_packet(s_, Packet{type, event, {}}); !w) return w;
  for (;;) {
    auto p = receive();
    if (!p) return tl::unexpected(p.error());
    // An event of an earlier registration may still arrive before the
    // confirmation; it carries nothing we asked for.
    if (p->type == PacketType::Event) continue;
    if (p->type == PacketType::EventConfirm) return {};
    if (p->type == PacketType::EventUnknown)
      return tl::unexpected(protocol("charon does not know the event '" + event + "'"));
    return tl::unexpected(
        protocol("unexpected " + std::string(to_string(p->type)) + " while (un)registering '" + event + "'"));
  }
}

tl::expected<Section, net::IoError> Client::call(const std::string& command, const Section& request)
{
  if (trace) trace("> CMD_REQUEST " + command);
  if (auto w = write_packet(s_, Packet{PacketType::CmdRequest, command, request}); !w) return tl::unexpected(w.error());
  for (;;) {
    auto p = receive();
    if (!p) return tl::unexpected(p.error());
    if (p->type == PacketType::CmdResponse) return std::move(p->message);
    if (p->type == PacketType::CmdUnknown)
      return tl::unexpected(protocol("charon does not know the command '" + command + "'"));
    if (p->type == PacketType::Event) continue;
    return tl::unexpected(protocol("unexpected " + std::string(to_string(p->type)) + " in reply to '" + command + "'"));
  }
}

tl::expected<Section, net::IoError> Client::call_streamed(const std::string& command, const std::string& event,
                                                          const Section& request,
                                                          const std::function<void(Section&&)>& on_event,
                                                          std::size_t max_events)
{
  // charon handles a client's packets in order, so the registration and the
  // command go out together: one round trip instead of three. The
  // registration ends with the connection; an explicit unregister would only
  // add another round trip to every check.
  if (trace) trace("> " + std::string(to_string(PacketType::EventRegister)) + " " + event);
  if (auto w = write_packet(s_, Packet{PacketType::EventRegister, event, {}}); !w) return tl::unexpected(w.error());
  if (trace) trace("> CMD_REQUEST " + command);
  if (auto w = write_packet(s_, Packet{PacketType::CmdRequest, command, request}); !w) return tl::unexpected(w.error());
  bool confirmed = false;
  std::size_t events = 0;
  for (;;) {
    auto p = receive();
    if (!p) return tl::unexpected(p.error());
    if (!confirmed) {
      if (p->type == PacketType::Event) continue; // from an earlier registration
      if (p->type == PacketType::EventConfirm) {
        confirmed = true;
        continue;
      }
      if (p->type == PacketType::EventUnknown)
        return tl::unexpected(protocol("charon does not know the event '" + event + "'"));
      return tl::unexpected(
          protocol("unexpected " + std::string(to_string(p->type)) + " while registering '" + event + "'"));
    }
    if (p->type == PacketType::CmdResponse) return std::move(p->message);
    if (p->type == PacketType::CmdUnknown)
      return tl::unexpected(protocol("charon does not know the command '" + command + "'"));
    if (p->type != PacketType::Event)
      return tl::unexpected(
          protocol("unexpected " + std::string(to_string(p->type)) + " in reply to '" + command + "'"));
    if (p->name != event) continue;
    if (++events > max_events)
      return tl::unexpected(net::IoError{net::ErrorKind::TooLarge, 0,
                                         "more than " + std::to_string(max_events) + " '" + event + "' events"});
    on_event(std::move(p->message));
  }
}

} // namespace sitelink::vici
