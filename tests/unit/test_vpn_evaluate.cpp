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
