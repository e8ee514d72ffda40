// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <algorithm>

#include "check_tunnel_traffic/evaluate.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::traffic;

namespace {
const Address A = *Address::parse("192.0.2.1");
const Address B = *Address::parse("192.0.2.2");

Classified pkt(bool out, Proto p, IkeRole role = IkeRole::None)
{
  Classified c;
  c.decode = Decode::Ok;
  c.proto = p;
  c.ike = role;
  c.src = out ? A : B;
  c.dst = out ? B : A;
  c.ip_length = 100;
  return c;
}

Tally tally_of(std::initializer_list<Classified> pkts, int repeat = 1)
{
  Tally t({B}, {});
  for (int i = 0; i < repeat; ++i)
    for (const auto& c : pkts) t.add(c);
  return t;
}

bool has_line(const Result& r, const std::string& prefix)
{
  return std::any_of(r.details.begin(), r.details.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
}
} // namespace

TEST_CASE("traffic::judge")
{
  using V = Verdict;
  auto verdict = [](Tally t) { return judge(t.peers()[0]).verdict; };
  CHECK(verdict(tally_of({})) == V::Idle);
  CHECK(verdict(tally_of({pkt(true, Proto::Esp), pkt(false, Proto::Esp)})) == V::Flowing);
  CHECK(verdict(tally_of({pkt(true, Proto::Esp)})) == V::OneWayOut);
  CHECK(verdict(tally_of({pkt(false, Proto::WireGuard)})) == V::OneWayIn);
  CHECK(verdict(tally_of({pkt(true, Proto::Ike, IkeRole::Request)})) == V::IkeUnanswered);
  // Both sides asking, nobody answering: still unanswered.
  CHECK(verdict(tally_of({pkt(true, Proto::Ike, IkeRole::Request), pkt(false, Proto::Ike, IkeRole::Request)})) ==
        V::IkeUnanswered);
  // ESP still leaving with unanswered DPD: the SA exists, the return path is gone.
  CHECK(verdict(tally_of({pkt(true, Proto::Esp), pkt(true, Proto::Ike, IkeRole::Request)})) == V::OneWayOut);
  // Answered IKE only (DPD on an idle tunnel) is traffic both ways.
  CHECK(verdict(tally_of({pkt(true, Proto::Ike, IkeRole::Request), pkt(false, Proto::Ike, IkeRole::Response)})) ==
        V::Flowing);
  // The peer asks and we answer: one-way neither.
  CHECK(verdict(tally_of({pkt(false, Proto::Ike, IkeRole::Request), pkt(true, Proto::Ike, IkeRole::Response)})) ==
        V::Flowing);
  // Keepalives and unrecognised packets do not make a tunnel alive.
  CHECK(verdict(tally_of({pkt(true, Proto::NatKeepalive), pkt(false, Proto::Other)})) == V::Idle);
  SUBCASE("the worst family wins, and names itself")
  {
    auto t = tally_of({pkt(true, Proto::WireGuard), pkt(false, Proto::WireGuard), pkt(true, Proto::Esp)});
    auto j = judge(t.peers()[0]);
    CHECK(j.verdict == V::OneWayOut);
    CHECK(j.kind == Kind::Ipsec);
    CHECK(j.active.size() == 2);
    CHECK(judge(t.peers()[0], Kind::WireGuard) == V::Flowing);
    CHECK(judge(t.peers()[0], Kind::OpenVpn) == V::Idle);
  }
}

TEST_CASE("traffic::evaluate")
{
  Policy policy;
  SUBCASE("flowing: OK with rates over the window")
  {
    Observation o{"on wan1", 5.0, tally_of({pkt(true, Proto::Esp), pkt(false, Proto::Esp)}, 10), std::nullopt,
                  std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "192.0.2.2 IPsec flowing: 2 pkt/s out, 2 pkt/s in");
    CHECK(render_perfdata(r.perfdata) ==
          "192_0_2_2_out_pps=2;;;0 192_0_2_2_in_pps=2;;;0 192_0_2_2_out_Bps=200;;;0 "
          "192_0_2_2_in_Bps=200;;;0 192_0_2_2_ike_requests_out=0;;;0 192_0_2_2_ike_responses_in=0;;;0 "
          "192_0_2_2_ike_requests_in=0;;;0 192_0_2_2_ike_responses_out=0;;;0");
    CHECK(has_line(r, "192.0.2.2 out: ESP 10"));
    CHECK(has_line(r, "20 frames on wan1 in 5 s"));
  }
  SUBCASE("one-way out: CRITICAL with the return-path hint")
  {
    Observation o{"on wan1", 5.0, tally_of({pkt(true, Proto::Esp)}, 7), std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "192.0.2.2 IPsec one-way out: 7 packets sent, none received in 5 s");
    CHECK(has_line(r, "Check: the peer receives our packets"));
  }
  SUBCASE("one-way in: WARNING")
  {
    Observation o{"on wan1", 2.0, tally_of({pkt(false, Proto::OpenVpn)}, 3), std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "192.0.2.2 OpenVPN one-way in: 3 packets received, none sent in 2 s");
  }
  SUBCASE("ike-unanswered: CRITICAL with the checklist")
  {
    Observation o{"on wan1", 5.0, tally_of({pkt(true, Proto::Ike, IkeRole::Request)}, 4), std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "192.0.2.2 IKE unanswered: 4 requests sent, no response in 5 s");
    CHECK(has_line(r, "Check: firewalls on the path allow UDP 500 and 4500"));
    CHECK(has_line(r, "Check: IKE and IPsec proposals and policies"));
    CHECK(has_line(r, "Check: both sides use the same pre-shared key"));
    CHECK(render_perfdata(r.perfdata).find("192_0_2_2_ike_requests_out=4;;;0") != std::string::npos);
  }
  SUBCASE("idle follows --idle-state, OK by default (a quiet link); the labels stay the same")
  {
    Observation o{"on wan1", 5.0, tally_of({}), std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "192.0.2.2 idle: no tunnel packets in 5 s");
    Observation busy{"on wan1", 5.0, tally_of({pkt(true, Proto::Esp)}), std::nullopt, std::nullopt};
    auto labels = [](const Result& x) {
      std::vector<std::string> l;
      for (const auto& p : x.perfdata) l.push_back(p.label);
      return l;
    };
    CHECK(labels(r) == labels(evaluate(busy, policy)));
    policy.idle_state = State::Warning;
    CHECK(evaluate(o, policy).state == State::Warning);
    policy.idle_state = State::Critical;
    CHECK(evaluate(o, policy).state == State::Critical);
  }
  SUBCASE("no peers named and nothing seen: one idle line, no perfdata")
  {
    Observation o{"on wan1", 5.0, Tally({}, {A}), std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "no tunnel traffic on wan1 in 5 s");
    CHECK(r.perfdata.empty());
  }
  SUBCASE("a window of unknown length: rates are U, counts are still told")
  {
    Observation o{"in capture file x", std::nullopt, tally_of({pkt(true, Proto::Esp), pkt(false, Proto::Esp)}),
                  std::nullopt, std::nullopt};
    auto r = evaluate(o, policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "192.0.2.2 IPsec flowing: 1 packets out, 1 packets in");
    CHECK(render_perfdata(r.perfdata).rfind("192_0_2_2_out_pps=U;;;0 192_0_2_2_in_pps=U;;;0", 0) == 0);
  }
  SUBCASE("packets sent too late in the window to be answered are no finding")
  {
    Tally t({B}, {});
    t.add(pkt(true, Proto::WireGuard), 1000.5);
    Observation late{"on wan1", 5.0, t, std::nullopt, 1001.0};
    auto r = evaluate(late, policy);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "192.0.2.2 idle: 1 packets sent in the last 1 s only, too late for an answer in 5 s");
    Tally early({B}, {});
    early.add(pkt(true, Proto::WireGuard), 998.0);
    early.add(pkt(true, Proto::WireGuard), 1000.5);
    CHECK(evaluate(Observation{"on wan1", 5.0, early, std::nullopt, 1001.0}, policy).state == State::Critical);
    Tally ike({B}, {});
    ike.add(pkt(true, Proto::Ike, IkeRole::Request), 1000.2);
    CHECK(judge(ike.peers()[0], Kind::Ipsec, 1000.0) == Verdict::Idle);
    CHECK(judge(ike.peers()[0], Kind::Ipsec, 1000.3) == Verdict::IkeUnanswered);
    CHECK(judge(ike.peers()[0], Kind::Ipsec) == Verdict::IkeUnanswered);
  }
  SUBCASE("kernel drops are reported")
  {
    Observation o{"on wan1", 5.0, tally_of({pkt(true, Proto::Esp), pkt(false, Proto::Esp)}), 12, std::nullopt};
    CHECK(has_line(evaluate(o, policy), "the kernel dropped 12 packets"));
  }
  SUBCASE("the worst peer sets the state and the summary")
  {
    Tally t({B, *Address::parse("198.51.100.2")}, {});
    t.add(pkt(true, Proto::Esp));
    t.add(pkt(false, Proto::Esp));
    policy.idle_state = State::Warning;
    auto r = evaluate(Observation{"on wan1", 1.0, t, std::nullopt, std::nullopt}, policy);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "198.51.100.2 idle: no tunnel packets in 1 s");
    CHECK(r.perfdata.size() == 16);
  }
}
