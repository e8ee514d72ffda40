// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/labels.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;

TEST_CASE("common::format_label")
{
  CHECK(format_label("time") == "time");
  CHECK(format_label("dr_primary_up") == "dr_primary_up");
  CHECK(format_label("dr-primary") == "'dr-primary'");
  CHECK(format_label("10.0.0.1 rta") == "'10.0.0.1 rta'");
  SUBCASE("quoting is decided on the sanitised label")
  {
    CHECK(format_label("a=b_up") == "a_b_up");
    CHECK(format_label("it's=x") == "it_s_x");
    CHECK(format_label("a|b") == "ab");
    CHECK(format_label("a b=c") == "'a b_c'");
  }
  SUBCASE("a label from outside is valid UTF-8")
  {
    CHECK(format_label("t\xff") == "'t\xef\xbf\xbd'");
    CHECK(format_label("caf\xc3\xa9") == "'caf\xc3\xa9'");
  }
}

TEST_CASE("common::Perfdatum::render")
{
  Perfdatum p;
  p.label = "time";
  p.value = 1;
  p.uom = Uom::Seconds;
  CHECK(p.render() == "time=1s");
  p.max = 100;
  CHECK(p.render() == "time=1s;;;;100");
  p.warn = Range::parse("~:10").value();
  p.crit = Range::parse("10:20").value();
  p.min = 0;
  CHECK(p.render() == "time=1s;10;10:20;0;100");
  p.value.reset();
  CHECK(p.render() == "time=U;10;10:20;0;100");
  Perfdatum q{"age", 1260, Uom::Seconds, Range::parse("300").value(), Range::parse("900").value(), 0.0, {}};
  CHECK(q.render() == "age=1260s;300;900;0");
  Perfdatum up{"tunnels_up", 0, Uom::None, Range::parse("2:").value(), Range::parse("1:").value(), 0.0, 2.0};
  CHECK(up.render() == "tunnels_up=0;2:;1:;0;2");
  Perfdatum small{"x", 0.0000001, Uom::Percent, {}, {}, {}, {}};
  CHECK(small.render() == "x=0.0000001%");
}

TEST_CASE("common::Uom")
{
  CHECK(to_string(Uom::None) == "");
  CHECK(to_string(Uom::Seconds) == "s");
  CHECK(to_string(Uom::Milliseconds) == "ms");
  CHECK(to_string(Uom::Microseconds) == "us");
  CHECK(to_string(Uom::Percent) == "%");
  CHECK(to_string(Uom::Bytes) == "B");
  CHECK(to_string(Uom::KB) == "KB");
  CHECK(to_string(Uom::MB) == "MB");
  CHECK(to_string(Uom::GB) == "GB");
  CHECK(to_string(Uom::TB) == "TB");
  CHECK(to_string(Uom::Counter) == "c");
}

TEST_CASE("common::render_perfdata")
{
  std::vector<Perfdatum> items{{"a", 1, Uom::None, {}, {}, {}, {}}, {"b c", 2, Uom::Bytes, {}, {}, {}, {}}};
  CHECK(render_perfdata(items) == "a=1 'b c'=2B");
  CHECK(render_perfdata({}) == "");
}

TEST_CASE("common::perfdata address_label: letters and digits kept, everything else '_', so no quotes and no dot")
{
  CHECK(sitelink::address_label("192.0.2.2") == "192_0_2_2");
  CHECK(sitelink::address_label("2001:db8::2") == "2001_db8__2");
  CHECK(sitelink::address_label("db-b.dr.example") == "db_b_dr_example");
  CHECK(sitelink::format_label(sitelink::address_label("2001:db8::2") + "_in_pps") == "2001_db8__2_in_pps");
}
