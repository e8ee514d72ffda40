// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "check_replication_lag/evaluate_mysql.hpp"
#include "fixture.hpp"
#include "sitelink/perfdata.hpp"

using namespace sitelink;
using namespace sitelink::replication;

namespace {

bool has(const std::string& text, const std::string& part)
{
  return text.find(part) != std::string::npos;
}

// A recorded SHOW REPLICA STATUS row: {"columns": [...], "values": [...]}.
MysqlReplicaStatus fixture(const std::string& name)
{
  const std::string text = sitelink::test::read_fixture("replication/" + name);
  REQUIRE_FALSE(text.empty());
  auto j = nlohmann::json::parse(text);
  std::vector<std::string> names = j.at("columns").get<std::vector<std::string>>();
  std::vector<std::optional<std::string>> values;
  for (const auto& v : j.at("values")) {
    if (v.is_null()) values.emplace_back(std::nullopt);
    else values.emplace_back(v.get<std::string>());
  }
  REQUIRE(names.size() == values.size());
  return map_replica_status(names, values);
}

MysqlReplicaStatus healthy_row()
{
  MysqlReplicaStatus s;
  s.io_running = "Yes";
  s.sql_running = "Yes";
  s.seconds_behind = 0;
  s.source_host = "10.101.0.10";
  s.source_port = "3306";
  s.source_server_id = 1;
  return s;
}

MysqlObservation replica()
{
  MysqlObservation o;
  o.status = MysqlObservation::Status::Ok;
  o.server = "socket /run/mysqld/mysqld.sock";
  o.user = "monitor@localhost";
  o.mariadb = true;
  o.rows.push_back(healthy_row());
  return o;
}

MysqlPolicy policy()
{
  MysqlPolicy p;
  p.warn = Range::parse("300").value();
  p.crit = Range::parse("900").value();
  return p;
}

} // namespace

TEST_CASE("replication::map_replica_status")
{
  SUBCASE("MariaDB spelling, NULL seconds, SQL error")
  {
    auto s = fixture("mariadb-10.11-show-replica-status.json");
    CHECK(s.io_running == "Yes");
    CHECK(s.sql_running == "No");
    CHECK_FALSE(s.seconds_behind.has_value());
    CHECK(s.last_sql_errno == "1062");
    CHECK(has(s.last_sql_error, "Duplicate entry '7' for key 'PRIMARY'"));
    CHECK(s.last_io_error.empty());
    CHECK(s.source_host == "10.101.0.10");
    CHECK(s.source_server_id == 1L);
    CHECK(s.channel.empty());
  }
  SUBCASE("MySQL 8 spelling")
  {
    auto s = fixture("mysql-8.0-show-replica-status.json");
    CHECK(s.io_running == "Yes");
    CHECK(s.sql_running == "Yes");
    CHECK(s.seconds_behind == 3.0);
    CHECK(s.source_host == "db1.example.org");
    CHECK(s.source_server_id == 11L);
    CHECK(s.channel == "dr");
    CHECK(has(s.sql_state, "read all relay log"));
  }
  SUBCASE("names are matched without regard to case; missing columns stay empty")
  {
    auto s = map_replica_status({"slave_io_running", "SECONDS_BEHIND_MASTER"}, {std::string("No"), std::string("x")});
    CHECK(s.io_running == "No");
    CHECK_FALSE(s.seconds_behind.has_value());
    CHECK(s.sql_running.empty());
  }
}

TEST_CASE("replication::classify_mysql_connect_error")
{
  CHECK(classify_mysql_connect_error(1045) == State::Unknown);
  CHECK(classify_mysql_connect_error(1049) == State::Unknown);
  CHECK(classify_mysql_connect_error(2026) == State::Unknown);
  CHECK(classify_mysql_connect_error(2002) == State::Critical);
  CHECK(classify_mysql_connect_error(2003) == State::Critical);
  // Lost mid-handshake (not a timeout): the answer was cut, we could not
  // find out (issue 25; was CRITICAL before).
  CHECK(classify_mysql_connect_error(2013) == State::Unknown);
  CHECK(classify_mysql_connect_error(1040) == State::Critical);
}

TEST_CASE("replication::quote_mysql_table")
{
  CHECK(quote_mysql_table("percona.heartbeat") == std::optional<std::string>("`percona`.`heartbeat`"));
  CHECK(quote_mysql_table("heartbeat") == std::optional<std::string>("`heartbeat`"));
  for (const char* bad : {"", "a.", ".b", "a.b.c", "a`b", "a b", "a;b"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(quote_mysql_table(bad).has_value());
  }
}

TEST_CASE("replication::valid_channel_name")
{
  CHECK(valid_channel_name("dr"));
  CHECK(valid_channel_name("site-b.1"));
  CHECK_FALSE(valid_channel_name(""));
  CHECK_FALSE(valid_channel_name("x'y"));
  CHECK_FALSE(valid_channel_name(std::string(65, 'a')));
}

TEST_CASE("replication::check_option_file_mode")
{
  CHECK(check_option_file_mode(0100600, 1000, 1000).empty());
  CHECK(check_option_file_mode(0100640, 0, 1000).empty());
  CHECK(has(check_option_file_mode(0100644, 1000, 1000), "accessible by others (mode 0644)"));
  CHECK(has(check_option_file_mode(0100660, 1000, 1000), "writable by its group"));
  CHECK(has(check_option_file_mode(0100600, 1001, 1000), "owned by another user"));
  CHECK(has(check_option_file_mode(0040700, 1000, 1000), "not a regular file"));
}

TEST_CASE("replication::evaluate_mysql")
{
  MysqlPolicy p = policy();

  SUBCASE("healthy")
  {
    auto r = evaluate_mysql(replica(), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "replicating from 10.101.0.10:3306, lag 0 s");
    CHECK(render_perfdata(r.perfdata) == "lag=0s;300;900;0");
  }
  SUBCASE("NULL seconds behind with both threads running is not 0")
  {
    auto o = replica();
    o.rows[0].seconds_behind.reset();
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(has(r.summary, "NULL"));
    CHECK(render_perfdata(r.perfdata) == "lag=U;300;900;0");
  }
  SUBCASE("IO thread connecting after a cut")
  {
    auto o = replica();
    o.rows[0].io_running = "Connecting";
    o.rows[0].seconds_behind.reset();
    o.rows[0].last_io_errno = "2003";
    o.rows[0].last_io_error = "error reconnecting to master 'repl@10.101.0.10:3306' - retry-time: 1";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "IO thread is 'Connecting'"));
    CHECK(has(r.summary, "IO error 2003 'error reconnecting to master"));
  }
  SUBCASE("SQL thread stopped by hand")
  {
    auto o = replica();
    o.rows[0].sql_running = "No";
    o.rows[0].seconds_behind.reset();
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "SQL thread is 'No' (not applying changes)");
  }
  SUBCASE("conflicting row: the error is quoted, sanitised and bounded")
  {
    MysqlObservation o = replica();
    o.rows[0] = fixture("mariadb-10.11-show-replica-status.json");
    o.rows[0].last_sql_error += std::string(300, 'x') + "|\n";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "SQL error 1062 'Could not execute Write_rows_v1 event on table lab.t; Duplicate entry"));
    CHECK_FALSE(has(r.summary, "|"));
    CHECK_FALSE(has(r.summary, std::string(250, 'x')));
  }
  SUBCASE("heartbeat age replaces seconds behind")
  {
    auto o = replica();
    p.heartbeat_table = "heartbeat.heartbeat";
    o.heartbeat_age = 1.3;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "replicating from 10.101.0.10:3306, heartbeat age 1.3 s");
    CHECK(render_perfdata(r.perfdata) == "lag=1.3s;300;900;0 heartbeat_age=1.3s;;10;0");
  }
  SUBCASE("a cut seen by the heartbeat while Seconds_Behind_Master still reads 0")
  {
    auto o = replica();
    p.heartbeat_table = "heartbeat.heartbeat";
    o.heartbeat_age = 11;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "heartbeat heartbeat.heartbeat is 11 s old (link timeout 10 s)"));
    p.link_timeout = 20;
    CHECK(evaluate_mysql(o, p).state == State::Ok);
    p.crit = Range::parse("5").value();
    CHECK(evaluate_mysql(o, p).state == State::Critical);
  }
  SUBCASE("unreadable heartbeat is UNKNOWN but does not hide a stopped thread")
  {
    auto o = replica();
    p.heartbeat_table = "heartbeat.heartbeat";
    o.heartbeat_error_code = 1146;
    o.heartbeat_error = "Table 'heartbeat.heartbeat' doesn't exist";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(has(r.summary, "error 1146"));
    o.rows[0].sql_running = "No";
    CHECK(evaluate_mysql(o, p).state == State::Critical);
  }
  SUBCASE("not a replica")
  {
    auto o = replica();
    o.rows.clear();
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "is not a replica"));
    p.channels = {"dr"};
    CHECK(has(evaluate_mysql(o, p).summary, "no replication channel 'dr'"));
  }
  SUBCASE("missing grant names it")
  {
    MysqlObservation o;
    o.status = MysqlObservation::Status::QueryFailed;
    o.user = "nomon@localhost";
    o.mariadb = true;
    o.error_code = 1227;
    o.error = "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(r.summary == "user nomon@localhost lacks the SLAVE MONITOR privilege needed for SHOW REPLICA STATUS");
    o.mariadb = false;
    CHECK(has(evaluate_mysql(o, p).summary, "REPLICATION CLIENT"));
  }
  SUBCASE("connection failures and timeouts")
  {
    MysqlObservation o;
    o.status = MysqlObservation::Status::ConnectFailed;
    o.server = "db:3306";
    o.error_code = 1045;
    o.error = "Access denied for user 'monitor'@'localhost' (using password: YES)";
    CHECK(evaluate_mysql(o, p).state == State::Unknown);
    o.error_code = 2003;
    CHECK(evaluate_mysql(o, p).state == State::Critical);
    o.status = MysqlObservation::Status::Timeout;
    o.activity = "connecting to db:3306";
    // The runtime writes "timed out after N s while ..." with the -t state.
    auto r = evaluate_mysql(o, p);
    CHECK(r.timed_out_while == "connecting to db:3306");
    REQUIRE(r.perfdata.size() == 1);
    CHECK_FALSE(r.perfdata[0].value.has_value());
  }
}

namespace {

MysqlObservation two_channels()
{
  auto o = replica();
  o.rows[0].channel = "";
  MysqlReplicaStatus second = healthy_row();
  second.channel = "Site2";
  second.source_host = "10.101.0.11";
  second.source_port = "3307";
  second.source_server_id = 3;
  second.seconds_behind = 4;
  o.rows.push_back(second);
  return o;
}

} // namespace

TEST_CASE("replication::evaluate_mysql: every channel")
{
  MysqlPolicy p = policy();
  SUBCASE("all channels healthy: one OK naming each, perfdata per channel")
  {
    auto r = evaluate_mysql(two_channels(), p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "2 connections replicating: '' from 10.101.0.10:3306, lag 0 s; Site2 from 10.101.0.11:3307, "
                       "lag 4 s");
    CHECK(render_perfdata(r.perfdata) == "default_lag=0s;300;900;0 site2_lag=4s;300;900;0");
  }
  SUBCASE("a second channel that stopped is seen without --channel; the other stays fine")
  {
    auto o = two_channels();
    o.rows[1].sql_running = "No";
    o.rows[1].seconds_behind.reset();
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "connection Site2: SQL thread is 'No' (not applying changes)");
    CHECK_FALSE(has(r.summary, "''"));
    CHECK(render_perfdata(r.perfdata) == "default_lag=0s;300;900;0 site2_lag=U;300;900;0");
    o.mariadb = false;
    CHECK(evaluate_mysql(o, p).summary == "channel Site2: SQL thread is 'No' (not applying changes)");
  }
  SUBCASE("the worst channel decides: WARNING on one, CRITICAL on another")
  {
    auto o = two_channels();
    o.rows[0].seconds_behind = 400;
    CHECK(evaluate_mysql(o, p).state == State::Warning);
    o.rows[1].io_running = "Connecting";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "connection Site2: IO thread is 'Connecting'"));
  }
  SUBCASE("--channel restricts (names compare case-insensitively) and keeps the plain labels")
  {
    p.channels = {"site2"};
    auto o = two_channels();
    o.rows[0].sql_running = "No";
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "replicating from 10.101.0.11:3307, lag 4 s");
    CHECK(render_perfdata(r.perfdata) == "lag=4s;300;900;0");
  }
  SUBCASE("a named channel that does not exist is CRITICAL, naming what exists")
  {
    p.channels = {"dr"};
    auto r = evaluate_mysql(two_channels(), p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "connection dr does not exist (the server has '', 'Site2')");
    CHECK(render_perfdata(r.perfdata) == "lag=U;300;900;0");
    p.channels = {"dr", "Site2"};
    r = evaluate_mysql(two_channels(), p);
    CHECK(r.state == State::Critical);
    CHECK(render_perfdata(r.perfdata) == "dr_lag=U;300;900;0 site2_lag=4s;300;900;0");
  }
  SUBCASE("each channel's heartbeat is its own primary's")
  {
    p.heartbeat_table = "heartbeat.heartbeat";
    auto o = two_channels();
    o.rows[0].heartbeat_age = 0.8;
    o.rows[1].heartbeat_age = 12;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(
        r.summary ==
        "connection Site2: heartbeat heartbeat.heartbeat is 12 s old (link timeout 10 s): link or pt-heartbeat down?");
    CHECK(render_perfdata(r.perfdata) ==
          "default_lag=0.8s;300;900;0 default_heartbeat_age=0.8s;;10;0 site2_lag=12s;300;900;0 "
          "site2_heartbeat_age=12s;;10;0");
    o.rows[1].heartbeat_age.reset();
    o.rows[1].heartbeat_error = "no heartbeat row for server_id = 3";
    r = evaluate_mysql(o, p);
    CHECK(r.state == State::Unknown);
    CHECK(has(r.summary, "connection Site2: cannot read heartbeat heartbeat.heartbeat"));
  }
  SUBCASE("channel labels")
  {
    CHECK(channel_label("") == "default");
    CHECK(channel_label("Site-2.b") == "site_2_b");
  }
}

TEST_CASE("replication::evaluate_mysql: delayed replica")
{
  MysqlPolicy p = policy();
  auto o = replica();
  o.rows[0].sql_delay = 3600;
  o.rows[0].seconds_behind = 3590;
  SUBCASE("exactly as far behind as configured is OK, judged beyond SQL_Delay")
  {
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Ok);
    CHECK(r.summary == "replicating from 10.101.0.10:3306, lag 0 s beyond the apply delay of 3600 s");
    CHECK(render_perfdata(r.perfdata) == "lag=0s;300;900;0");
    CHECK(std::find(r.details.begin(), r.details.end(),
                    "apply delay 3600 s (SQL_Delay); the lag is judged beyond it") != r.details.end());
  }
  SUBCASE("a real stall beyond the delay alerts")
  {
    o.rows[0].seconds_behind = 3600 + 1000;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(r.summary == "lag 1000 s beyond the apply delay of 3600 s (critical above 900 s)");
  }
  SUBCASE("--expected-delay overrides the server's value")
  {
    p.expected_delay = 60;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "beyond the apply delay of 60 s"));
  }
  SUBCASE("the heartbeat is judged beyond the delay, a dead link still within the link timeout")
  {
    p.heartbeat_table = "heartbeat.heartbeat";
    o.heartbeat_age = 3601;
    CHECK(evaluate_mysql(o, p).state == State::Ok);
    o.heartbeat_age = 3611;
    auto r = evaluate_mysql(o, p);
    CHECK(r.state == State::Critical);
    CHECK(has(r.summary, "is 3611 s old beyond the apply delay of 3600 s (link timeout 10 s)"));
  }
  SUBCASE("SQL_Delay is read by name")
  {
    auto s = map_replica_status({"SQL_Delay", "SQL_Remaining_Delay"}, {std::string("600"), std::nullopt});
    REQUIRE(s.sql_delay);
    CHECK(*s.sql_delay == 600);
  }
}

// Inputs the fuzzers found (tests/fuzz/corpus/db_values), guarded here too
// without a clang fuzzing build.
TEST_CASE("replication::evaluate_mysql: map_replica_status fuzz regressions")
{
  SUBCASE("Master_Server_Id beyond 32 bits is ignored, not cast")
  {
    auto s = map_replica_status({"Master_Server_Id", "Slave_IO_Running"},
                                {std::string("99999999999999999999"), std::string("Yes")});
    CHECK_FALSE(s.source_server_id);
    CHECK(s.io_running == "Yes");
    auto ok = map_replica_status({"Source_Server_Id"}, {std::string("4294967295")});
    REQUIRE(ok.source_server_id);
    CHECK(*ok.source_server_id == 4294967295L);
  }
}
