// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "check_replication_lag/evaluate_postgresql.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::replication;

namespace {

bool has(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

PgSettings lab_settings()
{
  PgSettings s;
  s.wal_receiver_status_interval = 10;
  s.wal_receiver_timeout = 10;
  s.wal_sender_timeout = 10;
  return s;
}

PgSettings default_settings()
{
  PgSettings s;
  s.wal_receiver_status_interval = 10;
  s.wal_receiver_timeout = 60;
  s.wal_sender_timeout = 60;
  return s;
}

// A healthy idle standby as the lab shows it.
PgObservation standby()
{
  PgObservation o;
  o.status = PgObservation::Status::Ok;
  o.server = "socket /run/pg:5432/postgres";
  o.user = "monitor";
  o.monitor = true;
  o.in_recovery = true;
  o.settings = lab_settings();
  o.standby.receiver = true;
  o.standby.receiver_status = "streaming";
  o.standby.receipt_age = 3.2;
  o.standby.bytes = 0;
  o.standby.receive_lsn = "0/3000060";
  o.standby.replay_lsn = "0/3000060";
  o.standby.replay_age = 214; // idle primary: the classic false alarm
  o.standby.pause_state = "not paused";
  o.standby.sender = "10.101.0.10:5432";
  return o;
}

PgObservation primary()
{
  PgObservation o;
  o.status = PgObservation::Status::Ok;
  o.server = "db1:5432/postgres";
  o.user = "monitor";
  o.monitor = true;
  o.in_recovery = false;
  o.settings = lab_settings();
  PgReplica r;
  r.application_name = "dr1";
  r.client_addr = "10.102.0.10";
  r.state = "streaming";
  r.sync_state = "async";
  r.reply_age = 4.1;
  r.bytes = 0;
  o.replicas.push_back(r);
  o.slots.push_back(PgSlot{"dr1", true, 1024, "reserved"});
  return o;
}

PgPolicy policy()
{
  PgPolicy p;
  p.warn = Range::parse("300").value();
  p.crit = Range::parse("900").value();
  return p;
}

} // namespace

TEST_CASE("replication::pg_setting_seconds")
{
  CHECK(pg_setting_seconds("10", "s") == 10);
  CHECK(pg_setting_seconds("60000", "ms") == 60);
  CHECK(pg_setting_seconds("0", "ms") == 0);
  CHECK(pg_setting_seconds("-1", "ms") == 0);
  CHECK(pg_setting_seconds("2", "min") == 120);
  CHECK_FALSE(pg_setting_seconds("abc", "s").has_value());
  CHECK_FALSE(pg_setting_seconds("10", "kB").has_value());
  CHECK_FALSE(pg_setting_seconds("", "s").has_value());
}

TEST_CASE("replication::pg_default_standby_link_timeout")
{
  SUBCASE("lab settings: half of the 10 s receiver timeout, with slack")
  {
    CHECK(pg_default_standby_link_timeout(lab_settings()) == 7.5);
  }
  SUBCASE("PostgreSQL defaults stay above the 30 s keepalive request")
  {
    CHECK(pg_default_standby_link_timeout(default_settings()) == 45);
  }
  SUBCASE("receiver timeout disabled falls back to the sender timeout")
  {
    PgSettings s = default_settings();
    s.wal_receiver_timeout = 0;
    s.wal_sender_timeout = 20;
    CHECK(pg_default_standby_link_timeout(s) == 15);
  }
  SUBCASE("everything disabled or unknown")
  {
    CHECK(pg_default_standby_link_timeout(PgSettings{}) == 90);
  }
}

TEST_CASE("replication::pg_default_primary_link_timeout")
{
  SUBCASE("lab: the primary pings after 5 s")
  {
    CHECK(pg_default_primary_link_timeout(lab_settings()) == 7.5);
  }
  SUBCASE("defaults: the standby reports every 10 s")
  {
    CHECK(pg_default_primary_link_timeout(default_settings()) == 15);
  }
  SUBCASE("short intervals keep two seconds of slack")
  {
    PgSettings s;
    s.wal_receiver_status_interval = 1;
    s.wal_sender_timeout = 60;
    CHECK(pg_default_primary_link_timeout(s) == 3);
  }
  SUBCASE("status interval disabled")
  {
    PgSettings s = default_settings();
    s.wal_receiver_status_interval = 0;
    CHECK(pg_default_primary_link_timeout(s) == 45);
  }
}

TEST_CASE("replication::dsn_has_password")
{
  SUBCASE("key = value form")
  {
    CHECK(dsn_has_password("host=db password=secret"));
    CHECK(dsn_has_password("password = 'a b'"));
    CHECK(dsn_has_password("host='x y' password=z"));
    CHECK(dsn_has_password("  host=a\tpassword=b"));
    CHECK_FALSE(dsn_has_password("host=db dbname=postgres"));
    CHECK_FALSE(dsn_has_password("host=db passfile=/etc/pgpass"));
    CHECK_FALSE(dsn_has_password("application_name='password=x'"));
    CHECK_FALSE(dsn_has_password(""));
    CHECK_FALSE(dsn_has_password("service=dr"));
    // Found by fuzzing: libpq ends the credentials at '@' or '/', not at '?'.
    CHECK(dsn_has_password("postgres://d?n:d4@b4w:A32slmo[e=require"));
    CHECK(dsn_has_password("postgresql://h/db?pass%77ord=x"));
    CHECK_FALSE(dsn_has_password("postgresql://mon@h/db?sslmode=require"));
  }
  SUBCASE("URI form")
  {
    CHECK(dsn_has_password("postgresql://u:pw@db/postgres"));
    CHECK(dsn_has_password("postgres://u:@db"));
    CHECK(dsn_has_password("postgresql://db/postgres?sslmode=require&password=x"));
    CHECK_FALSE(dsn_has_password("postgresql://u@db:5432/postgres?sslmode=require"));
    CHECK_FALSE(dsn_has_password("postgresql://[::1]:5432/postgres"));
    CHECK_FALSE(dsn_has_password("postgresql:///postgres?host=/run/postgresql"));
  }
  SUBCASE("malformed strings are judged conservatively")
  {
    CHECK(dsn_has_password("host='unterminated password=x"));
    CHECK(dsn_has_password("garbage password"));
  }
}

TEST_CASE("replication::quote_table_name")
{
  CHECK(quote_table_name("lab_heartbeat") == std::optional<std::string>("\"lab_heartbeat\""));
  CHECK(quote_table_name("Mon.HeartBeat") == std::optional<std::string>("\"mon\".\"heartbeat\""));
  for (const char* bad : {"", ".", "a.", ".b", "a.b.c", "1abc", "a;drop", "a b", "a\"b", "x-y"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(quote_table_name(bad).has_value());
  }
}

TEST_CASE("replication::classify_pg_connect_error")
{
  SUBCASE("refused credentials or settings are UNKNOWN")
  {
    CHECK(classify_pg_connect_error("connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  password "
                                    "authentication failed for user \"monitor\"") == State::Unknown);
    CHECK(classify_pg_connect_error("FATAL:  database \"nosuch\" does not exist") == State::Unknown);
    CHECK(classify_pg_connect_error("fe_sendauth: no password supplied") == State::Unknown);
    CHECK(classify_pg_connect_error("FATAL:  no pg_hba.conf entry for host") == State::Unknown);
    CHECK(classify_pg_connect_error("invalid connection option \"foo\"") == State::Unknown);
  }
  SUBCASE("an unreachable or unavailable server is CRITICAL")
  {
    CHECK(classify_pg_connect_error("connection to server at \"10.1.1.1\", port 5432 failed: Connection refused") ==
          State::Critical);
    CHECK(classify_pg_connect_error("connection to server on socket \"/x\" failed: No such file or directory") ==
          State::Critical);
    CHECK(classify_pg_connect_error("could not translate host name \"nosuch\" to address") == State::Critical);
    CHECK(classify_pg_connect_error("FATAL:  the database system is starting up") == State::Critical);
    CHECK(classify_pg_connect_error("FATAL:  sorry, too many clients already") == State::Critical);
  }
}

TEST_CASE("replication::evaluate_pg")
{
  PgPolicy p = policy();

  SUBCASE("idle healthy standby: no false alarm from the replay timestamp")
  {
    auto r = evaluate_pg(standby(), p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "standby streaming from 10.101.0.10:5432, lag 0 s, 0 B behind"));
    CHECK(render_perfdata(r.perfdata) == "lag=0s;300;900;0 lag_bytes=0B;;;0 link_age=3.2s;;7.5;0");
  }
  SUBCASE("behind while the link is fresh: seconds from the replay timestamp")
  {
    auto o = standby();
    o.standby.bytes = 5e6;
    o.standby.replay_age = 400;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "lag 400 s (warning above 300 s)"));
  }
  SUBCASE("stale link: CRITICAL and the lag is at least the silence")
  {
    auto o = standby();
    o.standby.receipt_age = 8.4;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "no message from 10.101.0.10:5432 for 8.4 s (link timeout 7.5 s)"));
    CHECK(r.perfdata[0].value == doctest::Approx(8.4));
  }
  SUBCASE("default settings tolerate a 40 s keepalive gap")
  {
    auto o = standby();
    o.settings = default_settings();
    o.standby.receipt_age = 40;
    CHECK(evaluate_pg(o, p).state == State::Ok);
    o.standby.receipt_age = 46;
    CHECK(evaluate_pg(o, p).state == State::Critical);
  }
  SUBCASE("--link-timeout overrides the derived one")
  {
    auto o = standby();
    o.standby.receipt_age = 6;
    p.link_timeout = 5;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(render_perfdata(r.perfdata) == "lag=6s;300;900;0 lag_bytes=0B;;;0 link_age=6s;;5;0");
  }
  SUBCASE("no WAL receiver: CRITICAL, U lag")
  {
    auto o = standby();
    o.standby.receiver = false;
    o.standby.receiver_status.clear();
    o.standby.receipt_age.reset();
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "no WAL receiver"));
    CHECK(has(r.summary, "last replayed transaction is 214 s old"));
    CHECK_FALSE(r.perfdata[0].value.has_value());
  }
  SUBCASE("receiver not streaming")
  {
    auto o = standby();
    o.standby.receiver_status = "waiting";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "WAL receiver is 'waiting'"));
  }
  SUBCASE("replay paused is WARNING")
  {
    auto o = standby();
    o.standby.pause_state = "paused";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "WAL replay is paused"));
  }
  SUBCASE("bytes thresholds; the worst of seconds and bytes wins")
  {
    auto o = standby();
    o.standby.bytes = 2048;
    o.standby.replay_age = 350;
    p.warn_bytes = Range::parse("1000").value();
    p.crit_bytes = Range::parse("2000").value();
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "2 KiB behind (critical above 2000 B)"));
    CHECK(has(r.details[1], "lag 350 s (warning above 300 s)"));
    CHECK(render_perfdata(r.perfdata) == "lag=350s;300;900;0 lag_bytes=2048B;1000;2000;0 link_age=3.2s;;7.5;0");
  }
  SUBCASE("replay ahead of receive (archive recovery) is 0 bytes")
  {
    auto o = standby();
    o.standby.bytes = -100;
    CHECK(evaluate_pg(o, p).perfdata[1].value == 0);
  }
  SUBCASE("heartbeat age replaces the seconds lag")
  {
    auto o = standby();
    o.heartbeat_age = 1.2;
    p.heartbeat_table = "lab_heartbeat";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "heartbeat age 1.2 s"));
    o.heartbeat_age = 1000;
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "heartbeat age 1000 s (critical above 900 s)"));
    o.heartbeat_age.reset();
    o.heartbeat_error = "ERROR:  relation \"x\" does not exist\nLINE 1";
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(has(r.summary, "cannot read heartbeat table lab_heartbeat: ERROR: relation \"x\" does not exist LINE 1"));
  }
  SUBCASE("--role standby on a promoted server is CRITICAL")
  {
    p.role = PgRole::Standby;
    auto r = evaluate_pg(primary(), p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "promoted?"));
    CHECK(render_perfdata(r.perfdata) == "lag=U;300;900;0 lag_bytes=U;;;0 link_age=U;;;0");
  }
  SUBCASE("--role primary on a standby is CRITICAL")
  {
    p.role = PgRole::Primary;
    CHECK(evaluate_pg(standby(), p).state == State::Critical);
  }
  SUBCASE("missing pg_monitor is UNKNOWN naming the role")
  {
    auto o = standby();
    o.monitor = false;
    o.user = "nomon";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "role nomon lacks pg_monitor: replication status is hidden from it");
    CHECK(r.details.at(0) == "fix: GRANT pg_monitor TO nomon;");
  }
  SUBCASE("healthy primary")
  {
    p.replicas = {"dr1"};
    auto r = evaluate_pg(primary(), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "primary: dr1 streaming, lag 0 s, 0 B behind, last reply 4.1 s ago");
    CHECK(render_perfdata(r.perfdata) == "lag=0s;300;900;0 lag_bytes=0B;;;0 link_age=4.1s;;7.5;0");
  }
  SUBCASE("replica matched by client address")
  {
    p.replicas = {"10.102.0.10"};
    CHECK(evaluate_pg(primary(), p).state == State::Ok);
  }
  SUBCASE("stale reply on the primary")
  {
    auto o = primary();
    o.replicas[0].reply_age = 9;
    o.replicas[0].replay_lag = 0.5;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "replica dr1 last replied 9 s ago (link timeout 7.5 s)"));
    CHECK(r.perfdata[0].value == 9);
  }
  SUBCASE("missing replica names its slot's retained WAL")
  {
    auto o = primary();
    o.replicas.clear();
    o.slots[0].active = false;
    o.slots[0].retained_bytes = 3 * 1024 * 1024;
    p.replicas = {"dr1"};
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica dr1 is not connected; its slot dr1 retains 3 MiB of WAL");
    CHECK(render_perfdata(r.perfdata) == "lag=U;300;900;0 lag_bytes=U;;;0 link_age=U;;7.5;0");
    CHECK(has(r.details.back(), "inactive replication slot dr1 retains 3 MiB of WAL"));
  }
  SUBCASE("no replica at all")
  {
    auto o = primary();
    o.replicas.clear();
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "no standby connected"));
  }
  SUBCASE("two replicas get prefixed labels; catchup is WARNING")
  {
    auto o = primary();
    PgReplica second = o.replicas[0];
    second.application_name = "dr-2";
    second.client_addr = "10.102.0.11";
    second.state = "catchup";
    o.replicas.push_back(second);
    p.replicas = {"dr1", "dr-2"};
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "replica dr-2 is in state 'catchup'"));
    CHECK(r.perfdata.size() == 6);
    CHECK(r.perfdata[3].label == "dr_2_lag");
  }
  SUBCASE("connection failures")
  {
    PgObservation o;
    o.status = PgObservation::Status::ConnectFailed;
    o.server = "db:5432/postgres";
    o.error = "connection to server at \"db\" failed: FATAL:  password authentication failed for user \"x\"\n";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(has(r.summary, "cannot connect to db:5432/postgres"));
    o.error = "connection to server at \"db\" failed: Connection refused\n\tIs the server running?";
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "Connection refused Is the server running?"));
  }
  SUBCASE("a timeout names the activity for the runtime's timeout line")
  {
    PgObservation o;
    o.status = PgObservation::Status::Timeout;
    o.activity = "connecting to 10.101.0.10:5432/postgres";
    auto r = evaluate_pg(o, p);
    CHECK(r.timed_out_while == "connecting to 10.101.0.10:5432/postgres");
    REQUIRE(r.perfdata.size() == 3);
    CHECK_FALSE(r.perfdata[0].value.has_value());
  }
  SUBCASE("text from the server is sanitised")
  {
    PgObservation o;
    o.status = PgObservation::Status::QueryFailed;
    o.server = "db";
    o.error = "ERROR: bad | thing\x1b[31m";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Unknown);
    CHECK_FALSE(has(r.summary, "|"));
    CHECK_FALSE(has(r.summary, "\x1b"));
  }
}
