// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <clocale>
#include <limits>

#include "sitelink/number.hpp"

using sitelink::format_number;
using sitelink::parse_number;

TEST_CASE("common::format_number")
{
  CHECK(format_number(0.0000001) == "0.0000001");
  CHECK(format_number(100) == "100");
  CHECK(format_number(-95.99) == "-95.99");
  CHECK(format_number(1e21) == "1000000000000000000000");
  CHECK(format_number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(format_number(-0.0) == "0");
  CHECK(format_number(std::numeric_limits<double>::quiet_NaN()) == "U");
  CHECK(format_number(std::numeric_limits<double>::infinity()) == "U");
  SUBCASE("independent of the locale")
  {
    // de_DE uses ',' as decimal point; the output must not change.
    const char* set = std::setlocale(LC_ALL, "de_DE.UTF-8");
    if (set == nullptr) set = std::setlocale(LC_ALL, "de_DE.utf8");
    REQUIRE_MESSAGE(set != nullptr, "locale de_DE.UTF-8 is not installed (package locales-all)");
    CHECK(format_number(1.5) == "1.5");
    CHECK(parse_number("1.5").value() == 1.5);
    CHECK_FALSE(parse_number("1,5").has_value());
    std::setlocale(LC_ALL, "C");
  }
}

TEST_CASE("common::parse_number")
{
  CHECK(parse_number("10").value() == 10);
  CHECK(parse_number("-12.5").value() == -12.5);
  CHECK(parse_number("+3").value() == 3);
  CHECK(parse_number(".5").value() == 0.5);
  for (const char* bad : {"", "abc", "1e3", "10s", " 1", "1 ", "nan", "inf", "-", "+", "0x1", "1..2", "++1"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(parse_number(bad).has_value());
  }
}
