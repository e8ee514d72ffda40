// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <vector>

#include "check_cross_site_ping/evaluate.hpp"
#include "check_cross_site_ping/packet.hpp"
#include "check_cross_site_ping/pmtu.hpp"

using namespace sitelink::ping;
using sitelink::State;

namespace {

// A sock_extended_err with an optional offender, as the kernel queues it.
std::vector<std::uint8_t> ee_bytes(std::uint8_t origin, std::uint8_t type, std::uint8_t code, std::uint32_t info,
                                   const char* offender, int family)
{
  sock_extended_err e{};
  e.ee_errno = EMSGSIZE;
  e.ee_origin = origin;
  e.ee_type = type;
  e.ee_code = code;
  e.ee_info = info;
  std::vector<std::uint8_t> out(sizeof e);
  std::memcpy(out.data(), &e, sizeof e);
  if (!offender) return out;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    REQUIRE(inet_pton(AF_INET, offender, &a.sin_addr) == 1);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&a);
    out.insert(out.end(), p, p + sizeof a);
  } else {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    REQUIRE(inet_pton(AF_INET6, offender, &a.sin6_addr) == 1);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&a);
    out.insert(out.end(), p, p + sizeof a);
  }
  return out;
}

// A simulated path: sizes up to `mtu` cross; larger ones get a signal from
// `hop` when `signals`, else vanish. Returns the finished search.
PmtuFinding simulate(int floor, int top, int mtu, bool signals, std::vector<int>* losses = nullptr)
{
  PmtuSearch s(floor, top);
  for (auto sizes = s.next_round(); !sizes.empty(); sizes = s.next_round()) {
    for (int size : sizes) {
      const bool lost = losses && !losses->empty() && losses->front() == size;
      if (lost) losses->erase(losses->begin());
      if (size <= mtu && !lost) s.answered(size);
      else if (size > mtu && signals) s.signalled(PathSignal{PathSignal::Kind::frag_needed, mtu, "10.99.0.1"});
    }
    s.end_round();
  }
  return s.finding();
}

TargetObservation answered_target(int replies = 5)
{
  TargetObservation t;
  t.name = "10.102.0.10";
  t.address = "10.102.0.10";
  t.sent = 5;
  for (int i = 0; i < 5; ++i) t.rtt_ms.push_back(i < replies ? std::optional<double>(1.0) : std::nullopt);
  return t;
}

} // namespace

TEST_CASE("ping::pmtu: size_ladder spreads distinct sizes up to hi")
{
  auto l = size_ladder(84, 1500, 16);
  REQUIRE(l.size() == 16);
  CHECK(l.front() > 84);
  CHECK(l.back() == 1500);
  for (std::size_t i = 1; i < l.size(); ++i) {
    CHECK(l[i] > l[i - 1]);
    CHECK(l[i] - l[i - 1] <= 89); // ceil(1416 / 16)
  }
  CHECK(size_ladder(1400, 1405, 16) == std::vector<int>{1401, 1402, 1403, 1404, 1405});
  CHECK(size_ladder(1500, 1500, 16).empty());
  CHECK(size_ladder(1500, 1400, 16).empty());
  CHECK(size_ladder(0, 1000, 0).empty());
  CHECK(size_ladder(60000, 70000, 4).back() == max_packet_size);
}

TEST_CASE("ping::pmtu: packet and payload sizes")
{
  CHECK(echo_packet_size(false, 56) == 84);
  CHECK(echo_packet_size(true, 56) == 104);
  CHECK(echo_payload_for(false, 1500) == 1472);
  CHECK(echo_payload_for(true, 1500) == 1452);
  CHECK(echo_payload_for(false, 20) == 0);
  CHECK(build_echo_request(false, 1, 2, EchoId{}, 1472).size() == 1480);
  CHECK(build_echo_request(true, 1, 2, EchoId{}, 3).size() == echo_header_size + echo_min_payload);
}

TEST_CASE("ping::pmtu: a silent black hole is found to the byte in at most three rounds")
{
  for (int mtu : {1280, 1300, 1371, 1419, 1420, 1499}) {
    CAPTURE(mtu);
    auto f = simulate(84, 1500, mtu, false);
    CHECK(f.rounds <= pmtu_max_rounds);
    CHECK(f.largest_passed == mtu);
    REQUIRE(f.smallest_lost);
    CHECK(*f.smallest_lost == mtu + 1);
    CHECK_FALSE(f.signalled_mtu);
  }
}

TEST_CASE("ping::pmtu: a signalled MTU is confirmed in two rounds; a healthy path in one")
{
  auto f = simulate(84, 1500, 1300, true);
  CHECK(f.rounds == 2);
  CHECK(f.largest_passed == 1300);
  CHECK(f.signalled_mtu == 1300);
  CHECK(f.hop == "10.99.0.1");
  auto ok = simulate(84, 1400, 1500, false);
  CHECK(ok.rounds == 1);
  CHECK(ok.largest_passed == 1400);
  CHECK(ok.probes == 16 * pmtu_copies);
  CHECK(simulate(1500, 1400, 9000, false).rounds == 0); // the echo probes already carry EXPECTED
}

TEST_CASE("ping::pmtu: a lost rung below a passing size is loss, not the MTU")
{
  std::vector<int> losses = size_ladder(84, 1500, 16);
  losses.resize(3); // the three smallest rungs of round 1 lost
  auto f = simulate(84, 1500, 1500, false, &losses);
  CHECK(f.largest_passed == 1500);
  CHECK_FALSE(f.smallest_lost);
}

TEST_CASE("ping::pmtu: signals contradicted by a size that crossed are ignored")
{
  PmtuSearch s(84, 1500);
  s.next_round();
  s.answered(1400);
  s.signalled(PathSignal{PathSignal::Kind::frag_needed, 1300, "192.0.2.1"});
  CHECK_FALSE(s.finding().signalled_mtu);
  s.signalled(PathSignal{PathSignal::Kind::frag_needed, 1450, "192.0.2.1"});
  s.signalled(PathSignal{PathSignal::Kind::frag_needed, 1460, "192.0.2.2"}); // larger: the first stays
  CHECK(s.finding().signalled_mtu == 1450);
  CHECK(s.finding().hop == "192.0.2.1");
}

TEST_CASE("ping::pmtu: parse_path_error reads frag-needed, packet-too-big and local EMSGSIZE")
{
  auto v4 = ee_bytes(SO_EE_ORIGIN_ICMP, 3, 4, 1300, "10.99.0.1", AF_INET);
  auto s = parse_path_error(SOL_IP, IP_RECVERR, v4.data(), v4.size());
  REQUIRE(s);
  CHECK(s->kind == PathSignal::Kind::frag_needed);
  CHECK(s->mtu == 1300);
  CHECK(s->hop == "10.99.0.1");

  auto v6 = ee_bytes(SO_EE_ORIGIN_ICMP6, 2, 0, 1380, "fd00:99::1", AF_INET6);
  s = parse_path_error(SOL_IPV6, IPV6_RECVERR, v6.data(), v6.size());
  REQUIRE(s);
  CHECK(s->kind == PathSignal::Kind::packet_too_big);
  CHECK(s->mtu == 1380);
  CHECK(s->hop == "fd00:99::1");

  auto local = ee_bytes(SO_EE_ORIGIN_LOCAL, 0, 0, 1400, nullptr, 0);
  s = parse_path_error(SOL_IP, IP_RECVERR, local.data(), local.size());
  REQUIRE(s);
  CHECK(s->kind == PathSignal::Kind::local_too_big);
  CHECK(s->hop.empty());
}

TEST_CASE("ping::pmtu: parse_path_error refuses hostile and truncated errors")
{
  auto good = ee_bytes(SO_EE_ORIGIN_ICMP, 3, 4, 1300, "10.99.0.1", AF_INET);
  for (std::size_t n = 0; n < good.size(); ++n) CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, good.data(), n));
  CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, nullptr, 100));
  CHECK_FALSE(parse_path_error(SOL_IPV6, IPV6_RECVERR, good.data(), good.size())); // ICMPv4 origin on IPv6
  CHECK_FALSE(parse_path_error(SOL_SOCKET, IP_RECVERR, good.data(), good.size()));
  auto mtu0 = ee_bytes(SO_EE_ORIGIN_ICMP, 3, 4, 0, "10.99.0.1", AF_INET); // RFC 1191 "no MTU"
  CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, mtu0.data(), mtu0.size()));
  auto huge = ee_bytes(SO_EE_ORIGIN_ICMP, 3, 4, 0xffffffffu, "10.99.0.1", AF_INET);
  CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, huge.data(), huge.size()));
  auto small6 = ee_bytes(SO_EE_ORIGIN_ICMP6, 2, 0, 1000, "fd00:99::1", AF_INET6); // below 1280
  CHECK_FALSE(parse_path_error(SOL_IPV6, IPV6_RECVERR, small6.data(), small6.size()));
  auto unreach = ee_bytes(SO_EE_ORIGIN_ICMP, 3, 1, 1300, "10.99.0.1", AF_INET); // host unreachable
  CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, unreach.data(), unreach.size()));
  auto stamp = ee_bytes(SO_EE_ORIGIN_TIMESTAMPING, 0, 0, 1300, nullptr, 0);
  CHECK_FALSE(parse_path_error(SOL_IP, IP_RECVERR, stamp.data(), stamp.size()));
  auto wrong_family = ee_bytes(SO_EE_ORIGIN_ICMP6, 2, 0, 1380, "10.99.0.1", AF_INET); // v4 offender, short
  CHECK_FALSE(parse_path_error(SOL_IPV6, IPV6_RECVERR, wrong_family.data(), wrong_family.size()));
}

TEST_CASE("ping::pmtu: judge_pmtu verdicts")
{
  auto t = answered_target();
  CHECK_FALSE(judge_pmtu(t, 1400));
  t.pmtu = simulate(84, 1400, 1500, false);
  auto v = judge_pmtu(t, 1400);
  REQUIRE(v);
  CHECK(v->state == State::Ok);

  t.pmtu = simulate(84, 1400, 1300, true);
  v = judge_pmtu(t, 1400);
  CHECK(v->state == State::Warning);
  CHECK(v->reason == "path MTU 1300, signalled by 10.99.0.1 (expected 1400)");

  t.pmtu = simulate(84, 1400, 1322, false);
  v = judge_pmtu(t, 1400);
  CHECK(v->state == State::Critical);
  CHECK(v->reason == "MTU black hole: packets above 1322 bytes are dropped without notice; TCP sessions that send "
                     "full-size segments will hang");
  CHECK(v->detail.find("clamp the TCP MSS on the tunnel to 1282") != std::string::npos);
  CHECK(v->detail.find("fragmentation-needed") != std::string::npos);
}

TEST_CASE("ping::pmtu: evaluate keeps the echo probes' CRITICAL over an MTU warning, and adds '<host>_pmtu'")
{
  Observation obs;
  obs.targets.push_back(answered_target(1)); // 80% loss: CRITICAL by the default -c
  obs.targets.back().pmtu = simulate(84, 1400, 1300, true);
  Policy p;
  p.mtu_expected = 1400;
  auto r = evaluate(obs, p);
  CHECK(r.state == State::Critical);
  CHECK(r.summary.find("loss 80%") != std::string::npos);
  CHECK(r.summary.find("path MTU 1300, signalled by 10.99.0.1") != std::string::npos);
  bool label = false;
  for (const auto& d : r.perfdata)
    if (d.label == "10_102_0_10_pmtu") label = d.value == 1300.0;
  CHECK(label);

  obs.targets.back() = answered_target();
  obs.targets.back().pmtu = simulate(84, 1400, 1300, true);
  r = evaluate(obs, p);
  CHECK(r.state == State::Warning);
}

TEST_CASE("ping::evaluate: DF probes refused as too big are not loss")
{
  Observation obs;
  TargetObservation t;
  t.name = "10.102.0.10";
  t.address = "10.102.0.10";
  t.rtt_ms.assign(5, std::nullopt);
  t.too_big = 5;
  t.probe_size = 1428;
  t.known_mtu = 1300;
  obs.targets.push_back(t);
  auto r = evaluate(obs, Policy{});
  CHECK(r.state == State::Warning);
  CHECK(r.summary == "10.102.0.10: probes of 1428 bytes are too big for the known path MTU 1300 bytes");
}

TEST_CASE("ping::evaluate: early DF probes lost before the kernel learned the MTU, the rest refused: too big")
{
  Observation obs;
  TargetObservation t;
  t.name = "fd00:102::10";
  t.address = "fd00:102::10";
  t.sent = 1;
  t.rtt_ms = {std::nullopt, std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  t.too_big = 4;
  t.probe_size = 1400;
  t.known_mtu = 1300;
  obs.targets.push_back(t);
  auto r = evaluate(obs, Policy{});
  CHECK(r.state == State::Warning);
  CHECK(r.summary.find("too big for the known path MTU 1300 bytes") != std::string::npos);
  // One reply: measured normally, the refusals do not turn loss into a size verdict.
  obs.targets[0].rtt_ms[0] = 1.0;
  r = evaluate(obs, Policy{});
  CHECK(r.summary.find("too big") == std::string::npos);
}
