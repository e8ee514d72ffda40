// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

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

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_replication_lag";
  i.service = "REPLICATION_LAG";
  i.synopsis = "--backend file|postgresql|mysql [--file PATH] [--dsn CONNINFO | -H HOST -p PORT -d DB "
               "-U USER] [--role standby|primary|auto] [--replica NAME]... [--defaults-file FILE] "
               "[-w RANGE] [-c RANGE] [--warning-bytes RANGE] [--critical-bytes RANGE] "
               "[--link-timeout SECONDS] [--heartbeat-table TABLE] [--channel NAME]... [--expected-delay SECONDS] "
               "[--slots [--slot-warning-bytes RANGE] [--slot-critical-bytes RANGE] [--slot-inactive-state STATE]] "
               "[--subscription NAME]... [-t SECONDS[:STATE]] [--runbook ID]";
  i.description = "Checks how far the copy of data at another site lags behind. The file backend "
                  "reads a heartbeat file that the live site writes and the sync carries to the "
                  "disaster-recovery site, and reports its age. The postgresql backend checks "
                  "streaming replication on a standby or on the primary; the mysql backend checks a "
                  "MySQL or MariaDB replica. Both judge link freshness measured by the server, so a "
                  "dead link is seen within seconds and an idle healthy pair raises no alarm.";
  i.notes = "Defaults: -w 300 -c 900 (seconds of age or lag). A missing heartbeat file is CRITICAL;\n"
            "a timestamp more than 60 s in the future is WARNING (clock skew).\n"
            "postgresql: passwords come from PGPASSWORD, PGPASSFILE/~/.pgpass or a service file; a\n"
            "--dsn with a password is refused. The role needs pg_monitor. The link timeout defaults\n"
            "to 1.5 x the server's keepalive interval (wal_receiver_timeout/2 on a standby,\n"
            "min(wal_receiver_status_interval, wal_sender_timeout/2) on the primary).\n"
            "--heartbeat-table names a table with a timestamptz column ts that the primary updates.\n"
            "mysql: passwords come from --defaults-file (not readable by others) or MYSQL_PWD; the\n"
            "user needs SLAVE MONITOR (MariaDB) or REPLICATION CLIENT (MySQL). --heartbeat-table\n"
            "DB.TABLE is a pt-heartbeat table written with --utc; older than --link-timeout\n"
            "(default 10 s) is CRITICAL.\n"
            "Examples:\n"
            "  check_replication_lag --backend file --file /srv/dr/heartbeat -w 300 -c 900 \\\n"
            "    --runbook dr-vpn\n"
            "  check_replication_lag --backend postgresql -H /run/postgresql -U nagios --role standby\n"
            "  check_replication_lag --backend postgresql --dsn 'host=db1 dbname=postgres' \\\n"
            "    --role primary --replica dr1 --critical-bytes 1073741824\n"
            "  check_replication_lag --backend postgresql -H /run/postgresql -U nagios --slots \\\n"
            "    --slot-warning-bytes 1073741824 --slot-critical-bytes 4294967296\n"
            "  check_replication_lag --backend mysql --defaults-file /etc/nagios/my.cnf \\\n"
            "    --heartbeat-table percona.heartbeat -w 30 -c 120\n";
  return i;
}

po::options_description plugin_options()
{
  po::options_description o("Replication options");
  // clang-format off
  o.add_options()
    ("backend", po::value<std::string>()->value_name("NAME"), "Backend: file, postgresql or mysql")
    ("warning,w", po::value<Range>()->value_name("RANGE"), "Warning range on the lag in seconds (default 300)")
    ("critical,c", po::value<Range>()->value_name("RANGE"), "Critical range on the lag in seconds (default 900)")
    ("file", po::value<std::string>()->value_name("PATH"), "file: the heartbeat file")
    ("timestamp", po::value<std::string>()->value_name("content|mtime"),
       "file: take the time from the first line (default) or the modification time")
    ("dsn", po::value<std::string>()->value_name("CONNINFO"),
       "postgresql: libpq connection string or URI, without a password")
    ("hostname,H", po::value<std::string>()->value_name("HOST"),
       "Database host, or a socket directory (postgresql) / socket path (mysql) starting with /")
    ("port,p", po::value<std::string>()->value_name("PORT"), "Database port")
    (",P", po::value<std::string>()->value_name("PORT"), "mysql: same as --port")
    ("dbname,d", po::value<std::string>()->value_name("DB"), "postgresql: database (default: libpq's)")
    ("username,U", po::value<std::string>()->value_name("USER"), "Database user")
    (",u", po::value<std::string>()->value_name("USER"), "mysql: same as --username")
    ("role", po::value<std::string>()->value_name("ROLE"),
       "postgresql: standby, primary, subscriber or auto (default auto: from pg_is_in_recovery(); a cascading "
       "standby is judged on both sides)")
    ("replica", po::value<std::vector<std::string>>()->value_name("NAME"),
       "postgresql primary: a standby (application_name or client address) that must be streaming; repeatable")
    ("warning-bytes", po::value<Range>()->value_name("RANGE"), "postgresql: warning range on the lag in bytes")
    ("critical-bytes", po::value<Range>()->value_name("RANGE"), "postgresql: critical range on the lag in bytes")
    ("link-timeout", po::value<std::string>()->value_name("SECONDS"),
       "Age of the last message from the peer (postgresql) or of the heartbeat (mysql) that means "
       "the link is down")
    ("heartbeat-table", po::value<std::string>()->value_name("TABLE"),
       "A table the primary updates every second; its age replaces the lag in seconds")
    ("slots", po::bool_switch(), "postgresql: judge replication slots (inactive, retained WAL, wal_status)")
    ("slot-warning-bytes", po::value<Range>()->value_name("RANGE"),
       "postgresql --slots: warning range on the WAL an inactive slot retains")
    ("slot-critical-bytes", po::value<Range>()->value_name("RANGE"),
       "postgresql --slots: critical range on the WAL an inactive slot retains")
    ("slot-inactive-state", po::value<std::string>()->value_name("STATE"),
       "postgresql --slots: state for any inactive slot (ok, warning, critical, unknown)")
    ("subscription", po::value<std::vector<std::string>>()->value_name("NAME"),
       "postgresql subscriber: a logical replication subscription to judge (repeatable; default: every one)")
    ("defaults-file", po::value<std::string>()->value_name("FILE"), "mysql: option file with user and password")
    ("channel", po::value<std::vector<std::string>>()->value_name("NAME"),
       "mysql: judge only this replication channel / connection (repeatable; default: every one)")
    ("expected-delay", po::value<std::string>()->value_name("SECONDS"),
       "Intended apply delay of a delayed replica (default: read from the server); lag is judged beyond it");
  // clang-format on
  return o;
}

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
  const PgObservation obs = (*m)->observe(c.pg_request, ctx.deadline(), hooks(ctx));
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
