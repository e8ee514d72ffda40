// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/timeout.hpp"

using namespace sitelink;

TEST_CASE("common::parse_timeout")
{
  auto t = parse_timeout("10");
  REQUIRE(t.has_value());
  CHECK(t->seconds == 10);
  CHECK(t->state == State::Unknown);
  t = parse_timeout("2.5:critical");
  REQUIRE(t.has_value());
  CHECK(t->seconds == 2.5);
  CHECK(t->state == State::Critical);
  CHECK(parse_timeout("5:OK")->state == State::Ok);
  CHECK(parse_timeout("5:1")->state == State::Warning);
  for (const char* bad : {"", "0", "-1", "abc", "10:", "10:foo", "10:4", ":critical", "1e3", "10s", "100000"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_timeout(bad).has_value());
  }
}

TEST_CASE("common::Deadline")
{
  Deadline d(5);
  CHECK(d.remaining() <= 5);
  CHECK(d.remaining() > 4.5);
  CHECK_FALSE(d.expired());
  CHECK(d.slice().count() <= 4800);
  CHECK(d.slice(0.5).count() <= 2400);
  Deadline gone(0.000001);
  while (!gone.expired()) {}
  CHECK(gone.remaining() == 0);
  CHECK(gone.slice().count() == 50);
}

TEST_CASE("common::Deadline with time already spent")
{
  SUBCASE("the budget counts from a start in the past")
  {
    Deadline d(10, 3);
    CHECK(d.budget() == 10);
    CHECK(d.elapsed() >= 3);
    CHECK(d.remaining() <= 7);
    CHECK(d.remaining() > 6);
  }
  SUBCASE("a negative start is none")
  {
    Deadline d(10, -5);
    CHECK(d.elapsed() < 1);
  }
}

TEST_CASE("common::seconds_since_process_start")
{
  // This process started before the test ran (to the 10 ms tick), and not
  // an hour ago.
  double s = seconds_since_process_start();
  CHECK(s >= 0);
  CHECK(s < 3600);
}
