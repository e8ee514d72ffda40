// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <string>
#include <utility>

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

// A server that answered the pg_monitor role `monitor`, with the lab's settings.
PgObservation observed(std::string server)
{
  PgObservation o;
  o.status = PgObservation::Status::Ok;
  o.server = std::move(server);
  o.user = "monitor";
  o.monitor = true;
  o.settings = lab_settings();
  return o;
}

// A standby streaming from this server, caught up, last reply `reply_age` s ago.
PgReplica replica(std::string name, std::string client_addr, double reply_age)
{
  PgReplica r;
  r.application_name = std::move(name);
  r.client_addr = std::move(client_addr);
  r.state = "streaming";
  r.sync_state = "async";
  r.reply_age = reply_age;
  r.bytes = 0;
  return r;
}

// A healthy idle standby as the lab shows it.
PgObservation standby()
{
  PgObservation o = observed("socket /run/pg:5432/postgres");
  o.in_recovery = true;
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
  PgObservation o = observed("db1:5432/postgres");
  o.in_recovery = false;
  o.replicas.push_back(replica("dr1", "10.102.0.10", 4.1));
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
    PgReplica second = replica("dr-2", "10.102.0.11", 4.1);
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

namespace {

PgObservation delayed_standby()
{
  auto o = standby();
  o.settings.recovery_min_apply_delay = 600;
  o.standby.bytes = 4e6;      // received, held back on purpose
  o.standby.replay_age = 640; // the last applied commit is older than the delay
  o.standby.waiting_on_delay = true;
  return o;
}

PgObservation cascade()
{
  auto o = standby();
  o.replicas.push_back(replica("report1", "10.103.0.10", 2.5));
  return o;
}

PgObservation subscriber()
{
  PgObservation o = observed("socket /run/pg-c:5432/postgres");
  PgSubscription s;
  s.name = "mig";
  s.enabled = true;
  s.worker = true;
  s.receipt_age = 2.1;
  s.received_lsn = "0/5000100";
  s.latest_end_lsn = "0/5000100";
  o.subscriptions.push_back(s);
  return o;
}

bool has_line(const Result& r, const std::string& part)
{
  for (const auto& d : r.details)
    if (has(d, part)) return true;
  return false;
}

} // namespace

TEST_CASE("replication::evaluate_pg: delayed standby")
{
  PgPolicy p = policy();
  SUBCASE("as far behind as configured, replay waiting on the delay: OK, lag 0 beyond it")
  {
    auto r = evaluate_pg(delayed_standby(), p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "lag 0 s beyond the apply delay of 600 s"));
    CHECK(r.perfdata[0].value == 0);
    CHECK(has_line(r, "delayed standby: apply delay 600 s (recovery_min_apply_delay), replay is waiting on it"));
  }
  SUBCASE("not waiting on the delay and behind: lag is the replay age minus the delay")
  {
    auto o = delayed_standby();
    o.standby.waiting_on_delay = false;
    o.standby.replay_age = 600 + 400;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "lag beyond the apply delay of 600 s: 400 s (warning above 300 s)"));
  }
  SUBCASE("the same stall on an ordinary standby would read 640 s")
  {
    auto o = delayed_standby();
    o.settings.recovery_min_apply_delay = 0;
    o.standby.waiting_on_delay = false;
    CHECK(evaluate_pg(o, p).state == State::Warning);
  }
  SUBCASE("a dead link is CRITICAL within the same bound as any standby")
  {
    auto o = delayed_standby();
    o.standby.receipt_age = 8;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "no message from 10.101.0.10:5432 for 8 s (link timeout 7.5 s)"));
  }
  SUBCASE("--expected-delay replaces the server's setting")
  {
    auto o = delayed_standby();
    o.standby.waiting_on_delay = false;
    o.standby.replay_age = 700;
    p.expected_delay = 3600;
    CHECK(evaluate_pg(o, p).state == State::Ok);
    CHECK(has_line(evaluate_pg(o, p), "(--expected-delay)"));
  }
  SUBCASE("the heartbeat's age is judged beyond the delay too")
  {
    auto o = delayed_standby();
    p.heartbeat_table = "lab_heartbeat";
    o.heartbeat_age = 605;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.perfdata[0].value == doctest::Approx(5));
  }
}

TEST_CASE("replication::evaluate_pg: slots")
{
  PgPolicy p = policy();
  p.slots = true;
  p.slot_warn_bytes = Range::parse("1000000").value();
  p.slot_crit_bytes = Range::parse("5000000").value();
  auto o = primary();
  o.slots.push_back(PgSlot{"old_dr", false, 200000, "reserved", "physical"});
  SUBCASE("an inactive slot below the thresholds: OK, perfdata per slot")
  {
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "2 slot(s), 1 inactive, none at risk"));
    CHECK(has(render_perfdata(r.perfdata), "slot_dr1_retained=1024B;1000000;5000000;0 "
                                           "slot_old_dr_retained=200000B;1000000;5000000;0"));
  }
  SUBCASE("an abandoned slot growing: WARNING then CRITICAL, naming it and the bytes")
  {
    o.slots[1].retained_bytes = 2e6;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "inactive slot old_dr retains 1.9 MiB of WAL (warning above 1000000 B)");
    o.slots[1].retained_bytes = 6e6;
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "inactive slot old_dr retains 5.7 MiB of WAL (critical above 5000000 B)");
  }
  SUBCASE("an active slot is not judged by its bytes")
  {
    o.slots[0].retained_bytes = 9e9;
    CHECK(evaluate_pg(o, p).state == State::Ok);
  }
  SUBCASE("--slot-inactive-state: any inactive slot")
  {
    p.slot_warn_bytes.reset();
    p.slot_crit_bytes.reset();
    p.slot_inactive_state = State::Critical;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "slot old_dr is inactive, retaining 195.3 KiB of WAL");
  }
  SUBCASE("wal_status unreserved is WARNING, lost is CRITICAL, active or not")
  {
    o.slots[0].wal_status = "unreserved";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "slot dr1 retains 1 KiB beyond max_wal_size"));
    o.slots[0].wal_status = "lost";
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "slot dr1 has lost WAL its consumer needs (wal_status lost)");
  }
  SUBCASE("without --slots an inactive slot stays a detail line")
  {
    p.slots = false;
    o.slots[1].retained_bytes = 6e6;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(has_line(r, "inactive replication slot old_dr retains 5.7 MiB of WAL (wal_status reserved)"));
  }
  SUBCASE("a cascading standby's slot for a dropped downstream is judged on the downstream side")
  {
    auto c = standby();
    c.slots.push_back(PgSlot{"report_gone", false, 6e6, "reserved", "physical"});
    auto r = evaluate_pg(c, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "downstream CRITICAL: inactive slot report_gone retains 5.7 MiB of WAL (critical above "
                       "5000000 B)");
  }
}

TEST_CASE("replication::evaluate_pg: cascading standby")
{
  PgPolicy p = policy();
  SUBCASE("--role auto judges both sides; labels of the downstream carry its name")
  {
    auto r = evaluate_pg(cascade(), p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "upstream: standby streaming from 10.101.0.10:5432"));
    CHECK(has(r.summary, "; downstream: sending to report1 streaming"));
    CHECK(render_perfdata(r.perfdata) == "lag=0s;300;900;0 lag_bytes=0B;;;0 link_age=3.2s;;7.5;0 "
                                         "report1_lag=0s;300;900;0 report1_lag_bytes=0B;;;0 "
                                         "report1_link_age=2.5s;;7.5;0");
    CHECK(has_line(r, "downstream: role: cascading standby (sender)"));
  }
  SUBCASE("the upstream link cut: the output names the upstream side")
  {
    auto o = cascade();
    o.standby.receipt_age = 9;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "upstream CRITICAL: no message from 10.101.0.10:5432 for 9 s (link timeout 7.5 s): link down?");
  }
  SUBCASE("the downstream link cut: the output names the downstream side")
  {
    auto o = cascade();
    o.replicas[0].reply_age = 9;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "downstream CRITICAL: replica report1 last replied 9 s ago (link timeout 7.5 s): link down?");
  }
  SUBCASE("a downstream standby named with --replica that is gone")
  {
    auto o = standby();
    p.replicas = {"report1"};
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "downstream CRITICAL: replica report1 is not connected");
  }
  SUBCASE("--role standby judges only the upstream link")
  {
    auto o = cascade();
    o.replicas[0].reply_age = 9;
    p.role = PgRole::Standby;
    CHECK(evaluate_pg(o, p).state == State::Ok);
  }
}

TEST_CASE("replication::evaluate_pg: logical subscriptions")
{
  PgPolicy p = policy();
  SUBCASE("a subscriber with --role auto: every subscription")
  {
    auto r = evaluate_pg(subscriber(), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "subscription mig streaming, last message 2.1 s ago");
    CHECK(render_perfdata(r.perfdata) == "link_age=2.1s;;7.5;0");
  }
  SUBCASE("an idle publisher: keepalives keep the link fresh, a dead link goes stale")
  {
    auto o = subscriber();
    o.subscriptions[0].receipt_age = 7;
    CHECK(evaluate_pg(o, p).state == State::Ok);
    o.subscriptions[0].receipt_age = 9;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "subscription mig: no message from the publisher for 9 s (link timeout 7.5 s): link down?");
  }
  SUBCASE("no apply worker or disabled")
  {
    auto o = subscriber();
    o.subscriptions[0].worker = false;
    o.subscriptions[0].receipt_age.reset();
    CHECK(has(evaluate_pg(o, p).summary, "subscription mig has no apply worker running"));
    o.subscriptions[0].enabled = false;
    CHECK(evaluate_pg(o, p).summary == "subscription mig is disabled");
  }
  SUBCASE("a named subscription that does not exist is CRITICAL naming what exists")
  {
    p.subscriptions = {"nosuch"};
    auto r = evaluate_pg(subscriber(), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "subscription nosuch does not exist (the server has mig)");
    CHECK(render_perfdata(r.perfdata) == "link_age=U;;7.5;0");
  }
  SUBCASE("two subscriptions get prefixed labels")
  {
    auto o = subscriber();
    auto second = o.subscriptions[0];
    second.name = "Audit";
    second.receipt_age = 1;
    o.subscriptions.push_back(second);
    CHECK(render_perfdata(evaluate_pg(o, p).perfdata) == "mig_link_age=2.1s;;7.5;0 audit_link_age=1s;;7.5;0");
  }
  SUBCASE("--role subscriber on a server without subscriptions")
  {
    auto o = subscriber();
    o.subscriptions.clear();
    p.role = PgRole::Subscriber;
    CHECK(evaluate_pg(o, p).summary == "no logical replication subscription on this server");
  }
  SUBCASE("a primary that also subscribes, with --subscription: both sides")
  {
    auto o = primary();
    o.subscriptions = subscriber().subscriptions;
    o.subscriptions[0].receipt_age = 30;
    p.subscriptions = {"mig"};
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "subscriber CRITICAL: subscription mig: no message from the publisher for 30 s"));
  }
  SUBCASE("the publisher sees the subscription's WAL sender like a standby")
  {
    auto o = primary();
    o.replicas[0].application_name = "mig";
    o.slots = {PgSlot{"mig", true, 512, "reserved", "logical"}};
    p.replicas = {"mig"};
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(has(r.summary, "primary: mig streaming"));
  }
}

TEST_CASE("replication::evaluate_pg: server version")
{
  PgPolicy p = policy();
  auto o = standby();
  o.server_version = 130011;
  auto r = evaluate_pg(o, p);
  CHECK(r.state == State::Unknown);
  CHECK(r.summary == "socket /run/pg:5432/postgres runs PostgreSQL 13.11: check_replication_lag needs PostgreSQL 14 "
                     "or later");
  o.server_version = 150005;
  CHECK(evaluate_pg(o, p).state == State::Ok);
}

TEST_CASE("replication::evaluate_pg: clock skew between the sites")
{
  PgPolicy p = policy();
  auto o = primary();
  SUBCASE("a standby clock 60 s slow: replies keep arriving, WARNING naming the skew, not a dead link")
  {
    o.replicas[0].reply_age = 63;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "replica dr1's clock is about 63 s behind: its replies read 63 s old but keep arriving (a "
                       "silent standby is dropped after wal_sender_timeout 10 s)");
  }
  SUBCASE("borderline (between the link timeout and wal_sender_timeout): a dead link as before")
  {
    o.replicas[0].reply_age = 9;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "replica dr1 last replied 9 s ago (link timeout 7.5 s): link down?"));
  }
  SUBCASE("a standby clock 60 s fast: WARNING naming it")
  {
    o.replicas[0].reply_age = -60;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "replica dr1's clock is 60 s ahead (reply_time in the future)"));
  }
  SUBCASE("a small disagreement is no skew")
  {
    o.replicas[0].reply_age = -1.5;
    CHECK(evaluate_pg(o, p).state == State::Ok);
  }
  SUBCASE("without wal_sender_timeout an old reply stays a dead link")
  {
    o.settings.wal_sender_timeout = 0;
    o.replicas[0].reply_age = 63;
    CHECK(evaluate_pg(o, p).state == State::Critical);
  }
}

namespace {

// A primary whose standby dr1 is borderline (`age` s), read a second time
// `after` s later with its reply_time `advance` s on (0: not advanced).
PgObservation read_twice(double age, double after, double advance)
{
  auto o = primary();
  o.replicas[0].reply_age = age;
  o.replicas[0].reply_time = 1.8e9;
  o.second_read.status = PgSecondRead::Status::Ok;
  o.second_read.after = after;
  o.second_read.replicas = o.replicas;
  o.second_read.replicas[0].reply_time = 1.8e9 + advance;
  o.second_read.replicas[0].reply_age = advance > 0 ? age + after - advance : age + after;
  return o;
}

} // namespace

TEST_CASE("replication::pg_second_read_plan")
{
  PgPolicy p = policy();
  auto o = primary();
  SUBCASE("a fresh standby: no second read")
  {
    auto plan = pg_second_read_plan(o, p);
    CHECK(plan.wait == 0);
    CHECK(plan.replicas.empty());
  }
  SUBCASE("a reply older than the link timeout: wait one reply interval (wal_sender_timeout / 2) and 2 s")
  {
    o.replicas[0].reply_age = 9;
    auto plan = pg_second_read_plan(o, p);
    CHECK(plan.wait == doctest::Approx(7));
    REQUIRE(plan.replicas.size() == 1);
    CHECK(plan.replicas[0].application_name == "dr1");
    o.settings = default_settings(); // status interval 10 s < 60 / 2
    o.replicas[0].reply_age = 40;
    CHECK(pg_second_read_plan(o, p).wait == doctest::Approx(12));
  }
  SUBCASE("a reply from the future (clock ahead) is borderline too")
  {
    o.replicas[0].reply_age = -60;
    CHECK(pg_second_read_plan(o, p).wait == doctest::Approx(7));
  }
  SUBCASE("not for a standby that is not streaming, nor one not asked for, nor --role standby")
  {
    o.replicas[0].reply_age = 9;
    o.replicas[0].state = "catchup";
    CHECK(pg_second_read_plan(o, p).wait == 0);
    o.replicas[0].state = "streaming";
    p.replicas = {"other"};
    CHECK(pg_second_read_plan(o, p).wait == 0);
    p.replicas.clear();
    p.role = PgRole::Standby;
    CHECK(pg_second_read_plan(o, p).wait == 0);
  }
}

TEST_CASE("replication::pg_reply_advanced")
{
  auto o = read_twice(9, 2, 3);
  CHECK(pg_reply_advanced(o.replicas[0], o.second_read.replicas));
  o.second_read.replicas[0].reply_time = 1.8e9;
  CHECK_FALSE(pg_reply_advanced(o.replicas[0], o.second_read.replicas));
  o.second_read.replicas[0].reply_time = 1.8e9 + 3;
  o.second_read.replicas[0].client_addr = "10.102.0.11"; // another standby of the same name
  CHECK_FALSE(pg_reply_advanced(o.replicas[0], o.second_read.replicas));
  o.second_read.replicas.clear();
  CHECK_FALSE(pg_reply_advanced(o.replicas[0], o.second_read.replicas));
  auto n = read_twice(9, 2, 3);
  n.replicas[0].reply_time.reset();
  CHECK_FALSE(pg_reply_advanced(n.replicas[0], n.second_read.replicas));
}

TEST_CASE("replication::evaluate_pg: second read of a borderline standby")
{
  PgPolicy p = policy();
  SUBCASE("advanced: a live link whose clock is behind, WARNING naming the skew")
  {
    auto r = evaluate_pg(read_twice(9, 2.1, 3), p);
    CHECK(r.state == State::Warning);
    CHECK(r.summary == "replica dr1's clock is about 8.1 s behind: its reply_time advanced between two reads 2.1 s "
                       "apart but reads 8.1 s old");
    CHECK(has_line(r, "second read 2.1 s later: replica dr1's reply_time advanced (replies arrive)"));
    CHECK(r.perfdata.at(0).value == doctest::Approx(0));
  }
  SUBCASE("advanced to a fresh reply: a late reply on a live link, one clock: OK, no skew")
  {
    auto r = evaluate_pg(read_twice(9, 2.1, 10.9), p);
    CHECK(r.state == State::Ok);
    CHECK_FALSE(has(r.summary, "clock"));
    CHECK(has_line(r, "second read 2.1 s later: replica dr1's reply_time advanced (replies arrive)"));
  }
  SUBCASE("advanced, far behind (beyond wal_sender_timeout): the same finding, from the two reads")
  {
    auto r = evaluate_pg(read_twice(63, 1.2, 2), p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "replica dr1's clock is about 62.2 s behind: its reply_time advanced"));
  }
  SUBCASE("not advanced: judged as without the second read")
  {
    auto r = evaluate_pg(read_twice(9, 7, 0), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica dr1 last replied 9 s ago (link timeout 7.5 s): link down?");
    CHECK(has_line(r, "second read 7 s later: replica dr1's reply_time did not advance"));
    auto far = evaluate_pg(read_twice(63, 3, 0), p); // less than a reply interval (5 s): not enough to tell
    CHECK(far.state == State::Warning);
    CHECK(has(far.summary, "replica dr1's clock is about 63 s behind: its replies read 63 s old but keep arriving"));
  }
  SUBCASE("far behind and silent for a whole reply interval: the dead link the skew would hide is CRITICAL")
  {
    auto r = evaluate_pg(read_twice(63, 7, 0), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica dr1 has not replied for 7 s (its reply_time did not advance; it reads 63 s old, the "
                       "standby's clock is behind): link down?");
    CHECK(r.perfdata.at(0).value == doctest::Approx(0)); // the skew is no lag
  }
  SUBCASE("gone in the second read: judged as without it")
  {
    auto o = read_twice(9, 7, 0);
    o.second_read.replicas.clear();
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has_line(r, "replica dr1's reply_time is gone (not connected)"));
  }
  SUBCASE("the second read failed or ran out of time: judged as without it, and said so")
  {
    auto o = read_twice(9, 0, 0);
    o.second_read.status = PgSecondRead::Status::Failed;
    o.second_read.error = "ERROR:  canceling statement due to statement timeout\n";
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica dr1 last replied 9 s ago (link timeout 7.5 s): link down?");
    CHECK(has_line(r, "second read of pg_stat_replication for replica dr1 failed: ERROR: canceling statement due to "
                      "statement timeout"));
    o.second_read.status = PgSecondRead::Status::TimedOut;
    r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has_line(r, "second read of pg_stat_replication for replica dr1 ran out of time"));
  }
  SUBCASE("clock ahead, advanced: a live link, the skew WARNING as before")
  {
    auto r = evaluate_pg(read_twice(-60, 2, 3), p);
    CHECK(r.state == State::Warning);
    CHECK(has(r.summary, "replica dr1's clock is 60 s ahead (reply_time in the future)"));
  }
  SUBCASE("clock ahead, silent for a whole reply interval: the dead link the skew hid is CRITICAL")
  {
    auto r = evaluate_pg(read_twice(-60, 7, 0), p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "replica dr1 has not replied for 7 s (its reply_time did not advance; the standby's clock "
                         "is 60 s ahead, so it looked fresh): link down?"));
  }
  SUBCASE("clock ahead, not advanced within less than a reply interval: not enough to tell, WARNING as before")
  {
    auto r = evaluate_pg(read_twice(-60, 3, 0), p);
    CHECK(r.state == State::Warning);
  }
  SUBCASE("a healthy standby beside a borderline one: its output is unchanged")
  {
    auto o = read_twice(9, 2, 3);
    PgReplica healthy = o.replicas[0];
    healthy.application_name = "dr2";
    healthy.reply_age = 3;
    o.replicas.push_back(healthy);
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Warning);
    CHECK_FALSE(has_line(r, "replica dr2's reply_time"));
  }
}

TEST_CASE("replication::evaluate_pg: --role primary on a cascading standby")
{
  PgPolicy p = policy();
  p.role = PgRole::Primary;
  SUBCASE("judges the sending side only, saying it is a cascading standby")
  {
    auto o = cascade();
    o.standby.receipt_age = 99; // the upstream link is not judged
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "cascading standby sending to report1 streaming, lag 0 s, 0 B behind, last reply 2.5 s ago");
    CHECK(has_line(r, "role: cascading standby (sender)"));
    CHECK(has_line(r, "its upstream link is not judged"));
    CHECK(render_perfdata(r.perfdata) ==
          "report1_lag=0s;300;900;0 report1_lag_bytes=0B;;;0 report1_link_age=2.5s;;7.5;0");
  }
  SUBCASE("its downstream link cut is CRITICAL")
  {
    auto o = cascade();
    o.replicas[0].reply_age = 9;
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica report1 last replied 9 s ago (link timeout 7.5 s): link down?");
  }
  SUBCASE("its downstream gone, its slot left: CRITICAL, no standby connected")
  {
    auto o = standby();
    o.slots.push_back(PgSlot{"report1", false, 1e6, "reserved", "physical"});
    auto r = evaluate_pg(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "cascading standby has no standby connected (pg_stat_replication is empty)");
  }
  SUBCASE("--replica names a downstream standby that is gone")
  {
    p.replicas = {"report1"};
    auto r = evaluate_pg(standby(), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "replica report1 is not connected");
  }
  SUBCASE("a standby with nothing downstream stays CRITICAL: in recovery")
  {
    auto r = evaluate_pg(standby(), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "socket /run/pg:5432/postgres is in recovery (a standby) but --role primary was expected");
  }
}
