// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate_mysql.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "wording.hpp"

namespace sitelink::replication {

namespace {

bool iequals(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool ident_char(char c)
{
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
}

std::string errno_prefix(const std::string& no)
{
  return no.empty() || no == "0" ? std::string() : "error " + sanitize(no) + " ";
}

} // namespace

MysqlReplicaStatus map_replica_status(const std::vector<std::string>& names,
                                      const std::vector<std::optional<std::string>>& values)
{
  MysqlReplicaStatus s;
  auto get = [&](std::initializer_list<std::string_view> aliases) -> const std::optional<std::string>* {
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i)
      for (auto a : aliases)
        if (iequals(names[i], a)) return &values[i];
    return nullptr;
  };
  auto text = [&](std::initializer_list<std::string_view> aliases) {
    const auto* v = get(aliases);
    return v != nullptr && *v ? **v : std::string();
  };
  s.channel = text({"Channel_Name", "Connection_name"});
  s.io_running = text({"Replica_IO_Running", "Slave_IO_Running"});
  s.sql_running = text({"Replica_SQL_Running", "Slave_SQL_Running"});
  if (const auto* v = get({"Seconds_Behind_Source", "Seconds_Behind_Master"}); v != nullptr && *v) {
    auto n = parse_number(**v);
    if (n) s.seconds_behind = *n;
  }
  s.last_io_error = text({"Last_IO_Error"});
  s.last_sql_error = text({"Last_SQL_Error"});
  s.last_io_errno = text({"Last_IO_Errno"});
  s.last_sql_errno = text({"Last_SQL_Errno"});
  s.source_host = text({"Source_Host", "Master_Host"});
  s.source_port = text({"Source_Port", "Master_Port"});
  s.io_state = text({"Replica_IO_State", "Slave_IO_State"});
  s.sql_state = text({"Replica_SQL_Running_State", "Slave_SQL_Running_State"});
  if (const auto* v = get({"Source_Server_Id", "Master_Server_Id"}); v != nullptr && *v) {
    auto n = parse_number(**v);
    // server_id is a 32-bit unsigned; a larger value would overflow the cast.
    if (n && *n >= 0 && *n <= 4294967295.0) s.source_server_id = static_cast<long>(*n);
  }
  return s;
}

State classify_mysql_connect_error(unsigned code)
{
  switch (code) {
  case 1045: // access denied for user (password)
  case 1044: // access denied to database
  case 1049: // unknown database
  case 1251: // client does not support authentication protocol
  case 1698: // access denied (auth plugin)
  case 2026: // SSL connection error
  case 2059: // authentication plugin cannot be loaded
  case 2061: // authentication requires secure connection
    return State::Unknown;
  // Lost after the server had accepted: its answer was cut (killed or
  // restarted mid-handshake). A timeout never gets here (Status::Timeout).
  case 2013: return State::Unknown;
  default: break;
  }
  // 2002 socket, 2003 TCP, 2005 unknown host, 1040 too many connections,
  // 1129 host blocked: the service is not usable.
  return State::Critical;
}

std::optional<std::string> quote_mysql_table(std::string_view name)
{
  auto dot = name.find('.');
  std::vector<std::string_view> parts;
  if (dot == std::string_view::npos) parts.push_back(name);
  else {
    parts.push_back(name.substr(0, dot));
    parts.push_back(name.substr(dot + 1));
  }
  std::string out;
  for (auto p : parts) {
    if (p.empty() || p.size() > 64 || !std::all_of(p.begin(), p.end(), ident_char)) return std::nullopt;
    if (!out.empty()) out += '.';
    out += '`' + std::string(p) + '`';
  }
  return out;
}

bool valid_channel_name(std::string_view name)
{
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string check_option_file_mode(unsigned mode, unsigned owner_uid, unsigned our_uid)
{
  if ((mode & 0170000u) != 0100000u) return "is not a regular file";
  if (owner_uid != our_uid && owner_uid != 0) return "is owned by another user";
  if ((mode & 0007u) != 0) return fmt::format("is accessible by others (mode {:04o}); chmod o= it", mode & 07777u);
  if ((mode & 0020u) != 0) return fmt::format("is writable by its group (mode {:04o})", mode & 07777u);
  return {};
}

namespace {

// lag, and heartbeat_age when a heartbeat table is configured.
std::vector<Perfdatum> mysql_perf(const MysqlPolicy& p, std::optional<double> lag, std::optional<double> age)
{
  std::vector<Perfdatum> v{Perfdatum{"lag", lag ? std::optional<double>(round_ms(std::max(0.0, *lag))) : std::nullopt,
                                     Uom::Seconds, p.warn, p.crit, 0.0, std::nullopt}};
  if (!p.heartbeat_table.empty()) {
    Range t;
    t.end = p.link_timeout.value_or(mysql_default_link_timeout);
    v.push_back(Perfdatum{"heartbeat_age", age ? std::optional<double>(round_ms(std::max(0.0, *age))) : std::nullopt,
                          Uom::Seconds, std::nullopt, t, 0.0, std::nullopt});
  }
  return v;
}

// Every status but Ok: no measurement.
Result evaluate_failure(const MysqlObservation& o, const MysqlPolicy& p)
{
  const std::string server = sanitize(o.server);
  const std::string user = sanitize(o.user);
  const auto none = mysql_perf(p, std::nullopt, std::nullopt);
  if (o.status == MysqlObservation::Status::Timeout) {
    // The runtime writes "timed out after N s while ..." with the -t state.
    Result r = Result::timed_out(sanitize(o.activity));
    r.perfdata = none;
    return r;
  }
  if (o.status == MysqlObservation::Status::ConnectFailed) {
    State st = classify_mysql_connect_error(o.error_code);
    Result r{st,
             fmt::format("cannot connect to {}: error {} {}", server, o.error_code, sanitize_quote(o.error, 200)),
             {},
             none};
    if (o.error_code == 2013) r.details.push_back("the server closed the connection before its answer was complete");
    else if (st == State::Unknown)
      r.details.push_back("the server refused the credentials or database (passwords come from --defaults-file or "
                          "MYSQL_PWD, never from the command line)");
    return r;
  }
  // 1227: ER_SPECIFIC_ACCESS_DENIED_ERROR, 1142/1143: command denied.
  if (o.error_code == 1227 || o.error_code == 1142 || o.error_code == 1143) {
    const char* grant = o.mariadb ? "SLAVE MONITOR" : "REPLICATION CLIENT";
    return Result{State::Unknown,
                  fmt::format("user {} lacks the {} privilege needed for SHOW REPLICA STATUS", user, grant),
                  {fmt::format("fix: GRANT {} ON *.* TO {};", grant, user),
                   fmt::format("server said: error {} {}", o.error_code, sanitize_quote(o.error, 200))},
                  none};
  }
  return Result{State::Unknown,
                fmt::format("query failed on {}: error {} {}", server, o.error_code, sanitize_quote(o.error, 200)),
                {},
                none};
}

// The IO and SQL threads and their last errors.
void judge_threads(std::vector<SubResult>& parts, const MysqlReplicaStatus& r, const std::string& src)
{
  if (r.io_running != "Yes")
    parts.push_back({State::Critical,
                     fmt::format("IO thread is '{}' (not connected to {})", sanitize_quote(r.io_running, 20), src),
                     {}});
  if (!r.last_io_error.empty())
    parts.push_back({State::Critical,
                     fmt::format("IO {}'{}'", errno_prefix(r.last_io_errno), sanitize_quote(r.last_io_error, 200)),
                     {}});
  if (r.sql_running != "Yes")
    parts.push_back({State::Critical,
                     fmt::format("SQL thread is '{}' (not applying changes)", sanitize_quote(r.sql_running, 20)),
                     {}});
  if (!r.last_sql_error.empty())
    parts.push_back({State::Critical,
                     fmt::format("SQL {}'{}'", errno_prefix(r.last_sql_errno), sanitize_quote(r.last_sql_error, 200)),
                     {}});
}

struct MysqlLag {
  std::optional<double> seconds;
  bool from_heartbeat = false;
};

// The lag: the heartbeat's age when a table is configured and readable,
// else Seconds_Behind_Master (never read as 0 when NULL).
MysqlLag judge_lag(std::vector<SubResult>& parts, const MysqlObservation& o, const MysqlReplicaStatus& r,
                   const MysqlPolicy& p)
{
  MysqlLag lag;
  const double lt = p.link_timeout.value_or(mysql_default_link_timeout);
  if (!p.heartbeat_table.empty()) {
    if (o.heartbeat_age) {
      lag.seconds = std::max(0.0, *o.heartbeat_age);
      lag.from_heartbeat = true;
      if (*o.heartbeat_age > lt)
        parts.push_back({State::Critical,
                         fmt::format("heartbeat {} is {} s old (link timeout {} s): link or pt-heartbeat down?",
                                     sanitize(p.heartbeat_table), seconds_text(*o.heartbeat_age), format_number(lt)),
                         {}});
    } else {
      parts.push_back({State::Unknown,
                       fmt::format("cannot read heartbeat {}: {}", sanitize(p.heartbeat_table),
                                   o.heartbeat_error.empty() ? std::string("no row")
                                                             : fmt::format("error {} {}", o.heartbeat_error_code,
                                                                           sanitize_quote(o.heartbeat_error, 120))),
                       {}});
    }
  }
  if (!lag.from_heartbeat) {
    lag.seconds = r.seconds_behind;
    if (!lag.seconds && r.io_running == "Yes" && r.sql_running == "Yes")
      parts.push_back({State::Unknown, "Seconds_Behind_Master is NULL although both threads run", {}});
  }
  if (lag.seconds) {
    const std::string what = lag.from_heartbeat ? "heartbeat age" : "lag";
    const double s = *lag.seconds;
    if (p.crit.alerts(s))
      parts.push_back(
          {State::Critical, fmt::format("{} {} s (critical {} s)", what, seconds_text(s), p.crit.describe()), {}});
    else if (p.warn.alerts(s))
      parts.push_back(
          {State::Warning, fmt::format("{} {} s (warning {} s)", what, seconds_text(s), p.warn.describe()), {}});
  }
  return lag;
}

std::vector<std::string> replica_details(const MysqlObservation& o, const MysqlReplicaStatus& r, const MysqlPolicy& p,
                                         const std::string& src)
{
  std::vector<std::string> details;
  details.push_back(fmt::format("server {} as {}{}, replicating from {}{}", sanitize(o.server), sanitize(o.user),
                                o.mariadb ? " (MariaDB)" : "", src,
                                r.channel.empty() ? "" : " on channel " + sanitize(r.channel)));
  details.push_back(fmt::format("IO thread {} ({}), SQL thread {} ({})", sanitize(r.io_running),
                                sanitize_quote(r.io_state, 80), sanitize(r.sql_running),
                                sanitize_quote(r.sql_state, 80)));
  details.push_back(fmt::format("Seconds_Behind_Master: {}", r.seconds_behind ? format_number(*r.seconds_behind)
                                                                              : std::string("NULL (unknown, not 0)")));
  if (o.heartbeat_age)
    details.push_back(
        fmt::format("heartbeat {} is {} s old", sanitize(p.heartbeat_table), seconds_text(*o.heartbeat_age)));
  return details;
}

} // namespace

Result evaluate_mysql(const MysqlObservation& o, const MysqlPolicy& p)
{
  if (o.status != MysqlObservation::Status::Ok) return evaluate_failure(o, p);
  if (o.rows.empty()) {
    std::string what = p.channel.empty() ? std::string("SHOW REPLICA STATUS returned no row")
                                         : fmt::format("no replication channel '{}'", sanitize(p.channel));
    return Result{State::Critical,
                  fmt::format("{} is not a replica: {}", sanitize(o.server), what),
                  {},
                  mysql_perf(p, std::nullopt, o.heartbeat_age)};
  }
  const auto& r = o.rows.front();
  std::vector<SubResult> parts;
  const std::string src = r.source_host.empty()
                              ? std::string("the primary")
                              : sanitize(r.source_host) + (r.source_port.empty() ? "" : ":" + sanitize(r.source_port));
  judge_threads(parts, r, src);
  const MysqlLag lag = judge_lag(parts, o, r, p);
  Result res = aggregate(parts.empty() ? std::vector<SubResult>{{State::Ok, "", {}}} : parts);
  if (parts.empty()) {
    res.details.clear();
    res.summary = fmt::format("replicating from {}, {} {} s", src, lag.from_heartbeat ? "heartbeat age" : "lag",
                              lag.seconds ? seconds_text(*lag.seconds) : "?");
  }
  const auto details = replica_details(o, r, p, src);
  res.details.insert(res.details.end(), details.begin(), details.end());
  res.perfdata = mysql_perf(p, lag.seconds, o.heartbeat_age);
  return res;
}

} // namespace sitelink::replication
