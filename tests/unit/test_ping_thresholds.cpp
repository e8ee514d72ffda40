// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_cross_site_ping/thresholds.hpp"

using namespace sitelink::ping;

TEST_CASE("ping::thresholds: parse_duration_ms")
{
  SUBCASE("units")
  {
    CHECK(parse_duration_ms("200").value() == 200);
    CHECK(parse_duration_ms("200ms").value() == 200);
    CHECK(parse_duration_ms("1.5ms").value() == 1.5);
    CHECK(parse_duration_ms("500us").value() == doctest::Approx(0.5));
    CHECK(parse_duration_ms("2s").value() == 2000);
    CHECK(parse_duration_ms("0.25s").value() == 250);
    CHECK(parse_duration_ms("0").value() == 0);
    CHECK(parse_duration_ms(".5").value() == 0.5);
  }
  SUBCASE("rejected")
  {
    for (const char* bad : {"", "ms", "s", "us", "-1", "+1", "1e3", "abc", "10 ms", " 10", "10m", "10sec", "1,5", "nan",
                            "inf", "10mss", "0x10"}) {
      CAPTURE(std::string(bad));
      CHECK_FALSE(parse_duration_ms(bad).has_value());
    }
  }
}

TEST_CASE("ping::thresholds: parse_thresholds")
{
  SUBCASE("accepted forms")
  {
    CHECK(parse_thresholds("200,20%").value() == Thresholds{200, 20});
    CHECK(parse_thresholds("200.5,20").value() == Thresholds{200.5, 20});
    CHECK(parse_thresholds("1s,100%").value() == Thresholds{1000, 100});
    CHECK(parse_thresholds("800us,0%").value() == Thresholds{0.8, 0});
    // check_icmp loses the loss part of this one.
    CHECK(parse_thresholds("5,20%").value() == Thresholds{5, 20});
  }
  SUBCASE("rejected with a reason")
  {
    for (const char* bad : {"", "200", "200,", ",20%", "200,20%%", "200,101%", "200,-1%", "abc,20%", "200,abc",
                            "200,20%,5", "200;20%", "1e2,20%", "200 ,20%"}) {
      CAPTURE(std::string(bad));
      auto r = parse_thresholds(bad);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().find("expected RTA,PL%") != std::string::npos);
    }
    CHECK(parse_thresholds("200").error().find("missing the packet loss part") != std::string::npos);
  }
}

TEST_CASE("ping::thresholds: check_order")
{
  CHECK(check_order({200, 20}, {500, 60}).has_value());
  CHECK(check_order({500, 60}, {500, 60}).has_value());
  auto rta = check_order({600, 20}, {500, 60});
  REQUIRE_FALSE(rta.has_value());
  CHECK(rta.error() == "warning round-trip 600 ms is above critical 500 ms");
  auto pl = check_order({200, 70}, {500, 60});
  REQUIRE_FALSE(pl.has_value());
  CHECK(pl.error() == "warning packet loss 70% is above critical 60%");
}

TEST_CASE("ping::thresholds: split_hosts")
{
  SUBCASE("lists, repeats and brackets")
  {
    auto r = split_hosts({"a.example,b.example", " c.example ", "a.example", "[fd00::1]", "10.0.0.1"});
    REQUIRE(r.has_value());
    CHECK(*r == std::vector<std::string>{"a.example", "b.example", "c.example", "fd00::1", "10.0.0.1"});
  }
  SUBCASE("empty entries are refused")
  {
    CHECK_FALSE(split_hosts({"a,,b"}).has_value());
    CHECK_FALSE(split_hosts({""}).has_value());
    CHECK_FALSE(split_hosts({"a,"}).has_value());
    CHECK_FALSE(split_hosts({"[]"}).has_value());
    CHECK(split_hosts({"a,,b"}).error() == "empty host name in 'a,,b'");
  }
  SUBCASE("overlong names are refused")
  {
    CHECK_FALSE(split_hosts({std::string(254, 'a')}).has_value());
    CHECK(split_hosts({std::string(253, 'a')}).has_value());
  }
}

// Inputs the fuzzers found (tests/fuzz/corpus/ping_thresholds/regress-*),
// guarded here too without a clang fuzzing build.
TEST_CASE("ping::thresholds: parse_duration_ms fuzz regressions")
{
  SUBCASE("a duration that overflows when scaled is refused")
  {
    const std::string huge = "1" + std::string(307, '0');
    CHECK_FALSE(parse_duration_ms(huge + "s"));
    CHECK(parse_duration_ms(huge + "us")); // scaled down: still finite
    CHECK(parse_thresholds(huge + "s,5%").has_value() == false);
  }
}
