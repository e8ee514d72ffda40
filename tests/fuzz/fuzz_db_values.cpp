// SPDX-License-Identifier: GPL-2.0-or-later
// check_replication_lag's database value parsing: SHOW REPLICA STATUS rows
// (MySQL/MariaDB, columns by name), pg_settings values with units, libpq
// conninfo password detection, table and channel names, connect error
// classification; then both evaluations and render.
// Input: lines. Lines of the form NAME=VALUE are a replica status row (a
// value of \N is SQL NULL); every line is also tried as a conninfo string,
// a table name, a channel name, an error message and "SETTING UNIT".
#include <cmath>

#ifdef SITELINK_FUZZ_LIBPQ
#include <libpq-fe.h>
#endif

#include "check_replication_lag/evaluate_mysql.hpp"
#include "check_replication_lag/evaluate_postgresql.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::replication;

namespace {

#ifdef SITELINK_FUZZ_LIBPQ
// Differential check against libpq itself: whenever libpq would find a
// password in a conninfo string, dsn_has_password must say so, or a password
// given on the command line would go unnoticed.
void check_against_libpq(const std::string& dsn)
{
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (err != nullptr) PQfreemem(err);
  if (opts == nullptr) return;
  bool has = false;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o)
    if (std::string_view(o->keyword) == "password" && o->val != nullptr && o->val[0] != '\0') has = true;
  PQconninfoFree(opts);
  if (has && !dsn_has_password(dsn)) fuzz::fail("libpq sees a password that dsn_has_password misses", dsn);
}
#endif

bool only(std::string_view s, std::string_view allowed)
{
  return s.find_first_not_of(allowed) == std::string_view::npos;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  auto lines = fuzz::split(fuzz::as_view(data, size), '\n', 128);
  std::vector<std::string> names;
  std::vector<std::optional<std::string>> values;
  std::vector<double> numbers;
  for (auto line : lines) {
    (void)dsn_has_password(line);
#ifdef SITELINK_FUZZ_LIBPQ
    if (line.find('\0') == std::string_view::npos) check_against_libpq(std::string(line));
#endif
    if (auto q = quote_table_name(line)) {
      if (!only(*q, "abcdefghijklmnopqrstuvwxyz0123456789_$\"."))
        fuzz::fail("quoted PostgreSQL table name with unexpected characters", *q);
    }
    if (auto q = quote_mysql_table(line)) {
      if (!only(*q, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$`."))
        fuzz::fail("quoted MySQL table name with unexpected characters", *q);
    }
    if (valid_channel_name(line) && !only(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"))
      fuzz::fail("channel name with unexpected characters accepted", line);
    (void)classify_pg_connect_error(line);
    auto sp = line.find(' ');
    if (sp != std::string_view::npos) {
      if (auto v = pg_setting_seconds(line.substr(0, sp), line.substr(sp + 1))) {
        if (std::isnan(*v) || *v < 0) fuzz::fail("negative or NaN setting accepted", line);
        numbers.push_back(*v);
      }
    }
    auto eq = line.find('=');
    if (eq != std::string_view::npos) {
      names.emplace_back(line.substr(0, eq));
      auto v = line.substr(eq + 1);
      if (v == "\\N") values.emplace_back(std::nullopt);
      else values.emplace_back(std::string(v));
    }
  }

  MysqlObservation mo;
  mo.status = MysqlObservation::Status::Ok;
  mo.rows.push_back(map_replica_status(names, values));
  if (const auto& s = mo.rows.back().seconds_behind; s && std::isnan(*s)) fuzz::fail("NaN seconds behind");
  mo.server = "db.example:3306";
  MysqlPolicy mp;
  mp.warn.end = 60;
  mp.crit.end = 300;
  fuzz::render_checked("REPLICATION_LAG", evaluate_mysql(mo, mp));
  mp.heartbeat_table = "`hb`.`heartbeat`";
  mo.heartbeat_age = numbers.empty() ? std::optional<double>() : numbers.front();
  fuzz::render_checked("REPLICATION_LAG", evaluate_mysql(mo, mp));
  // Every channel: the row twice under two names (one given by the input),
  // each with its own heartbeat; then restricted to named channels, one of
  // them possibly missing; SQL_Delay or an expected delay from the input.
  MysqlReplicaStatus second = mo.rows.back();
  second.channel = lines.empty() ? std::string("site2") : std::string(lines.front().substr(0, 64));
  second.heartbeat_age = mo.heartbeat_age;
  mo.rows.push_back(second);
  mo.mariadb = !mo.mariadb;
  fuzz::render_checked("REPLICATION_LAG", evaluate_mysql(mo, mp));
  mp.channels = {second.channel, "dr"};
  if (numbers.size() > 1) mp.expected_delay = numbers[1];
  fuzz::render_checked("REPLICATION_LAG", evaluate_mysql(mo, mp));
  if (channel_label(second.channel).find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    fuzz::fail("channel label with unexpected characters", second.channel);

  // The PostgreSQL evaluation over whatever numbers the settings produced,
  // standing in for ages and byte counts the module reads.
  auto num = [&](std::size_t i) { return i < numbers.size() ? std::optional<double>(numbers[i]) : std::nullopt; };
  PgObservation po;
  po.status = PgObservation::Status::Ok;
  po.monitor = true;
  po.settings.wal_receiver_timeout = num(0);
  po.settings.wal_sender_timeout = num(1);
  po.settings.wal_receiver_status_interval = num(2);
  for (bool recovery : {true, false}) {
    po.in_recovery = recovery;
    po.standby.receiver = true;
    po.standby.receiver_status = names.empty() ? "streaming" : names.front();
    po.standby.receipt_age = num(3);
    po.standby.bytes = num(4);
    po.standby.replay_age = num(5);
    po.replicas = {PgReplica{"standby1", "10.102.0.10", "streaming", "async", num(3), num(4), num(5)}};
    po.slots = {PgSlot{"slot1", false, num(6), "reserved"}};
    PgPolicy pp;
    pp.warn.end = 60;
    pp.crit.end = 300;
    fuzz::render_checked("REPLICATION_LAG", evaluate_pg(po, pp));
    // Delayed standby, cascade (both sides), slots, subscriptions.
    po.settings.recovery_min_apply_delay = num(7);
    po.standby.waiting_on_delay = num(8).has_value();
    po.slots.push_back(PgSlot{names.empty() ? "s" : names.back(), num(9).has_value(), num(9),
                              names.size() > 1 ? names[1] : "lost", "logical"});
    po.subscriptions = {PgSubscription{names.empty() ? "mig" : names.front(), true, num(10).has_value(), num(10),
                                       num(11), "0/1", "0/1"}};
    pp.slots = true;
    pp.slot_warn_bytes = Range{};
    pp.slot_warn_bytes->end = num(12).value_or(1e6);
    pp.slot_inactive_state = State::Warning;
    pp.expected_delay = num(13);
    fuzz::render_checked("REPLICATION_LAG", evaluate_pg(po, pp));
    pp.subscriptions = {"mig", "other"};
    pp.role = recovery ? PgRole::Auto : PgRole::Subscriber;
    fuzz::render_checked("REPLICATION_LAG", evaluate_pg(po, pp));
  }
  return 0;
}
