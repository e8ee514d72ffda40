// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "source_postgresql.hpp"
#include "source_file.hpp"
#include "sitelink/module.hpp"
#include "sitelink/number.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/version.hpp"

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
               "[--link-timeout SECONDS] [--heartbeat-table TABLE] [-t SECONDS[:STATE]] [--runbook ID]";
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
       "postgresql: standby, primary or auto (default auto: from pg_is_in_recovery())")
    ("replica", po::value<std::vector<std::string>>()->value_name("NAME"),
       "postgresql primary: a standby (application_name or client address) that must be streaming; repeatable")
    ("warning-bytes", po::value<Range>()->value_name("RANGE"), "postgresql: warning range on the lag in bytes")
    ("critical-bytes", po::value<Range>()->value_name("RANGE"), "postgresql: critical range on the lag in bytes")
    ("link-timeout", po::value<std::string>()->value_name("SECONDS"),
       "Age of the last message from the peer (postgresql) or of the heartbeat (mysql) that means "
       "the link is down")
    ("heartbeat-table", po::value<std::string>()->value_name("TABLE"),
       "A table the primary updates every second; its age replaces the lag in seconds")
    ("defaults-file", po::value<std::string>()->value_name("FILE"), "mysql: option file with user and password")
    ("channel", po::value<std::string>()->value_name("NAME"), "mysql: replication channel / connection name");
  // clang-format on
  return o;
}

Range range_or(const Context& ctx, const char* name, double upper)
{
  if (ctx.has(name)) return ctx.vm()[name].as<Range>();
  Range r;
  r.end = upper;
  return r;
}

Result run_file(Context& ctx)
{
  if (!ctx.has("file")) throw UsageError("--backend file needs --file PATH");
  TimestampSource source = TimestampSource::Content;
  auto ts = ctx.get<std::string>("timestamp", "content");
  if (ts == "mtime") source = TimestampSource::Mtime;
  else if (ts != "content") throw UsageError("invalid value '" + ts + "' for option '--timestamp': expected content or mtime");
  HeartbeatPolicy policy{range_or(ctx, "warning", 300), range_or(ctx, "critical", 900), 60};
  auto obs = read_heartbeat(ctx.vm()["file"].as<std::string>(), source);
  ctx.debug(1, fmt::format("heartbeat read status {}", static_cast<int>(obs.status)));
  return evaluate_heartbeat(obs, policy, ctx.clock().now());
}

double positive_seconds(const Context& ctx, const char* name)
{
  auto text = ctx.vm()[name].as<std::string>();
  auto v = parse_number(text);
  if (!v || *v <= 0)
    throw UsageError(fmt::format("invalid value '{}' for option '--{}': expected seconds above 0", text, name));
  return *v;
}

// Looks the module's table up and refuses one from another build.
template <class Table>
const Table* open_module(const char* module, const char* symbol)
{
  Activity act(std::string("loading backend module ") + module);
  auto sym = load_module_symbol(module, symbol);
  if (!sym) throw std::runtime_error(sym.error());
  const Table* (*entry)() = nullptr;
  static_assert(sizeof entry == sizeof(void*));
  std::memcpy(&entry, &*sym, sizeof entry);
  const Table* t = entry();
  if (t == nullptr || t->abi_tag == nullptr || std::strcmp(t->abi_tag, version) != 0)
    throw std::runtime_error(fmt::format("backend module {} is from another build (version {}, expected {})", module,
                                         t != nullptr && t->abi_tag != nullptr ? t->abi_tag : "?", version));
  return t;
}

ModuleHooks hooks(Context& ctx)
{
  ModuleHooks h;
  h.deadline = &ctx.deadline();
  h.activity = [](const std::string& a) { watchdog::set_activity(a); };
  h.debug = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
  return h;
}

std::string first_of(const Context& ctx, const char* a, const char* b)
{
  if (ctx.has(a)) return ctx.vm()[a].as<std::string>();
  if (ctx.has(b)) return ctx.vm()[b].as<std::string>();
  return {};
}

void refuse_options(const Context& ctx, const char* backend, std::initializer_list<const char*> names)
{
  for (const char* n : names)
    if (ctx.has(n))
      throw UsageError(fmt::format("option '{}{}' does not apply to --backend {}", n[0] == '-' ? "" : "--", n,
                                   backend));
}

Result run_postgresql(Context& ctx)
{
  refuse_options(ctx, "postgresql", {"file", "timestamp", "defaults-file", "channel"});
  PgPolicy policy;
  policy.warn = range_or(ctx, "warning", 300);
  policy.crit = range_or(ctx, "critical", 900);
  if (ctx.has("warning-bytes")) policy.warn_bytes = ctx.vm()["warning-bytes"].as<Range>();
  if (ctx.has("critical-bytes")) policy.crit_bytes = ctx.vm()["critical-bytes"].as<Range>();
  if (ctx.has("link-timeout")) policy.link_timeout = positive_seconds(ctx, "link-timeout");
  if (ctx.has("replica")) policy.replicas = ctx.vm()["replica"].as<std::vector<std::string>>();
  auto role = ctx.get<std::string>("role", "auto");
  if (role == "standby") policy.role = PgRole::Standby;
  else if (role == "primary") policy.role = PgRole::Primary;
  else if (role != "auto")
    throw UsageError("invalid value '" + role + "' for option '--role': expected standby, primary or auto");
  if (!policy.replicas.empty() && policy.role == PgRole::Standby)
    throw UsageError("--replica applies to --role primary, not standby");
  policy.timeout_state = ctx.timeout().state;
  policy.timeout_seconds = ctx.timeout().seconds;

  PgRequest rq;
  if (ctx.has("heartbeat-table")) {
    policy.heartbeat_table = ctx.vm()["heartbeat-table"].as<std::string>();
    auto q = quote_table_name(policy.heartbeat_table);
    if (!q)
      throw UsageError("invalid value '" + policy.heartbeat_table +
                       "' for option '--heartbeat-table': expected TABLE or SCHEMA.TABLE");
    rq.heartbeat_sql_table = *q;
  }
  rq.dsn = ctx.get<std::string>("dsn", "");
  // Checked before anything else: a password in the command line is visible
  // to every local user in ps and to everyone reading the monitoring config.
  if (dsn_has_password(rq.dsn))
    return Result{State::Unknown,
                  "refusing a --dsn that contains a password: use PGPASSWORD, PGPASSFILE (~/.pgpass) or a "
                  "service file",
                  {},
                  {}};
  rq.host = ctx.get<std::string>("hostname", "");
  rq.port = first_of(ctx, "port", "-P");
  rq.dbname = ctx.get<std::string>("dbname", "");
  rq.user = first_of(ctx, "username", "-u");
  rq.hooks = hooks(ctx);
  const auto* m = open_module<SitelinkPgModule>("sitelink_pgsql", "sitelink_pgsql_module");
  PgObservation obs;
  m->observe(rq, obs);
  ctx.debug(1, fmt::format("observation status {}, in recovery {}, pg_monitor {}", static_cast<int>(obs.status),
                           obs.in_recovery, obs.monitor));
  return evaluate_pg(obs, policy);
}

Result run_mysql(Context& ctx)
{
  refuse_options(ctx, "mysql", {"file", "timestamp", "dsn", "dbname", "role", "replica", "warning-bytes",
                                "critical-bytes"});
  MysqlPolicy policy;
  policy.warn = range_or(ctx, "warning", 300);
  policy.crit = range_or(ctx, "critical", 900);
  if (ctx.has("link-timeout")) policy.link_timeout = positive_seconds(ctx, "link-timeout");
  policy.timeout_state = ctx.timeout().state;
  policy.timeout_seconds = ctx.timeout().seconds;
  MysqlRequest rq;
  if (ctx.has("heartbeat-table")) {
    policy.heartbeat_table = ctx.vm()["heartbeat-table"].as<std::string>();
    auto q = quote_mysql_table(policy.heartbeat_table);
    if (!q)
      throw UsageError("invalid value '" + policy.heartbeat_table +
                       "' for option '--heartbeat-table': expected DB.TABLE");
    rq.heartbeat_sql_table = *q;
  }
  if (ctx.has("channel")) {
    policy.channel = rq.channel = ctx.vm()["channel"].as<std::string>();
    if (!valid_channel_name(rq.channel))
      throw UsageError("invalid value for option '--channel': expected [A-Za-z0-9_.-], at most 64 characters");
  }
  rq.host = ctx.get<std::string>("hostname", "");
  auto port = first_of(ctx, "port", "-P");
  if (!port.empty()) {
    auto v = parse_number(port);
    if (!v || *v < 1 || *v > 65535 || *v != static_cast<double>(static_cast<unsigned>(*v)))
      throw UsageError("invalid value '" + port + "' for option '--port': expected 1..65535");
    rq.port = static_cast<unsigned>(*v);
  }
  rq.user = first_of(ctx, "username", "-u");
  if (ctx.has("defaults-file")) {
    rq.defaults_file = ctx.vm()["defaults-file"].as<std::string>();
    struct stat st {};
    if (::stat(rq.defaults_file.c_str(), &st) != 0)
      return Result{State::Unknown,
                    fmt::format("cannot use --defaults-file {}: {}", rq.defaults_file, std::strerror(errno)), {}, {}};
    if (auto why = check_option_file_mode(st.st_mode, st.st_uid, ::geteuid()); !why.empty())
      return Result{State::Unknown, fmt::format("refusing --defaults-file {}: it {}", rq.defaults_file, why), {}, {}};
    if (::access(rq.defaults_file.c_str(), R_OK) != 0)
      return Result{State::Unknown,
                    fmt::format("cannot read --defaults-file {}: {}", rq.defaults_file, std::strerror(errno)), {}, {}};
  }
  rq.hooks = hooks(ctx);
  const auto* m = open_module<SitelinkMysqlModule>("sitelink_mysql", "sitelink_mysql_module");
  MysqlObservation obs;
  m->observe(rq, obs);
  ctx.debug(1, fmt::format("observation status {}, {} replica row(s), MariaDB {}", static_cast<int>(obs.status),
                           obs.rows.size(), obs.mariadb));
  return evaluate_mysql(obs, policy);
}

Result run(Context& ctx)
{
  if (!ctx.has("backend")) throw UsageError("missing --backend (file, postgresql or mysql)");
  auto backend = ctx.vm()["backend"].as<std::string>();
  if (backend == "file") {
    refuse_options(ctx, "file", {"dsn", "hostname", "port", "-P", "dbname", "username", "-u", "role", "replica",
                                 "warning-bytes", "critical-bytes", "link-timeout", "heartbeat-table",
                                 "defaults-file", "channel"});
    return run_file(ctx);
  }
  if (backend == "postgresql" || backend == "postgres" || backend == "pgsql") return run_postgresql(ctx);
  if (backend == "mysql" || backend == "mariadb") return run_mysql(ctx);
  throw UsageError("unknown backend '" + backend + "' for option '--backend'");
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), run);
}

} // namespace sitelink::replication
