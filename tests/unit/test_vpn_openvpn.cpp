// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "check_vpn_tunnel_up/source_openvpn.hpp"
#include "fake_stream.hpp"
#include "fixture.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using sitelink::test::FakeStream;
using sitelink::test::read_fixture;

namespace {

std::vector<std::string> lines(const std::string& text)
{
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    std::string l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l != "END") out.push_back(l);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  return out;
}

struct TempFile {
  std::string path;
  TempFile(const std::string& content, mode_t mode)
  {
    char tmpl[] = "/tmp/sitelink-pwtest-XXXXXX";
    int fd = ::mkstemp(tmpl);
    REQUIRE(fd >= 0);
    path = tmpl;
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    ::chmod(path.c_str(), mode);
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

const std::string greeting = ">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n";
const std::string state_ok = "1795314329,CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,192.0.2.1,1194\r\nEND\r\n";
const std::string status_p2p = "OpenVPN STATISTICS\r\nUpdated,2026-11-22 02:27:02\r\nTUN/TAP read bytes,388\r\n"
                               "TUN/TAP write bytes,84\r\nEND\r\n";

} // namespace

TEST_CASE("vpn::openvpn::parse_state")
{
  auto s = openvpn::parse_state({"1795314329,CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,192.0.2.1,1194"}).value();
  CHECK(s.time == 1795314329);
  CHECK(s.state == "CONNECTED");
  CHECK(s.remote == "192.0.2.2");
  CHECK(s.remote_port == "1194");
  s = openvpn::parse_state({"1795314400,RECONNECTING,ping-restart,,,,,"}).value();
  CHECK(s.state == "RECONNECTING");
  CHECK(s.description == "ping-restart");
  CHECK_FALSE(openvpn::parse_state({}).has_value());
  CHECK_FALSE(openvpn::parse_state({"SUCCESS: whatever"}).has_value());
}

TEST_CASE("vpn::openvpn::parse_status")
{
  SUBCASE("point-to-point statistics")
  {
    auto st = openvpn::parse_status(lines(status_p2p)).value();
    CHECK_FALSE(st.server);
    CHECK(st.counters.at("TUN/TAP write bytes") == 84);
  }
  SUBCASE("server mode: clients by column name, newest Last Ref")
  {
    auto st = openvpn::parse_status(lines(read_fixture("vpn/openvpn-server-status2.txt"))).value();
    CHECK(st.server);
    CHECK(st.time == 1795314600);
    REQUIRE(st.clients.size() == 2);
    CHECK(st.clients[0].common_name == "branch-east");
    CHECK(st.clients[0].bytes_in == 123456);
    CHECK(st.clients[0].connected_since == 1795311000);
    CHECK(st.clients[0].last_ref == 1795314598);
    CHECK(st.clients[1].last_ref == 1795314560);
  }
  SUBCASE("not a status reply")
  {
    CHECK_FALSE(openvpn::parse_status({"hello"}).has_value());
    CHECK_FALSE(openvpn::parse_status({"TITLE,x", "CLIENT_LIST,a,b"}).has_value());
  }
}

TEST_CASE("vpn::openvpn::observe")
{
  SUBCASE("point-to-point CONNECTED is up")
  {
    auto st = openvpn::parse_status(lines(status_p2p)).value();
    auto o = openvpn::observe(openvpn::parse_state(lines(state_ok)).value(), st, "openvpn", 1795314429);
    REQUIRE(o.tunnels.size() == 1);
    CHECK(o.configured == std::vector<std::string>{"openvpn"});
    CHECK(o.tunnels[0].state == TunnelState::Up);
    CHECK(o.tunnels[0].since == 100);
    CHECK(o.tunnels[0].bytes_in == 84);
    CHECK(o.tunnels[0].bytes_out == 388);
    CHECK(o.tunnels[0].detail == "CONNECTED to 192.0.2.2:1194");
  }
  SUBCASE("reconnecting is connecting, exiting is down")
  {
    openvpn::Status st;
    auto o = openvpn::observe(openvpn::parse_state({"5,RECONNECTING,ping-restart,,"}).value(), st, "dr", 10);
    CHECK(o.tunnels[0].state == TunnelState::Connecting);
    CHECK(o.tunnels[0].detail == "RECONNECTING, ping-restart");
    CHECK(evaluate(o, {}).summary == "0 of 1 tunnels up: dr connecting (RECONNECTING, ping-restart)");
    o = openvpn::observe(openvpn::parse_state({"5,EXITING,SIGTERM,,"}).value(), st, "dr", 10);
    CHECK(o.tunnels[0].state == TunnelState::Down);
  }
  SUBCASE("server mode: clients are tunnels, Last Ref gives the idle time")
  {
    auto st = openvpn::parse_status(lines(read_fixture("vpn/openvpn-server-status2.txt"))).value();
    auto o =
        openvpn::observe(openvpn::parse_state({"1795311000,CONNECTED,SUCCESS,10.8.0.1,,,,"}).value(), st, "openvpn", 0);
    REQUIRE(o.tunnels.size() == 2);
    CHECK(o.tunnels[0].since == 3600);
    CHECK(o.tunnels[0].last_inbound == 2);
    CHECK(o.tunnels[1].last_inbound == 40);
    Policy p;
    p.expected = {"branch-east", "branch-west", "branch-north"};
    p.stale = 30;
    auto r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 3 tunnels up: branch-west stale (nothing received for 40 s, limit 30 s), "
                       "branch-north missing");
  }
}

TEST_CASE("vpn::openvpn::read_password_file")
{
  SUBCASE("first line, without the line end")
  {
    TempFile f("s3cret\r\nsecond line\n", 0600);
    CHECK(openvpn::read_password_file(f.path).value() == "s3cret");
    TempFile g("s3cret", 0640);
    CHECK(openvpn::read_password_file(g.path).value() == "s3cret");
  }
  SUBCASE("files others can read or the group can write are refused")
  {
    TempFile f("s3cret\n", 0644);
    auto r = openvpn::read_password_file(f.path);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().find("mode 0644") != std::string::npos);
    CHECK(r.error().find("s3cret") == std::string::npos);
    TempFile g("s3cret\n", 0660);
    CHECK_FALSE(openvpn::read_password_file(g.path).has_value());
  }
  SUBCASE("empty, missing and non-regular files")
  {
    TempFile f("\n", 0600);
    CHECK(openvpn::read_password_file(f.path).error().find("empty") != std::string::npos);
    CHECK(openvpn::read_password_file("/nonexistent/pw").error().find("No such file") != std::string::npos);
    CHECK(openvpn::read_password_file("/tmp").error().find("not a regular file") != std::string::npos);
  }
}

TEST_CASE("vpn::openvpn::query")
{
  SUBCASE("recorded point-to-point session")
  {
    FakeStream s(read_fixture("vpn/openvpn-p2p-session.txt"), 5);
    auto o = openvpn::query(s, "/run/openvpn.mgmt", std::nullopt, "openvpn", 1795314429, {});
    CHECK(o.status == Observation::Status::Read);
    CHECK(o.tunnels.at(0).state == TunnelState::Up);
    CHECK(s.written == "state\nstatus 2\nquit\n");
  }
  SUBCASE("password prompt answered from the file; notifications skipped")
  {
    FakeStream s("ENTER PASSWORD:SUCCESS: password is correct\r\n" + greeting + ">HOLD:waiting\r\n" + state_ok +
                 ">BYTECOUNT:1,2\r\n" + status_p2p);
    std::vector<std::string> trace;
    auto o = openvpn::query(s, "/run/openvpn.mgmt", std::string("pw0rd"), "openvpn", 1795314429,
                            [&](int, const std::string& l) { trace.push_back(l); });
    CHECK(o.status == Observation::Status::Read);
    CHECK(s.written == "pw0rd\nstate\nstatus 2\nquit\n");
    for (const auto& l : trace) CHECK(l.find("pw0rd") == std::string::npos);
  }
  SUBCASE("a password prompt without a password file is UNKNOWN with advice")
  {
    FakeStream s("ENTER PASSWORD:");
    auto o = openvpn::query(s, "/run/openvpn.mgmt", std::nullopt, "openvpn", 0, {});
    CHECK(o.status == Observation::Status::Failed);
    CHECK(o.hint.find("--management-password-file") != std::string::npos);
  }
  SUBCASE("a wrong password is UNKNOWN")
  {
    FakeStream s("ENTER PASSWORD:ERROR: bad password\r\n");
    auto o = openvpn::query(s, "/run/openvpn.mgmt", std::string("nope"), "openvpn", 0, {});
    CHECK(o.status == Observation::Status::Failed);
    CHECK(o.error.find("refused") != std::string::npos);
  }
  SUBCASE("not OpenVPN, silent, or without END")
  {
    FakeStream g("SSH-2.0-OpenSSH_9.2\r\n");
    CHECK(openvpn::query(g, "x", std::nullopt, "o", 0, {}).error.find("not an OpenVPN") != std::string::npos);
    FakeStream silent("");
    CHECK(openvpn::query(silent, "x", std::nullopt, "o", 0, {}).status == Observation::Status::Failed);
    FakeStream noend(greeting + "1,CONNECTED,SUCCESS,,,\r\n");
    CHECK(openvpn::query(noend, "x", std::nullopt, "o", 0, {}).status == Observation::Status::Failed);
    FakeStream err(greeting + "ERROR: unknown command\r\n");
    CHECK(openvpn::query(err, "x", std::nullopt, "o", 0, {}).error.find("refused") != std::string::npos);
  }
}
