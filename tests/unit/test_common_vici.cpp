// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "fake_stream.hpp"
#include "fixture.hpp"
#include "sitelink/vici.hpp"

using namespace sitelink;
using namespace sitelink::vici;
using sitelink::test::FakeStream;
using sitelink::test::read_fixture;

namespace {

std::string bytes(std::initializer_list<int> b)
{
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

Section sample()
{
  Section s;
  s.values = {{"state", "ESTABLISHED"}, {"empty", ""}};
  s.lists = {{"local-ts", {"10.0.0.0/24", "fd00::/64"}}, {"none", {}}};
  Section child;
  child.name = "child-sas";
  Section c1;
  c1.name = "net-1";
  c1.values = {{"use-in", "3"}};
  child.sections.push_back(c1);
  s.sections.push_back(child);
  return s;
}

std::string packet(PacketType t, const std::string& name, const Section& m = {})
{
  return encode_packet(Packet{t, name, m}).value();
}

} // namespace

TEST_CASE("common::encode_message")
{
  SUBCASE("key-value layout")
  {
    Section s;
    s.values = {{"ab", "xyz"}};
    CHECK(encode_message(s).value() == bytes({3, 2, 'a', 'b', 0, 3, 'x', 'y', 'z'}));
  }
  SUBCASE("list and section layout")
  {
    Section s;
    s.lists = {{"l", {"1"}}};
    Section sub;
    sub.name = "s";
    s.sections.push_back(sub);
    CHECK(encode_message(s).value() == bytes({4, 1, 'l', 5, 0, 1, '1', 6, 1, 1, 's', 2}));
  }
  SUBCASE("names over 255 bytes and values over 65535 bytes are refused")
  {
    Section s;
    s.values = {{std::string(256, 'k'), "v"}};
    CHECK_FALSE(encode_message(s).has_value());
    s.values = {{"k", std::string(65536, 'v')}};
    CHECK_FALSE(encode_message(s).has_value());
    s.values = {{std::string(255, 'k'), std::string(65535, 'v')}};
    CHECK(encode_message(s).has_value());
  }
}

TEST_CASE("common::decode_message")
{
  SUBCASE("round trip keeps order and nesting")
  {
    auto enc = encode_message(sample()).value();
    auto dec = decode_message(enc).value();
    CHECK(*dec.value("state") == "ESTABLISHED");
    CHECK(dec.value("empty")->empty());
    CHECK(dec.value("nope") == nullptr);
    REQUIRE(dec.list("local-ts") != nullptr);
    CHECK(*dec.list("local-ts") == std::vector<std::string>{"10.0.0.0/24", "fd00::/64"});
    CHECK(dec.list("none")->empty());
    REQUIRE(dec.section("child-sas") != nullptr);
    CHECK(*dec.section("child-sas")->section("net-1")->value("use-in") == "3");
    CHECK(encode_message(dec).value() == enc);
  }
  SUBCASE("empty message")
  {
    CHECK(decode_message("").value().empty());
  }
  SUBCASE("malformed input is an error, never a crash")
  {
    const std::string good = encode_message(sample()).value();
    // every proper prefix that cuts an element is refused
    int refused = 0;
    for (std::size_t n = 1; n < good.size(); ++n)
      if (!decode_message(std::string_view(good).substr(0, n))) ++refused;
    CHECK(refused > static_cast<int>(good.size() / 2));
    CHECK_FALSE(decode_message(bytes({2})).has_value());                             // end without start
    CHECK_FALSE(decode_message(bytes({1, 1, 's'})).has_value());                     // unterminated section
    CHECK_FALSE(decode_message(bytes({9})).has_value());                             // unknown element
    CHECK_FALSE(decode_message(bytes({3, 5, 'a'})).has_value());                     // truncated key
    CHECK_FALSE(decode_message(bytes({3, 1, 'a', 0, 9, 'x'})).has_value());          // truncated value
    CHECK_FALSE(decode_message(bytes({4, 1, 'l', 5, 0, 1, '1'})).has_value());       // unterminated list
    CHECK_FALSE(decode_message(bytes({4, 1, 'l', 3, 1, 'a', 0, 0, 6})).has_value()); // key-value in list
    CHECK_FALSE(decode_message(bytes({5, 0, 0})).has_value());                       // list item outside a list
  }
  SUBCASE("nesting is bounded")
  {
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += bytes({1, 1, 'x'});
    for (int i = 0; i < 40; ++i) deep += bytes({2});
    auto r = decode_message(deep);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().find("nested too deeply") != std::string::npos);
  }
}

TEST_CASE("common::encode_packet")
{
  CHECK(packet(PacketType::CmdRequest, "version") == bytes({0, 0, 0, 9, 0, 7, 'v', 'e', 'r', 's', 'i', 'o', 'n'}));
  CHECK(packet(PacketType::EventConfirm, "ignored") == bytes({0, 0, 0, 1, 5}));
  Section big;
  for (int i = 0; i < 10; ++i) big.values.emplace_back("k", std::string(60000, 'x'));
  CHECK_FALSE(encode_packet(Packet{PacketType::CmdResponse, "", big}).has_value());
}

TEST_CASE("common::decode_packet")
{
  auto p = decode_packet(bytes({7, 2, 'e', 'v', 3, 1, 'k', 0, 1, 'v'})).value();
  CHECK(p.type == PacketType::Event);
  CHECK(p.name == "ev");
  CHECK(*p.message.value("k") == "v");
  CHECK(decode_packet(bytes({1})).value().type == PacketType::CmdResponse);
  CHECK_FALSE(decode_packet("").has_value());
  CHECK_FALSE(decode_packet(bytes({8})).has_value());
  CHECK_FALSE(decode_packet(bytes({7})).has_value());
  CHECK_FALSE(decode_packet(bytes({7, 5, 'a'})).has_value());
}

TEST_CASE("common::read_packet")
{
  SUBCASE("reassembles a packet from small reads")
  {
    FakeStream s(packet(PacketType::Event, "list-sa", sample()), 1);
    auto p = read_packet(s).value();
    CHECK(p.name == "list-sa");
    CHECK(*p.message.value("state") == "ESTABLISHED");
  }
  SUBCASE("a length over the limit is refused before reading the body")
  {
    FakeStream s("garbage and more garbage");
    auto r = read_packet(s);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::TooLarge);
  }
  SUBCASE("zero length and bad bodies are protocol errors")
  {
    FakeStream z(bytes({0, 0, 0, 0}));
    CHECK(read_packet(z).error().kind == net::ErrorKind::Protocol);
    FakeStream b(bytes({0, 0, 0, 2, 1, 9}));
    CHECK(read_packet(b).error().kind == net::ErrorKind::Protocol);
  }
  SUBCASE("a truncated packet is the stream's error")
  {
    FakeStream s(bytes({0, 0, 0, 10, 1}));
    CHECK(read_packet(s).error().kind == net::ErrorKind::Timeout);
    FakeStream c(bytes({0, 0, 0, 10, 1}));
    c.close_at_end = true;
    CHECK(read_packet(c).error().kind == net::ErrorKind::Closed);
  }
}

TEST_CASE("common::Client::call")
{
  SUBCASE("skips events, returns the response")
  {
    Section resp;
    resp.values = {{"daemon", "charon"}};
    FakeStream s(packet(PacketType::Event, "log") + packet(PacketType::CmdResponse, "", resp));
    Client c(s);
    CHECK(*c.call("version").value().value("daemon") == "charon");
    CHECK(s.written == packet(PacketType::CmdRequest, "version"));
  }
  SUBCASE("CMD_UNKNOWN is a protocol error naming the command")
  {
    FakeStream s(packet(PacketType::CmdUnknown, ""));
    Client c(s);
    auto r = c.call("nosuch");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::Protocol);
    CHECK(r.error().message.find("nosuch") != std::string::npos);
  }
  SUBCASE("an unexpected packet type is a protocol error")
  {
    FakeStream s(packet(PacketType::EventConfirm, ""));
    Client c(s);
    CHECK(c.call("version").error().kind == net::ErrorKind::Protocol);
  }
}

TEST_CASE("common::Client::call_streamed")
{
  SUBCASE("recorded list-sas session from charon")
  {
    FakeStream s(read_fixture("vpn/strongswan-list-sas.bin"), 13);
    Client c(s);
    std::vector<std::string> trace;
    c.trace = [&](const std::string& l) { trace.push_back(l); };
    std::vector<Section> events;
    auto r = c.call_streamed("list-sas", "list-sa", {}, [&](Section&& m) { events.push_back(std::move(m)); });
    REQUIRE(r.has_value());
    REQUIRE(events.size() == 2);
    CHECK(events[0].sections.at(0).name == "dr-secondary");
    CHECK(*events[1].sections.at(0).value("state") == "ESTABLISHED");
    // Registration and command go out together; no unregister round trip.
    CHECK(s.written == packet(PacketType::EventRegister, "list-sa") + packet(PacketType::CmdRequest, "list-sas"));
    CHECK(trace.front() == "> EVENT_REGISTER list-sa");
    CHECK(trace.back() == "< CMD_RESPONSE");
  }
  SUBCASE("events beyond the cap are refused")
  {
    std::string reply = packet(PacketType::EventConfirm, "");
    for (int i = 0; i < 5; ++i) reply += packet(PacketType::Event, "list-sa");
    reply += packet(PacketType::CmdResponse, "");
    FakeStream s(reply);
    Client c(s);
    auto r = c.call_streamed(
        "list-sas", "list-sa", {}, [](Section&&) {}, 3);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().kind == net::ErrorKind::TooLarge);
  }
  SUBCASE("EVENT_UNKNOWN is a protocol error")
  {
    FakeStream s(packet(PacketType::EventUnknown, ""));
    Client c(s);
    auto r = c.call_streamed("list-sas", "list-sa", {}, [](Section&&) {});
    CHECK(r.error().kind == net::ErrorKind::Protocol);
  }
  SUBCASE("a daemon that confirms and then goes silent times out")
  {
    FakeStream s(packet(PacketType::EventConfirm, "") + packet(PacketType::Event, "list-sa"));
    Client c(s);
    int n = 0;
    auto r = c.call_streamed("list-sas", "list-sa", {}, [&](Section&&) { ++n; });
    CHECK(r.error().kind == net::ErrorKind::Timeout);
    CHECK(n == 1);
  }
}
