// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate_postgresql.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "wording.hpp"

namespace sitelink::replication {

namespace {

bool contains(std::string_view hay, std::string_view needle)
{
  return hay.find(needle) != std::string_view::npos;
}

// How often a healthy idle pair exchanges messages, and the timeout derived
// from it: one and a half intervals, at least two seconds of slack, so a
// late keepalive is not an alarm but a dead link is seen well before the
// server's own timeout fires.
double link_timeout_from_interval(double interval)
{
  return std::max(interval * 1.5, interval + 2.0);
}

constexpr double fallback_interval = 60;

std::string first_line(std::string_view text)
{
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  std::string out;
  // libpq messages span lines ("FATAL:  x\nDETAIL: y"); keep them readable on one.
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

Perfdatum seconds_perf(std::string label, std::optional<double> v, const Range& w, const Range& c)
{
  return Perfdatum{std::move(label), v ? std::optional<double>(round_ms(*v)) : std::nullopt, Uom::Seconds, w, c, 0.0,
                   std::nullopt};
}

Perfdatum bytes_perf(std::string label, std::optional<double> v, const std::optional<Range>& w,
                     const std::optional<Range>& c)
{
  return Perfdatum{
      std::move(label), v ? std::optional<double>(std::max(0.0, std::round(*v))) : std::nullopt, Uom::Bytes, w, c, 0.0,
      std::nullopt};
}

Perfdatum link_perf(std::string label, std::optional<double> v, double timeout)
{
  Range t;
  t.end = timeout;
  return Perfdatum{std::move(label),
                   v ? std::optional<double>(round_ms(std::max(0.0, *v))) : std::nullopt,
                   Uom::Seconds,
                   std::nullopt,
                   t,
                   0.0,
                   std::nullopt};
}

// Judges the seconds and bytes lag against the ranges; adds parts.
void judge_lag(std::vector<SubResult>& parts, const std::string& who, std::optional<double> seconds,
               std::optional<double> bytes, const PgPolicy& p, bool from_heartbeat)
{
  if (seconds) {
    const std::string what = from_heartbeat ? "heartbeat age" : "lag";
    if (p.crit.alerts(*seconds))
      parts.push_back({State::Critical,
                       fmt::format("{}{} {} s (critical {} s)", who, what, seconds_text(*seconds), p.crit.describe()),
                       {}});
    else if (p.warn.alerts(*seconds))
      parts.push_back({State::Warning,
                       fmt::format("{}{} {} s (warning {} s)", who, what, seconds_text(*seconds), p.warn.describe()),
                       {}});
  }
  if (bytes) {
    if (p.crit_bytes && p.crit_bytes->alerts(*bytes))
      parts.push_back({State::Critical,
                       fmt::format("{}{} behind (critical {} B)", who, bytes_text(*bytes), p.crit_bytes->describe()),
                       {}});
    else if (p.warn_bytes && p.warn_bytes->alerts(*bytes))
      parts.push_back({State::Warning,
                       fmt::format("{}{} behind (warning {} B)", who, bytes_text(*bytes), p.warn_bytes->describe()),
                       {}});
  }
}

Result finish(std::vector<SubResult> parts, std::vector<Perfdatum> perf, const std::string& ok_summary,
              std::vector<std::string> details)
{
  Result r;
  if (parts.empty()) r.state = State::Ok;
  else r = aggregate(parts);
  if (r.state == State::Ok) r.summary = ok_summary;
  r.details.insert(r.details.end(), details.begin(), details.end());
  r.perfdata = std::move(perf);
  return r;
}

// The standby's link to its primary (`lt`: link timeout): a CRITICAL part
// when the WAL receiver is gone, not streaming or silent for longer than
// `lt`; true when the link is fresh.
bool judge_standby_link(std::vector<SubResult>& parts, const PgStandby& s, const std::string& sender, double lt)
{
  if (!s.receiver) {
    std::string since = s.replay_age
                            ? fmt::format("; last replayed transaction is {} s old", seconds_text(*s.replay_age))
                            : std::string();
    parts.push_back({State::Critical, "standby has no WAL receiver: not streaming from the primary" + since, {}});
  } else if (s.receiver_status != "streaming") {
    parts.push_back(
        {State::Critical,
         fmt::format("WAL receiver is '{}', not streaming from {}", sanitize_quote(s.receiver_status, 40), sender),
         {}});
  } else if (!s.receipt_age) {
    parts.push_back({State::Critical, fmt::format("WAL receiver has not heard from {} yet", sender), {}});
  } else if (*s.receipt_age > lt) {
    parts.push_back({State::Critical,
                     fmt::format("no message from {} for {} s (link timeout {} s): link down?", sender,
                                 seconds_text(*s.receipt_age), format_number(lt)),
                     {}});
  } else {
    return true;
  }
  return false;
}

Result evaluate_standby(const PgObservation& o, const PgPolicy& p)
{
  const auto& s = o.standby;
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_standby_link_timeout(o.settings);
  std::vector<SubResult> parts;
  std::vector<std::string> details;
  const std::string sender = s.sender.empty() ? std::string("the primary") : sanitize(s.sender);

  const bool fresh = judge_standby_link(parts, s, sender, lt);

  std::optional<double> seconds;
  bool from_heartbeat = false;
  if (o.heartbeat_age) {
    seconds = std::max(0.0, *o.heartbeat_age);
    from_heartbeat = true;
  } else if (fresh) {
    const bool caught_up = !s.bytes || *s.bytes <= 0;
    seconds = caught_up ? 0.0 : std::max(0.0, s.replay_age.value_or(0.0));
  } else if (s.receiver && s.receipt_age) {
    // Stale link: the standby is at least as far behind as the primary's
    // last word, whatever replay says.
    double replayed = s.bytes && *s.bytes > 0 ? s.replay_age.value_or(0.0) : 0.0;
    seconds = std::max(*s.receipt_age, replayed);
  }
  if (!p.heartbeat_table.empty() && !o.heartbeat_age)
    parts.push_back({State::Unknown,
                     fmt::format("cannot read heartbeat table {}: {}", sanitize(p.heartbeat_table),
                                 sanitize_quote(first_line(o.heartbeat_error), 120)),
                     {}});

  std::optional<double> bytes = s.bytes ? std::optional<double>(std::max(0.0, *s.bytes)) : std::nullopt;
  judge_lag(parts, "", seconds, bytes, p, from_heartbeat);

  if (s.pause_state == "paused" || s.pause_state == "pause requested")
    parts.push_back({State::Warning,
                     fmt::format("WAL replay is {} (SELECT pg_wal_replay_resume() resumes it)", s.pause_state),
                     {}});

  details.push_back(fmt::format("role: standby (in recovery), WAL receiver: {}",
                                s.receiver ? sanitize(s.receiver_status) : std::string("none")));
  if (s.receipt_age)
    details.push_back(fmt::format("last message from {}: {} s ago (link timeout {} s{})", sender,
                                  seconds_text(*s.receipt_age), format_number(lt),
                                  p.link_timeout ? "" : ", from wal_receiver_timeout"));
  if (!s.receive_lsn.empty() || !s.replay_lsn.empty())
    details.push_back(
        fmt::format("received up to {}, replayed up to {}", sanitize(s.receive_lsn), sanitize(s.replay_lsn)));
  if (s.replay_age)
    details.push_back(fmt::format("last replayed transaction committed {} s ago (grows while the primary is idle)",
                                  seconds_text(*s.replay_age)));
  if (o.heartbeat_age)
    details.push_back(
        fmt::format("heartbeat {} is {} s old", sanitize(p.heartbeat_table), seconds_text(*o.heartbeat_age)));

  std::vector<Perfdatum> perf{seconds_perf("lag", seconds, p.warn, p.crit),
                              bytes_perf("lag_bytes", bytes, p.warn_bytes, p.crit_bytes),
                              link_perf("link_age", s.receipt_age, lt)};
  std::string ok = fmt::format("standby streaming from {}, {} {} s, {} behind, last message {} s ago", sender,
                               from_heartbeat ? "heartbeat age" : "lag", seconds ? seconds_text(*seconds) : "?",
                               bytes ? bytes_text(*bytes) : "? B", s.receipt_age ? seconds_text(*s.receipt_age) : "?");
  return finish(std::move(parts), std::move(perf), ok, std::move(details));
}

std::string replica_name(const PgReplica& r)
{
  if (!r.application_name.empty()) return r.application_name;
  return r.client_addr.empty() ? std::string("(local)") : r.client_addr;
}

std::string slot_label(std::string_view name)
{
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                                                       : '_';
  return out;
}

struct Target {
  std::string name;
  const PgReplica* row; // nullptr: not connected
};

// The standbys to judge: every connected one, or those named with --replica.
std::vector<Target> primary_targets(const PgObservation& o, const PgPolicy& p)
{
  std::vector<Target> targets;
  if (p.replicas.empty()) {
    for (const auto& r : o.replicas) targets.push_back({replica_name(r), &r});
    return targets;
  }
  for (const auto& want : p.replicas) {
    const PgReplica* found = nullptr;
    for (const auto& r : o.replicas)
      if (r.application_name == want || r.client_addr == want) {
        found = &r;
        break;
      }
    targets.push_back({want, found});
  }
  return targets;
}

// One standby seen from the primary: adds its parts, detail line, perfdata
// and its piece of the OK summary.
struct PrimaryJudgement {
  std::vector<SubResult> parts;
  std::vector<std::string> details;
  std::vector<Perfdatum> perf;
  std::string ok;
};

void judge_connected(PrimaryJudgement& j, const PgReplica& r, const std::string& name, double lt,
                     std::optional<double>& seconds, std::optional<double>& bytes)
{
  bytes = r.bytes ? std::optional<double>(std::max(0.0, *r.bytes)) : std::nullopt;
  const bool fresh = r.reply_age && *r.reply_age <= lt;
  if (r.state != "streaming")
    j.parts.push_back({r.state == "catchup" ? State::Warning : State::Critical,
                       fmt::format("replica {} is in state '{}', not streaming", name, sanitize_quote(r.state, 30)),
                       {}});
  if (!r.reply_age) j.parts.push_back({State::Warning, fmt::format("replica {} has not replied yet", name), {}});
  else if (!fresh)
    j.parts.push_back({State::Critical,
                       fmt::format("replica {} last replied {} s ago (link timeout {} s): link down?", name,
                                   seconds_text(*r.reply_age), format_number(lt)),
                       {}});
  seconds = std::max(0.0, r.replay_lag.value_or(0.0));
  if (r.reply_age && !fresh) seconds = std::max(*seconds, *r.reply_age);
  j.details.push_back(fmt::format("replica {} ({}): state {}, sync {}, last reply {} s ago, replay lag {}, {} behind",
                                  name, r.client_addr.empty() ? std::string("local") : sanitize(r.client_addr),
                                  sanitize(r.state), sanitize(r.sync_state),
                                  r.reply_age ? seconds_text(*r.reply_age) : "?",
                                  r.replay_lag ? seconds_text(*r.replay_lag) + " s" : std::string("none (idle)"),
                                  bytes ? bytes_text(*bytes) : "? B"));
}

void judge_target(PrimaryJudgement& j, const Target& t, const PgObservation& o, const PgPolicy& p, double lt,
                  bool prefix)
{
  const std::string name = sanitize(t.name);
  const std::string who = prefix ? name + " " : std::string();
  const std::string pl = prefix ? slot_label(t.name) + "_" : std::string();
  std::optional<double> seconds, bytes, reply_age;
  if (t.row == nullptr) {
    std::string slot_text;
    for (const auto& s : o.slots)
      if (slot_label(s.name) == slot_label(t.name) && s.retained_bytes)
        slot_text = fmt::format("; its slot {} retains {} of WAL", sanitize(s.name), bytes_text(*s.retained_bytes));
    j.parts.push_back({State::Critical, fmt::format("replica {} is not connected{}", name, slot_text), {}});
  } else {
    reply_age = t.row->reply_age;
    judge_connected(j, *t.row, name, lt, seconds, bytes);
  }
  judge_lag(j.parts, who, seconds, bytes, p, false);
  j.perf.push_back(seconds_perf(pl + "lag", seconds, p.warn, p.crit));
  j.perf.push_back(bytes_perf(pl + "lag_bytes", bytes, p.warn_bytes, p.crit_bytes));
  j.perf.push_back(link_perf(pl + "link_age", reply_age, lt));
  if (!j.ok.empty()) j.ok += "; ";
  j.ok += fmt::format("{} streaming, lag {} s, {} behind, last reply {} s ago", name,
                      seconds ? seconds_text(*seconds) : "?", bytes ? bytes_text(*bytes) : "? B",
                      reply_age ? seconds_text(*reply_age) : "?");
}

Result evaluate_primary(const PgObservation& o, const PgPolicy& p)
{
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_primary_link_timeout(o.settings);
  PrimaryJudgement j;
  const auto targets = primary_targets(o, p);
  if (targets.empty() && p.replicas.empty())
    j.parts.push_back({State::Critical, "primary has no standby connected (pg_stat_replication is empty)", {}});
  for (const auto& t : targets) judge_target(j, t, o, p, lt, targets.size() > 1);
  for (const auto& s : o.slots)
    if (!s.active)
      j.details.push_back(fmt::format("inactive replication slot {} retains {} of WAL{}", sanitize(s.name),
                                      s.retained_bytes ? bytes_text(*s.retained_bytes) : "?",
                                      s.wal_status.empty() ? "" : " (wal_status " + sanitize(s.wal_status) + ")"));
  j.details.insert(j.details.begin(),
                   fmt::format("role: primary, link timeout {} s{}", format_number(lt),
                               p.link_timeout ? "" : " (from wal_receiver_status_interval and wal_sender_timeout)"));
  if (!p.heartbeat_table.empty())
    j.details.push_back("the heartbeat table is judged on the standby; ignored on the primary");
  return finish(std::move(j.parts), std::move(j.perf), "primary: " + j.ok, std::move(j.details));
}

} // namespace

std::optional<double> pg_setting_seconds(std::string_view setting, std::string_view unit)
{
  auto v = parse_number(setting);
  if (!v && setting.size() > 1 && setting.front() == '-')
    v = parse_number(setting.substr(1)).map([](double x) { return -x; });
  if (!v) return std::nullopt;
  if (*v < 0) return 0.0; // -1: disabled
  if (unit == "ms") return *v / 1000;
  if (unit == "s") return *v;
  if (unit == "min") return *v * 60;
  return std::nullopt;
}

// Standby: the WAL receiver asks the primary for a reply once it has heard
// nothing for half of wal_receiver_timeout, so an idle healthy link refreshes
// last_msg_receipt_time at least that often.
double pg_default_standby_link_timeout(const PgSettings& s)
{
  double interval = fallback_interval;
  if (s.wal_receiver_timeout && *s.wal_receiver_timeout > 0) interval = *s.wal_receiver_timeout / 2;
  else if (s.wal_sender_timeout && *s.wal_sender_timeout > 0) interval = *s.wal_sender_timeout / 2;
  return link_timeout_from_interval(interval);
}

// Primary: the standby replies every wal_receiver_status_interval, and the
// primary pings it after half of wal_sender_timeout without a reply; the
// shorter of the two bounds the age of reply_time on an idle healthy link.
// (The standby's status interval is read on the primary: the same
// configuration on both is the common case, --link-timeout covers the rest.)
double pg_default_primary_link_timeout(const PgSettings& s)
{
  double interval = fallback_interval;
  if (s.wal_receiver_status_interval && *s.wal_receiver_status_interval > 0) interval = *s.wal_receiver_status_interval;
  if (s.wal_sender_timeout && *s.wal_sender_timeout > 0) interval = std::min(interval, *s.wal_sender_timeout / 2);
  return link_timeout_from_interval(interval);
}

bool dsn_has_password(std::string_view dsn)
{
  auto starts = [&](std::string_view p) { return dsn.substr(0, p.size()) == p; };
  if (starts("postgresql://") || starts("postgres://")) {
    std::string_view rest = dsn.substr(dsn.find("://") + 3);
    // libpq looks for user credentials up to the first '@' or '/' (a '?'
    // does not end them), so mirror that exactly.
    auto cred_end = rest.find_first_of("@/");
    if (cred_end != std::string_view::npos && rest[cred_end] == '@' &&
        rest.substr(0, cred_end).find(':') != std::string_view::npos)
      return true;
    // Query parameters are percent-decoded by libpq ("pass%77ord=..."):
    // decode, then refuse any mention of a password parameter after a '?'.
    // Erring towards refusal is safe; a password must never be accepted.
    auto q = rest.find('?');
    if (q != std::string_view::npos) {
      std::string decoded;
      std::string_view query = rest.substr(q + 1);
      for (std::size_t k = 0; k < query.size(); ++k) {
        if (query[k] == '%' && k + 2 < query.size() && std::isxdigit(static_cast<unsigned char>(query[k + 1])) &&
            std::isxdigit(static_cast<unsigned char>(query[k + 2]))) {
          decoded += static_cast<char>(std::stoi(std::string(query.substr(k + 1, 2)), nullptr, 16));
          k += 2;
        } else {
          decoded += query[k];
        }
      }
      for (auto& c : decoded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (decoded.find("password") != std::string::npos) return true;
    }
    return false;
  }
  // key = value pairs; values may be single-quoted with backslash escapes.
  std::size_t i = 0;
  auto ws = [&] {
    while (i < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
  };
  while (true) {
    ws();
    if (i >= dsn.size()) return false;
    std::size_t k = i;
    while (i < dsn.size() && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
    std::string_view key = dsn.substr(k, i - k);
    ws();
    // Not a well-formed conninfo: libpq will refuse it, but be safe.
    if (i >= dsn.size() || dsn[i] != '=') return dsn.find("password") != std::string_view::npos;
    ++i;
    ws();
    if (key == "password") return true;
    if (i < dsn.size() && dsn[i] == '\'') {
      ++i;
      while (i < dsn.size() && dsn[i] != '\'') i += dsn[i] == '\\' ? 2u : 1u;
      if (i >= dsn.size()) return dsn.find("password") != std::string_view::npos;
      ++i;
    } else {
      while (i < dsn.size() && !std::isspace(static_cast<unsigned char>(dsn[i]))) i += dsn[i] == '\\' ? 2u : 1u;
    }
  }
}

std::optional<std::string> quote_table_name(std::string_view name)
{
  std::string out;
  std::size_t parts = 0;
  while (true) {
    auto dot = name.find('.');
    std::string_view id = name.substr(0, dot);
    if (id.empty() || !(std::isalpha(static_cast<unsigned char>(id[0])) || id[0] == '_')) return std::nullopt;
    std::string lower;
    for (char c : id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '$') return std::nullopt;
      lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (++parts > 2) return std::nullopt;
    if (!out.empty()) out += '.';
    out += '"' + lower + '"';
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return out;
}

State classify_pg_connect_error(std::string_view m)
{
  // The server answered but cannot serve yet: a finding about the service.
  for (std::string_view s : {"the database system is starting up", "the database system is shutting down",
                             "the database system is in recovery mode", "not yet accepting connections",
                             "too many clients", "remaining connection slots"})
    if (contains(m, s)) return State::Critical;
  // The server refused our credentials or configuration: we could not find out.
  for (std::string_view s :
       {"password authentication failed", "no password supplied", "does not exist", "pg_hba.conf",
        "authentication failed", "permission denied", "SSL", "certificate", "invalid connection option",
        "missing \"=\"", "invalid URI", "invalid integer value", "unterminated quoted string", "FATAL:"})
    if (contains(m, s)) return State::Unknown;
  return State::Critical;
}

Result evaluate_pg(const PgObservation& o, const PgPolicy& p)
{
  std::vector<Perfdatum> none{seconds_perf("lag", std::nullopt, p.warn, p.crit),
                              bytes_perf("lag_bytes", std::nullopt, p.warn_bytes, p.crit_bytes),
                              link_perf("link_age", std::nullopt, p.link_timeout.value_or(0))};
  if (!p.link_timeout) none[2].crit.reset();
  const std::string server = sanitize(o.server);
  switch (o.status) {
  case PgObservation::Status::Timeout: {
    // The runtime writes "timed out after N s while ..." with the -t state.
    Result r = Result::timed_out(sanitize(o.activity));
    r.perfdata = std::move(none);
    return r;
  }
  case PgObservation::Status::ConnectFailed: {
    State st = classify_pg_connect_error(o.error);
    Result r{st, fmt::format("cannot connect to {}: {}", server, sanitize_quote(first_line(o.error), 200)), {}, none};
    if (st == State::Unknown)
      r.details.push_back("the server refused the connection settings or credentials (passwords come from "
                          "PGPASSWORD, PGPASSFILE or ~/.pgpass, never from the command line)");
    return r;
  }
  case PgObservation::Status::QueryFailed:
    return Result{State::Unknown,
                  fmt::format("query failed on {}: {}", server, sanitize_quote(first_line(o.error), 200)),
                  {},
                  none};
  case PgObservation::Status::Ok: break;
  }
  if (!o.monitor) {
    Result r{State::Unknown,
             fmt::format("role {} lacks pg_monitor: replication status is hidden from it", sanitize(o.user)),
             {fmt::format("fix: GRANT pg_monitor TO {};", sanitize(o.user))},
             none};
    return r;
  }
  if (p.role == PgRole::Standby && !o.in_recovery) {
    Result r{State::Critical,
             fmt::format("{} is not in recovery but --role standby was expected: promoted?", server),
             {"pg_is_in_recovery() is false: this server accepts writes and no longer follows a primary"},
             none};
    return r;
  }
  if (p.role == PgRole::Primary && o.in_recovery) {
    return Result{State::Critical,
                  fmt::format("{} is in recovery (a standby) but --role primary was expected", server),
                  {},
                  none};
  }
  Result r = o.in_recovery ? evaluate_standby(o, p) : evaluate_primary(o, p);
  r.details.insert(r.details.begin(), fmt::format("server {} as {}", server, sanitize(o.user)));
  return r;
}

} // namespace sitelink::replication
