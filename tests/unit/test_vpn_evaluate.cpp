// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "check_vpn_tunnel_up/evaluate.hpp"

using namespace sitelink;
using namespace sitelink::vpn;

namespace {

Tunnel up(const std::string& name, std::optional<double> idle = std::nullopt)
{
  Tunnel t;
  t.name = name;
  t.state = TunnelState::Up;
  t.since = 100;
  t.last_inbound = idle;
  t.bytes_in = 1000;
  t.bytes_out = 2000;
  t.detail = "IKE ESTABLISHED";
  return t;
}

Tunnel down(const std::string& name, const std::string& detail = "no IKE SA")
{
  Tunnel t;
  t.name = name;
  t.state = TunnelState::Down;
  t.detail = detail;
  return t;
}

Observation read(std::vector<Tunnel> tunnels, std::vector<std::string> configured)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "charon";
  o.endpoint = "/run/charon.vici";
  o.tunnels = std::move(tunnels);
  o.configured = std::move(configured);
  return o;
}

Range range(const char* s)
{
  return Range::parse(s).value();
}

std::string perf(const Result& r)
{
  return render_perfdata(r.perfdata);
}

std::vector<std::string> labels(const Result& r)
{
  std::vector<std::string> out;
  for (const auto& p : r.perfdata) out.push_back(p.label);
  return out;
}

} // namespace

TEST_CASE("vpn::evaluate")
{
  const Observation both = read({up("dr-primary", 1), up("dr-secondary", 2)}, {"dr-primary", "dr-secondary"});

  SUBCASE("all configured up is OK with the default ranges")
  {
    auto r = evaluate(both, {});
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "2 of 2 tunnels up");
    CHECK(r.details.size() == 2);
    CHECK(r.details[0].rfind("dr-primary: up, IKE ESTABLISHED; up for 100 s; last inbound packet 1 s ago; "
                             "1000 B in, 2000 B out",
                             0) == 0);
    CHECK(perf(r).rfind("tunnels_up=2;2:;1:;0;2 tunnels_expected=2;;;0 'dr-primary_up'=1;;;0;1 "
                        "'dr-primary_in_idle'=1s;;;0 'dr-primary_bytes_in'=1000B;;;0 'dr-primary_bytes_out'=2000B;;;0",
                        0) == 0);
  }
  SUBCASE("lost redundancy is WARNING, nothing up is CRITICAL (the issue's example)")
  {
    auto one = read({up("dr-primary"), down("dr-secondary")}, {"dr-primary", "dr-secondary"});
    auto r = evaluate(one, {});
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 2 tunnels up: dr-secondary down (no IKE SA)");

    auto none = read({down("dr-primary")}, {"dr-primary"});
    Policy p;
    p.expected = {"dr-primary", "dr-secondary"};
    r = evaluate(none, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 2 tunnels up: dr-primary down (no IKE SA), dr-secondary missing");
    CHECK(perf(r).rfind("tunnels_up=0;2:;1:;0;2 ", 0) == 0);
    CHECK(r.details[1] == "dr-secondary: missing, not configured in charon");
  }
  SUBCASE("active/passive pair: -w 1:1 -c 1:")
  {
    Policy p;
    p.warn = range("1:1");
    p.crit = range("1:");
    auto r = evaluate(both, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "2 of 2 tunnels up (warning outside 1..1)");
    auto one = read({up("dr-primary"), down("dr-secondary")}, {"dr-primary", "dr-secondary"});
    CHECK(evaluate(one, p).state == State::Ok);
    auto none = read({down("dr-primary"), down("dr-secondary")}, {"dr-primary", "dr-secondary"});
    CHECK(evaluate(none, p).state == State::Critical);
  }
  SUBCASE("a configured tunnel without an entry is down, an unknown name missing")
  {
    Policy p;
    p.expected = {"dr-primary", "dr-secondary", "typo"};
    auto r = evaluate(read({up("dr-primary")}, {"dr-primary", "dr-secondary"}), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 3 tunnels up: dr-secondary down (configured, not established), typo missing");
  }
  SUBCASE("without --tunnel, unconfigured tunnels that exist are expected too")
  {
    auto r = evaluate(read({up("a"), up("orphan")}, {"a"}), {});
    CHECK(r.summary == "2 of 2 tunnels up");
  }
  SUBCASE("with --tunnel, other tunnels are listed but not judged")
  {
    Policy p;
    p.expected = {"dr-primary"};
    auto r = evaluate(both, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "1 of 1 tunnels up");
    CHECK(r.details.back().find("(not expected, ignored)") != std::string::npos);
    CHECK(labels(r).size() == 6);
  }
  SUBCASE("duplicate --tunnel names count once")
  {
    Policy p;
    p.expected = {"dr-primary", "dr-primary"};
    CHECK(evaluate(both, p).summary == "1 of 1 tunnels up");
  }
  SUBCASE("stale: silent longer than --stale is not up")
  {
    Policy p;
    p.stale = 3;
    auto o = read({up("dr-primary", 7.4), up("dr-secondary", 3)}, {"dr-primary", "dr-secondary"});
    auto r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 2 tunnels up: dr-primary stale (nothing received for 7 s, limit 3 s)");
    CHECK(perf(r).find("'dr-primary_up'=0;;;0;1 'dr-primary_in_idle'=7s") != std::string::npos);
    CHECK(r.details[0] == "dr-primary: stale, nothing received for 7 s, limit 3 s; the daemon still reports: "
                          "IKE ESTABLISHED; last inbound packet 7 s ago; 1000 B in, 2000 B out");
  }
  SUBCASE("stale is off by default and ignores unknown idle times")
  {
    auto o = read({up("x", 5000), up("y")}, {"x", "y"});
    CHECK(evaluate(o, {}).state == State::Ok);
    Policy p;
    p.stale = 3;
    CHECK(evaluate(read({up("y")}, {"y"}), p).state == State::Ok);
  }
  SUBCASE("WireGuard handshake age")
  {
    Tunnel fresh = up("site-b");
    fresh.handshake_age = 100;
    Tunnel old = up("site-c");
    old.handshake_age = 181;
    Tunnel never = down("site-d", "no handshake yet");
    auto o = read({fresh, old, never}, {"site-b", "site-c", "site-d"});
    o.has_handshakes = true;
    Policy p;
    p.handshake_limit = 180;
    auto r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary ==
          "1 of 3 tunnels up: site-c stale (last handshake 181 s ago, limit 180 s), site-d down (no handshake yet)");
    CHECK(perf(r).find("'site-b_handshake_age'=100s;;;0") != std::string::npos);
    CHECK(perf(r).find("'site-d_handshake_age'=U;;;0") != std::string::npos);
  }
  SUBCASE("connecting counts as down")
  {
    Tunnel c = down("x", "IKE CONNECTING");
    c.state = TunnelState::Connecting;
    auto r = evaluate(read({c}, {"x"}), {});
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: x connecting (IKE CONNECTING)");
  }
  SUBCASE("perfdata labels are the same in every state")
  {
    Policy p;
    p.expected = {"dr-primary", "dr-secondary"};
    auto ok = evaluate(both, p);
    auto crit = evaluate(read({}, {}), p);
    Observation gone;
    gone.status = Observation::Status::DaemonDown;
    gone.daemon = "charon";
    auto dd = evaluate(gone, p);
    Observation err;
    err.status = Observation::Status::Failed;
    auto unk = evaluate(err, p);
    CHECK(labels(ok) == labels(crit));
    CHECK(labels(ok) == labels(dd));
    CHECK(labels(ok) == labels(unk));
  }
  SUBCASE("daemon down is CRITICAL whatever the ranges")
  {
    Observation o;
    o.status = Observation::Status::DaemonDown;
    o.daemon = "charon";
    o.error = "no socket at /run/charon.vici";
    Policy p;
    p.crit = range("0:");
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "charon is not running (no socket at /run/charon.vici): no tunnel can be up");
    CHECK(perf(r) == "tunnels_up=0;;0:;0 tunnels_expected=U;;;0");
    p.expected = {"a"};
    r = evaluate(o, p);
    CHECK(r.summary == "0 of 1 tunnels up: charon is not running (no socket at /run/charon.vici)");
    CHECK(r.details == std::vector<std::string>{"a: down, charon is not running"});
  }
  SUBCASE("permission and protocol failures are UNKNOWN with the hint")
  {
    Observation o;
    o.status = Observation::Status::NoPermission;
    o.daemon = "charon";
    o.endpoint = "/run/charon.vici";
    o.error = "permission denied";
    o.hint = "run the check as a member of group 'vici'";
    Policy p;
    p.expected = {"a"};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "cannot read charon at /run/charon.vici: permission denied");
    CHECK(r.details.back() == o.hint);
    CHECK(perf(r) == "tunnels_up=U;1:;1:;0;1 tunnels_expected=1;;;0 a_up=U;;;0;1 a_in_idle=U;;;0 "
                     "a_bytes_in=U;;;0 a_bytes_out=U;;;0");
  }
  SUBCASE("nothing configured and nothing named is UNKNOWN")
  {
    auto r = evaluate(read({}, {}), {});
    CHECK(r.state == State::Unknown);
    CHECK(r.summary.find("no tunnels configured") != std::string::npos);
  }
  SUBCASE("hostile names are sanitised and shortened in the text")
  {
    auto r = evaluate(read({down(std::string("ev|il\nname") + std::string(100, 'x'))}, {}), {});
    CHECK(r.summary.find('\n') == std::string::npos);
    CHECK(r.summary.find('|') == std::string::npos);
    CHECK(r.summary.find(std::string(70, 'x')) == std::string::npos);
  }
}

namespace {

// An established strongSwan tunnel with both packet ages (absent: none).
Tunnel swan(const std::string& name, std::optional<double> in, std::optional<double> out)
{
  Tunnel t = up(name, in);
  t.last_outbound = out;
  t.reports_outbound = true;
  return t;
}

// A WireGuard peer with a handshake `age` s ago and a keepalive (absent: not reported).
Tunnel peer(const std::string& name, double age, std::optional<double> keepalive)
{
  Tunnel t = up(name);
  t.since.reset();
  t.handshake_age = age;
  t.keepalive = keepalive;
  t.detail = "endpoint 192.0.2.2:51820";
  return t;
}

Observation peers(std::vector<Tunnel> tunnels)
{
  std::vector<std::string> names;
  for (const auto& t : tunnels) names.push_back(t.name);
  Observation o = read(std::move(tunnels), names);
  o.daemon = "wireguard-go";
  o.has_handshakes = true;
  return o;
}

} // namespace

TEST_CASE("vpn::judge_silence")
{
  using S = Silence;
  const std::nullopt_t none = std::nullopt;
  struct Row {
    std::optional<double> in, out;
    bool reports_outbound;
    Silence expected;
    const char* why;
  };
  // --stale 30 throughout.
  const Row rows[] = {
      // A daemon with no outbound figure (OpenVPN server's Last Ref): inbound silence alone.
      {none, none, false, S::Fresh, "no figures: nothing to judge"},
      {0, none, false, S::Fresh, "just heard from"},
      {30, none, false, S::Fresh, "exactly the limit is not more than it"},
      {31, none, false, S::Stale, "silent past the limit"},
      {31, 0, false, S::Stale, "an outbound age it does not report is not looked at"},
      {31, 100, false, S::Stale, "idle or not, silent is stale without an outbound figure"},
      {none, 0, false, S::Fresh, "unknown inbound age"},
      // strongSwan: use-in and use-out.
      {none, none, true, S::Fresh, "no inbound age: nothing to judge"},
      {none, 0, true, S::Fresh, "sending, inbound age unknown: nothing to judge"},
      {none, 100, true, S::Fresh, "both old, inbound age unknown"},
      {0, none, true, S::Fresh, "receiving, never sent"},
      {0, 0, true, S::Fresh, "both ways just now"},
      {0, 100, true, S::Fresh, "receiving only"},
      {10, 0, true, S::Fresh, "within the limit while sending"},
      {30, 0, true, S::Fresh, "exactly the limit while sending"},
      {30.5, 0, true, S::Stale, "a fraction past the limit while sending"},
      {31, 0, true, S::Stale, "sending, nothing back for longer than the limit: dead path"},
      {31, 1, true, S::Stale, "a steady ping into a black hole"},
      {31, 29, true, S::Stale, "sent within the limit, after the last inbound packet"},
      {31, 30, true, S::Idle, "sent one second after the last inbound packet: its answer"},
      {31, 31, true, S::Idle, "last packets both ways in the same second"},
      {31, 32, true, S::Idle, "the last packet was inbound"},
      {31, 100, true, S::Idle, "the last packet was inbound long after the last outbound one"},
      {31, none, true, S::Idle, "nothing ever sent, nothing received for longer than the limit"},
      {45, 50, true, S::Idle, "the issue's quiet DR link: 45 s in, 50 s out"},
      {60, 45, true, S::Stale, "sent 15 s after the last inbound packet, not within the limit, never answered"},
      {60, 58, true, S::Stale, "sent 2 s after the last inbound packet: a request, not an answer"},
      {60, 59, true, S::Idle, "sent within the answer slack after the last inbound packet"},
      {60, 60, true, S::Idle, "silent both ways since the same second"},
      {60, 61, true, S::Idle, "silent both ways, the last packet inbound"},
      {3600, 0, true, S::Stale, "an hour without an answer while sending"},
      {3600, 3600, true, S::Idle, "an hour silent both ways"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.why);
    CHECK(judge_silence(r.in, r.out, r.reports_outbound, 30) == r.expected);
  }
  SUBCASE("the limit is the caller's")
  {
    CHECK(judge_silence(4, 0, true, 3) == S::Stale);
    CHECK(judge_silence(4, 0, true, 5) == S::Fresh);
    CHECK(judge_silence(4, none, true, 3) == S::Idle);
  }
}

TEST_CASE("vpn::evaluate --stale with inbound and outbound ages")
{
  Policy p;
  p.stale = 30;
  SUBCASE("a quiet link is idle: up and OK, saying for how long (the issue's 3 a.m. page)")
  {
    auto r = evaluate(read({swan("s2s", 45, 50)}, {"s2s"}), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "1 of 1 tunnels up; s2s: idle for 45 s");
    CHECK(r.details[0] == "s2s: up, IKE ESTABLISHED, idle for 45 s; up for 100 s; last inbound packet 45 s ago; "
                          "last outbound packet 50 s ago; 1000 B in, 2000 B out");
    CHECK(perf(r).find("s2s_up=1;;;0;1") != std::string::npos);
    CHECK(perf(r).rfind("tunnels_up=1;1:;1:;0;1 ", 0) == 0);
  }
  SUBCASE("idle for the shorter of the two silences; nothing ever sent is idle for the inbound one")
  {
    CHECK(evaluate(read({swan("s2s", 50, 49.6)}, {"s2s"}), p).summary == "1 of 1 tunnels up; s2s: idle for 50 s");
    CHECK(evaluate(read({swan("s2s", 80, 200)}, {"s2s"}), p).summary == "1 of 1 tunnels up; s2s: idle for 80 s");
    CHECK(evaluate(read({swan("s2s", 40, std::nullopt)}, {"s2s"}), p).summary ==
          "1 of 1 tunnels up; s2s: idle for 40 s");
  }
  SUBCASE("--idle-state makes idle WARNING or CRITICAL where constant traffic is expected")
  {
    p.idle_state = State::Warning;
    auto r = evaluate(read({swan("s2s", 45, 50)}, {"s2s"}), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 1 tunnels up; s2s: idle for 45 s");
    p.idle_state = State::Critical;
    CHECK(evaluate(read({swan("s2s", 45, 50)}, {"s2s"}), p).state == State::Critical);
    p.idle_state = State::Unknown;
    CHECK(evaluate(read({swan("s2s", 45, 50)}, {"s2s"}), p).state == State::Unknown);
    // A fresh tunnel is not idle, whatever --idle-state says.
    CHECK(evaluate(read({swan("s2s", 2, 50)}, {"s2s"}), p).state == State::Ok);
  }
  SUBCASE("one-way silence is stale: not up, saying what was sent")
  {
    auto r = evaluate(read({swan("s2s", 33, 0.4)}, {"s2s"}), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: s2s stale (nothing received for 33 s but sent 0 s ago, limit 30 s)");
    CHECK(r.details[0] == "s2s: stale, nothing received for 33 s but sent 0 s ago, limit 30 s; the daemon still "
                          "reports: IKE ESTABLISHED; last inbound packet 33 s ago; last outbound packet 0 s ago; "
                          "1000 B in, 2000 B out");
    CHECK(perf(r).find("s2s_up=0;;;0;1 s2s_in_idle=33s") != std::string::npos);
  }
  SUBCASE("stale, idle and down tunnels side by side")
  {
    auto o = read({swan("a", 45, 50), swan("b", 40, 1), down("c")}, {"a", "b", "c"});
    auto r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary ==
          "1 of 3 tunnels up: b stale (nothing received for 40 s but sent 1 s ago, limit 30 s), c down (no IKE SA); "
          "a: idle for 45 s");
    p.idle_state = State::Critical;
    CHECK(evaluate(o, p).state == State::Critical);
  }
  SUBCASE("idle together with a count outside the ranges keeps the range note")
  {
    p.warn = range("1:1");
    auto r = evaluate(read({swan("a", 45, 50), swan("b", 1, 1)}, {"a", "b"}), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "2 of 2 tunnels up (warning outside 1..1); a: idle for 45 s");
  }
  SUBCASE("without --stale nothing is idle or stale")
  {
    auto r = evaluate(read({swan("s2s", 4500, 5000), swan("t", 4500, 0)}, {"s2s", "t"}), {});
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "2 of 2 tunnels up");
  }
  SUBCASE("a backend without an outbound figure keeps inbound silence as stale")
  {
    Tunnel client = up("client-1", 45);
    client.last_outbound = 50; // ignored: not reported as an outbound figure
    auto r = evaluate(read({client}, {"client-1"}), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: client-1 stale (nothing received for 45 s, limit 30 s)");
  }
  SUBCASE("a tunnel that is not established is judged by the daemon's state alone")
  {
    Tunnel c = swan("x", 100, 0);
    c.state = TunnelState::Connecting;
    c.detail = "IKE CONNECTING";
    auto r = evaluate(read({c}, {"x"}), p);
    CHECK(r.summary == "0 of 1 tunnels up: x connecting (IKE CONNECTING)");
  }
}

TEST_CASE("vpn::evaluate WireGuard peers with and without keepalive")
{
  Policy p;
  p.handshake_limit = 180;
  const std::string hint = "no handshake for 200 s and no keepalive set: idle or down, cannot tell; "
                           "set PersistentKeepalive on this peer";
  SUBCASE("no keepalive, old handshake: WARNING by default with the hint, counted as up")
  {
    auto r = evaluate(peers({peer("site-b", 200, 0)}), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 1 tunnels up; site-b: " + hint);
    CHECK(r.details[0] ==
          "site-b: up, endpoint 192.0.2.2:51820, " + hint + "; last handshake 200 s ago; 1000 B in, 2000 B out");
    CHECK(perf(r).find("'site-b_up'=1;;;0;1") != std::string::npos);
    CHECK(perf(r).find("'site-b_handshake_age'=200s;;;0") != std::string::npos);
  }
  SUBCASE("--no-keepalive-state sets that state")
  {
    for (State s : {State::Ok, State::Warning, State::Critical, State::Unknown}) {
      p.no_keepalive_state = s;
      CHECK(evaluate(peers({peer("site-b", 200, 0)}), p).state == s);
    }
  }
  SUBCASE("no keepalive, handshake within the limit: up, nothing to say")
  {
    auto r = evaluate(peers({peer("site-b", 100, 0)}), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "1 of 1 tunnels up");
  }
  SUBCASE("with keepalive, an old handshake is stale as before")
  {
    auto r = evaluate(peers({peer("site-b", 200, 5)}), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: site-b stale (last handshake 200 s ago, limit 180 s)");
    p.no_keepalive_state = State::Ok;
    CHECK(evaluate(peers({peer("site-b", 200, 5)}), p).state == State::Critical);
  }
  SUBCASE("a keepalive interval the daemon did not report: stale as before")
  {
    CHECK(evaluate(peers({peer("site-b", 200, std::nullopt)}), p).state == State::Critical);
  }
  SUBCASE("never completed a handshake: down, keepalive or not")
  {
    Tunnel never = down("never", "no handshake yet, no endpoint");
    never.keepalive = 0;
    p.no_keepalive_state = State::Ok;
    auto r = evaluate(peers({never}), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "0 of 1 tunnels up: never down (no handshake yet, no endpoint)");
  }
  SUBCASE("a cannot-tell peer next to a stale one")
  {
    auto r = evaluate(peers({peer("quiet", 200, 0), peer("dead", 300, 5)}), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "1 of 2 tunnels up: dead stale (last handshake 300 s ago, limit 180 s); quiet: " + hint);
  }
}

TEST_CASE("vpn::evaluate::per_tunnel_perfdata")
{
  std::vector<std::string> names;
  for (int i = 1; i <= 21; ++i) names.push_back("t" + std::to_string(100 + i));
  SUBCASE("up to 20 short names keep per-tunnel items; 21 do not")
  {
    CHECK(per_tunnel_perfdata({names.begin(), names.begin() + 20}, 5));
    CHECK_FALSE(per_tunnel_perfdata(names, 4));
  }
  SUBCASE("long names are cut off by size before the count")
  {
    std::vector<std::string> longs(10, std::string(100, 'n'));
    CHECK_FALSE(per_tunnel_perfdata(longs, 4));
    CHECK(per_tunnel_perfdata({std::string(500, 'n')}, 5));
  }
  SUBCASE("beyond the limit line 1 carries aggregates, the same labels in every state")
  {
    std::vector<Tunnel> ts;
    for (const auto& n : names) ts.push_back(up(n, 7));
    ts[3].last_inbound = 42.4;
    auto ok = evaluate(read(ts, names), {});
    CHECK(ok.state == State::Ok);
    CHECK(perf(ok) == "tunnels_up=21;21:;1:;0;21 tunnels_expected=21;;;0 in_idle_max=42s;;;0 bytes_in=21000B;;;0 "
                      "bytes_out=42000B;;;0");
    Observation gone;
    gone.status = Observation::Status::DaemonDown;
    gone.daemon = "charon";
    gone.error = "no socket at /x";
    Policy p;
    p.expected = names;
    auto down_r = evaluate(gone, p);
    CHECK(down_r.state == State::Critical);
    CHECK(labels(down_r) == labels(ok));
  }
  SUBCASE("the summary names the tunnels not up within 1 KiB, then counts the rest")
  {
    std::vector<std::string> many;
    for (int i = 0; i < 300; ++i) many.push_back(std::string(40, 'a') + std::to_string(1000 + i));
    Policy p;
    p.expected = many;
    auto r = evaluate(read({}, {}), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary.rfind("0 of 300 tunnels up: " + many[0] + " missing, ", 0) == 0);
    CHECK(r.summary.size() < max_not_up_summary_bytes + 100);
    // 19 names of 52 bytes with their separators reach 1 KiB.
    const auto tail = r.summary.substr(r.summary.rfind(", and "));
    CHECK(tail == ", and 281 more not up");
    CHECK(r.summary.find(many[18] + " missing") != std::string::npos);
    CHECK(r.summary.find(many[19]) == std::string::npos);
  }
}
