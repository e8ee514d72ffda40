// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/source_strongswan.hpp"
#include "fake_stream.hpp"
#include "fixture.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using sitelink::test::FakeStream;
using sitelink::test::read_fixture;

namespace {

vici::Section conn(const std::string& name)
{
  vici::Section m, c;
  c.name = name;
  c.values = {{"version", "IKEv2"}};
  m.sections.push_back(c);
  return m;
}

vici::Section child(const std::string& name, const std::string& state,
                    std::vector<std::pair<std::string, std::string>> extra = {})
{
  vici::Section c;
  c.name = name;
  c.values = {{"name", name}, {"state", state}, {"bytes-in", "100"}, {"bytes-out", "200"}, {"packets-in", "5"}};
  for (auto& e : extra) c.values.push_back(e);
  return c;
}

vici::Section ike(const std::string& name, const std::string& state, std::vector<vici::Section> children)
{
  vici::Section m, s, cs;
  s.name = name;
  s.values = {{"state", state}, {"remote-host", "192.0.2.2"}, {"established", "93"}};
  cs.name = "child-sas";
  cs.sections = std::move(children);
  s.sections.push_back(cs);
  m.sections.push_back(s);
  return m;
}

const Tunnel& find(const Observation& o, const std::string& name)
{
  for (const auto& t : o.tunnels)
    if (t.name == name) return t;
  FAIL("no tunnel " << name);
  return o.tunnels.front();
}

} // namespace

TEST_CASE("vpn::strongswan::observe")
{
  SUBCASE("established with an installed child is up, with counters")
  {
    auto o = strongswan::observe({conn("dr-primary")},
                                 {ike("dr-primary", "ESTABLISHED", {child("c-1", "INSTALLED", {{"use-in", "4"}})})});
    const auto& t = find(o, "dr-primary");
    CHECK(t.state == TunnelState::Up);
    CHECK(t.since == 93);
    CHECK(t.last_inbound == 4);
    CHECK(t.bytes_in == 100);
    CHECK(t.bytes_out == 200);
    CHECK(t.detail == "IKE ESTABLISHED with 192.0.2.2, 1 CHILD SA installed");
  }
  SUBCASE("configured without SA is down with 'no IKE SA'")
  {
    auto o = strongswan::observe({conn("a"), conn("b")}, {});
    CHECK(o.configured == std::vector<std::string>{"a", "b"});
    CHECK(find(o, "b").state == TunnelState::Down);
    CHECK(find(o, "b").detail == "no IKE SA");
  }
  SUBCASE("IKE without an installed child, or still connecting, is connecting")
  {
    auto o = strongswan::observe({}, {ike("a", "ESTABLISHED", {child("c", "INSTALLING")}), ike("b", "CONNECTING", {})});
    CHECK(find(o, "a").state == TunnelState::Connecting);
    CHECK(find(o, "a").detail == "IKE ESTABLISHED, CHILD INSTALLING");
    CHECK(find(o, "b").state == TunnelState::Connecting);
    CHECK(find(o, "b").detail == "IKE CONNECTING");
  }
  SUBCASE("deleting IKE SA is down")
  {
    auto o = strongswan::observe({}, {ike("a", "DELETING", {child("c", "INSTALLED")})});
    CHECK(find(o, "a").state == TunnelState::Down);
    CHECK(find(o, "a").detail == "IKE DELETING");
  }
  SUBCASE("a rekeying child still carries traffic; counters add up; idle is the freshest")
  {
    auto o = strongswan::observe(
        {}, {ike("a", "ESTABLISHED",
                 {child("old", "REKEYING", {{"use-in", "9"}}), child("new", "INSTALLED", {{"use-in", "1"}})})});
    const auto& t = find(o, "a");
    CHECK(t.state == TunnelState::Up);
    CHECK(t.bytes_in == 200);
    CHECK(t.last_inbound == 1);
    CHECK(t.detail.find("2 CHILD SAs") != std::string::npos);
  }
  SUBCASE("a child that never received anything is idle since it was installed")
  {
    vici::Section c = child("c", "INSTALLED", {{"install-time", "12"}});
    c.values[4].second = "0"; // packets-in
    auto o = strongswan::observe({}, {ike("a", "ESTABLISHED", {c})});
    CHECK(find(o, "a").last_inbound == 12);
  }
  SUBCASE("use-out is the outbound age; the freshest child counts; reported even when absent")
  {
    auto o = strongswan::observe({}, {ike("a", "ESTABLISHED",
                                          {child("old", "REKEYING", {{"use-in", "9"}, {"use-out", "7"}}),
                                           child("new", "INSTALLED", {{"use-in", "5"}, {"use-out", "2"}})})});
    CHECK(find(o, "a").last_outbound == 2);
    CHECK(find(o, "a").reports_outbound);
    auto none = strongswan::observe({}, {ike("a", "ESTABLISHED", {child("c", "INSTALLED", {{"packets-out", "3"}})})});
    CHECK_FALSE(find(none, "a").last_outbound.has_value());
    CHECK(find(none, "a").reports_outbound);
    auto conn = strongswan::observe({}, {ike("a", "CONNECTING", {})});
    CHECK_FALSE(find(conn, "a").reports_outbound);
  }
  SUBCASE("a child that never sent anything has been silent outbound since it was installed")
  {
    auto o = strongswan::observe(
        {}, {ike("a", "ESTABLISHED",
                 {child("c", "INSTALLED", {{"install-time", "12"}, {"use-in", "3"}, {"packets-out", "0"}})})});
    CHECK(find(o, "a").last_outbound == 12);
    CHECK(find(o, "a").last_inbound == 3);
  }
  SUBCASE("the best of several IKE SAs of one connection counts")
  {
    auto o =
        strongswan::observe({conn("a")}, {ike("a", "DELETING", {}), ike("a", "ESTABLISHED", {child("c", "INSTALLED")}),
                                          ike("a", "CONNECTING", {})});
    REQUIRE(o.tunnels.size() == 1);
    CHECK(o.tunnels[0].state == TunnelState::Up);
  }
  SUBCASE("garbage numbers are treated as unknown, not as zero")
  {
    auto o = strongswan::observe({}, {ike("a", "ESTABLISHED", {child("c", "INSTALLED", {{"use-in", "soon"}})})});
    CHECK_FALSE(find(o, "a").last_inbound.has_value());
  }
}

TEST_CASE("vpn::strongswan::query")
{
  SUBCASE("recorded charon session: two healthy connections")
  {
    FakeStream s(read_fixture("vpn/strongswan-list-conns.bin") + read_fixture("vpn/strongswan-list-sas.bin"), 64);
    std::vector<std::string> trace;
    auto o = strongswan::query(s, "/run/charon.vici", [&](int, const std::string& l) { trace.push_back(l); });
    CHECK(o.status == Observation::Status::Read);
    CHECK(o.configured == std::vector<std::string>{"dr-primary", "dr-secondary"});
    CHECK(find(o, "dr-primary").state == TunnelState::Up);
    CHECK(find(o, "dr-primary").bytes_in == 376);
    CHECK(find(o, "dr-secondary").last_inbound == 327);
    CHECK(find(o, "dr-secondary").since == 328);
    CHECK(evaluate(o, {}).state == State::Ok);
    CHECK(trace.size() > 10);
  }
  SUBCASE("a daemon that never answers is a timeout, naming what was going on")
  {
    FakeStream s("");
    auto o = strongswan::query(s, "/run/charon.vici", {});
    CHECK(o.status == Observation::Status::Failed);
    CHECK(o.timed_out);
    CHECK(o.activity.find("list-conns") != std::string::npos);
    CHECK(evaluate(o, {}).state == State::Unknown);
  }
  SUBCASE("garbage is Failed")
  {
    FakeStream s("HTTP/1.1 400 Bad Request\r\n\r\n");
    auto o = strongswan::query(s, "/run/charon.vici", {});
    CHECK(o.status == Observation::Status::Failed);
    CHECK(o.error.find("exceeds") != std::string::npos);
  }
}

TEST_CASE("vpn::source::failure")
{
  CHECK(failure("charon", "/x", {net::ErrorKind::NotFound, 2, ""}).status == Observation::Status::DaemonDown);
  CHECK(failure("charon", "/x", {net::ErrorKind::NotFound, 2, ""}).error == "no socket at /x");
  CHECK(failure("charon", "/x", {net::ErrorKind::Refused, 111, ""}).status == Observation::Status::DaemonDown);
  auto p = failure("charon", "/nonexistent/x", {net::ErrorKind::Permission, 13, ""});
  CHECK(p.status == Observation::Status::NoPermission);
  CHECK(p.hint.find("search permission") != std::string::npos);
  CHECK(failure("charon", "/x", {net::ErrorKind::Closed, 0, ""}).status == Observation::Status::Failed);
  CHECK(failure("charon", "/x", {net::ErrorKind::TooLarge, 0, "big"}).error == "big");
}

TEST_CASE("vpn::source::parse_endpoint")
{
  CHECK(parse_endpoint("unix:///var/run/charon.vici", false).value().path == "/var/run/charon.vici");
  CHECK(parse_endpoint("/run/x.sock", false).value().unix_socket);
  auto t = parse_endpoint("tcp://127.0.0.1:4502", false).value();
  CHECK_FALSE(t.unix_socket);
  CHECK(t.host == "127.0.0.1");
  CHECK(t.port == "4502");
  CHECK(parse_endpoint("[::1]:7505", true).value().host == "::1");
  CHECK(parse_endpoint("localhost:7505", true).value().text() == "localhost:7505");
  CHECK_FALSE(parse_endpoint("localhost:7505", false).has_value());
  CHECK_FALSE(parse_endpoint("localhost:", true).has_value());
  CHECK_FALSE(parse_endpoint("localhost:75x", true).has_value());
  CHECK_FALSE(parse_endpoint("", true).has_value());
}
