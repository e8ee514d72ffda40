// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/result.hpp"
#include "sitelink/state.hpp"

using namespace sitelink;

TEST_CASE("common::worst")
{
  CHECK(worst(State::Ok, State::Unknown) == State::Unknown);
  CHECK(worst(State::Unknown, State::Warning) == State::Warning);
  CHECK(worst(State::Critical, State::Unknown) == State::Critical);
  CHECK(worst(State::Unknown, State::Critical) == State::Critical);
  CHECK(worst(State::Warning, State::Critical) == State::Critical);
  CHECK(worst(State::Ok, State::Ok) == State::Ok);
}

TEST_CASE("common::parse_state")
{
  CHECK(parse_state("OK") == State::Ok);
  CHECK(parse_state("Warning") == State::Warning);
  CHECK(parse_state("critical") == State::Critical);
  CHECK(parse_state("UNKNOWN") == State::Unknown);
  CHECK(parse_state("0") == State::Ok);
  CHECK(parse_state("3") == State::Unknown);
  CHECK_FALSE(parse_state("4").has_value());
  CHECK_FALSE(parse_state("crit").has_value());
  CHECK_FALSE(parse_state("").has_value());
}

TEST_CASE("common::aggregate")
{
  SUBCASE("no measurement is UNKNOWN")
  {
    auto r = aggregate({});
    CHECK(r.state == State::Unknown);
  }
  SUBCASE("CRITICAL beats UNKNOWN, summary lists the worst parts")
  {
    auto r = aggregate({{State::Unknown, "b unreadable", {}},
                        {State::Critical, "a down", {}},
                        {State::Ok, "c up", {}},
                        {State::Critical, "d down", {}}});
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "a down, d down");
    CHECK(r.details.size() == 4);
  }
  SUBCASE("WARNING beats UNKNOWN")
  {
    CHECK(aggregate({{State::Unknown, "x", {}}, {State::Warning, "y", {}}}).state == State::Warning);
  }
  SUBCASE("UNKNOWN beats OK")
  {
    CHECK(aggregate({{State::Unknown, "x", {}}, {State::Ok, "y", {}}}).state == State::Unknown);
  }
}
