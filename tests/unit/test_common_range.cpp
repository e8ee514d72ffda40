// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "sitelink/range.hpp"

using sitelink::Range;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
}

TEST_CASE("common::Range::parse")
{
  struct Case {
    const char* text;
    double start, end;
    bool inside;
  };
  // The cases of monitoring-plugins' range tests plus the conventions table.
  const Case ok[] = {
      {"6", 0, 6, false},
      {"1:12%", 1, 12, false},
      {":5.75", 0, 5.75, false},
      {"~:-95.99", -inf, -95.99, false},
      {"~:0", -inf, 0, false},
      {"1:1", 1, 1, false},
      {"12345678901234567890:", 12345678901234567890.0, inf, false},
      {"12%", 0, 12, false},
      {"@:10", 0, 10, true},
      {"-7:23", -7, 23, false},
      {"-12.5:23.4", -12.5, 23.4, false},
      {"~:23", -inf, 23, false},
      {"@0:657.8210567", 0, 657.8210567, true},
      {"1:", 1, inf, false},
      {"@~:0", -inf, 0, true},
      {"@1:1", 1, 1, true},
      {"10", 0, 10, false},
      {"10:", 10, inf, false},
      {"~:10", -inf, 10, false},
      {"10:20", 10, 20, false},
      {"@10:20", 10, 20, true},
      {"0:0", 0, 0, false},
      {"~:", -inf, inf, false},
  };
  for (const auto& c : ok) {
    CAPTURE(std::string(c.text));
    auto r = Range::parse(c.text);
    REQUIRE(r.has_value());
    CHECK(r->start == c.start);
    CHECK(r->end == c.end);
    CHECK(r->inside == c.inside);
  }
  SUBCASE("malformed ranges are errors")
  {
    for (const char* bad :
         {"",    "abc", "10:20:30", "1:~", "@",  "12:3", "@12:3", "2:1", "1:5:2", "1,5", "10s",    "nan", "inf",
          "1e3", " 10", "10 ",      ":",   "@:", "--1",  "0x10",  "~",   "%",     "1:%", "1:12%%", "%12", ":~"}) {
      CAPTURE(std::string(bad));
      CHECK_FALSE(Range::parse(bad).has_value());
    }
  }
}

TEST_CASE("common::Range::alerts")
{
  struct Case {
    const char* range;
    double value;
    bool alerts;
  };
  const Case cases[] = {
      // "6": alert outside 0..6
      {"6", 0, false},
      {"6", 6, false},
      {"6", 6.1, true},
      {"6", 7, true},
      {"6", -1, true},
      {"-7:23", -7, false},
      {"-7:23", 23, false},
      {"-7:23", -7.1, true},
      {"-7:23", 23.1, true},
      {"~:23", -1000000, false},
      {"~:23", 23, false},
      {"~:23", 24, true},
      {"@0:657.8210567", 0, true},
      {"@0:657.8210567", 657.8210567, true},
      {"@0:657.8210567", 657.83, false},
      {"@0:657.8210567", -0.1, false},
      {"1:", 0, true},
      {"1:", 1, false},
      {"1:", 1e9, false},
      {"@~:0", 0, true},
      {"@~:0", -1, true},
      {"@~:0", 0.0001, false},
      // One boundary case per row of the conventions table.
      {"10", -0.001, true},
      {"10", 0, false},
      {"10", 10, false},
      {"10", 10.001, true},
      {"10:", 9.999, true},
      {"10:", 10, false},
      {"~:10", 10, false},
      {"~:10", 10.001, true},
      {"~:10", -1e12, false},
      {"10:20", 9.999, true},
      {"10:20", 10, false},
      {"10:20", 20, false},
      {"10:20", 20.001, true},
      {"@10:20", 9.999, false},
      {"@10:20", 10, true},
      {"@10:20", 20, true},
      {"@10:20", 20.001, false},
  };
  for (const auto& c : cases) {
    CAPTURE(std::string(c.range));
    CAPTURE(c.value);
    auto r = Range::parse(c.range);
    REQUIRE(r.has_value());
    CHECK(r->alerts(c.value) == c.alerts);
  }
}

TEST_CASE("common::Range::perfdata_form")
{
  auto form = [](const char* t) { return Range::parse(t)->perfdata_form(); };
  CHECK(form("10") == "10");
  CHECK(form("~:10") == "10");
  CHECK(form("0:10") == "10");
  CHECK(form("10:") == "10:");
  CHECK(form("10:20") == "10:20");
  CHECK(form("@10:20") == "@10:20");
  CHECK(form("~:") == "~:");
  CHECK(form("-5:-1") == "-5:-1");
  CHECK(form("2.50:3") == "2.5:3");
  CHECK(form(":5.75") == "5.75");
  CHECK(form("1:12%") == "1:12");
}

TEST_CASE("common::Range::describe")
{
  CHECK(Range::parse("900")->describe() == "above 900");
  CHECK(Range::parse("2:")->describe() == "below 2");
  CHECK(Range::parse("10:20")->describe() == "outside 10..20");
  CHECK(Range::parse("@10:20")->describe() == "inside 10..20");
}

// Inputs the fuzzers found (tests/fuzz/corpus/*/regress-*), guarded here too
// without a clang fuzzing build.
TEST_CASE("common::Range::perfdata_form: fuzz regressions")
{
  SUBCASE("range ~:-1 keeps a form that parses back")
  {
    auto r = Range::parse("~:-1");
    REQUIRE(r);
    CHECK(r->perfdata_form() == "~:-1");
    auto back = Range::parse(r->perfdata_form());
    REQUIRE(back);
    CHECK(*back == *r);
    // Plain upper bounds keep their plain form.
    CHECK(Range::parse("~:10")->perfdata_form() == "10");
  }
}
