// SPDX-License-Identifier: GPL-2.0-or-later
// Inputs the fuzzers (tests/fuzz) found breaking a parser, kept here too so
// the regular unit test run guards the fixes without a clang fuzzing build.
// The same inputs are regress-* entries in tests/fuzz/corpus/.
#include <cmath>
#include <string>

#include <doctest/doctest.h>

#include "check_replication_lag/evaluate_mysql.hpp"
#include "sitelink/range.hpp"
#include "sitelink/runbook.hpp"
#include "check_cross_site_ping/thresholds.hpp"

using namespace sitelink;

TEST_CASE("fuzz regressions")
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
  SUBCASE("runbook catalog with a number too large for a double is an error, not an exception")
  {
    auto rb = runbook_from_json(R"({"runbooks":{"x":{"title":1e999}}})", "cat.json", "x");
    REQUIRE_FALSE(rb);
    CHECK(rb.error().find("cat.json") != std::string::npos);
    CHECK(rb.error().find("invalid JSON") != std::string::npos);
  }
  SUBCASE("a duration that overflows when scaled is refused")
  {
    const std::string huge = "1" + std::string(307, '0');
    CHECK_FALSE(ping::parse_duration_ms(huge + "s"));
    CHECK(ping::parse_duration_ms(huge + "us")); // scaled down: still finite
    CHECK(ping::parse_thresholds(huge + "s,5%").has_value() == false);
  }
  SUBCASE("Master_Server_Id beyond 32 bits is ignored, not cast")
  {
    auto s = replication::map_replica_status({"Master_Server_Id", "Slave_IO_Running"},
                                             {std::string("99999999999999999999"), std::string("Yes")});
    CHECK_FALSE(s.source_server_id);
    CHECK(s.io_running == "Yes");
    auto ok = replication::map_replica_status({"Source_Server_Id"}, {std::string("4294967295")});
    REQUIRE(ok.source_server_id);
    CHECK(*ok.source_server_id == 4294967295L);
  }
}
