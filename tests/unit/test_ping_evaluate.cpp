// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <algorithm>

#include "check_cross_site_ping/evaluate.hpp"
#include "sitelink/output.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::ping;

namespace {

TargetObservation target(std::string name, std::vector<std::optional<double>> rtts)
{
  TargetObservation t;
  t.name = std::move(name);
  t.address = t.name;
  t.sent = static_cast<int>(rtts.size());
  t.rtt_ms = std::move(rtts);
  return t;
}

TargetObservation unresolved(std::string name)
{
  TargetObservation t;
  t.name = std::move(name);
  t.resolve_error = "Name or service not known";
  return t;
}

const Perfdatum* find(const Result& r, const std::string& label)
{
  auto it = std::find_if(r.perfdata.begin(), r.perfdata.end(), [&](const Perfdatum& p) { return p.label == label; });
  return it == r.perfdata.end() ? nullptr : &*it;
}

std::vector<std::string> labels(const Result& r)
{
  std::vector<std::string> out;
  for (const auto& p : r.perfdata) out.push_back(p.label);
  return out;
}

} // namespace

TEST_CASE("ping::evaluate: compute_stats")
{
  SUBCASE("all replies")
  {
    auto s = compute_stats(target("h", {1.0, 3.0, 2.0}));
    CHECK(s.received == 3);
    CHECK(s.pl == 0);
    CHECK(*s.rta == doctest::Approx(2.0));
    CHECK(*s.rtmin == 1.0);
    CHECK(*s.rtmax == 3.0);
    CHECK(*s.jitter == doctest::Approx(1.5)); // |3-1| and |2-3|
  }
  SUBCASE("losses skip over in the jitter")
  {
    auto s = compute_stats(target("h", {1.0, std::nullopt, 4.0, std::nullopt}));
    CHECK(s.received == 2);
    CHECK(s.pl == 50);
    CHECK(*s.jitter == doctest::Approx(3.0));
  }
  SUBCASE("one reply: no jitter")
  {
    auto s = compute_stats(target("h", {5.0, std::nullopt}));
    CHECK(*s.rta == 5.0);
    CHECK_FALSE(s.jitter.has_value());
  }
  SUBCASE("no reply")
  {
    auto s = compute_stats(target("h", {std::nullopt, std::nullopt}));
    CHECK(s.pl == 100);
    CHECK_FALSE(s.rta.has_value());
    CHECK_FALSE(s.rtmin.has_value());
  }
  SUBCASE("nothing sent")
  {
    auto s = compute_stats(unresolved("x"));
    CHECK(s.pl == 100);
    CHECK(s.sent == 0);
  }
}

TEST_CASE("ping::evaluate: per_target_perfdata")
{
  CHECK(per_target_perfdata({"a"}));
  CHECK(per_target_perfdata(std::vector<std::string>(20, "10.102.0.10")));
  CHECK_FALSE(per_target_perfdata(std::vector<std::string>(21, "h")));
  // Long names: the labels alone would not fit in 4 KiB.
  CHECK_FALSE(per_target_perfdata(std::vector<std::string>(10, std::string(100, 'n'))));
}

TEST_CASE("ping::evaluate")
{
  Policy p; // -w 200,20% -c 500,60%
  Observation o;

  SUBCASE("one healthy target")
  {
    o.targets = {target("10.102.0.10", {0.5, 0.6, 0.4, 0.5, 0.5})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "10.102.0.10: rta 0.5 ms, loss 0%");
    CHECK(labels(r) == std::vector<std::string>{"rta", "pl", "rtmin", "rtmax", "jitter"});
    CHECK(render_perfdata(r.perfdata) ==
          "rta=0.5ms;200;500;0 pl=0%;20;60;0;100 rtmin=0.4ms;;;0 rtmax=0.6ms;;;0 jitter=0.1ms;;;0");
  }
  SUBCASE("inclusive thresholds")
  {
    o.targets = {target("h", {200.0})};
    CHECK(evaluate(o, p).state == State::Warning);
    o.targets = {target("h", {199.999})};
    CHECK(evaluate(o, p).state == State::Ok);
    o.targets = {target("h", {500.0})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "h: rta 500 ms (critical 500 ms)");
    // 1 of 5 lost is exactly 20%: warning.
    o.targets = {target("h", {1.0, 1.0, 1.0, 1.0, std::nullopt})};
    r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "h: loss 20% (warning 20%)");
    o.targets = {target("h", {1.0, std::nullopt, std::nullopt, 1.0, std::nullopt})};
    CHECK(evaluate(o, p).state == State::Critical);
  }
  SUBCASE("worst of rta, pl and jitter")
  {
    p.jitter_warn_ms = 5;
    p.jitter_crit_ms = 10;
    o.targets = {target("h", {1.0, 12.0, 1.0})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "h: jitter 11 ms (critical 10 ms)");
    CHECK(find(r, "jitter")->warn.has_value());
    o.targets = {target("h", {250.0, 256.0, std::nullopt})};
    r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "h: rta 253 ms (warning 200 ms), loss 33.3% (warning 20%), jitter 6 ms (warning 5 ms)");
  }
  SUBCASE("lost host: CRITICAL, rta fields U, pl 100")
  {
    o.targets = {target("10.102.0.99", {std::nullopt, std::nullopt})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "10.102.0.99: 100% loss");
    CHECK(render_perfdata(r.perfdata) == "rta=U;200;500;0 pl=100%;20;60;0;100 rtmin=U;;;0 rtmax=U;;;0 jitter=U;;;0");
  }
  SUBCASE("unresolvable name is CRITICAL naming the host")
  {
    o.targets = {unresolved("db.dr.invalid"), target("10.102.0.10", {1.0})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    // The resolver's words are on line 1, where notifications look.
    CHECK(r.summary == "db.dr.invalid: cannot resolve host name: Name or service not known; 1 of 2 hosts alive");
    CHECK(r.details.front() == "CRITICAL: db.dr.invalid: cannot resolve host name: Name or service not known");
    CHECK(find(r, "db_dr_invalid_pl")->value == std::nullopt);
    CHECK(find(r, "10_102_0_10_rta")->value == 1.0);
  }
  SUBCASE("send errors")
  {
    auto t = target("10.9.9.9", {});
    t.send_error = "Network is unreachable";
    o.targets = {t};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "10.9.9.9: cannot send probes (Network is unreachable)");
    CHECK(find(r, "pl")->value == 100.0);
    CHECK(find(r, "rta")->value == std::nullopt);
  }
  SUBCASE("no permission or a bad source is UNKNOWN, never above a CRITICAL")
  {
    auto t = target("10.102.0.10", {});
    t.setup_error = "no permission to send ICMP echo requests";
    o.targets = {t};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "10.102.0.10: no permission to send ICMP echo requests");
    o.targets = {t, target("10.102.0.11", {std::nullopt})};
    CHECK(evaluate(o, p).state == State::Critical);
  }
  SUBCASE("several targets: summary names the worst, details worst first")
  {
    o.targets = {target("a", {1.0}), target("b", {300.0}), target("c", {std::nullopt})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "c: 100% loss; b: rta 300 ms (warning 200 ms); 2 of 3 hosts alive");
    REQUIRE(r.details.size() == 3);
    CHECK(r.details[0].rfind("CRITICAL: c:", 0) == 0);
    CHECK(r.details[1].rfind("WARNING: b:", 0) == 0);
    CHECK(r.details[2].rfind("OK: a:", 0) == 0);
    CHECK(r.perfdata.size() == 15);
    CHECK(find(r, "b_rta") != nullptr);
  }
  SUBCASE("all OK")
  {
    o.targets = {target("a", {1.0}), target("b", {2.5}), target("c", {0.5})};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "3 of 3 hosts alive, worst rta 2.5 ms (b), loss 0%");
  }
  SUBCASE("-m: OK, WARNING, worst")
  {
    o.targets = {target("a", {1.0}), target("b", {300.0}), target("c", {std::nullopt})};
    p.min_alive = 1;
    auto r = evaluate(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "2 of 3 hosts alive (1 OK, 1 required); c: 100% loss");
    p.min_alive = 2;
    r = evaluate(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "c: 100% loss; b: rta 300 ms (warning 200 ms); 2 of 3 hosts alive (1 OK, 2 required)");
    p.min_alive = 3;
    CHECK(evaluate(o, p).state == State::Critical);
    o.targets = {target("a", {1.0}), target("b", {300.0}), target("c", {300.0})};
    CHECK(evaluate(o, p).state == State::Warning);
  }
  SUBCASE("tcp: refused means alive")
  {
    o.tcp_port = 23;
    auto t = target("10.102.0.10", {0.2, 0.3});
    t.refused = 2;
    o.targets = {t};
    auto r = evaluate(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "10.102.0.10: rta 0.25 ms, loss 0% (port closed, host alive)");
    CHECK(r.details[0].find("port 23 closed (connection refused): host alive") != std::string::npos);
    auto silent = target("10.102.0.10", {std::nullopt});
    o.targets = {silent};
    r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.details[0].find("no tcp/23 reply") != std::string::npos);
  }
  SUBCASE("1,000 targets: aggregate perfdata, output within 8 KiB")
  {
    for (int i = 0; i < 1000; ++i) {
      std::string name = "10.102." + std::to_string(4 + i / 256) + "." + std::to_string(i % 256);
      o.targets.push_back(i % 7 == 0 ? target(name, {std::nullopt, std::nullopt}) : target(name, {1.0, 2.0}));
    }
    auto r = evaluate(o, p);
    CHECK(r.state == State::Critical);
    CHECK(labels(r) ==
          std::vector<std::string>{"hosts_alive", "hosts_ok", "rta", "rta_max", "pl", "pl_max", "jitter_max"});
    CHECK(find(r, "hosts_alive")->value == 857.0);
    CHECK(find(r, "pl")->value == doctest::Approx(14.3));
    CHECK(find(r, "pl_max")->value == 100.0);
    auto text = render("CROSS_SITE_PING", r, {"Impact: x", "Runbook: y"});
    CHECK(text.size() <= 8192);
    CHECK(text.find("more lines omitted") != std::string::npos);
    CHECK(text.find("Runbook: y") != std::string::npos);
    CHECK(r.summary.size() < 200);
  }
  SUBCASE("no targets")
  {
    CHECK(evaluate(o, p).state == State::Unknown);
  }
}
