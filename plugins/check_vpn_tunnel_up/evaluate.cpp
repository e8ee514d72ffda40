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
                      const std::vector<Tunnel>& judged, bool handshakes, bool known = true, std::size_t reserved = 0)
{
  if (!per_tunnel_perfdata(expected, handshakes ? 5 : 4, reserved)) {
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

std::string group_of(const Policy& policy, const std::string& name)
{
  for (const auto& [tunnel, group] : policy.group_of)
    if (tunnel == name) return group;
  return {};
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
      if (judged.back().group.empty()) judged.back().group = group_of(policy, name);
      continue;
    }
    Tunnel m;
    m.name = name;
    m.group = group_of(policy, name);
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

// One group of tunnels (a site) and its judgement against -w/-c.
struct Group {
  std::string name;
  std::size_t up = 0;
  std::size_t n = 0;
  State state = State::Ok;
  std::string range_note; // "warning outside 1..1" when the count alarms with nothing down
};

// The groups of `judged` in order of first appearance (a tunnel without a
// group is one of its own), each judged by -w/-c on its own count: the
// default warning range is all of that group up, and none up is CRITICAL.
std::vector<Group> judge_groups(std::vector<Tunnel>& judged, const Policy& policy)
{
  std::vector<Group> groups;
  for (auto& t : judged) {
    if (t.group.empty()) t.group = t.name;
    auto g = std::find_if(groups.begin(), groups.end(), [&t](const Group& x) { return x.name == t.group; });
    if (g == groups.end()) {
      groups.emplace_back();
      groups.back().name = t.group;
      g = groups.end() - 1;
    }
    ++g->n;
    if (t.state == TunnelState::Up) ++g->up;
  }
  for (auto& g : groups) {
    const auto up = static_cast<double>(g.up);
    const Range crit = policy.crit ? *policy.crit : at_least(1);
    const Range warn = policy.warn ? *policy.warn : at_least(static_cast<double>(g.n));
    if (g.up == 0 || crit.alerts(up)) {
      g.state = State::Critical;
      if (g.up != 0 && g.up == g.n) g.range_note = "critical " + crit.describe();
    } else if (warn.alerts(up)) {
      g.state = State::Warning;
      if (g.up == g.n) g.range_note = "warning " + warn.describe();
    }
  }
  return groups;
}

std::size_t group_count(const std::vector<Tunnel>& judged, const Policy& policy)
{
  std::vector<std::string> seen;
  for (const auto& t : judged) {
    const std::string g = t.group.empty() ? group_of(policy, t.name) : t.group;
    if (!g.empty() && std::find(seen.begin(), seen.end(), g) == seen.end()) seen.push_back(g);
  }
  return seen.size();
}

// "site B cut off: 0 of 2 tunnels up; 2 of 4 tunnels up (A 2 of 2, B 0 of 2)",
// the group texts within max_group_summary_bytes.
std::string groups_summary(const std::vector<Group>& groups, std::size_t up, std::size_t n)
{
  std::string cut, counts;
  std::size_t cut_more = 0, counts_more = 0;
  for (const auto& g : groups) {
    if (g.up != 0) continue;
    if (cut.size() < max_group_summary_bytes / 2)
      cut += fmt::format("{}site {} cut off: 0 of {} tunnels up", cut.empty() ? "" : "; ", shown(g.name), g.n);
    else ++cut_more;
  }
  if (cut_more != 0) cut += fmt::format("; and {} more sites cut off", cut_more);
  for (const auto& g : groups) {
    if (counts.size() >= max_group_summary_bytes / 2) {
      ++counts_more;
      continue;
    }
    counts += fmt::format("{}{} {} of {}", counts.empty() ? "" : ", ", shown(g.name), g.up, g.n);
    if (!g.range_note.empty()) counts += " (" + g.range_note + ")";
  }
  if (counts_more != 0) counts += fmt::format(", and {} more", counts_more);
  std::string s = fmt::format("{} of {} tunnels up ({})", up, n, counts);
  return cut.empty() ? s : cut + "; " + s;
}

// <group>_tunnels_up for every group while they fit (labels only, so the
// same set in every state); returns the bytes they take from the per-tunnel
// perfdata budget.
std::size_t group_perfdata(std::vector<Perfdatum>& out, const std::vector<Group>& groups, const Policy& policy)
{
  if (groups.size() > max_per_group_perfdata_groups) return 0;
  std::size_t bytes = 0;
  for (const auto& g : groups) bytes += format_label(g.name + "_tunnels_up").size() + 30;
  if (bytes > max_per_group_perfdata_bytes) return 0;
  for (const auto& g : groups) {
    const Range warn = policy.warn ? *policy.warn : at_least(static_cast<double>(g.n));
    const Range crit = policy.crit ? *policy.crit : at_least(1);
    out.push_back(
        {g.name + "_tunnels_up", static_cast<double>(g.up), Uom::None, warn, crit, 0.0, static_cast<double>(g.n)});
  }
  return bytes;
}

// evaluate() when the tunnels fall into two or more groups.
Result evaluate_groups(const Observation& obs, const std::vector<std::string>& expected, std::vector<Tunnel> judged,
                       const Policy& policy)
{
  Result r;
  const std::vector<Group> groups = judge_groups(judged, policy);
  std::size_t up = 0;
  std::vector<std::string> not_up;
  for (const auto& t : judged) {
    if (t.state == TunnelState::Up) ++up;
    else not_up.push_back(short_text(t));
  }
  r.state = State::Ok;
  for (const auto& g : groups) r.state = worst(r.state, g.state);
  r.summary = groups_summary(groups, up, judged.size());
  if (!not_up.empty()) r.summary += ": " + not_up_list(not_up);
  add_quiet(r, judged);

  for (const auto& g : groups)
    r.details.push_back(
        fmt::format("site {}: {} of {} tunnels up{}", shown(g.name), g.up, g.n, g.up == 0 ? ", cut off" : ""));
  for (const auto& t : judged) r.details.push_back(detail_line(t));
  if (!policy.expected.empty())
    for (const auto& t : obs.tunnels)
      if (std::find(expected.begin(), expected.end(), t.name) == expected.end())
        r.details.push_back(detail_line(t, " (not expected, ignored)"));

  const auto n = static_cast<double>(judged.size());
  r.perfdata.push_back({"tunnels_up", static_cast<double>(up), Uom::None, {}, {}, 0.0, n});
  r.perfdata.push_back({"tunnels_expected", n, Uom::None, {}, {}, 0.0, {}});
  const std::size_t reserved = group_perfdata(r.perfdata, groups, policy);
  tunnels_perfdata(r.perfdata, expected, judged, obs.has_handshakes, true, reserved);
  return r;
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

bool per_tunnel_perfdata(const std::vector<std::string>& names, std::size_t items, std::size_t reserved)
{
  if (names.size() <= 1) return true;
  if (names.size() > max_per_tunnel_perfdata_tunnels) return false;
  std::size_t bytes = reserved;
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
  if (group_count(judged, policy) >= 2) return evaluate_groups(obs, expected, judged, policy);

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

namespace {

// Why a server's tunnels count as down when it could not be read.
std::string unread_reason(const Observation& o)
{
  if (o.status == Observation::Status::DaemonDown) return o.daemon + " is not running (" + o.error + ")";
  if (o.timed_out) return "no answer from " + o.daemon + " at " + o.endpoint + " in time";
  return "cannot read " + o.daemon + " at " + o.endpoint + ": " + o.error;
}

} // namespace

Observation merge_servers(const std::vector<std::pair<std::string, Observation>>& servers,
                          const std::vector<std::string>& names, std::vector<std::string>& expected)
{
  Observation out;
  out.status = Observation::Status::Read;
  // The sites every readable server knows: an unreadable one is taken to
  // serve the same (a pair serves the same clients).
  std::vector<std::string> known = names;
  bool any_read = false;
  for (const auto& [label, o] : servers) {
    if (o.status != Observation::Status::Read) continue;
    any_read = true;
    if (names.empty()) {
      for (const auto& c : o.configured) known.push_back(c);
      for (const auto& t : o.tunnels) known.push_back(t.name);
    }
  }
  known = unique(known);
  // No server read and no names: the point-to-point default name.
  if (known.empty()) known.emplace_back("openvpn");
  for (const auto& [label, o] : servers) {
    if (out.daemon.empty()) out.daemon = o.daemon;
    out.endpoint += (out.endpoint.empty() ? "" : ", ") + o.endpoint;
    out.has_handshakes = out.has_handshakes || o.has_handshakes;
    // Only a server that is not running (or does not answer) is a finding
    // about the pair; a refused permission is the check's own problem.
    const bool unreachable = o.status == Observation::Status::DaemonDown || o.timed_out;
    if (o.status != Observation::Status::Read && !unreachable && !any_read) return o;
    const auto& here = names.empty() && o.status == Observation::Status::Read ? std::vector<std::string>{} : known;
    for (const auto& t : o.tunnels) {
      Tunnel q = t;
      q.group = t.name;
      q.name = label + "/" + t.name;
      out.tunnels.push_back(std::move(q));
    }
    for (const auto& c : o.configured) out.configured.push_back(label + "/" + c);
    for (const auto& name : here) {
      if (find(o.tunnels, name) != nullptr) continue;
      Tunnel d;
      d.name = label + "/" + name;
      d.group = name;
      d.state = TunnelState::Down;
      d.detail = o.status == Observation::Status::Read ? "not connected to this server" : unread_reason(o);
      out.tunnels.push_back(std::move(d));
    }
    if (o.status != Observation::Status::Read && !o.hint.empty()) out.hint = o.hint;
  }
  for (const auto& t : out.tunnels) expected.push_back(t.name);
  expected = unique(expected);
  return out;
}

} // namespace sitelink::vpn
