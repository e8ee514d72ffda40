// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include "cli.hpp" // generated from cli.json

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/module.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/version.hpp"
#include "source_file.hpp"
#include "source_mysql.hpp"
#include "source_postgresql.hpp"

namespace sitelink::replication {

namespace {

enum class Backend { File, Postgresql, Mysql };

struct Config {
  Backend backend = Backend::File;
  // file
  std::string file;
  TimestampSource timestamp = TimestampSource::Content;
  HeartbeatPolicy heartbeat;
  // postgresql
  PgPolicy pg;
  PgRequest pg_request;
  // mysql
  MysqlPolicy mysql;
  MysqlRequest mysql_request;
};

Range range_or(const Options& o, std::string_view name, double upper)
{
  if (auto r = o.range(name)) return *r;
  Range r;
  r.end = upper;
  return r;
}

// --port or -P, --username or -u (the mysql client's spellings).
std::string first_of(const Options& o, std::string_view a, std::string_view b)
{
  if (auto v = o.optional_text(a)) return *v;
  return o.text(b);
}

void file_config(const Options& o, Config& c)
{
  refuse_with_backend(o, "file",
                      {"dsn", "hostname", "port", "-P", "dbname", "username", "-u", "role", "replica", "warning-bytes",
                       "critical-bytes", "link-timeout", "heartbeat-table", "defaults-file", "channel",
                       "expected-delay"});
  if (!o.has("file")) throw UsageError("--backend file needs --file PATH");
  c.file = o.text("file");
  if (one_of("timestamp", o.text("timestamp", "content"), {"content", "mtime"}) == "mtime")
    c.timestamp = TimestampSource::Mtime;
  c.heartbeat = HeartbeatPolicy{range_or(o, "warning", 300), range_or(o, "critical", 900), 60};
}

void slot_config(const Options& o, PgPolicy& p)
{
  p.slots = o.flag("slots");
  p.slot_warn_bytes = o.range("slot-warning-bytes");
  p.slot_crit_bytes = o.range("slot-critical-bytes");
  if (auto st = o.optional_text("slot-inactive-state")) {
    p.slot_inactive_state = parse_state(*st);
    if (!p.slot_inactive_state) invalid_value("slot-inactive-state", *st, "ok, warning, critical or unknown");
  }
  if (!p.slots && (p.slot_warn_bytes || p.slot_crit_bytes || p.slot_inactive_state))
    throw UsageError("--slot-warning-bytes, --slot-critical-bytes and --slot-inactive-state need --slots");
}

void postgresql_config(const Options& o, Config& c)
{
  refuse_with_backend(o, "postgresql", {"file", "timestamp", "defaults-file", "channel"});
  PgPolicy& p = c.pg;
  p.warn = range_or(o, "warning", 300);
  p.crit = range_or(o, "critical", 900);
  p.warn_bytes = o.range("warning-bytes");
  p.crit_bytes = o.range("critical-bytes");
  if (auto t = o.optional_text("link-timeout")) p.link_timeout = parse_seconds("link-timeout", *t);
  p.replicas = o.list("replica");
  const auto role = one_of("role", o.text("role", "auto"), {"standby", "primary", "subscriber", "auto"});
  if (role == "standby") p.role = PgRole::Standby;
  else if (role == "primary") p.role = PgRole::Primary;
  else if (role == "subscriber") p.role = PgRole::Subscriber;
  if (!p.replicas.empty() && p.role == PgRole::Standby)
    throw UsageError("--replica applies to --role primary, not standby");
  if (!p.replicas.empty() && p.role == PgRole::Subscriber)
    throw UsageError("--replica applies to --role primary, not subscriber");
  p.subscriptions = o.list("subscription");
  if (!p.subscriptions.empty() && p.role == PgRole::Standby)
    throw UsageError("--subscription applies to a subscriber, not --role standby");
  if (auto d = o.optional_text("expected-delay")) p.expected_delay = parse_seconds("expected-delay", *d);
  slot_config(o, p);
  PgRequest& rq = c.pg_request;
  if (auto table = o.optional_text("heartbeat-table")) {
    p.heartbeat_table = *table;
    auto q = quote_table_name(*table);
    if (!q) invalid_value("heartbeat-table", *table, "TABLE or SCHEMA.TABLE");
    rq.heartbeat_sql_table = *q;
  }
  rq.dsn = o.text("dsn");
  rq.host = o.text("hostname");
  rq.port = first_of(o, "port", "-P");
  rq.dbname = o.text("dbname");
  rq.user = first_of(o, "username", "-u");
}

void mysql_config(const Options& o, Config& c)
{
  refuse_with_backend(o, "mysql",
                      {"file", "timestamp", "dsn", "dbname", "role", "replica", "warning-bytes", "critical-bytes",
                       "slots", "slot-warning-bytes", "slot-critical-bytes", "slot-inactive-state", "subscription"});
  MysqlPolicy& p = c.mysql;
  p.warn = range_or(o, "warning", 300);
  p.crit = range_or(o, "critical", 900);
  if (auto t = o.optional_text("link-timeout")) p.link_timeout = parse_seconds("link-timeout", *t);
  MysqlRequest& rq = c.mysql_request;
  if (auto table = o.optional_text("heartbeat-table")) {
    p.heartbeat_table = *table;
    auto q = quote_mysql_table(*table);
    if (!q) invalid_value("heartbeat-table", *table, "DB.TABLE");
    rq.heartbeat_sql_table = *q;
  }
  p.channels = o.list("channel");
  for (const auto& channel : p.channels)
    if (!valid_channel_name(channel))
      throw UsageError("invalid value for option '--channel': expected [A-Za-z0-9_.-], at most 64 characters");
  if (auto d = o.optional_text("expected-delay")) p.expected_delay = parse_seconds("expected-delay", *d);
  rq.host = o.text("hostname");
  if (auto port = first_of(o, "port", "-P"); !port.empty()) rq.port = parse_port("port", port);
  rq.user = first_of(o, "username", "-u");
  rq.defaults_file = o.text("defaults-file");
}

Config make_config(const Options& o)
{
  if (!o.has("backend")) throw UsageError("missing --backend (file, postgresql or mysql)");
  const auto backend = o.text("backend");
  Config c;
  if (backend == "file") {
    c.backend = Backend::File;
    file_config(o, c);
  } else if (backend == "postgresql" || backend == "postgres" || backend == "pgsql") {
    c.backend = Backend::Postgresql;
    postgresql_config(o, c);
  } else if (backend == "mysql" || backend == "mariadb") {
    c.backend = Backend::Mysql;
    mysql_config(o, c);
  } else {
    throw UsageError("unknown backend '" + backend + "' for option '--backend'");
  }
  return c;
}

Result unknown(std::string summary)
{
  return Result{State::Unknown, std::move(summary), {}, {}};
}

// A database source's table through the common loader (sitelink::load_module),
// named as the activity; a missing or foreign module is the UNKNOWN to return.
template <class Table>
tl::expected<const Table*, Result> source_module(const char* name, const char* symbol)
{
  Activity act(std::string("loading backend module ") + name);
  auto m = load_module<Table>(name, symbol, version);
  if (!m) return tl::make_unexpected(unknown(m.error()));
  return *m;
}

SourceHooks hooks(Context& ctx)
{
  SourceHooks h;
  h.activity = [](const std::string& a) { watchdog::set_activity(a); };
  h.debug = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
  return h;
}

Result run_file(const Config& c, Context& ctx)
{
  auto obs = read_heartbeat(c.file, c.timestamp);
  ctx.debug(1, fmt::format("heartbeat read status {}", static_cast<int>(obs.status)));
  return evaluate_heartbeat(obs, c.heartbeat, ctx.clock().now());
}

Result run_postgresql(const Config& c, Context& ctx)
{
  // Checked before anything else: a password in the command line is visible
  // to every local user in ps and to everyone reading the monitoring config.
  if (dsn_has_password(c.pg_request.dsn))
    return unknown("refusing a --dsn that contains a password: use PGPASSWORD, PGPASSFILE (~/.pgpass) or a "
                   "service file");
  auto m = source_module<PostgresqlModule>(postgresql_module_name, postgresql_module_symbol);
  if (!m) return m.error();
  PgRequest rq = c.pg_request;
  rq.second_read_plan = [&c](const PgObservation& o) { return pg_second_read_plan(o, c.pg); };
  const PgObservation obs = (*m)->observe(rq, ctx.deadline(), hooks(ctx));
  if (obs.second_read.status != PgSecondRead::Status::NotTaken)
    ctx.debug(1, fmt::format("second read of pg_stat_replication: status {}, {:.1f} s after the first",
                             static_cast<int>(obs.second_read.status), obs.second_read.after));
  ctx.debug(1, fmt::format("observation status {}, in recovery {}, pg_monitor {}", static_cast<int>(obs.status),
                           obs.in_recovery, obs.monitor));
  return evaluate_pg(obs, c.pg);
}

// The option file a password is read from: must exist, be private and readable.
std::optional<Result> defaults_file_problem(const std::string& path)
{
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return unknown(fmt::format("cannot use --defaults-file {}: {}", path, std::strerror(errno)));
  if (auto why = check_option_file_mode(st.st_mode, st.st_uid, ::geteuid()); !why.empty())
    return unknown(fmt::format("refusing --defaults-file {}: it {}", path, why));
  if (::access(path.c_str(), R_OK) != 0)
    return unknown(fmt::format("cannot read --defaults-file {}: {}", path, std::strerror(errno)));
  return std::nullopt;
}

Result run_mysql(const Config& c, Context& ctx)
{
  if (!c.mysql_request.defaults_file.empty())
    if (auto problem = defaults_file_problem(c.mysql_request.defaults_file)) return *problem;
  auto m = source_module<MysqlModule>(mysql_module_name, mysql_module_symbol);
  if (!m) return m.error();
  const MysqlObservation obs = (*m)->observe(c.mysql_request, ctx.deadline(), hooks(ctx));
  ctx.debug(1, fmt::format("observation status {}, {} replica row(s), MariaDB {}", static_cast<int>(obs.status),
                           obs.rows.size(), obs.mariadb));
  return evaluate_mysql(obs, c.mysql);
}

Result run(const Config& c, Context& ctx)
{
  switch (c.backend) {
  case Backend::File: return run_file(c, ctx);
  case Backend::Postgresql: return run_postgresql(c, ctx);
  case Backend::Mysql: return run_mysql(c, ctx);
  }
  return unknown("unknown backend");
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::replication
