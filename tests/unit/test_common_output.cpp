// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/output.hpp"

using namespace sitelink;

TEST_CASE("sanitize")
{
  CHECK(sanitize("a|b") == "a b");
  CHECK(sanitize("line1\nline2\r\t\x1b[31m") == "line1line2[31m");
  CHECK(sanitize("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(sanitize_quote("0123456789", 4) == "0123...");
  CHECK(sanitize_quote("ab", 4) == "ab");
}

TEST_CASE("render")
{
  Result r{State::Critical, "x is down", {"detail 1", "detail|2"}, {{"up", 0, Uom::None, {}, {}, 0.0, 1.0}}};
  SUBCASE("line 1, long output, runbook block")
  {
    auto out = render("VPN_TUNNEL", r, {"Impact: users", "Action: fix", "Runbook: https://x"});
    CHECK(out == "VPN_TUNNEL CRITICAL - x is down | up=0;;;0;1\ndetail 1\ndetail 2\nImpact: users\n"
                 "Action: fix\nRunbook: https://x\n");
  }
  SUBCASE("no perfdata, no pipe")
  {
    Result ok{State::Ok, "fine", {}, {}};
    CHECK(render("X", ok, {}) == "X OK - fine\n");
  }
  SUBCASE("summary from outside is sanitised")
  {
    Result bad{State::Unknown, "a|b\nc", {}, {}};
    CHECK(render("X", bad, {}) == "X UNKNOWN - a bc\n");
  }
  SUBCASE("capped at 8 KiB, long output cut first, runbook kept")
  {
    Result big{State::Warning, "many", {}, {}};
    for (int i = 0; i < 2000; ++i) big.details.push_back("detail line number " + std::to_string(i));
    auto out = render("X", big, {"Impact: i", "Runbook: u"});
    CHECK(out.size() <= max_output_size);
    CHECK(out.rfind("X WARNING - many\n", 0) == 0);
    CHECK(out.find("more lines omitted") != std::string::npos);
    CHECK(out.find("Impact: i\nRunbook: u\n") != std::string::npos);
  }
  SUBCASE("line 1 is never cut")
  {
    Result huge{State::Ok, std::string(9000, 'a'), {"d"}, {}};
    auto out = render("X", huge, {});
    CHECK(out.find(std::string(9000, 'a')) != std::string::npos);
    CHECK(out.find("\nd\n") == std::string::npos);
  }
}
