// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <string>

#include <pcap/pcap.h>

#include "check_tunnel_traffic/evaluate.hpp"
#include "check_tunnel_traffic/source_capture.hpp"
#include "fixture.hpp"
#include "sitelink/timeout.hpp"

using namespace sitelink;
using namespace sitelink::traffic;

namespace {
std::string fixture(const char* name)
{
  return sitelink::test::fixture_path(std::string("traffic/") + name);
}

const Address B = *Address::parse("192.0.2.2");

tl::expected<CaptureStats, std::string> read(const char* name, Tally& t)
{
  const Deadline deadline(60);
  return read_capture_file(fixture(name), ClassifyConfig{}, t, deadline, false);
}

Verdict verdict_of(const char* name)
{
  Tally t({B}, {});
  auto st = read(name, t);
  REQUIRE(st.has_value());
  return judge(t.peers()[0]).verdict;
}
} // namespace

TEST_CASE("traffic::read_capture_file")
{
  SUBCASE("verdicts of the recordings")
  {
    CHECK(verdict_of("ipsec-flowing.pcap") == Verdict::Flowing);
    CHECK(verdict_of("ipsec-flowing-sll2.pcap") == Verdict::Flowing);
    CHECK(verdict_of("ipsec-one-way-out.pcap") == Verdict::OneWayOut);
    CHECK(verdict_of("ike-unanswered.pcap") == Verdict::IkeUnanswered);
    CHECK(verdict_of("ike-handshake.pcap") == Verdict::Flowing);
    CHECK(verdict_of("wireguard-flowing.pcap") == Verdict::Flowing);
    CHECK(verdict_of("wireguard-handshake.pcap") == Verdict::Flowing);
    CHECK(verdict_of("wireguard-one-way-out.pcap") == Verdict::OneWayOut);
    CHECK(verdict_of("openvpn-flowing.pcap") == Verdict::Flowing);
    CHECK(verdict_of("openvpn-one-way-out.pcap") == Verdict::OneWayOut);
    CHECK(verdict_of("openvpn-one-way-in.pcap") == Verdict::OneWayIn);
    CHECK(verdict_of("idle.pcap") == Verdict::Idle);
  }
  SUBCASE("the window is the span of the packets")
  {
    Tally t({B}, {});
    auto st = read("ipsec-flowing.pcap", t);
    REQUIRE(st);
    REQUIRE(st->window);
    CHECK(*st->window == doctest::Approx(1.87).epsilon(0.05));
    CHECK(st->link == "EN10MB (1)");
    Tally e({B}, {});
    auto empty = read("idle.pcap", e);
    REQUIRE(empty);
    CHECK_FALSE(empty->window.has_value());
  }
  SUBCASE("damaged files name where they broke")
  {
    Tally t({B}, {});
    auto r = read("truncated-record.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("is damaged at packet 3 (byte offset 312)") != std::string::npos);
    CHECK(r.error().find("truncated dump file") != std::string::npos);
    r = read("corrupt-caplen.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("packet 2 (byte offset 168)") != std::string::npos);
    r = read("truncated-header.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("file header") != std::string::npos);
    r = read("not-a-capture.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("unknown file format") != std::string::npos);
    r = read("unsupported-link.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("IEEE802_11 (105), which is not decoded") != std::string::npos);
    r = read("no-such-file.pcap", t);
    REQUIRE_FALSE(r);
    CHECK(r.error().find("No such file or directory") != std::string::npos);
  }
}

TEST_CASE("traffic::link_type_of")
{
  CHECK(link_type_of(DLT_EN10MB) == LinkType::Ethernet);
  CHECK(link_type_of(DLT_LINUX_SLL) == LinkType::LinuxSll);
  CHECK(link_type_of(DLT_LINUX_SLL2) == LinkType::LinuxSll2);
  CHECK(link_type_of(DLT_RAW) == LinkType::Raw);
  CHECK(link_type_of(DLT_NULL) == LinkType::Null);
  CHECK_FALSE(link_type_of(DLT_IEEE802_11).has_value());
}
