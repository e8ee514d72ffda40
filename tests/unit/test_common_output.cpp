// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/output.hpp"

using namespace sitelink;

TEST_CASE("common::sanitize")
{
  CHECK(sanitize("a|b") == "a b");
  CHECK(sanitize("line1\nline2\r\t\x1b[31m") == "line1line2[31m");
  CHECK(sanitize("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(sanitize("\xf0\x9f\x98\x80 ok") == "\xf0\x9f\x98\x80 ok");
  CHECK(sanitize_quote("0123456789", 4) == "0123...");
  CHECK(sanitize_quote("ab", 4) == "ab");
}

TEST_CASE("common::sanitize: invalid UTF-8 becomes U+FFFD")
{
  const std::string r = "\xef\xbf\xbd"; // U+FFFD REPLACEMENT CHARACTER
  SUBCASE("a byte of 0x80 and above that starts nothing is replaced")
  {
    CHECK(sanitize("a\x80z") == "a" + r + "z");
    CHECK(sanitize("greeting \xff\xfe") == "greeting " + r + r);
    CHECK(sanitize("\xf5\x80") == r + r);
  }
  SUBCASE("overlong forms are replaced byte by byte")
  {
    CHECK(sanitize("\xc0\xaf") == r + r);
    CHECK(sanitize("\xc1\xbf") == r + r);
    CHECK(sanitize("\xe0\x80\xaf") == r + r + r);
    CHECK(sanitize("\xf0\x80\x80\xaf") == r + r + r + r);
  }
  SUBCASE("surrogates and code points above U+10FFFF are replaced")
  {
    CHECK(sanitize("\xed\xa0\x80") == r + r + r);
    CHECK(sanitize("\xf4\x90\x80\x80") == r + r + r + r);
  }
  SUBCASE("a truncated sequence is one replacement")
  {
    CHECK(sanitize("ab\xe2\x82") == "ab" + r);
    CHECK(sanitize("\xe2\x82z") == r + "z");
    CHECK(sanitize("\xf0\x9f\x98") == r);
  }
  SUBCASE("valid sequences of every length are kept")
  {
    CHECK(sanitize("\xc2\xa0\xe2\x82\xac\xf4\x8f\xbf\xbf") == "\xc2\xa0\xe2\x82\xac\xf4\x8f\xbf\xbf");
  }
  SUBCASE("the rendered output is valid UTF-8 whatever the peer sent")
  {
    Result bad{State::Critical, "peer says \xc3(", {"detail \xa9"}, {}};
    CHECK(render("X", bad, {}) == "X CRITICAL - peer says " + r + "(\ndetail " + r + "\n");
  }
}

TEST_CASE("common::render")
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
  SUBCASE("line 1 over the cap drops whole perfdata items from the end")
  {
    Result many{State::Ok, "300 tunnels up", {"detail"}, {}};
    for (int i = 0; i < 300; ++i)
      many.perfdata.push_back(
          {"tunnel_with_a_rather_long_name_number_" + std::to_string(i) + "_up", 1.0, Uom::None, {}, {}, 0.0, 1.0});
    auto out = render("VPN_TUNNEL", many, {"Impact: i"});
    CHECK(out.size() <= max_output_size);
    const std::string line1 = out.substr(0, out.find('\n'));
    const std::string prefix = "VPN_TUNNEL OK - 300 tunnels up | ";
    REQUIRE(line1.rfind(prefix, 0) == 0);
    const std::string shown = line1.substr(prefix.size());
    const std::string full = render_perfdata(many.perfdata);
    REQUIRE(shown.size() < full.size());
    CHECK(full.compare(0, shown.size(), shown) == 0);
    CHECK(full[shown.size()] == ' ');
    CHECK(shown.size() > 7000);
    CHECK(out.find("perfdata items omitted (8 KiB output limit)") != std::string::npos);
  }
  SUBCASE("perfdata that fits is kept whole")
  {
    Result few{State::Ok, "up", {}, {}};
    for (int i = 0; i < 10; ++i) few.perfdata.push_back({"t" + std::to_string(i), 1.0, Uom::None, {}, {}, {}, {}});
    CHECK(render("X", few, {}) == "X OK - up | " + render_perfdata(few.perfdata) + "\n");
  }
  SUBCASE("when no perfdata item fits, line 1 has no perfdata at all")
  {
    Result wide{State::Warning, std::string(8100, 'a'), {}, {{std::string(200, 'b'), 1.0, Uom::None, {}, {}, {}, {}}}};
    auto out = render("X", wide, {});
    CHECK(out.rfind("X WARNING - " + std::string(8100, 'a') + "\n", 0) == 0);
    CHECK(out.find('|') == std::string::npos);
  }
  SUBCASE("line 1 is never cut")
  {
    Result huge{State::Ok, std::string(9000, 'a'), {"d"}, {}};
    auto out = render("X", huge, {});
    CHECK(out.find(std::string(9000, 'a')) != std::string::npos);
    CHECK(out.find("\nd\n") == std::string::npos);
  }
}
