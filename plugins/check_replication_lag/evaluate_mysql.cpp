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
  if (const auto* v = get({"SQL_Delay"}); v != nullptr && *v) {
    auto n = parse_number(**v);
    if (n && *n >= 0) s.sql_delay = *n;
  }
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

std::string channel_label(std::string_view channel)
{
  if (channel.empty()) return "default";
  std::string out;
  for (char c : channel)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                                                       : '_';
  return out;
}

namespace {

// A heartbeat reading: the observation's (one row) or the channel's own.
struct Heartbeat {
  std::optional<double> age;
  unsigned error_code = 0;
  std::string error;
};

Heartbeat heartbeat_of(const MysqlObservation& o, const MysqlReplicaStatus& r)
{
  if (o.rows.size() > 1) return Heartbeat{r.heartbeat_age, r.heartbeat_error_code, r.heartbeat_error};
  return Heartbeat{o.heartbeat_age, o.heartbeat_error_code, o.heartbeat_error};
}

// The apply delay the lag is judged beyond: --expected-delay, else SQL_Delay.
double apply_delay(const MysqlReplicaStatus& r, const MysqlPolicy& p)
{
  return p.expected_delay ? *p.expected_delay : r.sql_delay.value_or(0);
}

// lag, and heartbeat_age when a heartbeat table is configured; `prefix`
// names the channel when several are judged.
std::vector<Perfdatum> mysql_perf(const MysqlPolicy& p, std::optional<double> lag, std::optional<double> age,
                                  const std::string& prefix = "")
{
  std::vector<Perfdatum> v{Perfdatum{prefix + "lag",
                                     lag ? std::optional<double>(round_ms(std::max(0.0, *lag))) : std::nullopt,
                                     Uom::Seconds, p.warn, p.crit, 0.0, std::nullopt}};
  if (!p.heartbeat_table.empty()) {
    Range t;
    t.end = p.link_timeout.value_or(mysql_default_link_timeout);
    v.push_back(Perfdatum{prefix + "heartbeat_age",
                          age ? std::optional<double>(round_ms(std::max(0.0, *age))) : std::nullopt, Uom::Seconds,
                          std::nullopt, t, 0.0, std::nullopt});
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
  std::optional<double> seconds; // beyond the apply delay
  bool from_heartbeat = false;
  double delay = 0;
};

std::string delay_note(double delay)
{
  return delay > 0 ? fmt::format(" beyond the apply delay of {} s", format_number(delay)) : std::string();
}

// The heartbeat's part: its age beyond the apply delay against the link timeout.
void judge_heartbeat(std::vector<SubResult>& parts, MysqlLag& lag, const Heartbeat& hb, const MysqlPolicy& p)
{
  const double lt = p.link_timeout.value_or(mysql_default_link_timeout);
  if (hb.age) {
    lag.seconds = std::max(0.0, *hb.age - lag.delay);
    lag.from_heartbeat = true;
    if (*hb.age - lag.delay > lt)
      parts.push_back(
          {State::Critical,
           fmt::format("heartbeat {} is {} s old{} (link timeout {} s): link or pt-heartbeat down?",
                       sanitize(p.heartbeat_table), seconds_text(*hb.age), delay_note(lag.delay), format_number(lt)),
           {}});
    return;
  }
  parts.push_back(
      {State::Unknown,
       fmt::format("cannot read heartbeat {}: {}", sanitize(p.heartbeat_table),
                   hb.error.empty() ? std::string("no row")
                                    : fmt::format("error {} {}", hb.error_code, sanitize_quote(hb.error, 120))),
       {}});
}

// The lag: the heartbeat's age when a table is configured and readable,
// else Seconds_Behind_Master (never read as 0 when NULL); both beyond the
// intended apply delay (SQL_Delay or --expected-delay).
MysqlLag judge_lag(std::vector<SubResult>& parts, const Heartbeat& hb, const MysqlReplicaStatus& r,
                   const MysqlPolicy& p)
{
  MysqlLag lag;
  lag.delay = apply_delay(r, p);
  if (!p.heartbeat_table.empty()) judge_heartbeat(parts, lag, hb, p);
  if (!lag.from_heartbeat) {
    if (r.seconds_behind) lag.seconds = std::max(0.0, *r.seconds_behind - lag.delay);
    if (!lag.seconds && r.io_running == "Yes" && r.sql_running == "Yes")
      parts.push_back({State::Unknown, "Seconds_Behind_Master is NULL although both threads run", {}});
  }
  if (lag.seconds) {
    const std::string what = lag.from_heartbeat ? "heartbeat age" : "lag";
    const double s = *lag.seconds;
    const std::string note = delay_note(lag.delay);
    if (p.crit.alerts(s))
      parts.push_back({State::Critical,
                       fmt::format("{} {} s{} (critical {} s)", what, seconds_text(s), note, p.crit.describe()),
                       {}});
    else if (p.warn.alerts(s))
      parts.push_back({State::Warning,
                       fmt::format("{} {} s{} (warning {} s)", what, seconds_text(s), note, p.warn.describe()),
                       {}});
  }
  return lag;
}

std::string source_of(const MysqlReplicaStatus& r)
{
  return r.source_host.empty() ? std::string("the primary")
                               : sanitize(r.source_host) + (r.source_port.empty() ? "" : ":" + sanitize(r.source_port));
}

std::vector<std::string> replica_details(const MysqlObservation& o, const MysqlReplicaStatus& r, const MysqlPolicy& p,
                                         const Heartbeat& hb, const MysqlLag& lag)
{
  std::vector<std::string> details;
  details.push_back(fmt::format("server {} as {}{}, replicating from {}{}", sanitize(o.server), sanitize(o.user),
                                o.mariadb ? " (MariaDB)" : "", source_of(r),
                                r.channel.empty() ? "" : " on channel " + sanitize(r.channel)));
  details.push_back(fmt::format("IO thread {} ({}), SQL thread {} ({})", sanitize(r.io_running),
                                sanitize_quote(r.io_state, 80), sanitize(r.sql_running),
                                sanitize_quote(r.sql_state, 80)));
  details.push_back(fmt::format("Seconds_Behind_Master: {}", r.seconds_behind ? format_number(*r.seconds_behind)
                                                                              : std::string("NULL (unknown, not 0)")));
  if (lag.delay > 0)
    details.push_back(fmt::format("apply delay {} s ({}); the lag is judged beyond it", format_number(lag.delay),
                                  p.expected_delay ? "--expected-delay" : "SQL_Delay"));
  if (hb.age)
    details.push_back(fmt::format("heartbeat {} is {} s old", sanitize(p.heartbeat_table), seconds_text(*hb.age)));
  return details;
}

// One channel's parts, detail lines and lag.
struct ChannelJudgement {
  std::vector<SubResult> parts;
  std::vector<std::string> details;
  MysqlLag lag;
  Heartbeat hb;
};

ChannelJudgement judge_channel(const MysqlObservation& o, const MysqlReplicaStatus& r, const MysqlPolicy& p)
{
  ChannelJudgement j;
  j.hb = heartbeat_of(o, r);
  judge_threads(j.parts, r, source_of(r));
  j.lag = judge_lag(j.parts, j.hb, r, p);
  j.details = replica_details(o, r, p, j.hb, j.lag);
  return j;
}

std::string lag_text(const MysqlLag& lag)
{
  return fmt::format("{} {} s{}", lag.from_heartbeat ? "heartbeat age" : "lag",
                     lag.seconds ? seconds_text(*lag.seconds) : "?", delay_note(lag.delay));
}

// A single channel (the common replica): the summary and perfdata as they
// always were.
Result evaluate_one(const MysqlObservation& o, const MysqlReplicaStatus& r, const MysqlPolicy& p)
{
  ChannelJudgement j = judge_channel(o, r, p);
  Result res = aggregate(j.parts.empty() ? std::vector<SubResult>{{State::Ok, "", {}}} : j.parts);
  if (j.parts.empty()) {
    res.details.clear();
    res.summary = fmt::format("replicating from {}, {}", source_of(r), lag_text(j.lag));
  }
  res.details.insert(res.details.end(), j.details.begin(), j.details.end());
  res.perfdata = mysql_perf(p, j.lag.seconds, j.hb.age);
  return res;
}

struct Target {
  std::string name;
  const MysqlReplicaStatus* row; // nullptr: no such channel
};

// The channels to judge: every row, or those named with --channel.
std::vector<Target> channel_targets(const MysqlObservation& o, const MysqlPolicy& p)
{
  std::vector<Target> t;
  if (p.channels.empty()) {
    for (const auto& r : o.rows) t.push_back({r.channel, &r});
    return t;
  }
  for (const auto& want : p.channels) {
    const MysqlReplicaStatus* found = nullptr;
    for (const auto& r : o.rows)
      if (iequals(r.channel, want)) found = &r;
    t.push_back({want, found});
  }
  return t;
}

std::string channel_list(const MysqlObservation& o)
{
  std::string out;
  for (const auto& r : o.rows) out += (out.empty() ? "'" : ", '") + sanitize(r.channel) + "'";
  return out;
}

// Several channels: each a group with its own parts and perfdata, the worst
// decides, the summary names the bad ones.
Result evaluate_channels(const MysqlObservation& o, const std::vector<Target>& targets, const MysqlPolicy& p)
{
  const char* noun = o.mariadb ? "connection" : "channel";
  std::vector<SubResult> parts;
  std::vector<std::string> details, ok;
  std::vector<Perfdatum> perf;
  for (const auto& t : targets) {
    const std::string shown = t.name.empty() ? std::string("''") : sanitize(t.name);
    // One named channel keeps the plain labels, present or missing.
    const std::string label = targets.size() > 1 ? channel_label(t.name) + "_" : std::string();
    if (t.row == nullptr) {
      parts.push_back(
          {State::Critical, fmt::format("{} {} does not exist (the server has {})", noun, shown, channel_list(o)), {}});
      auto none = mysql_perf(p, std::nullopt, std::nullopt, label);
      perf.insert(perf.end(), none.begin(), none.end());
      continue;
    }
    ChannelJudgement j = judge_channel(o, *t.row, p);
    for (auto& part : j.parts) parts.push_back({part.state, fmt::format("{} {}: {}", noun, shown, part.text), {}});
    for (auto& d : j.details) details.push_back(fmt::format("{} {}: {}", noun, shown, d));
    auto pd = mysql_perf(p, j.lag.seconds, j.hb.age, label);
    perf.insert(perf.end(), pd.begin(), pd.end());
    ok.push_back(fmt::format("{} from {}, {}", shown, source_of(*t.row), lag_text(j.lag)));
  }
  Result res;
  if (parts.empty()) {
    res.state = State::Ok;
    res.summary = fmt::format("{} {}s replicating: ", targets.size(), noun);
    for (std::size_t i = 0; i < ok.size(); ++i) res.summary += (i ? "; " : "") + ok[i];
  } else {
    res = aggregate(parts);
  }
  res.details.insert(res.details.end(), details.begin(), details.end());
  res.perfdata = std::move(perf);
  return res;
}

} // namespace

Result evaluate_mysql(const MysqlObservation& o, const MysqlPolicy& p)
{
  if (o.status != MysqlObservation::Status::Ok) return evaluate_failure(o, p);
  if (o.rows.empty()) {
    std::string names;
    for (const auto& c : p.channels) names += (names.empty() ? "'" : ", '") + sanitize(c) + "'";
    std::string what = p.channels.empty() ? std::string("SHOW REPLICA STATUS returned no row")
                                          : fmt::format("no replication channel {}", names);
    return Result{State::Critical,
                  fmt::format("{} is not a replica: {}", sanitize(o.server), what),
                  {},
                  mysql_perf(p, std::nullopt, o.heartbeat_age)};
  }
  const auto targets = channel_targets(o, p);
  if (targets.size() == 1 && targets.front().row != nullptr) return evaluate_one(o, *targets.front().row, p);
  return evaluate_channels(o, targets, p);
}

} // namespace sitelink::replication
