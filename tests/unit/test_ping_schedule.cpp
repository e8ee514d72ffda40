// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "check_cross_site_ping/schedule.hpp"

using namespace sitelink::ping;

namespace {

constexpr long long ms = 1'000'000;

struct Sent {
  std::size_t target;
  int probe;
  long long at;
};

// Drives a schedule like the prober does: sends whatever is due, delivers
// replies `rtt(target, probe)` after each send (nullopt = lost), and jumps
// the clock to the next event. Returns every send in order and checks the
// window on each early send.
struct Sim {
  ProbeSchedule sched;
  long long now = 0;
  std::vector<Sent> sends;
  std::vector<std::size_t> in_flight_before; // per send
  std::size_t max_in_flight = 0;

  Sim(std::size_t targets, int count, long long interval, bool paced, std::size_t window)
      : sched(targets, count, interval, 0, paced, window)
  {}
  Sim(std::size_t targets, int count, long long interval, WindowPolicy policy = {})
      : sched(targets, count, interval, 0, false, policy)
  {}

  std::size_t sent_before(long long t) const
  {
    return static_cast<std::size_t>(std::count_if(sends.begin(), sends.end(), [t](const Sent& x) { return x.at < t; }));
  }

  template <class Rtt>
  void run(Rtt rtt, long long limit = 3'600'000 * ms)
  {
    std::multimap<long long, std::pair<ProbeSlot, long long>> replies; // at -> (probe, its round trip)
    while (now < limit) {
      while (auto p = sched.next(now)) {
        in_flight_before.push_back(sched.in_flight());
        sched.sent(*p, now);
        sends.push_back({p->target, p->probe, now});
        max_in_flight = std::max(max_in_flight, sched.in_flight());
        if (auto r = rtt(p->target, p->probe)) replies.emplace(now + *r, std::make_pair(*p, *r));
      }
      std::optional<long long> wake = sched.wake_at();
      if (!replies.empty()) wake = wake ? std::min(*wake, replies.begin()->first) : replies.begin()->first;
      if (!wake) break;
      now = std::max(now, *wake);
      while (!replies.empty() && replies.begin()->first <= now) {
        sched.replied(replies.begin()->second.first, replies.begin()->first, replies.begin()->second.second);
        replies.erase(replies.begin());
      }
    }
  }
};

} // namespace

TEST_CASE("ping::schedule: adaptive: the next probe leaves when the reply is in")
{
  ProbeSchedule s(1, 3, 100 * ms, 0, false);
  auto p = s.next(0);
  REQUIRE(p);
  CHECK(p->target == 0);
  CHECK(p->probe == 0);
  s.sent(*p, 0);
  CHECK_FALSE(s.next(0));
  CHECK(s.wake_at() == 100 * ms); // at the latest one interval later
  s.replied(*p, 1 * ms);
  p = s.next(1 * ms);
  REQUIRE(p);
  CHECK(p->probe == 1);
  s.sent(*p, 1 * ms);
  CHECK_FALSE(s.all_sent());
  s.replied(*p, 2 * ms);
  p = s.next(2 * ms);
  REQUIRE(p);
  CHECK(p->probe == 2);
  s.sent(*p, 2 * ms);
  CHECK(s.all_sent());
  CHECK_FALSE(s.wake_at());
  CHECK_FALSE(s.next(500 * ms));
}

TEST_CASE("ping::schedule: adaptive: a lost probe is followed INTERVAL after it left")
{
  ProbeSchedule s(1, 2, 100 * ms, 0, false);
  auto p = s.next(0);
  REQUIRE(p);
  s.sent(*p, 0);
  CHECK_FALSE(s.next(99 * ms));
  p = s.next(100 * ms);
  REQUIRE(p);
  CHECK(p->probe == 1);
}

TEST_CASE("ping::schedule: adaptive: a late reply to an older probe does not send early")
{
  ProbeSchedule s(1, 3, 100 * ms, 0, false);
  s.sent(*s.next(0), 0);
  auto p1 = s.next(100 * ms);
  REQUIRE(p1);
  s.sent(*p1, 100 * ms);
  s.replied(ProbeSlot{0, 0}, 120 * ms); // probe 0 answers after probe 1 left
  CHECK_FALSE(s.next(120 * ms));
  s.replied(*p1, 130 * ms);
  auto p2 = s.next(130 * ms);
  REQUIRE(p2);
  CHECK(p2->probe == 2);
}

TEST_CASE("ping::schedule: paced: replies do not bring probes forward")
{
  ProbeSchedule s(2, 2, 100 * ms, 0, true);
  auto p = s.next(0);
  REQUIRE(p);
  CHECK(p->target == 0);
  s.sent(*p, 0);
  s.replied(*p, 1 * ms);
  CHECK_FALSE(s.next(1 * ms));
  CHECK(s.wake_at() == 50 * ms); // target 1's slot in the first interval
  p = s.next(50 * ms);
  REQUIRE(p);
  CHECK(p->target == 1);
  s.sent(*p, 50 * ms);
  CHECK(s.wake_at() == 100 * ms);
}

TEST_CASE("ping::schedule: paced: every probe leaves on its slot")
{
  Sim sim(4, 3, 100 * ms, true, 16);
  sim.run([](std::size_t, int) -> std::optional<long long> { return 1 * ms; });
  REQUIRE(sim.sends.size() == 12);
  for (const auto& x : sim.sends) CHECK(x.at == send_offset_ns(x.probe, x.target, 4, 100 * ms));
}

TEST_CASE("ping::schedule: adaptive: fast replies finish in round trips, not intervals")
{
  Sim sim(100, 5, 100 * ms, false, 256);
  sim.run([](std::size_t, int) -> std::optional<long long> { return ms / 2; });
  REQUIRE(sim.sends.size() == 500);
  CHECK(sim.sends.back().at <= 5 * ms / 2);
  // With a window of 16: 500 probes, 16 per round trip.
  Sim small(100, 5, 100 * ms, false, 16);
  small.run([](std::size_t, int) -> std::optional<long long> { return ms / 2; });
  REQUIRE(small.sends.size() == 500);
  CHECK(small.max_in_flight <= 16);
  CHECK(small.sends.back().at <= (500 / 16 + 1) * ms / 2);
  // Each target's probes leave in order.
  std::vector<int> last(100, -1);
  for (const auto& x : sim.sends) {
    CHECK(x.probe == last[x.target] + 1);
    last[x.target] = x.probe;
  }
}

TEST_CASE("ping::schedule: adaptive: a full window refills in batches once half of it has drained")
{
  // INTERVAL 10 s: no floor or INTERVAL-limit send happens during the run
  // (target 0's first probe at 0 is the only one), so every send after the
  // first is reply-driven. Round trips differ per target, so replies come in
  // one by one.
  Sim sim(100, 5, 10'000 * ms, false, 16);
  sim.run(
      [](std::size_t t, int) -> std::optional<long long> { return ms / 2 + static_cast<long long>(t % 13) * ms / 50; });
  REQUIRE(sim.sends.size() == 500);
  CHECK(sim.max_in_flight <= 16);
  std::size_t batches = 0;
  for (std::size_t i = 1; i < sim.sends.size(); ++i) {
    if (sim.sends[i].at == sim.sends[i - 1].at) continue; // same batch
    ++batches;
    CAPTURE(i);
    CHECK(sim.in_flight_before[i] <= 8);
  }
  // 500 probes in batches of 8 to 16, not one reply at a time.
  CHECK(batches >= 500 / 16);
  CHECK(batches <= 500 / 8 + 1);
  CHECK(sim.sends.back().at < 100 * ms);
}

TEST_CASE("ping::schedule: window: on a sub-millisecond path it stays at its minimum of 16")
{
  Sim sim(100, 5, 100 * ms);
  sim.run([](std::size_t, int) -> std::optional<long long> { return 3 * ms / 10; });
  REQUIRE(sim.sends.size() == 500);
  CHECK(sim.max_in_flight == 16);
  CHECK(sim.sched.peak_window() == 16);
}

TEST_CASE("ping::schedule: window: across a 20 ms link it carries every target at once, a fixed window of 16 does not")
{
  auto wan = [](std::size_t, int) -> std::optional<long long> { return 20 * ms; };
  Sim sim(100, 5, 1'000 * ms);
  sim.run(wan);
  REQUIRE(sim.sends.size() == 500);
  CHECK(sim.max_in_flight == 100);
  CHECK(sim.sched.window() == 100); // 16 per ms x 20 ms, capped at the targets
  // Five round trips, plus the first round leaving at 16 probes per ms.
  CHECK(sim.sends.back().at <= 4 * 20 * ms + 100 * ms / 16 + ms);

  Sim fixed(100, 5, 1'000 * ms, false, 16);
  fixed.run(wan);
  REQUIRE(fixed.sends.size() == 500);
  CHECK(fixed.sends.back().at >= 500 / 16 * 20 * ms);
}

TEST_CASE("ping::schedule: window: before the first reply it widens with the time waited, up to its maximum")
{
  Sim sim(1000, 2, 10'000 * ms);
  sim.run([](std::size_t, int) -> std::optional<long long> { return 40 * ms; });
  REQUIRE(sim.sends.size() == 2000);
  // 16 at once, then 16 more per millisecond without a reply.
  CHECK(sim.sent_before(1) == 16);
  CHECK(sim.sent_before(5 * ms) >= 16 * 5 - 1);
  CHECK(sim.sent_before(5 * ms) <= 16 * 5 + 1);
  // 256 at most (16 ms), however long the first reply takes.
  CHECK(sim.sent_before(40 * ms) == 256);
  CHECK(sim.max_in_flight == 256);
}

TEST_CASE("ping::schedule: window: the ramp before the first reply wakes when the window has grown (fuzz regression)")
{
  // 3 probes per ms: the k-th probe is due at k/3 ms, which is not a whole
  // number of nanoseconds; a wake-up rounded down found the window one short
  // and woke again at once, for ever.
  Sim sim(62, 2, 190 * ms, WindowPolicy{1, 100, 3, 1 * ms});
  sim.run([](std::size_t, int) -> std::optional<long long> { return 30 * ms; }, 10'000 * ms);
  REQUIRE(sim.sends.size() == 124);
  CHECK(sim.sent_before(10 * ms) >= 29);
  CHECK(sim.sent_before(10 * ms) <= 31);
}

TEST_CASE("ping::schedule: window: a round trip that grows does not widen it")
{
  // The probes' own queue: each probe of a target waits longer than the one
  // before. The shortest round trip (0.3 ms) sets the window, not the queue.
  Sim sim(100, 5, 1'000 * ms);
  sim.run([](std::size_t, int k) -> std::optional<long long> { return 3 * ms / 10 + k * 5 * ms; });
  REQUIRE(sim.sends.size() == 500);
  CHECK(sim.max_in_flight <= 16);
  CHECK(sim.sched.peak_window() == 16);
}

TEST_CASE(
    "ping::schedule: window: a probe waits for the window to drain to half at most max_hold, and only while it has room")
{
  // A window of 4 that does not follow the round trip (per_ms 0), 2 ms hold.
  ProbeSchedule s(6, 2, 10'000 * ms, 0, false, WindowPolicy{4, 8, 0, 2 * ms});
  for (std::size_t t = 0; t < 4; ++t) {
    auto p = s.next(0);
    REQUIRE(p);
    CHECK(p->target == t);
    s.sent(*p, 0);
  }
  CHECK_FALSE(s.next(0)); // full
  s.replied(ProbeSlot{0, 0}, 1 * ms, 1 * ms);
  // 3 in flight of 4: not drained to half, and target 4 has waited 1 ms.
  CHECK_FALSE(s.next(1 * ms));
  REQUIRE(s.wake_at());
  CHECK(*s.wake_at() == 2 * ms);
  auto p = s.next(2 * ms);
  REQUIRE(p);
  CHECK(p->target == 4);
  s.sent(*p, 2 * ms);
  // Full again: target 5 and target 0's second probe wait, held or not.
  CHECK_FALSE(s.next(3 * ms));
  s.replied(ProbeSlot{1, 0}, 3 * ms, 3 * ms);
  s.replied(ProbeSlot{2, 0}, 3 * ms, 3 * ms);
  p = s.next(3 * ms); // drained to half: the rest go together
  REQUIRE(p);
  CHECK(p->target == 5);
}

TEST_CASE("ping::schedule: adaptive: the window bounds probes in flight")
{
  Sim sim(1000, 5, 100 * ms, false, 64);
  sim.run([](std::size_t, int) -> std::optional<long long> { return 2 * ms; });
  REQUIRE(sim.sends.size() == 5000);
  // Sends on the paced floor may pass the window, but with replies in 2 ms
  // the window keeps the path busy long before the floor is reached.
  CHECK(sim.max_in_flight <= 64 + 2);
  CHECK(sim.sends.back().at < 5 * 100 * ms);
}

TEST_CASE("ping::schedule: adaptive: a dead path keeps the paced floor, so n x INTERVAL bounds the run")
{
  for (std::size_t targets : {1u, 10u, 1000u}) {
    CAPTURE(targets);
    Sim sim(targets, 5, 100 * ms, false, 64);
    sim.run([](std::size_t, int) -> std::optional<long long> { return std::nullopt; });
    REQUIRE(sim.sends.size() == targets * 5);
    for (const auto& x : sim.sends) CHECK(x.at <= send_offset_ns(x.probe, x.target, targets, 100 * ms));
    CHECK(sim.sends.back().at < 5 * 100 * ms);
  }
}

TEST_CASE(
    "ping::schedule: adaptive: on a lossy path no probe is later than its paced slot or more than INTERVAL after the previous one")
{
  std::uint32_t seed = 12345;
  auto lossy = [&seed](std::size_t, int) -> std::optional<long long> {
    seed = seed * 1103515245u + 12345u;
    if ((seed >> 16) % 10 < 3) return std::nullopt; // 30 % loss
    return 3 * ms;
  };
  Sim sim(50, 20, 10 * ms, false, 16);
  sim.run(lossy);
  REQUIRE(sim.sends.size() == 1000);
  std::vector<long long> prev(50, -1);
  for (const auto& x : sim.sends) {
    CHECK(x.at <= send_offset_ns(x.probe, x.target, 50, 10 * ms));
    if (prev[x.target] >= 0) CHECK(x.at - prev[x.target] <= 10 * ms);
    prev[x.target] = x.at;
  }
}

TEST_CASE("ping::schedule: a probe that cannot be sent is skipped, the rest go on")
{
  ProbeSchedule s(1, 2, 100 * ms, 0, false);
  auto p = s.next(0);
  REQUIRE(p);
  s.skipped(*p, 0);
  CHECK_FALSE(s.all_sent());
  CHECK(s.in_flight() == 0);
  CHECK_FALSE(s.next(50 * ms));
  p = s.next(100 * ms);
  REQUIRE(p);
  CHECK(p->probe == 1);
  s.skipped(*p, 100 * ms);
  CHECK(s.all_sent());
}

TEST_CASE("ping::schedule: nonsense events are ignored")
{
  ProbeSchedule s(2, 2, 100 * ms, 0, false);
  s.replied(ProbeSlot{7, 0}, 0); // no such target
  s.replied(ProbeSlot{0, 9}, 0); // no such probe
  s.replied(ProbeSlot{0, -1}, 0);
  s.sent(ProbeSlot{5, 0}, 0);
  CHECK(s.in_flight() == 0);
  auto p = s.next(0);
  REQUIRE(p);
  s.sent(*p, 0);
  s.sent(*p, 0); // twice: the second is stale
  CHECK(s.in_flight() == 1);
  ProbeSchedule none(0, 5, 100 * ms, 0, false);
  CHECK(none.all_sent());
  CHECK_FALSE(none.next(0));
}

TEST_CASE("ping::schedule: fitted_reply_wait_ns")
{
  ProbePlan plan;
  plan.count = 3;
  plan.interval_ns = 100 * ms;
  plan.reply_wait_ns = 1000 * ms;
  SUBCASE("the plan's wait when the schedule and the wait fit the time left")
  {
    CHECK(fitted_reply_wait_ns(plan, 9700 * ms) == 1000 * ms);
    CHECK(fitted_reply_wait_ns(plan, 1300 * ms) == 1000 * ms);
  }
  SUBCASE("cut to what the schedule leaves of the budget")
  {
    CHECK(fitted_reply_wait_ns(plan, 1000 * ms) == 700 * ms);
  }
  SUBCASE("at least 1 ms, even with no time left")
  {
    CHECK(fitted_reply_wait_ns(plan, 300 * ms) == 1 * ms);
    CHECK(fitted_reply_wait_ns(plan, 0) == 1 * ms);
  }
}
