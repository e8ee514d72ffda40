// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdint>
#include <set>

#include "check_replication_lag/login_retry.hpp"

using namespace sitelink::replication;
using ms = LoginRetry::ms;

TEST_CASE("replication::LoginRetry pauses grow, stay in the upper half of their window and stop at the cap")
{
  LoginRetry r(ms(20000));
  // unit 0: the lower end of each window; windows 100, 200, 400 ... 4000 ms.
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(50));
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(100));
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(200));
  CHECK(r.next(ms(20000), ms(5), 0.999) == ms(799));
  CHECK(r.next(ms(20000), ms(5), 0.5) == ms(1200));
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(1600));
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(2000)); // window 4000: the cap
  CHECK(r.next(ms(20000), ms(5), 0.0) == ms(2000));
  CHECK(r.next(ms(20000), ms(5), 1.0) == ms(4000));
  CHECK(r.refusals() == 9);
}

TEST_CASE("replication::LoginRetry a crowd asks far less often than a fixed 400 ms cap did")
{
  // Logins one waiting check makes in a 20 s budget (pauses at the middle
  // of their windows): the old pauses (50, 100, 200, then 400 + spread,
  // at most 800 ms) made about 30.
  ms left(20000);
  LoginRetry r(left);
  int asked = 1;
  while (auto p = r.next(left, ms(10), 0.5)) {
    left -= *p + ms(10);
    ++asked;
  }
  CHECK(asked == 11);
  // It gave up with time left for a last login and the queries.
  CHECK(left > ms(0));
}

TEST_CASE("replication::LoginRetry the window is at most a quarter of the budget")
{
  // A 2 s budget: windows 100, 200, 400, then 500.
  LoginRetry r(ms(2000));
  CHECK(r.next(ms(2000), ms(5), 0.0) == ms(50));
  CHECK(r.next(ms(1900), ms(5), 0.0) == ms(100));
  CHECK(r.next(ms(1700), ms(5), 0.0) == ms(200));
  CHECK(r.next(ms(1400), ms(5), 0.0) == ms(250));
  CHECK(r.next(ms(1100), ms(5), 0.99) == ms(497));
  // It does not shrink with the time left (no faster asking at the end).
  CHECK(r.next(ms(600), ms(5), 0.0) == ms(250));
  // A tiny budget: the smallest window, 100 ms.
  LoginRetry q(ms(300));
  CHECK(q.next(ms(300), ms(5), 0.0) == ms(50));
  CHECK(q.next(ms(290), ms(5), 0.0) == ms(50));
}

TEST_CASE("replication::LoginRetry gives up when a pause and another login no longer fit")
{
  SUBCASE("the minimum reserve")
  {
    LoginRetry r(ms(10000));
    CHECK(r.next(ms(260), ms(5), 0.0) == ms(50)); // 50 + 200 < 260
    LoginRetry q(ms(10000));
    CHECK_FALSE(q.next(ms(250), ms(5), 0.0)); // 50 + 200 >= 250
  }
  SUBCASE("twice the slowest refused login: a loaded server's refusals take long")
  {
    LoginRetry r(ms(10000));
    CHECK(r.next(ms(5000), ms(900), 0.0) == ms(50));
    // The slowest login stays the measure: 1800 ms kept for the next one.
    CHECK(r.next(ms(2000), ms(10), 0.0) == ms(100));
    CHECK_FALSE(r.next(ms(1900), ms(10), 0.0));
  }
  SUBCASE("out of budget")
  {
    LoginRetry r(ms(0));
    CHECK_FALSE(r.next(ms(0), ms(0), 0.5));
  }
}

TEST_CASE("replication::server_full")
{
  CHECK(server_full("FATAL:  sorry, too many clients already"));
  CHECK(server_full("connection to server on socket \"/s/.s.PGSQL.5432\" failed: FATAL:  remaining connection slots "
                    "are reserved for non-replication superuser connections"));
  CHECK_FALSE(server_full("FATAL:  password authentication failed for user \"monitor\""));
  CHECK_FALSE(server_full("FATAL:  the database system is starting up"));
  CHECK_FALSE(server_full(""));
  CHECK_FALSE(server_full(nullptr));
}

TEST_CASE("replication::next_unit spreads processes started together")
{
  // Seeds that differ only a little (neighbouring PIDs, the same clock
  // reading) give different, uniform-looking numbers in [0, 1).
  std::set<int> tenths;
  std::set<double> firsts;
  for (std::uint64_t pid = 4000; pid < 4100; ++pid) {
    std::uint64_t s = pid << 32 ^ 123456789ULL;
    double u = next_unit(s);
    CHECK(u >= 0.0);
    CHECK(u < 1.0);
    firsts.insert(u);
    tenths.insert(static_cast<int>(u * 10));
    double w = next_unit(s);
    CHECK(w != u);
  }
  CHECK(firsts.size() == 100);
  CHECK(tenths.size() == 10);
}
