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
               std::optional<double> bytes, const PgPolicy& p, bool from_heartbeat, double delay = 0)
{
  if (seconds) {
    std::string what = from_heartbeat ? "heartbeat age" : "lag";
    if (delay > 0) what = fmt::format("{} beyond the apply delay of {} s:", what, format_number(delay));
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

// The delay a delayed standby keeps on purpose: --expected-delay, else
// recovery_min_apply_delay; 0 for an ordinary standby.
double standby_apply_delay(const PgObservation& o, const PgPolicy& p)
{
  if (p.expected_delay) return *p.expected_delay;
  return o.settings.recovery_min_apply_delay.value_or(0);
}

struct StandbyLag {
  std::optional<double> seconds; // beyond the apply delay
  bool from_heartbeat = false;
};

// The standby's lag in seconds beyond its apply delay: the heartbeat's age
// when configured; on a fresh link 0 when caught up or when replay waits on
// the delay, else the replay timestamp's age; on a stale link at least the
// silence, whatever replay says.
StandbyLag standby_lag(const PgObservation& o, bool fresh, double delay)
{
  const auto& s = o.standby;
  StandbyLag lag;
  const bool behind = s.bytes && *s.bytes > 0;
  const double replayed =
      behind && !(delay > 0 && s.waiting_on_delay) ? std::max(0.0, s.replay_age.value_or(0.0) - delay) : 0.0;
  if (o.heartbeat_age) {
    lag.seconds = std::max(0.0, *o.heartbeat_age - delay);
    lag.from_heartbeat = true;
  } else if (fresh) {
    lag.seconds = replayed;
  } else if (s.receiver && s.receipt_age) {
    lag.seconds = std::max(*s.receipt_age, replayed);
  }
  return lag;
}

std::vector<std::string> standby_details(const PgObservation& o, const PgPolicy& p, const std::string& sender,
                                         double lt, double delay)
{
  const auto& s = o.standby;
  std::vector<std::string> details;
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
  if (delay > 0)
    details.push_back(fmt::format("delayed standby: apply delay {} s ({}){}; the lag is judged beyond it",
                                  format_number(delay),
                                  p.expected_delay ? "--expected-delay" : "recovery_min_apply_delay",
                                  s.waiting_on_delay ? ", replay is waiting on it" : ""));
  if (o.heartbeat_age)
    details.push_back(
        fmt::format("heartbeat {} is {} s old", sanitize(p.heartbeat_table), seconds_text(*o.heartbeat_age)));
  return details;
}

Result evaluate_standby(const PgObservation& o, const PgPolicy& p)
{
  const auto& s = o.standby;
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_standby_link_timeout(o.settings);
  const double delay = standby_apply_delay(o, p);
  std::vector<SubResult> parts;
  const std::string sender = s.sender.empty() ? std::string("the primary") : sanitize(s.sender);

  const bool fresh = judge_standby_link(parts, s, sender, lt);
  const StandbyLag lag = standby_lag(o, fresh, delay);
  if (!p.heartbeat_table.empty() && !o.heartbeat_age)
    parts.push_back({State::Unknown,
                     fmt::format("cannot read heartbeat table {}: {}", sanitize(p.heartbeat_table),
                                 sanitize_quote(first_line(o.heartbeat_error), 120)),
                     {}});

  std::optional<double> bytes = s.bytes ? std::optional<double>(std::max(0.0, *s.bytes)) : std::nullopt;
  judge_lag(parts, "", lag.seconds, bytes, p, lag.from_heartbeat, delay);

  if (s.pause_state == "paused" || s.pause_state == "pause requested")
    parts.push_back({State::Warning,
                     fmt::format("WAL replay is {} (SELECT pg_wal_replay_resume() resumes it)", s.pause_state),
                     {}});

  std::vector<Perfdatum> perf{seconds_perf("lag", lag.seconds, p.warn, p.crit),
                              bytes_perf("lag_bytes", bytes, p.warn_bytes, p.crit_bytes),
                              link_perf("link_age", s.receipt_age, lt)};
  std::string ok =
      fmt::format("standby streaming from {}, {} {} s{}, {} behind, last message {} s ago", sender,
                  lag.from_heartbeat ? "heartbeat age" : "lag", lag.seconds ? seconds_text(*lag.seconds) : "?",
                  delay > 0 ? fmt::format(" beyond the apply delay of {} s", format_number(delay)) : std::string(),
                  bytes ? bytes_text(*bytes) : "? B", s.receipt_age ? seconds_text(*s.receipt_age) : "?");
  return finish(std::move(parts), std::move(perf), ok, standby_details(o, p, sender, lt, delay));
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

// How far reply_time (the standby's clock) may sit in the future before it
// is clock skew rather than the two clocks' ordinary disagreement.
constexpr double skew_tolerance = 2;

// The longest a live standby stays silent: it replies every
// wal_receiver_status_interval, and the primary asks it for a reply after
// half of wal_sender_timeout without one.
double primary_reply_interval(const PgSettings& s)
{
  double interval = fallback_interval;
  if (s.wal_receiver_status_interval && *s.wal_receiver_status_interval > 0) interval = *s.wal_receiver_status_interval;
  if (s.wal_sender_timeout && *s.wal_sender_timeout > 0) interval = std::min(interval, *s.wal_sender_timeout / 2);
  return interval;
}

// Slack on top of that interval for a second read: the keepalive's round
// trip and a busy standby.
constexpr double second_read_slack = 2;

// A streaming standby whose freshness a second read can settle: its reply
// reads older than the link timeout, or lies in the future.
bool borderline(const PgReplica& r, double lt)
{
  return r.state == "streaming" && r.reply_age && (*r.reply_age > lt || *r.reply_age < -skew_tolerance);
}

// A reply older than wal_sender_timeout on a row that still streams: the
// primary drops a standby that stays silent that long, so replies are still
// arriving and the standby's clock is behind.
bool reads_behind(const PgReplica& r, double lt, std::optional<double> sender_timeout)
{
  return r.state == "streaming" && r.reply_age && sender_timeout && *sender_timeout > 0 &&
         *r.reply_age > std::max(lt, *sender_timeout + skew_tolerance);
}

// Clock skew seen in reply_time (the standby's clock read on the primary's):
// a reply from the future is a standby clock ahead (it would hide a dead
// link for as long); an old reply that reads_behind() is a standby clock
// behind. Returns true when the link is known live despite an old-looking
// reply.
bool judge_skew(PrimaryJudgement& j, const PgReplica& r, const std::string& name, double lt,
                std::optional<double> sender_timeout)
{
  if (!r.reply_age) return false;
  const double age = *r.reply_age;
  if (age < -skew_tolerance) {
    j.parts.push_back({State::Warning,
                       fmt::format("replica {}'s clock is {} s ahead (reply_time in the future): a dead link would "
                                   "look fresh for as long",
                                   name, seconds_text(-age)),
                       {}});
    return false;
  }
  if (reads_behind(r, lt, sender_timeout)) {
    j.parts.push_back({State::Warning,
                       fmt::format("replica {}'s clock is about {} s behind: its replies read {} s old but keep "
                                   "arriving (a silent standby is dropped after wal_sender_timeout {} s)",
                                   name, seconds_text(age), seconds_text(age), format_number(*sender_timeout)),
                       {}});
    return true;
  }
  return false;
}

const PgReplica* same_standby(const PgReplica& r, const std::vector<PgReplica>& rows)
{
  for (const auto& x : rows)
    if (x.application_name == r.application_name && x.client_addr == r.client_addr) return &x;
  return nullptr;
}

// What the second read settled about a borderline standby.
enum class Settled { No, Live, Dead };

// A borderline standby and the second read (issue 24, item 5): a reply_time
// that advanced is a live link, reported as the skew it is. One that did
// not advance for a whole reply interval is a dead link; that changes the
// judgement only where the skew would have hidden it (a clock ahead, or one
// so far behind that the reply reads older than wal_sender_timeout).
// Anything less (not taken, failed, too short) leaves the judgement as it
// is without a second read. Adds the parts and a detail line.
Settled judge_second_read(PrimaryJudgement& j, const PgReplica& r, const std::string& name, const PgObservation& o,
                          double lt)
{
  const auto& sr = o.second_read;
  if (sr.status == PgSecondRead::Status::NotTaken || !borderline(r, lt)) return Settled::No;
  if (sr.status != PgSecondRead::Status::Ok) {
    j.details.push_back(fmt::format("second read of pg_stat_replication for replica {} {}", name,
                                    sr.status == PgSecondRead::Status::TimedOut
                                        ? std::string("ran out of time")
                                        : "failed: " + sanitize_quote(first_line(sr.error), 120)));
    return Settled::No;
  }
  const PgReplica* again = same_standby(r, sr.replicas);
  const bool advanced = pg_reply_advanced(r, sr.replicas);
  const double age = *r.reply_age;
  j.details.push_back(fmt::format("second read {} s later: replica {}'s reply_time {}", seconds_text(sr.after), name,
                                  again == nullptr ? std::string("is gone (not connected)")
                                  : advanced       ? std::string("advanced (replies arrive)")
                                                   : std::string("did not advance")));
  if (advanced) {
    const double skew = again->reply_age.value_or(age);
    // A late reply followed by a fresh one is a live link on one clock: no part.
    if (age < -skew_tolerance) judge_skew(j, r, name, lt, o.settings.wal_sender_timeout);
    else if (skew >= lt) {
      j.parts.push_back({State::Warning,
                         fmt::format("replica {}'s clock is about {} s behind: its reply_time advanced between two "
                                     "reads {} s apart but reads {} s old",
                                     name, seconds_text(skew), seconds_text(sr.after), seconds_text(skew)),
                         {}});
    }
    return Settled::Live;
  }
  const bool hidden = age < -skew_tolerance || reads_behind(r, lt, o.settings.wal_sender_timeout);
  if (!hidden || sr.after < primary_reply_interval(o.settings)) return Settled::No;
  j.parts.push_back(
      {State::Critical,
       fmt::format("replica {} has not replied for {} s (its reply_time did not advance; {}): link down?", name,
                   seconds_text(sr.after),
                   age < 0 ? fmt::format("the standby's clock is {} s ahead, so it looked fresh", seconds_text(-age))
                           : fmt::format("it reads {} s old, the standby's clock is behind", seconds_text(age))),
       {}});
  return Settled::Dead;
}

void judge_connected(PrimaryJudgement& j, const PgReplica& r, const std::string& name, const PgObservation& o,
                     double lt, std::optional<double>& seconds, std::optional<double>& bytes)
{
  bytes = r.bytes ? std::optional<double>(std::max(0.0, *r.bytes)) : std::nullopt;
  // Settled either way, the second read has said all about the reply's age.
  const Settled settled = judge_second_read(j, r, name, o, lt);
  const bool live_despite_skew = settled != Settled::No || judge_skew(j, r, name, lt, o.settings.wal_sender_timeout);
  const bool fresh = r.reply_age && (*r.reply_age <= lt || live_despite_skew);
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
    judge_connected(j, *t.row, name, o, lt, seconds, bytes);
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

// --slots: one part per slot at risk, a perfdatum per slot. A slot whose
// WAL is gone (lost) or about to go (unreserved) is judged whether or not
// it is active; an inactive one by the WAL it retains.
void judge_slots(PrimaryJudgement& j, const PgObservation& o, const PgPolicy& p)
{
  std::size_t inactive = 0;
  for (const auto& s : o.slots) {
    const std::string name = sanitize(s.name);
    const std::string retained = s.retained_bytes ? bytes_text(*s.retained_bytes) : std::string("?");
    if (s.wal_status == "lost")
      j.parts.push_back(
          {State::Critical, fmt::format("slot {} has lost WAL its consumer needs (wal_status lost)", name), {}});
    else if (s.wal_status == "unreserved")
      j.parts.push_back({State::Warning,
                         fmt::format("slot {} retains {} beyond max_wal_size: its WAL is about to be removed "
                                     "(wal_status unreserved)",
                                     name, retained),
                         {}});
    if (!s.active) {
      ++inactive;
      const double b = s.retained_bytes.value_or(0);
      if (p.slot_crit_bytes && p.slot_crit_bytes->alerts(b))
        j.parts.push_back({State::Critical,
                           fmt::format("inactive slot {} retains {} of WAL (critical {} B)", name, retained,
                                       p.slot_crit_bytes->describe()),
                           {}});
      else if (p.slot_warn_bytes && p.slot_warn_bytes->alerts(b))
        j.parts.push_back({State::Warning,
                           fmt::format("inactive slot {} retains {} of WAL (warning {} B)", name, retained,
                                       p.slot_warn_bytes->describe()),
                           {}});
      else if (p.slot_inactive_state && *p.slot_inactive_state != State::Ok)
        j.parts.push_back(
            {*p.slot_inactive_state, fmt::format("slot {} is inactive, retaining {} of WAL", name, retained), {}});
    }
    j.details.push_back(fmt::format("{} slot {}: {}, retains {} of WAL{}", sanitize(s.type), name,
                                    s.active ? "active" : "inactive", retained,
                                    s.wal_status.empty() ? "" : " (wal_status " + sanitize(s.wal_status) + ")"));
    j.perf.push_back(
        bytes_perf("slot_" + slot_label(s.name) + "_retained", s.retained_bytes, p.slot_warn_bytes, p.slot_crit_bytes));
  }
  if (!j.ok.empty()) j.ok += "; ";
  j.ok += fmt::format("{} slot(s), {} inactive, none at risk", o.slots.size(), inactive);
}

// Which sending side: a primary; a cascading standby's downstream beside
// its upstream (--role auto); a cascading standby judged as a sender only
// (--role primary), which must then have a standby connected.
enum class Sender { Primary, Cascade, CascadeOnly };

// The sending side: a primary, or a cascading standby feeding its own
// downstream standbys.
Result evaluate_primary(const PgObservation& o, const PgPolicy& p, Sender side = Sender::Primary)
{
  const bool cascade = side != Sender::Primary;
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_primary_link_timeout(o.settings);
  PrimaryJudgement j;
  const auto targets = primary_targets(o, p);
  if (targets.empty() && p.replicas.empty() && side == Sender::Primary)
    j.parts.push_back({State::Critical, "primary has no standby connected (pg_stat_replication is empty)", {}});
  if (targets.empty() && p.replicas.empty() && side == Sender::CascadeOnly)
    j.parts.push_back(
        {State::Critical, "cascading standby has no standby connected (pg_stat_replication is empty)", {}});
  for (const auto& t : targets) judge_target(j, t, o, p, lt, targets.size() > 1 || cascade);
  if (p.slots) judge_slots(j, o, p);
  else
    for (const auto& s : o.slots)
      if (!s.active)
        j.details.push_back(fmt::format("inactive replication slot {} retains {} of WAL{}", sanitize(s.name),
                                        s.retained_bytes ? bytes_text(*s.retained_bytes) : "?",
                                        s.wal_status.empty() ? "" : " (wal_status " + sanitize(s.wal_status) + ")"));
  j.details.insert(j.details.begin(),
                   fmt::format("role: {}, link timeout {} s{}", cascade ? "cascading standby (sender)" : "primary",
                               format_number(lt),
                               p.link_timeout ? "" : " (from wal_receiver_status_interval and wal_sender_timeout)"));
  if (!p.heartbeat_table.empty() && !cascade)
    j.details.push_back("the heartbeat table is judged on the standby; ignored on the primary");
  if (side == Sender::CascadeOnly)
    j.details.push_back("--role primary on a server in recovery: its upstream link is not judged (--role standby "
                        "judges it, --role auto both sides)");
  const char* prefix = side == Sender::Primary   ? "primary: "
                       : side == Sender::Cascade ? "sending to "
                                                 : "cascading standby sending to ";
  return finish(std::move(j.parts), std::move(j.perf), prefix + j.ok, std::move(j.details));
}

// The subscriptions to judge: every one, or those named with --subscription.
std::vector<std::pair<std::string, const PgSubscription*>> subscription_targets(const PgObservation& o,
                                                                                const PgPolicy& p)
{
  std::vector<std::pair<std::string, const PgSubscription*>> t;
  if (p.subscriptions.empty()) {
    for (const auto& s : o.subscriptions) t.emplace_back(s.name, &s);
    return t;
  }
  for (const auto& want : p.subscriptions) {
    const PgSubscription* found = nullptr;
    for (const auto& s : o.subscriptions)
      if (s.name == want) found = &s;
    t.emplace_back(want, found);
  }
  return t;
}

// One subscription: enabled, its apply worker running, and messages from
// the publisher fresher than the link timeout (the apply worker asks for a
// keepalive after half of wal_receiver_timeout, like a WAL receiver).
void judge_subscription(PrimaryJudgement& j, const std::string& name, const PgSubscription* s, const PgObservation& o,
                        double lt, bool prefix)
{
  const std::string shown = sanitize(name);
  std::optional<double> age = s != nullptr ? s->receipt_age : std::nullopt;
  if (s == nullptr) {
    std::string have;
    for (const auto& x : o.subscriptions) have += (have.empty() ? "" : ", ") + sanitize(x.name);
    j.parts.push_back({State::Critical,
                       fmt::format("subscription {} does not exist (the server has {})", shown,
                                   have.empty() ? std::string("none") : have),
                       {}});
  } else if (!s->enabled) {
    j.parts.push_back({State::Critical, fmt::format("subscription {} is disabled", shown), {}});
  } else if (!s->worker) {
    j.parts.push_back({State::Critical,
                       fmt::format("subscription {} has no apply worker running (publisher unreachable or the "
                                   "worker keeps failing: see the server log)",
                                   shown),
                       {}});
  } else if (!age) {
    j.parts.push_back(
        {State::Critical, fmt::format("subscription {} has not heard from its publisher yet", shown), {}});
  } else if (*age > lt) {
    j.parts.push_back({State::Critical,
                       fmt::format("subscription {}: no message from the publisher for {} s (link timeout {} s): "
                                   "link down?",
                                   shown, seconds_text(*age), format_number(lt)),
                       {}});
  }
  if (s != nullptr)
    j.details.push_back(fmt::format("subscription {}: {}, apply worker {}, last message {} s ago, received up to {}, "
                                    "reported up to {}",
                                    shown, s->enabled ? "enabled" : "disabled", s->worker ? "running" : "not running",
                                    age ? seconds_text(*age) : "?", sanitize(s->received_lsn),
                                    sanitize(s->latest_end_lsn)));
  j.perf.push_back(link_perf((prefix ? slot_label(name) + "_" : std::string()) + "link_age", age, lt));
  if (!j.ok.empty()) j.ok += "; ";
  j.ok += fmt::format("{} streaming, last message {} s ago", shown, age ? seconds_text(*age) : "?");
}

Result evaluate_subscriber(const PgObservation& o, const PgPolicy& p)
{
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_standby_link_timeout(o.settings);
  PrimaryJudgement j;
  const auto targets = subscription_targets(o, p);
  if (targets.empty()) j.parts.push_back({State::Critical, "no logical replication subscription on this server", {}});
  for (const auto& [name, sub] : targets) judge_subscription(j, name, sub, o, lt, targets.size() > 1);
  j.details.insert(j.details.begin(), fmt::format("role: subscriber, link timeout {} s{}", format_number(lt),
                                                  p.link_timeout ? "" : " (from wal_receiver_timeout)"));
  return finish(std::move(j.parts), std::move(j.perf), "subscription " + j.ok, std::move(j.details));
}

// Two sides of one server judged in one run (a cascading standby's upstream
// link and its downstream standbys; a primary that also subscribes): the
// worst decides and the summary names the side that failed.
Result combine_sides(Result a, const char* a_name, Result b, const char* b_name)
{
  Result r;
  r.state = worst(a.state, b.state);
  if (r.state == State::Ok) {
    r.summary = fmt::format("{}: {}; {}: {}", a_name, a.summary, b_name, b.summary);
  } else {
    for (const auto* side : {&a, &b})
      if (side->state == r.state)
        r.summary += (r.summary.empty() ? "" : "; ") +
                     fmt::format("{} {}: {}", side == &a ? a_name : b_name, to_string(side->state), side->summary);
  }
  for (const auto& d : a.details) r.details.push_back(fmt::format("{}: {}", a_name, d));
  for (const auto& d : b.details) r.details.push_back(fmt::format("{}: {}", b_name, d));
  r.perfdata = std::move(a.perfdata);
  r.perfdata.insert(r.perfdata.end(), b.perfdata.begin(), b.perfdata.end());
  return r;
}

// Which sides of the server to judge, from its state and the options.
Result evaluate_sides(const PgObservation& o, const PgPolicy& p)
{
  if (o.in_recovery && p.role == PgRole::Primary) return evaluate_primary(o, p, Sender::CascadeOnly);
  if (o.in_recovery) {
    const bool downstream =
        p.role != PgRole::Standby && (!o.replicas.empty() || !p.replicas.empty() || (p.slots && !o.slots.empty()));
    if (!downstream) return evaluate_standby(o, p);
    return combine_sides(evaluate_standby(o, p), "upstream", evaluate_primary(o, p, Sender::Cascade), "downstream");
  }
  const bool subs = p.role == PgRole::Subscriber || !p.subscriptions.empty() ||
                    (p.role == PgRole::Auto && p.replicas.empty() && o.replicas.empty() && !o.subscriptions.empty());
  if (!subs) return evaluate_primary(o, p);
  if (p.role == PgRole::Subscriber || (o.replicas.empty() && p.replicas.empty() && !p.slots))
    return evaluate_subscriber(o, p);
  return combine_sides(evaluate_primary(o, p), "primary", evaluate_subscriber(o, p), "subscriber");
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
  return link_timeout_from_interval(primary_reply_interval(s));
}

PgSecondReadPlan pg_second_read_plan(const PgObservation& o, const PgPolicy& p)
{
  PgSecondReadPlan plan;
  if (!o.monitor || (o.server_version > 0 && o.server_version < pg_minimum_version) || p.role == PgRole::Standby ||
      p.role == PgRole::Subscriber)
    return plan;
  const double lt = p.link_timeout ? *p.link_timeout : pg_default_primary_link_timeout(o.settings);
  for (const auto& t : primary_targets(o, p))
    if (t.row != nullptr && borderline(*t.row, lt)) plan.replicas.push_back(*t.row);
  if (!plan.replicas.empty()) plan.wait = primary_reply_interval(o.settings) + second_read_slack;
  return plan;
}

bool pg_reply_advanced(const PgReplica& first, const std::vector<PgReplica>& second)
{
  const PgReplica* again = same_standby(first, second);
  return again != nullptr && first.reply_time && again->reply_time && *again->reply_time > *first.reply_time;
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
  if (o.server_version > 0 && o.server_version < pg_minimum_version)
    return Result{State::Unknown,
                  fmt::format("{} runs PostgreSQL {}.{}: check_replication_lag needs PostgreSQL {} or later", server,
                              o.server_version / 10000, o.server_version % 10000, pg_minimum_version / 10000),
                  {"needed: pg_stat_replication.reply_time (12), pg_replication_slots.wal_status (13), "
                   "pg_get_wal_replay_pause_state() (14)"},
                  none};
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
  // --role primary on a standby with downstream standbys (or slots for
  // them): a cascading standby, judged on its sending side only.
  const bool downstream = !o.replicas.empty() || !p.replicas.empty() || !o.slots.empty();
  if (p.role == PgRole::Primary && o.in_recovery && !downstream) {
    return Result{State::Critical,
                  fmt::format("{} is in recovery (a standby) but --role primary was expected", server),
                  {},
                  none};
  }
  if (p.role == PgRole::Subscriber && o.in_recovery)
    return Result{State::Critical,
                  fmt::format("{} is in recovery (a standby) but --role subscriber was expected", server),
                  {},
                  none};
  Result r = evaluate_sides(o, p);
  r.details.insert(r.details.begin(), fmt::format("server {} as {}", server, sanitize(o.user)));
  return r;
}

} // namespace sitelink::replication
