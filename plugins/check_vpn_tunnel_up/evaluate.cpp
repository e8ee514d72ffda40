// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/perfdata.hpp"

namespace sitelink::vpn {

std::string_view to_string(TunnelState s) noexcept
{
  // Indexed by TunnelState, in its declaration order.
  static constexpr std::array<std::string_view, 5> names{"up", "down", "connecting", "stale", "missing"};
  const auto i = static_cast<std::size_t>(s);
  return i < names.size() ? names[i] : std::string_view{"?"};
}

namespace {

// Names come from the daemon or the command line: keep them printable and
// short enough that line 1 stays readable.
std::string shown(std::string_view name)
{
  return sanitize_quote(name, 64);
}

std::string secs(double s)
{
  return format_number(std::round(s));
}

std::vector<std::string> unique(const std::vector<std::string>& names)
{
  std::vector<std::string> out;
  for (const auto& n : names)
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

const Tunnel* find(const std::vector<Tunnel>& tunnels, const std::string& name)
{
  for (const auto& t : tunnels)
    if (t.name == name) return &t;
  return nullptr;
}

// --stale on an established tunnel: stale (one-way silence, or inbound
// silence where the backend has no outbound figure) or idle (silent both
// ways: up, with --idle-state).
void judge_stale(Tunnel& t, const Policy& p)
{
  const double limit = *p.stale;
  switch (judge_silence(t.last_inbound, t.last_outbound, t.reports_outbound, limit)) {
  case Silence::Fresh: break;
  case Silence::Stale:
    t.state = TunnelState::Stale;
    if (t.reports_outbound && t.last_outbound)
      t.detail = fmt::format("nothing received for {} s but sent {} s ago, limit {} s", secs(*t.last_inbound),
                             secs(*t.last_outbound), format_number(limit));
    else t.detail = fmt::format("nothing received for {} s, limit {} s", secs(*t.last_inbound), format_number(limit));
    break;
  case Silence::Idle:
    t.quiet = fmt::format("idle for {} s",
                          secs(t.last_outbound ? std::min(*t.last_inbound, *t.last_outbound) : *t.last_inbound));
    t.quiet_state = p.idle_state;
    break;
  }
}

// Applies the staleness limits: an established tunnel that has heard
// nothing for too long carries no traffic, whatever the daemon's state says
// (dead-peer detection lags behind by tens of seconds to minutes).
Tunnel judge(Tunnel t, const Policy& p)
{
  if (t.state != TunnelState::Up) return t;
  const Tunnel established = t;
  if (p.handshake_limit && t.handshake_age && *t.handshake_age > *p.handshake_limit) {
    if (t.keepalive && *t.keepalive == 0) {
      // Without keepalive an idle peer makes no handshakes either: an old
      // handshake is no evidence of a dead path.
      t.quiet = fmt::format("no handshake for {} s and no keepalive set: idle or down, cannot tell; "
                            "set PersistentKeepalive on this peer",
                            secs(*t.handshake_age));
      t.quiet_state = p.no_keepalive_state;
    } else {
      t.state = TunnelState::Stale;
      t.detail =
          fmt::format("last handshake {} s ago, limit {} s", secs(*t.handshake_age), format_number(*p.handshake_limit));
    }
  } else if (p.stale) {
    judge_stale(t, p);
  }
  // How long it has been stale is unknown; the daemon's own view stays in
  // the detail.
  if (t.state == TunnelState::Stale) {
    t.since.reset();
    if (!established.detail.empty()) t.note = "the daemon still reports: " + established.detail;
  }
  return t;
}

std::string short_text(const Tunnel& t)
{
  std::string s = shown(t.name) + " " + std::string(to_string(t.state));
  if (!t.detail.empty() && t.state != TunnelState::Missing) s += " (" + t.detail + ")";
  return s;
}

std::string detail_line(const Tunnel& t, std::string_view suffix = {})
{
  std::string s = shown(t.name) + ": " + std::string(to_string(t.state));
  if (!t.detail.empty()) s += ", " + t.detail;
  if (!t.quiet.empty()) s += ", " + t.quiet;
  if (!t.note.empty()) s += "; " + t.note;
  if (t.since) s += fmt::format("; {} for {} s", to_string(t.state), secs(*t.since));
  if (t.last_inbound) s += fmt::format("; last inbound packet {} s ago", secs(*t.last_inbound));
  if (t.last_outbound) s += fmt::format("; last outbound packet {} s ago", secs(*t.last_outbound));
  if (t.handshake_age) s += fmt::format("; last handshake {} s ago", secs(*t.handshake_age));
  if (t.bytes_in || t.bytes_out)
    s += fmt::format("; {} B in, {} B out", t.bytes_in ? format_number(*t.bytes_in) : "?",
                     t.bytes_out ? format_number(*t.bytes_out) : "?");
  s += suffix;
  return s;
}

// `t` null: no tunnel entry; `known` false: not even whether it is up.
void tunnel_perfdata(std::vector<Perfdatum>& out, const std::string& name, const Tunnel* t, bool handshakes,
                     bool known = true)
{
  auto opt = [](const std::optional<double>& v) -> std::optional<double> {
    return v ? std::optional<double>(std::round(*v)) : std::nullopt;
  };
  std::optional<double> up;
  if (known) up = t && t->state == TunnelState::Up ? 1.0 : 0.0;
  out.push_back({name + "_up", up, Uom::None, {}, {}, 0.0, 1.0});
  out.push_back({name + "_in_idle", t ? opt(t->last_inbound) : std::nullopt, Uom::Seconds, {}, {}, 0.0, {}});
  if (handshakes)
    out.push_back({name + "_handshake_age", t ? opt(t->handshake_age) : std::nullopt, Uom::Seconds, {}, {}, 0.0, {}});
  out.push_back({name + "_bytes_in", t ? t->bytes_in : std::nullopt, Uom::Bytes, {}, {}, 0.0, {}});
  out.push_back({name + "_bytes_out", t ? t->bytes_out : std::nullopt, Uom::Bytes, {}, {}, 0.0, {}});
}

// Quiet tunnels count as up; each adds its state and a "; NAME: what"
// part to the summary (idle for N s, or why a WireGuard peer cannot be told
// idle from down).
void add_quiet(Result& r, const std::vector<Tunnel>& judged)
{
  std::vector<std::string> parts;
  for (const auto& t : judged) {
    if (t.state != TunnelState::Up || t.quiet.empty()) continue;
    r.state = worst(r.state, t.quiet_state);
    parts.push_back(shown(t.name) + ": " + t.quiet);
  }
  if (!parts.empty()) r.summary += "; " + fmt::format("{}", fmt::join(parts, ", "));
}

// Line 1's items when per-tunnel perfdata would be too long: the longest
// silence, the oldest handshake and the byte totals of the tunnels that
// report them (U when none does).
void aggregate_perfdata(std::vector<Perfdatum>& out, const std::vector<Tunnel>& judged, bool handshakes)
{
  std::optional<double> idle, handshake, in, out_bytes;
  auto most = [](std::optional<double>& m, const std::optional<double>& v) {
    if (v && (!m || *v > *m)) m = std::round(*v);
  };
  auto add = [](std::optional<double>& sum, const std::optional<double>& v) {
    if (v) sum = sum.value_or(0) + *v;
  };
  for (const auto& t : judged) {
    most(idle, t.last_inbound);
    most(handshake, t.handshake_age);
    add(in, t.bytes_in);
    add(out_bytes, t.bytes_out);
  }
  out.push_back({"in_idle_max", idle, Uom::Seconds, {}, {}, 0.0, {}});
  if (handshakes) out.push_back({"handshake_age_max", handshake, Uom::Seconds, {}, {}, 0.0, {}});
  out.push_back({"bytes_in", in, Uom::Bytes, {}, {}, 0.0, {}});
  out.push_back({"bytes_out", out_bytes, Uom::Bytes, {}, {}, 0.0, {}});
}

// Per-tunnel items for every expected tunnel (`judged` empty: no tunnel
// entries, `known` false: not even whether they are up), or the aggregates.
void tunnels_perfdata(std::vector<Perfdatum>& out, const std::vector<std::string>& expected,
                      const std::vector<Tunnel>& judged, bool handshakes, bool known = true)
{
  if (!per_tunnel_perfdata(expected, handshakes ? 5 : 4)) {
    aggregate_perfdata(out, judged, handshakes);
    return;
  }
  for (std::size_t i = 0; i < expected.size(); ++i)
    tunnel_perfdata(out, expected[i], i < judged.size() ? &judged[i] : nullptr, handshakes, known);
}

// "a down (why), b missing" within max_not_up_summary_bytes, then a count.
std::string not_up_list(const std::vector<std::string>& not_up)
{
  std::string s;
  std::size_t i = 0;
  for (; i < not_up.size() && s.size() < max_not_up_summary_bytes; ++i) s += (i ? ", " : "") + not_up[i];
  if (i < not_up.size()) s += fmt::format(", and {} more not up", not_up.size() - i);
  return s;
}

Range at_least(double n)
{
  Range r;
  r.start = n;
  return r;
}

// The daemon could not be read: no tunnel state, only what went wrong.
Result unread(const Observation& obs, const std::vector<std::string>& expected, bool named, const Range& warn,
              const Range& crit, const Policy& policy)
{
  Result r;
  const auto n = static_cast<double>(expected.size());
  const std::string where = shown(obs.endpoint);
  const bool down = obs.status == Observation::Status::DaemonDown;
  const std::optional<double> count = named ? std::optional<double>(n) : std::nullopt;
  // Without names the number expected is unknown, and so is the default
  // warning range.
  const std::optional<Range> w = named || policy.warn ? std::optional<Range>(warn) : std::nullopt;
  r.perfdata.push_back({"tunnels_up", down ? std::optional<double>(0) : std::nullopt, Uom::None, w, crit, 0.0, count});
  r.perfdata.push_back({"tunnels_expected", count, Uom::None, {}, {}, 0.0, {}});
  tunnels_perfdata(r.perfdata, expected, {}, obs.has_handshakes, down);
  if (down) {
    // Whatever the thresholds say: no daemon means no tunnel.
    r.state = State::Critical;
    r.summary = named
                    ? fmt::format("0 of {} tunnels up: {} is not running ({})", expected.size(), obs.daemon, obs.error)
                    : fmt::format("{} is not running ({}): no tunnel can be up", obs.daemon, obs.error);
    for (const auto& name : expected) r.details.push_back(shown(name) + ": down, " + obs.daemon + " is not running");
  } else {
    r.state = State::Unknown;
    r.summary = fmt::format("cannot read {} at {}: {}", obs.daemon, where, obs.error);
  }
  if (!obs.hint.empty()) r.details.push_back(obs.hint);
  return r;
}

// Every expected tunnel, judged; one the daemon has no entry for is down
// (configured) or missing (not configured).
std::vector<Tunnel> judge_expected(const Observation& obs, const std::vector<std::string>& expected,
                                   const Policy& policy)
{
  std::vector<Tunnel> judged;
  for (const auto& name : expected) {
    const Tunnel* t = find(obs.tunnels, name);
    if (t != nullptr) {
      judged.push_back(judge(*t, policy));
      continue;
    }
    Tunnel m;
    m.name = name;
    if (std::find(obs.configured.begin(), obs.configured.end(), name) != obs.configured.end()) {
      m.state = TunnelState::Down;
      m.detail = "configured, not established";
    } else {
      m.state = TunnelState::Missing;
      m.detail = "not configured in " + obs.daemon;
    }
    judged.push_back(m);
  }
  return judged;
}

} // namespace

Silence judge_silence(std::optional<double> last_inbound, std::optional<double> last_outbound, bool reports_outbound,
                      double limit)
{
  // Unknown inbound age: nothing to judge (the daemon's state stands).
  if (!last_inbound || *last_inbound <= limit) return Silence::Fresh;
  if (!reports_outbound) return Silence::Stale;
  // Nothing sent at all, or nothing after the last inbound packet but its
  // answer: both ends have been quiet.
  if (!last_outbound || *last_inbound - *last_outbound <= answer_slack) return Silence::Idle;
  return Silence::Stale;
}

bool per_tunnel_perfdata(const std::vector<std::string>& names, std::size_t items)
{
  if (names.size() <= 1) return true;
  if (names.size() > max_per_tunnel_perfdata_tunnels) return false;
  std::size_t bytes = 0;
  // 30 bytes bound a value with its unit, min and max ("=123456789012B;;;0").
  for (const auto& n : names) bytes += items * (format_label(n + "_handshake_age").size() + 30);
  return bytes <= max_per_tunnel_perfdata_bytes;
}

Result evaluate(const Observation& obs, const Policy& policy)
{
  Result r;
  std::vector<std::string> expected = unique(policy.expected);
  const bool named = !expected.empty();
  if (!named && obs.status == Observation::Status::Read) {
    expected = unique(obs.configured);
    for (const auto& t : obs.tunnels)
      if (std::find(expected.begin(), expected.end(), t.name) == expected.end()) expected.push_back(t.name);
  }
  const auto n = static_cast<double>(expected.size());
  const Range crit = policy.crit ? *policy.crit : at_least(1);
  const Range warn = policy.warn ? *policy.warn : at_least(n);
  const std::string where = shown(obs.endpoint);

  if (obs.status != Observation::Status::Read) return unread(obs, expected, named, warn, crit, policy);

  if (expected.empty()) {
    r.state = State::Unknown;
    r.summary =
        fmt::format("{} at {} has no tunnels configured; name the expected ones with --tunnel", obs.daemon, where);
    r.perfdata.push_back({"tunnels_up", 0.0, Uom::None, warn, crit, 0.0, 0.0});
    r.perfdata.push_back({"tunnels_expected", 0.0, Uom::None, {}, {}, 0.0, {}});
    return r;
  }

  const std::vector<Tunnel> judged = judge_expected(obs, expected, policy);

  std::size_t up = 0;
  std::vector<std::string> not_up;
  for (const auto& t : judged) {
    if (t.state == TunnelState::Up) ++up;
    else not_up.push_back(short_text(t));
  }
  const auto upd = static_cast<double>(up);
  std::string range_note;
  if (crit.alerts(upd)) {
    r.state = State::Critical;
    range_note = "critical " + crit.describe();
  } else if (warn.alerts(upd)) {
    r.state = State::Warning;
    range_note = "warning " + warn.describe();
  } else {
    r.state = State::Ok;
  }
  r.summary = fmt::format("{} of {} tunnels up", up, judged.size());
  if (!not_up.empty()) {
    r.summary += ": " + not_up_list(not_up);
  } else if (r.state != State::Ok) {
    // Nothing is down, yet the count alarms: too many up, as when both halves
    // of an active/passive pair carry traffic.
    r.summary += " (" + range_note + ")";
  }
  add_quiet(r, judged);

  for (const auto& t : judged) r.details.push_back(detail_line(t));
  if (named)
    for (const auto& t : obs.tunnels)
      if (std::find(expected.begin(), expected.end(), t.name) == expected.end())
        r.details.push_back(detail_line(t, " (not expected, ignored)"));

  r.perfdata.push_back({"tunnels_up", upd, Uom::None, warn, crit, 0.0, n});
  r.perfdata.push_back({"tunnels_expected", n, Uom::None, {}, {}, 0.0, {}});
  tunnels_perfdata(r.perfdata, expected, judged, obs.has_handshakes);
  return r;
}

} // namespace sitelink::vpn
