// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <vector>

#include "check_cross_site_ping/packet.hpp"
#include "check_cross_site_ping/schedule.hpp"

using namespace sitelink::ping;

namespace {

// Turns a request into the reply a host would send: type 0/129, checksum
// recomputed for IPv4.
std::vector<std::uint8_t> as_reply(std::vector<std::uint8_t> p, bool ipv6)
{
  p[0] = ipv6 ? 129 : 0;
  p[2] = p[3] = 0;
  if (!ipv6) {
    auto c = inet_checksum(p.data(), p.size());
    p[2] = static_cast<std::uint8_t>(c >> 8);
    p[3] = static_cast<std::uint8_t>(c & 0xff);
  }
  return p;
}

std::vector<std::uint8_t> with_ipv4_header(const std::vector<std::uint8_t>& icmp, std::size_t ihl_words = 5)
{
  std::vector<std::uint8_t> p(ihl_words * 4, 0);
  p[0] = static_cast<std::uint8_t>(0x40 | ihl_words);
  p[9] = 1; // ICMP
  p.insert(p.end(), icmp.begin(), icmp.end());
  return p;
}

} // namespace

TEST_CASE("ping::packet: inet_checksum")
{
  // RFC 1071 example bytes: 0001 f203 f4f5 f6f7 -> sum ddf2 -> checksum 220d.
  const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(inet_checksum(data, sizeof data) == 0x220d);
  const std::uint8_t odd[] = {0x01};
  CHECK(inet_checksum(odd, 1) == static_cast<std::uint16_t>(~0x0100 & 0xffff));
  // A buffer that carries its own checksum sums to zero.
  auto req = build_echo_request(false, 0x1234, 7, EchoId{42, 1, 7});
  CHECK(inet_checksum(req.data(), req.size()) == 0);
}

TEST_CASE("ping::packet: build_echo_request")
{
  EchoId id{0x0102030405060708ULL, 9, 300};
  SUBCASE("IPv4")
  {
    auto p = build_echo_request(false, 0xbeef, 300, id);
    REQUIRE(p.size() == echo_header_size + echo_payload_size);
    CHECK(p[0] == 8);
    CHECK(p[1] == 0);
    CHECK(p[4] == 0xbe);
    CHECK(p[5] == 0xef);
    CHECK(p[6] == 0x01);
    CHECK(p[7] == 0x2c);
    CHECK(p[8] == 0x01);
    CHECK(p[15] == 0x08);
  }
  SUBCASE("IPv6 leaves the checksum to the kernel")
  {
    auto p = build_echo_request(true, 1, 2, id);
    CHECK(p[0] == 128);
    CHECK(p[2] == 0);
    CHECK(p[3] == 0);
  }
}

TEST_CASE("ping::packet: parse_echo_reply")
{
  EchoId id{0xfeedfacecafebeefULL, 3, 4};
  auto req4 = build_echo_request(false, 0x4242, 4, id);
  auto req6 = build_echo_request(true, 0x4242, 4, id);

  SUBCASE("IPv4 raw with IP header")
  {
    auto r = parse_echo_reply(false, true, with_ipv4_header(as_reply(req4, false)).data(),
                              with_ipv4_header(as_reply(req4, false)).size());
    REQUIRE(r.has_value());
    CHECK(r->ident == 0x4242);
    CHECK(r->seq == 4);
    CHECK(r->id.cookie == id.cookie);
    CHECK(r->id.target == 3);
    CHECK(r->id.probe == 4);
  }
  SUBCASE("IPv4 header with options")
  {
    auto p = with_ipv4_header(as_reply(req4, false), 7);
    CHECK(parse_echo_reply(false, true, p.data(), p.size()).has_value());
  }
  SUBCASE("IPv4 datagram socket, no IP header")
  {
    auto p = as_reply(req4, false);
    CHECK(parse_echo_reply(false, false, p.data(), p.size()).has_value());
  }
  SUBCASE("IPv6")
  {
    auto p = as_reply(req6, true);
    auto r = parse_echo_reply(true, false, p.data(), p.size());
    REQUIRE(r.has_value());
    CHECK(r->id.cookie == id.cookie);
  }
  SUBCASE("not replies")
  {
    // Our own request seen on loopback, other ICMP types, wrong family.
    CHECK_FALSE(parse_echo_reply(false, false, req4.data(), req4.size()).has_value());
    CHECK_FALSE(parse_echo_reply(true, false, req6.data(), req6.size()).has_value());
    auto unreach = as_reply(req4, false);
    unreach[0] = 3;
    CHECK_FALSE(parse_echo_reply(false, false, unreach.data(), unreach.size()).has_value());
    auto r6 = as_reply(req6, true);
    CHECK_FALSE(parse_echo_reply(false, false, r6.data(), r6.size()).has_value());
  }
  SUBCASE("malformed")
  {
    auto good = with_ipv4_header(as_reply(req4, false));
    auto bad_sum = good;
    bad_sum[30] ^= 0xff;
    CHECK_FALSE(parse_echo_reply(false, true, bad_sum.data(), bad_sum.size()).has_value());
    auto not_icmp = good;
    not_icmp[9] = 17;
    CHECK_FALSE(parse_echo_reply(false, true, not_icmp.data(), not_icmp.size()).has_value());
    auto bad_ihl = good;
    bad_ihl[0] = 0x41; // a 4-byte IP header is below the minimum
    CHECK_FALSE(parse_echo_reply(false, true, bad_ihl.data(), bad_ihl.size()).has_value());
    for (std::size_t n : {0UL, 1UL, 19UL, 20UL, 27UL, 43UL}) {
      CAPTURE(n);
      CHECK_FALSE(parse_echo_reply(false, true, good.data(), n).has_value());
    }
    auto r = as_reply(req4, false);
    CHECK_FALSE(parse_echo_reply(false, false, r.data(), 23).has_value());
    auto code = as_reply(req6, true);
    code[1] = 1;
    CHECK_FALSE(parse_echo_reply(true, false, code.data(), code.size()).has_value());
  }
}

TEST_CASE("ping::packet: find_echo_id: our payload in the copy of a sent packet, whatever the headers before it")
{
  const EchoId id{0x0123456789abcdefULL, 42, 7};
  const auto req = build_echo_request(true, 0x1234, 7, id);
  for (std::size_t headers : {0u, 14u, 54u, 62u}) { // none, Ethernet, Ethernet + IPv6, + an extension
    CAPTURE(headers);
    std::vector<std::uint8_t> copy(headers, 0xab);
    copy.insert(copy.end(), req.begin(), req.end());
    auto got = find_echo_id(copy.data(), copy.size(), id.cookie);
    REQUIRE(got);
    CHECK(got->cookie == id.cookie);
    CHECK(got->target == 42);
    CHECK(got->probe == 7);
    // Another run's cookie is not ours.
    CHECK_FALSE(find_echo_id(copy.data(), copy.size(), id.cookie ^ 1));
    // Cut inside the target/probe fields: not enough to name the probe.
    const std::size_t cut = headers + echo_header_size + 12;
    CHECK_FALSE(find_echo_id(copy.data(), cut, id.cookie));
  }
  CHECK_FALSE(find_echo_id(nullptr, 0, id.cookie));
}

TEST_CASE("ping::packet: send_offset_ns")
{
  SUBCASE("targets are spread over the interval")
  {
    CHECK(send_offset_ns(0, 0, 4, 100) == 0);
    CHECK(send_offset_ns(0, 1, 4, 100) == 25);
    CHECK(send_offset_ns(0, 3, 4, 100) == 75);
    CHECK(send_offset_ns(2, 3, 4, 100) == 275);
  }
  SUBCASE("the last probe leaves within n x interval")
  {
    const long long interval = 100'000'000;
    CHECK(send_offset_ns(4, 999, 1000, interval) < 5 * interval);
    CHECK(send_offset_ns(4, 0, 1, interval) == 4 * interval);
    CHECK(send_offset_ns(1, 0, 0, interval) == interval);
  }
}
