// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "quality.hpp"
#include "sitelink/labels.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/perfdata.hpp"

namespace sitelink::ping {

namespace {

double round3(double v)
{
  return std::round(v * 1000) / 1000;
}

// Milliseconds for text: microsecond resolution, no exponent.
std::string ms(double v)
{
  return format_number(round3(v));
}

std::string pct(double v)
{
  return format_number(std::round(v * 10) / 10);
}

Range upper(double v)
{
  Range r;
  r.start = 0;
  r.end = v;
  return r;
}

std::optional<Range> upper(const std::optional<double>& v)
{
  if (!v) return std::nullopt;
  return upper(*v);
}

// Alerts below `v` (MOS and score alert at or below their limits).
std::optional<Range> lower(const std::optional<double>& v)
{
  if (!v) return std::nullopt;
  Range r;
  r.start = *v;
  return r;
}

std::optional<double> rounded(const std::optional<double>& v)
{
  if (!v) return std::nullopt;
  return round3(*v);
}

struct Judged {
  const TargetObservation* t = nullptr;
  Stats st;
  State state = State::Unknown;
  std::string host;        // name, plus the address when it differs
  std::string reason;      // short text for the summary
  std::string detail;      // one long-output line
  std::string pmtu_detail; // --mtu: its long-output line
};

// Inclusive comparison: a value equal to the threshold alerts.
State grade(double value, double warn, double crit)
{
  if (value >= crit) return State::Critical;
  if (value >= warn) return State::Warning;
  return State::Ok;
}

// At or below: MOS and score, where lower is worse.
State grade_low(double value, double warn, double crit)
{
  if (value <= crit) return State::Critical;
  if (value <= warn) return State::Warning;
  return State::Ok;
}

std::string limit_text(State s, double warn, double crit, std::string_view unit)
{
  return s == State::Critical ? fmt::format("critical {}{}", format_number(crit), unit)
                              : fmt::format("warning {}{}", format_number(warn), unit);
}

// -M, -S and -O of one target with replies; appends what alerts to `bad`.
State judge_quality(const Stats& st, const Policy& p, std::vector<std::string>& bad)
{
  State state = State::Ok;
  if (p.mos) {
    // check_icmp scores the MOS of fewer than 2 replies 0: CRITICAL.
    State s = st.mos ? grade_low(*st.mos, p.mos->warn, p.mos->crit) : State::Critical;
    if (s != State::Ok)
      bad.push_back(st.mos ? fmt::format("mos {} ({})", ms(*st.mos), limit_text(s, p.mos->warn, p.mos->crit, ""))
                           : std::string("mos not measurable (fewer than 2 replies)"));
    state = worst(state, s);
  }
  if (p.score && st.score) { // fewer than 2 replies: no score, no verdict (check_icmp's rule)
    State s = grade_low(*st.score, p.score->warn, p.score->crit);
    if (s != State::Ok)
      bad.push_back(fmt::format("score {} ({})", ms(*st.score), limit_text(s, p.score->warn, p.score->crit, "")));
    state = worst(state, s);
  }
  if (p.order_mode && st.out_of_order > 0) {
    bad.push_back(fmt::format("{} of {} replies out of order", st.out_of_order, st.received));
    state = State::Critical;
  }
  return state;
}

// The long-output words of the modes in use.
std::string quality_detail(const Stats& st, const Policy& p)
{
  std::string text;
  const auto or_na = [](const std::optional<double>& v) { return v ? ms(*v) : std::string("n/a"); };
  if (p.jitter_mode && st.jitter_min)
    text += fmt::format(", jitter min {} ms, max {} ms", ms(*st.jitter_min), ms(*st.jitter_max));
  if (p.mos) text += fmt::format(", mos {}", or_na(st.mos));
  if (p.score) text += fmt::format(", score {}", or_na(st.score));
  if (p.order_mode) text += fmt::format(", {} out of order", st.out_of_order);
  return text;
}

// A target with nothing measured: unresolved, no socket, or no probe sent.
// False when there are probes to judge.
bool judge_unprobed(Judged& j, const TargetObservation& t, const std::string& name)
{
  if (!t.resolve_error.empty()) {
    j.state = State::Critical;
    // The resolver's own words on line 1 too: many notifications show only it.
    j.reason = fmt::format("{}: cannot resolve host name: {}", name, sanitize(t.resolve_error));
    j.detail = j.reason;
    return true;
  }
  if (!t.setup_error.empty() && t.sent == 0) {
    j.state = State::Unknown;
    j.reason = fmt::format("{}: {}", name, sanitize(t.setup_error));
    j.detail = fmt::format("{}: cannot probe: {}", j.host, sanitize(t.setup_error));
    return true;
  }
  if (t.too_big > 0 && j.st.received == 0) {
    // Don't-fragment probes larger than the path MTU the kernel knows: the
    // size does not fit, which is not loss. (The first probes may have left
    // before an ICMP message taught the kernel that MTU.)
    j.state = State::Warning;
    const std::string mtu = t.known_mtu ? fmt::format(" {} bytes", *t.known_mtu) : std::string();
    j.reason = fmt::format("{}: probes of {} bytes are too big for the known path MTU{}", name, t.probe_size, mtu);
    j.detail = fmt::format("{}: {} probe(s) of {} bytes not sent: too big for the known path MTU{} (don't-fragment)",
                           j.host, t.too_big, t.probe_size, mtu);
    return true;
  }
  if (t.sent == 0) {
    j.state = State::Critical;
    std::string why = t.send_error.empty() ? std::string("no probe was sent") : sanitize(t.send_error);
    j.reason = fmt::format("{}: cannot send probes ({})", name, why);
    j.detail = fmt::format("{}: cannot send probes: {}", j.host, why);
    return true;
  }
  return false;
}

Judged judge(const TargetObservation& t, const Policy& p, const std::optional<int>& tcp_port)
{
  Judged j;
  j.t = &t;
  const std::string name = sanitize_quote(t.name, 80);
  j.host = t.address.empty() || t.address == t.name ? name : fmt::format("{} ({})", name, t.address);
  if (t.resolve_error.empty()) j.st = compute_stats(t);
  if (judge_unprobed(j, t, name)) return j;
  const std::string what = tcp_port ? fmt::format("tcp/{}", *tcp_port) : std::string("echo");
  if (j.st.received == 0) {
    j.state = State::Critical;
    std::string why = !t.send_error.empty() ? sanitize(t.send_error) : sanitize(t.probe_error);
    j.reason = fmt::format("{}: 100% loss{}", name, why.empty() ? "" : " (" + why + ")");
    j.detail =
        fmt::format("{}: no {} reply, 100% loss (0 of {}){}", j.host, what, t.sent, why.empty() ? "" : ": " + why);
    return j;
  }
  State rs = p.judge_rta ? grade(*j.st.rta, p.warn.rta_ms, p.crit.rta_ms) : State::Ok;
  State ls = p.judge_pl ? grade(j.st.pl, p.warn.pl, p.crit.pl) : State::Ok;
  State js = State::Ok;
  if (j.st.jitter && p.jitter_crit_ms && *j.st.jitter >= *p.jitter_crit_ms) js = State::Critical;
  else if (j.st.jitter && p.jitter_warn_ms && *j.st.jitter >= *p.jitter_warn_ms) js = State::Warning;
  std::vector<std::string> bad;
  if (rs != State::Ok)
    bad.push_back(fmt::format("rta {} ms ({})", ms(*j.st.rta), limit_text(rs, p.warn.rta_ms, p.crit.rta_ms, " ms")));
  if (ls != State::Ok)
    bad.push_back(fmt::format("loss {}% ({})", pct(j.st.pl), limit_text(ls, p.warn.pl, p.crit.pl, "%")));
  if (js != State::Ok)
    bad.push_back(fmt::format("jitter {} ms ({})", ms(*j.st.jitter),
                              limit_text(js, p.jitter_warn_ms.value_or(0), p.jitter_crit_ms.value_or(0), " ms")));
  j.state = worst(worst(worst(rs, ls), js), judge_quality(j.st, p, bad));
  std::string refused;
  if (tcp_port) {
    if (t.refused == j.st.received)
      refused = fmt::format(", port {} closed (connection refused): host alive", *tcp_port);
    else if (t.refused > 0)
      refused = fmt::format(", port {} open, refused {} of {} connections", *tcp_port, t.refused, j.st.received);
    else refused = fmt::format(", port {} open", *tcp_port);
  }
  if (bad.empty()) {
    j.reason = fmt::format("{}: rta {} ms, loss {}%", name, ms(*j.st.rta), pct(j.st.pl));
  } else {
    j.reason = name + ":";
    for (std::size_t i = 0; i < bad.size(); ++i) j.reason += (i ? ", " : " ") + bad[i];
  }
  if (tcp_port && t.refused == j.st.received) j.reason += " (port closed, host alive)";
  j.detail = fmt::format("{}: rta {} ms, loss {}% ({} of {} replies), min {} ms, max {} ms, jitter {}{}", j.host,
                         ms(*j.st.rta), pct(j.st.pl), j.st.received, t.sent, ms(*j.st.rtmin), ms(*j.st.rtmax),
                         j.st.jitter ? ms(*j.st.jitter) + " ms" : std::string("n/a"), refused);
  j.detail += quality_detail(j.st, p);
  return j;
}

// --mtu merged into a judged target: the worse state wins, so the MTU
// verdict never hides what the small probes' loss and rta say.
void add_pmtu(Judged& j, const Policy& p)
{
  if (!p.mtu_expected || !j.t) return;
  auto v = judge_pmtu(*j.t, *p.mtu_expected);
  if (!v) return;
  j.pmtu_detail = v->detail;
  if (v->state == State::Ok) return;
  const std::string name = sanitize_quote(j.t->name, 80);
  j.reason = j.state == State::Ok ? fmt::format("{}: {}", name, v->reason) : fmt::format("{}; {}", j.reason, v->reason);
  j.state = worst(j.state, v->state);
}

// check_icmp's labels for -J, -M and -S (with this plugin's target prefix).
void quality_perfdata(std::vector<Perfdatum>& out, const std::string& prefix, const Stats& st, const Policy& p)
{
  if (p.jitter_mode) {
    out.push_back({prefix + "jitter_avg", rounded(st.jitter), Uom::Milliseconds, upper(p.jitter_warn_ms),
                   upper(p.jitter_crit_ms), 0.0, std::nullopt});
    out.push_back({prefix + "jitter_min", rounded(st.jitter_min), Uom::Milliseconds, std::nullopt, std::nullopt, 0.0,
                   std::nullopt});
    out.push_back({prefix + "jitter_max", rounded(st.jitter_max), Uom::Milliseconds, std::nullopt, std::nullopt, 0.0,
                   std::nullopt});
  }
  if (p.mos)
    out.push_back({prefix + "mos", rounded(st.mos), Uom::None, lower(p.mos->warn), lower(p.mos->crit), 0.0, 5.0});
  if (p.score)
    out.push_back(
        {prefix + "score", rounded(st.score), Uom::None, lower(p.score->warn), lower(p.score->crit), 0.0, 100.0});
}

void target_perfdata(std::vector<Perfdatum>& out, const std::string& prefix, const Judged& j, const Policy& p)
{
  // A probe the kernel refused to send (no route while the tunnel is down)
  // is a lost probe: 100% loss, not an unmeasured value.
  const bool measured =
      j.t->resolve_error.empty() && (j.t->sent > 0 || (!j.t->send_error.empty() && j.t->setup_error.empty()));
  std::optional<double> pl;
  if (measured) pl = std::round(j.st.pl * 1000) / 1000;
  // Thresholds are echoed only for what is judged (-R/-P, or neither mode named).
  const auto judged = [](bool on, double v) { return on ? std::optional<Range>(upper(v)) : std::nullopt; };
  out.push_back({prefix + "rta", rounded(j.st.rta), Uom::Milliseconds, judged(p.judge_rta, p.warn.rta_ms),
                 judged(p.judge_rta, p.crit.rta_ms), 0.0, std::nullopt});
  out.push_back(
      {prefix + "pl", pl, Uom::Percent, judged(p.judge_pl, p.warn.pl), judged(p.judge_pl, p.crit.pl), 0.0, 100.0});
  out.push_back(
      {prefix + "rtmin", rounded(j.st.rtmin), Uom::Milliseconds, std::nullopt, std::nullopt, 0.0, std::nullopt});
  out.push_back(
      {prefix + "rtmax", rounded(j.st.rtmax), Uom::Milliseconds, std::nullopt, std::nullopt, 0.0, std::nullopt});
  out.push_back({prefix + "jitter", rounded(j.st.jitter), Uom::Milliseconds, upper(p.jitter_warn_ms),
                 upper(p.jitter_crit_ms), 0.0, std::nullopt});
  quality_perfdata(out, prefix, j.st, p);
  // --mtu: '<target>_pmtu' (the label, also for a single target),
  // the target in address_label form like every per-target label.
  if (p.mtu_expected) {
    std::optional<double> v;
    if (j.t->pmtu) v = j.t->pmtu->largest_passed;
    out.push_back({address_label(j.t->name) + "_pmtu", v, Uom::Bytes, std::nullopt, std::nullopt, 0.0, std::nullopt});
  }
}

void aggregate_perfdata(std::vector<Perfdatum>& out, const std::vector<Judged>& js, const Policy& p)
{
  const auto n = static_cast<double>(js.size());
  int alive = 0, ok = 0, sent = 0, received = 0;
  double rta_sum = 0;
  std::optional<double> rta_max, pl_max, jitter_max, mos_min, score_min;
  for (const auto& j : js) {
    if (j.state == State::Ok) ++ok;
    if (j.st.received > 0) {
      ++alive;
      rta_sum += *j.st.rta;
      rta_max = std::max(rta_max.value_or(0), *j.st.rta);
    }
    if (j.st.jitter) jitter_max = std::max(jitter_max.value_or(0), *j.st.jitter);
    if (j.st.mos) mos_min = std::min(mos_min.value_or(*j.st.mos), *j.st.mos);
    if (j.st.score) score_min = std::min(score_min.value_or(*j.st.score), *j.st.score);
    if (j.t->resolve_error.empty() && j.t->sent > 0) {
      sent += j.st.sent;
      received += j.st.received;
      pl_max = std::max(pl_max.value_or(0), j.st.pl);
    }
  }
  std::optional<double> rta_mean;
  if (alive > 0) rta_mean = rta_sum / alive;
  std::optional<double> pl_all;
  if (sent > 0) pl_all = std::round(100.0 * (sent - received) / sent * 1000) / 1000;
  out.push_back({"hosts_alive", static_cast<double>(alive), Uom::None, std::nullopt, std::nullopt, 0.0, n});
  out.push_back({"hosts_ok", static_cast<double>(ok), Uom::None, std::nullopt, std::nullopt, 0.0, n});
  out.push_back({"rta", rounded(rta_mean), Uom::Milliseconds, std::nullopt, std::nullopt, 0.0, std::nullopt});
  out.push_back(
      {"rta_max", rounded(rta_max), Uom::Milliseconds, upper(p.warn.rta_ms), upper(p.crit.rta_ms), 0.0, std::nullopt});
  out.push_back({"pl", pl_all, Uom::Percent, std::nullopt, std::nullopt, 0.0, 100.0});
  out.push_back({"pl_max", pl_max ? std::optional<double>(std::round(*pl_max * 1000) / 1000) : std::nullopt,
                 Uom::Percent, upper(p.warn.pl), upper(p.crit.pl), 0.0, 100.0});
  out.push_back({"jitter_max", rounded(jitter_max), Uom::Milliseconds, upper(p.jitter_warn_ms), upper(p.jitter_crit_ms),
                 0.0, std::nullopt});
  if (p.mos) out.push_back({"mos_min", rounded(mos_min), Uom::None, lower(p.mos->warn), lower(p.mos->crit), 0.0, 5.0});
  if (p.score)
    out.push_back({"score_min", rounded(score_min), Uom::None, lower(p.score->warn), lower(p.score->crit), 0.0, 100.0});
}

// Counts over all judged targets.
struct Tally {
  int total = 0, alive = 0, ok = 0, ok_or_warn = 0, sent = 0, received = 0;
  State worst_target = State::Ok;
  const Judged* slowest = nullptr;
};

Tally tally(const std::vector<Judged>& js)
{
  Tally tl;
  tl.total = static_cast<int>(js.size());
  for (const auto& j : js) {
    if (j.st.received > 0) ++tl.alive;
    if (j.state == State::Ok) ++tl.ok;
    if (j.state == State::Ok || j.state == State::Warning) ++tl.ok_or_warn;
    tl.worst_target = worst(tl.worst_target, j.state);
    if (j.t->resolve_error.empty()) {
      tl.sent += j.st.sent;
      tl.received += j.st.received;
    }
    if (j.st.rta && (!tl.slowest || *j.st.rta > *tl.slowest->st.rta)) tl.slowest = &j;
  }
  return tl;
}

// The worst target's state, or with -m N (check_icmp's meaning): OK when at
// least N targets are OK, else WARNING when at least N are OK or WARNING.
State overall_state(const Tally& tl, const Policy& policy)
{
  State state = tl.worst_target;
  if (policy.min_alive) {
    if (tl.ok >= *policy.min_alive) state = State::Ok;
    else if (tl.ok_or_warn >= *policy.min_alive) state = State::Warning;
  }
  return state;
}

// The targets (all, or only those not OK), worst state first, stable.
std::vector<const Judged*> worst_first(const std::vector<Judged>& js, bool only_not_ok)
{
  std::vector<const Judged*> order;
  for (const auto& j : js)
    if (!only_not_ok || j.state != State::Ok) order.push_back(&j);
  std::stable_sort(order.begin(), order.end(),
                   [](const Judged* a, const Judged* b) { return severity(a->state) > severity(b->state); });
  return order;
}

// Names the targets in the worst state first; keeps line 1 short.
std::string problem_list(const std::vector<Judged>& js)
{
  const auto order = worst_first(js, true);
  std::string list;
  std::size_t shown = 0;
  for (const auto* j : order) {
    if (shown == 2 || (shown > 0 && list.size() + j->reason.size() > 120)) break;
    list += (shown ? "; " : "") + j->reason;
    ++shown;
  }
  if (order.size() > shown) list += fmt::format("; {} more not OK", order.size() - shown);
  return list;
}

std::string summary(const std::vector<Judged>& js, const Tally& tl, State state, const Policy& policy,
                    const std::optional<int>& tcp_port)
{
  const std::string hosts = tcp_port ? fmt::format("hosts answering on tcp/{}", *tcp_port) : "hosts alive";
  const std::string required = policy.min_alive ? fmt::format(" ({} OK, {} required)", tl.ok, *policy.min_alive) : "";
  if (state == State::Ok && tl.worst_target != State::Ok) {
    // -m accepted failing targets: still name one of them.
    std::string text = fmt::format("{} of {} {}{}", tl.alive, tl.total, hosts, required);
    for (const auto& j : js)
      if (j.state == tl.worst_target) {
        text += "; " + j.reason;
        break;
      }
    return text;
  }
  if (state != State::Ok) {
    const std::string list = problem_list(js);
    return tl.total == 1 && !policy.min_alive
               ? list
               : fmt::format("{}; {} of {} {}{}", list, tl.alive, tl.total, hosts, required);
  }
  if (tl.slowest && tl.total == 1) return tl.slowest->reason;
  std::string text = fmt::format("{} of {} {}", tl.alive, tl.total, hosts);
  if (tl.slowest)
    text += fmt::format(", worst rta {} ms ({}), loss {}%", ms(*tl.slowest->st.rta),
                        sanitize_quote(tl.slowest->t->name, 60),
                        pct(tl.sent > 0 ? 100.0 * (tl.sent - tl.received) / tl.sent : 100.0));
  return text;
}

} // namespace

Stats compute_stats(const TargetObservation& t)
{
  Stats s;
  s.sent = t.sent;
  double sum = 0;
  for (const auto& r : t.rtt_ms) {
    if (!r) continue;
    ++s.received;
    sum += *r;
    s.rtmin = std::min(s.rtmin.value_or(*r), *r);
    s.rtmax = std::max(s.rtmax.value_or(*r), *r);
  }
  if (s.received > 0) s.rta = sum / s.received;
  s.pl = t.sent > 0 ? 100.0 * (t.sent - s.received) / t.sent : 100.0;
  if (auto js = jitter_stats(t.rtt_ms)) {
    s.jitter = js->avg;
    s.jitter_min = js->min;
    s.jitter_max = js->max;
    s.score = r_factor(*s.rta, js->avg, s.pl);
    s.mos = mos_from_r(*s.score);
  }
  s.out_of_order = out_of_order(t.reply_order);
  return s;
}

std::optional<PmtuVerdict> judge_pmtu(const TargetObservation& t, int expected)
{
  if (!t.pmtu) return std::nullopt;
  const PmtuFinding& f = *t.pmtu;
  const std::string host = t.address.empty() || t.address == t.name
                               ? sanitize_quote(t.name, 80)
                               : fmt::format("{} ({})", sanitize_quote(t.name, 80), t.address);
  const std::string how =
      fmt::format("{} round trip(s), {} probes, {} ms", f.rounds, f.probes, ms(static_cast<double>(f.took_ns) / 1e6));
  PmtuVerdict v;
  const int n = f.largest_passed;
  if (n >= expected) {
    v.detail = fmt::format("  path MTU to {}: at least {} bytes, the expected MTU ({})", host, n, how);
    return v;
  }
  // A silent loss below the signalled MTU is a further, silent hop.
  const bool silent_below = f.smallest_lost && (!f.signalled_mtu || *f.smallest_lost <= *f.signalled_mtu);
  if (f.signalled_mtu && !silent_below) {
    v.state = State::Warning;
    const std::string by = f.local ? std::string("the local kernel (the interface MTU)") : sanitize(f.hop);
    v.reason = fmt::format("path MTU {}, signalled by {} (expected {})", *f.signalled_mtu, by, expected);
    v.detail = fmt::format("  path MTU to {}: {} bytes, signalled by {}; expected {} ({})", host, *f.signalled_mtu, by,
                           expected, how);
    return v;
  }
  if (f.smallest_lost) {
    v.state = State::Critical;
    v.reason = fmt::format("MTU black hole: packets above {} bytes are dropped without notice; TCP sessions that "
                           "send full-size segments will hang",
                           n);
    const std::string range =
        *f.smallest_lost - n > 1 ? fmt::format(" (path MTU {} to {})", n, *f.smallest_lost - 1) : std::string();
    v.detail = fmt::format("  path MTU to {}: {} bytes{}, no ICMP message; expected {} ({}). Action: clamp the TCP "
                           "MSS on the tunnel to {}, or lower the tunnel interface MTU to {}, and allow ICMP {} "
                           "through to the sender",
                           host, n, range, expected, how, n - 40 - (t.address.find(':') != std::string::npos ? 20 : 0),
                           n, t.address.find(':') != std::string::npos ? "packet-too-big" : "fragmentation-needed");
    return v;
  }
  v.state = State::Unknown;
  v.reason = fmt::format("path MTU search did not finish (at least {} bytes)", n);
  v.detail = fmt::format("  path MTU to {}: at least {} bytes, the search did not finish ({})", host, n, how);
  return v;
}

std::size_t perfdata_items(const Policy& p)
{
  return std::size_t{5} + (p.jitter_mode ? 3U : 0U) + (p.mos ? 1U : 0U) + (p.score ? 1U : 0U);
}

bool per_target_perfdata(const std::vector<std::string>& names, std::size_t items)
{
  if (names.size() <= 1) return true;
  if (names.size() > max_per_target_perfdata_targets) return false;
  std::size_t bytes = 0;
  // `items` per target (5, plus the quality modes'); 30 bytes bounds a value with its unit and the
  // threshold, min and max fields ("=123456.789ms;200;500;0").
  for (const auto& n : names) bytes += items * (format_label(address_label(n) + "_jitter").size() + 30);
  return bytes <= max_per_target_perfdata_bytes;
}

Result evaluate(const Observation& obs, const Policy& policy)
{
  Result r;
  if (obs.targets.empty()) {
    r.state = State::Unknown;
    r.summary = "no target to probe";
    return r;
  }
  std::vector<Judged> js;
  js.reserve(obs.targets.size());
  for (const auto& t : obs.targets) {
    js.push_back(judge(t, policy, obs.tcp_port));
    add_pmtu(js.back(), policy);
  }
  const Tally tl = tally(js);
  r.state = overall_state(tl, policy);
  r.summary = summary(js, tl, r.state, policy, obs.tcp_port);

  // Long output: worst targets first, so the 8 KiB cap drops healthy ones.
  for (const auto* j : worst_first(js, false)) {
    r.details.push_back(fmt::format("{}: {}", to_string(j->state), j->detail));
    if (!j->pmtu_detail.empty()) r.details.push_back(j->pmtu_detail);
  }

  std::vector<std::string> names;
  for (const auto& t : obs.targets) names.push_back(t.name);
  if (tl.total == 1) target_perfdata(r.perfdata, "", js.front(), policy);
  else if (per_target_perfdata(names, perfdata_items(policy)))
    for (const auto& j : js) target_perfdata(r.perfdata, address_label(j.t->name) + "_", j, policy);
  else aggregate_perfdata(r.perfdata, js, policy);
  return r;
}

} // namespace sitelink::ping
