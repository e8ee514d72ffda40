// SPDX-License-Identifier: GPL-2.0-or-later
// check_icmp's quality figures (quality.hpp) against the published formulas
// worked by hand, and the -R/-P/-J/-M/-S/-O rules of evaluate().
#include <doctest/doctest.h>

#include <algorithm>

#include "check_cross_site_ping/evaluate.hpp"
#include "check_cross_site_ping/quality.hpp"
#include "check_cross_site_ping/thresholds.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::ping;

namespace {

TargetObservation target(std::vector<std::optional<double>> rtts)
{
  TargetObservation t;
  t.name = "h";
  t.address = "h";
  t.sent = static_cast<int>(rtts.size());
  t.rtt_ms = std::move(rtts);
  for (std::size_t k = 0; k < t.rtt_ms.size(); ++k)
    if (t.rtt_ms[k]) t.reply_order.push_back(static_cast<int>(k));
  return t;
}

Result run(const TargetObservation& t, const Policy& p)
{
  Observation obs;
  obs.targets.push_back(t);
  return evaluate(obs, p);
}

const Perfdatum* find(const Result& r, const std::string& label)
{
  auto it = std::find_if(r.perfdata.begin(), r.perfdata.end(), [&](const Perfdatum& p) { return p.label == label; });
  return it == r.perfdata.end() ? nullptr : &*it;
}

} // namespace

TEST_CASE("ping::quality: r_factor follows the simplified E-model")
{
  // EL = 20 + 2 x 5 + 10 = 40 < 160: R = 93.2 - 40/40.
  CHECK(r_factor(20, 5, 0) == doctest::Approx(92.2));
  // EL = 200 + 20 + 10 = 230: R = 93.2 - (230 - 120)/10.
  CHECK(r_factor(200, 10, 0) == doctest::Approx(82.2));
  // Both branches meet at EL = 160: 93.2 - 4.
  CHECK(r_factor(150, 0, 0) == doctest::Approx(89.2));
  CHECK(r_factor(149.999, 0, 0) == doctest::Approx(89.2).epsilon(1e-4));
  // 2.5 per percent of loss: EL = 110, 93.2 - 2.75 - 50.
  CHECK(r_factor(100, 0, 20) == doctest::Approx(40.45));
  // Never below 0.
  CHECK(r_factor(0, 0, 40) == 0);
  CHECK(r_factor(5000, 1000, 100) == 0);
}

TEST_CASE("ping::quality: mos_from_r is G.107's conversion")
{
  CHECK(mos_from_r(0) == doctest::Approx(1.0));
  CHECK(mos_from_r(60) == doctest::Approx(3.1));  // the cubic term vanishes
  CHECK(mos_from_r(100) == doctest::Approx(4.5)); // and again
  // 1 + 0.035 x 92.2 + 0.000007 x 92.2 x 32.2 x 7.8
  CHECK(mos_from_r(92.2) == doctest::Approx(4.38909866));
  // The highest R the model gives (EL = 10 ms) is about 4.4, check_icmp's "between 0 and 4.4".
  CHECK(mos_from_r(r_factor(0, 0, 0)) == doctest::Approx(4.404).epsilon(1e-3));
}

TEST_CASE("ping::quality: jitter_stats")
{
  CHECK_FALSE(jitter_stats({}));
  CHECK_FALSE(jitter_stats({1.0, std::nullopt}));
  auto j = jitter_stats({1.0, 4.0, std::nullopt, 2.0, 2.5});
  REQUIRE(j);
  CHECK(j->avg == doctest::Approx((3.0 + 2.0 + 0.5) / 3)); // lost probes are skipped
  CHECK(j->min == doctest::Approx(0.5));
  CHECK(j->max == doctest::Approx(3.0));
}

TEST_CASE("ping::quality: out_of_order counts replies behind a later probe's")
{
  CHECK(out_of_order({}) == 0);
  CHECK(out_of_order({0, 1, 2, 3}) == 0);
  CHECK(out_of_order({0, 2, 3}) == 0); // a lost probe is no reordering
  CHECK(out_of_order({0, 2, 1, 3}) == 1);
  CHECK(out_of_order({3, 0, 1, 2}) == 3);
}

TEST_CASE("ping::thresholds: parse_mode_limits")
{
  auto a = parse_mode_limits("40,50");
  REQUIRE(a);
  CHECK(a->warn == 40);
  CHECK(*a->crit == 50);
  auto b = parse_mode_limits("40.5ms,50.000ms");
  REQUIRE(b);
  CHECK(b->warn == 40.5);
  CHECK(*b->crit == 50);
  auto c = parse_mode_limits("3.5");
  REQUIRE(c);
  CHECK(c->warn == 3.5);
  CHECK_FALSE(c->crit);
  auto d = parse_mode_limits("40%,50%");
  REQUIRE(d);
  CHECK(*d->crit == 50);
  for (const char* bad : {"", ",", "40,", ",40", "a,b", "-1,2", "40s,50s", "1e3,2", "40,50,60"})
    CHECK_MESSAGE(!parse_mode_limits(bad), bad);
}

TEST_CASE("ping::evaluate: check_icmp's quality modes")
{
  SUBCASE("naming a mode judges only the modes named")
  {
    Policy p;
    p.jitter_mode = true;
    p.judge_rta = p.judge_pl = false;
    p.jitter_warn_ms = 40;
    p.jitter_crit_ms = 50;
    auto r = run(target({600.0, 600.0, std::nullopt, 600.0}), p); // rta and loss are over -c
    CHECK(r.state == State::Ok);
    REQUIRE(find(r, "jitter_avg"));
    CHECK(*find(r, "jitter_avg")->value == 0);
    REQUIRE(find(r, "jitter_min"));
    REQUIRE(find(r, "jitter_max"));
    CHECK_FALSE(find(r, "rta")->warn); // not judged: no thresholds echoed
  }
  SUBCASE("jitter mode alerts at the limit")
  {
    Policy p;
    p.jitter_mode = true;
    p.jitter_warn_ms = 40;
    p.jitter_crit_ms = 50;
    auto r = run(target({10.0, 50.0, 10.0}), p);
    CHECK(r.state == State::Warning); // jitter 40
    CHECK(r.summary.find("jitter 40 ms (warning 40 ms)") != std::string::npos);
    CHECK(find(r, "jitter_max")->value == 40);
  }
  SUBCASE("MOS")
  {
    Policy p;
    p.mos = LowLimits{3.5, 3.0};
    auto good = run(target({10.0, 10.0, 10.0}), p); // EL 20: R 92.7
    CHECK(good.state == State::Ok);
    const auto* m = find(good, "mos");
    REQUIRE(m);
    CHECK(*m->value == doctest::Approx(mos_from_r(92.7)).epsilon(1e-3));
    CHECK(*m->min == 0);
    CHECK(*m->max == 5);
    CHECK(m->warn->start == 3.5); // alerts below
    // rta 450 ms: EL 460, R 59.2, MOS about 3.07: WARNING (the rta is WARNING too).
    auto slow = run(target({450.0, 450.0, 450.0}), p);
    CHECK(slow.state == State::Warning);
    CHECK(slow.summary.find("mos 3.0") != std::string::npos);
    // Fewer than 2 replies: check_icmp's MOS is 0, CRITICAL.
    auto one = run(target({10.0, std::nullopt}), p);
    CHECK(one.state == State::Critical);
    CHECK(one.summary.find("mos not measurable") != std::string::npos);
    CHECK_FALSE(find(one, "mos")->value);
  }
  SUBCASE("score")
  {
    Policy p;
    p.judge_rta = p.judge_pl = false;
    p.score = LowLimits{80, 70};
    // EL = 300 + 2 x 0 + 10 = 310: R = 93.2 - 19 = 74.2: WARNING.
    auto r = run(target({300.0, 300.0, 300.0}), p);
    CHECK(r.state == State::Warning);
    CHECK(*find(r, "score")->value == doctest::Approx(74.2));
    CHECK(*find(r, "score")->max == 100);
    // 1 of 2 replies: no score, no verdict (check_icmp), loss not judged.
    auto one = run(target({10.0, std::nullopt}), p);
    CHECK(one.state == State::Ok);
    CHECK_FALSE(find(one, "score")->value);
  }
  SUBCASE("out of order")
  {
    Policy p;
    p.order_mode = true;
    auto t = target({1.0, 1.0, 1.0});
    CHECK(run(t, p).state == State::Ok);
    t.reply_order = {0, 2, 1};
    auto r = run(t, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary.find("1 of 3 replies out of order") != std::string::npos);
  }
  SUBCASE("aggregates beyond the per-target limit carry the lowest MOS and score")
  {
    Policy p;
    p.mos = LowLimits{3.5, 3.0};
    p.score = LowLimits{80, 70};
    Observation obs;
    for (int i = 0; i < 21; ++i) obs.targets.push_back(target({10.0, 10.0}));
    obs.targets.back().rtt_ms = {300.0, 300.0};
    auto r = evaluate(obs, p);
    REQUIRE(find(r, "score_min"));
    CHECK(*find(r, "score_min")->value == doctest::Approx(74.2));
    REQUIRE(find(r, "mos_min"));
  }
}
