// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_replication_lag/evaluate.hpp"
#include "check_replication_lag/heartbeat.hpp"

using namespace sitelink;
using namespace sitelink::replication;

TEST_CASE("replication::parse_heartbeat")
{
  CHECK(parse_heartbeat("1700000000").value() == 1700000000);
  CHECK(parse_heartbeat("1700000000.25\n").value() == 1700000000.25);
  CHECK(parse_heartbeat("  1700000000  \nrest").value() == 1700000000);
  CHECK(parse_heartbeat("1970-01-01T00:00:00Z").value() == 0);
  CHECK(parse_heartbeat("2026-11-22T02:14:57Z").value() == 1795313697);
  CHECK(parse_heartbeat("2026-11-22T03:14:57+01:00").value() == 1795313697);
  CHECK(parse_heartbeat("2026-11-21 21:14:57.5-05:00").value() == 1795313697.5);
  CHECK(parse_heartbeat("2024-02-29t00:00:00z").value() == 1709164800);
  for (const char* bad : {"", "\n", "abc", "2026-11-22T02:14:57", "2026-11-22", "2026-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2026-11-22T25:00:00Z", "2026-11-22T02:14:57+0100",
                          "2026-11-22T02:14:57Zjunk", "1.2.3", "-5", "17e8", "2026-11-22T02:14:57.Z"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_heartbeat(bad).has_value());
  }
}

TEST_CASE("replication::evaluate_heartbeat")
{
  HeartbeatPolicy p{Range::parse("300").value(), Range::parse("900").value(), 60};
  HeartbeatObservation o;
  o.path = "/srv/dr/heartbeat";
  o.status = HeartbeatObservation::Status::Read;
  o.timestamp = 1000;

  SUBCASE("critical age")
  {
    auto r = evaluate_heartbeat(o, p, 2260);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "heartbeat /srv/dr/heartbeat is 1260 s old (critical above 900 s)");
    CHECK(render_perfdata(r.perfdata) == "age=1260s;300;900;0");
  }
  SUBCASE("boundaries are inclusive")
  {
    CHECK(evaluate_heartbeat(o, p, 1300).state == State::Ok);
    CHECK(evaluate_heartbeat(o, p, 1300.5).state == State::Warning);
    CHECK(evaluate_heartbeat(o, p, 1900).state == State::Warning);
    CHECK(evaluate_heartbeat(o, p, 1900.001).state == State::Critical);
  }
  SUBCASE("small skew is age 0, large skew is WARNING")
  {
    auto r = evaluate_heartbeat(o, p, 950);
    CHECK(r.state == State::Ok);
    CHECK(render_perfdata(r.perfdata) == "age=0s;300;900;0");
    r = evaluate_heartbeat(o, p, 900);
    CHECK(r.state == State::Warning);
    CHECK(r.summary.find("100 s in the future") != std::string::npos);
  }
  SUBCASE("missing file is CRITICAL with U perfdata")
  {
    HeartbeatObservation m;
    m.path = "/x";
    m.status = HeartbeatObservation::Status::Missing;
    m.error = "No such file or directory";
    auto r = evaluate_heartbeat(m, p, 0);
    CHECK(r.state == State::Critical);
    CHECK(render_perfdata(r.perfdata) == "age=U;300;900;0");
  }
  SUBCASE("unparsable content quotes at most 40 characters")
  {
    HeartbeatObservation u;
    u.path = "/x";
    u.status = HeartbeatObservation::Status::Unparsable;
    u.content = std::string(100, 'z') + "|";
    u.error = "bad";
    auto r = evaluate_heartbeat(u, p, 0);
    CHECK(r.state == State::Unknown);
    CHECK(r.summary.find(std::string(40, 'z') + "...'") != std::string::npos);
    CHECK(r.summary.find(std::string(41, 'z')) == std::string::npos);
  }
}
