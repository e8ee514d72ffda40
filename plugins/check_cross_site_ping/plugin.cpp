// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include "cli.hpp" // generated from cli.json

#include <algorithm>
#include <cmath>
#include <sys/socket.h>

#include <fmt/format.h>

#include "evaluate.hpp"
#include "net.hpp"
#include "sitelink/number.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/privilege.hpp"
#include "source_icmp.hpp"
#include "source_tcp.hpp"
#include "thresholds.hpp"

namespace sitelink::ping {

namespace {

constexpr double min_reply_wait_s = 0.05; // the budget check leaves at least this for the last reply
constexpr int max_packets = 65535;        // the echo sequence number is 16 bits
constexpr double max_probes = 1e6;        // targets x packets: bounds the memory of one run (~30 MB)
constexpr int default_max_rate = 5000;    // packets/s on the fixed schedule (see --max-rate)

// The command line, checked and typed: nothing after make_config reads the
// option map.
struct Config {
  std::vector<std::string> hosts; // as given, deduplicated
  Policy policy;
  ProbePlan plan;
  double interval_ms = 100; // the plan's interval, after --max-rate
  int max_rate = default_max_rate;
  std::string stretch_note; // -vv: why --max-rate stretched -i (empty: it did not)
  std::optional<std::uint16_t> tcp_port;
  int family = AF_UNSPEC; // from -4/-6/-s
  std::optional<Endpoint> source;
  bool want4 = false, want6 = false; // which ICMP sockets the targets need
  std::size_t payload = 56;          // -b (echo_payload_size)
  bool dont_fragment = false;        // --dont-fragment
};

// An option read by one of the plugin's own parsers (thresholds.hpp), whose
// message names the problem: nullopt when absent, a UsageError naming the
// option when bad.
template <class Parse>
auto parsed_opt(const Options& o, const char* name, Parse parse)
    -> std::optional<typename decltype(parse(std::string_view()))::value_type>
{
  auto text = o.optional_text(name);
  if (!text) return std::nullopt;
  auto v = parse(*text);
  if (!v) throw UsageError(v.error() + fmt::format(" for option '--{}'", name));
  return *v;
}

std::optional<Thresholds> thresholds_opt(const Options& o, const char* name)
{
  return parsed_opt(o, name, parse_thresholds);
}

std::optional<double> duration_opt(const Options& o, const char* name)
{
  return parsed_opt(o, name, parse_duration_ms);
}

const char* family_name(int f)
{
  return f == AF_INET6 ? "IPv6" : "IPv4";
}

std::vector<std::string> target_list(const Options& o)
{
  if (!o.has("hostname")) throw UsageError("missing -H HOST");
  auto hosts = split_hosts(o.list("hostname"));
  if (!hosts) throw UsageError(hosts.error() + " for option '--hostname'");
  return *hosts;
}

std::optional<ModeLimits> mode_opt(const Options& o, const char* name)
{
  return parsed_opt(o, name, parse_mode_limits);
}

// check_icmp's quality modes (-R -P -J -M -S -O) with check_icmp's defaults
// (jitter 40,50 ms; MOS 3.5,3; score 80,70) and its quiet repairs of crossed
// limits (check_icmp.c, process_arguments), so that its command lines give
// the same verdicts. Naming any mode judges only the modes named.
void make_modes(const Options& o, Policy& p)
{
  const auto rta = mode_opt(o, "rta-mode-thresholds");
  const auto pl = mode_opt(o, "packet-loss-mode-thresholds");
  const auto jitter = mode_opt(o, "jitter-mode-thresholds");
  const auto mos = mode_opt(o, "mos-mode-thresholds");
  const auto score = mode_opt(o, "score-mode-thresholds");
  p.order_mode = o.flag("out-of-order-packets");
  if (!rta && !pl && !jitter && !mos && !score && !p.order_mode) return;
  p.judge_rta = rta.has_value();
  p.judge_pl = pl.has_value();
  if (rta) {
    p.warn.rta_ms = rta->warn;
    p.crit.rta_ms = rta->crit.value_or(p.crit.rta_ms);
    p.warn.rta_ms = std::min(p.warn.rta_ms, p.crit.rta_ms);
  }
  if (pl) {
    p.warn.pl = std::min(pl->warn, 100.0);
    p.crit.pl = std::min(pl->crit.value_or(p.crit.pl), 100.0);
    p.warn.pl = std::min(p.warn.pl, p.crit.pl);
  }
  if (jitter) {
    if (p.jitter_warn_ms || p.jitter_crit_ms)
      throw UsageError("-J sets the jitter limits: it does not go with --jitter-warning/--jitter-critical");
    p.jitter_mode = true;
    p.jitter_warn_ms = jitter->warn;
    p.jitter_crit_ms = std::max(jitter->crit.value_or(50.0), jitter->warn); // check_icmp raises crit
  }
  if (mos) p.mos = LowLimits{std::max(mos->warn, mos->crit.value_or(3.0)), mos->crit.value_or(3.0)};
  if (score) p.score = LowLimits{std::max(score->warn, score->crit.value_or(70.0)), score->crit.value_or(70.0)};
}

// -w, -c and the jitter limits; -m is checked once the targets are counted.
Policy make_policy(const Options& o)
{
  Policy policy;
  policy.warn = thresholds_opt(o, "warning").value_or(policy.warn);
  policy.crit = thresholds_opt(o, "critical").value_or(policy.crit);
  if (auto ok = check_order(policy.warn, policy.crit); !ok) throw UsageError(ok.error() + " (-w/-c)");
  policy.jitter_warn_ms = duration_opt(o, "jitter-warning");
  policy.jitter_crit_ms = duration_opt(o, "jitter-critical");
  if (policy.jitter_warn_ms && policy.jitter_crit_ms && *policy.jitter_warn_ms > *policy.jitter_crit_ms)
    throw UsageError("--jitter-warning is above --jitter-critical");
  make_modes(o, policy);
  return policy;
}

// -n, -i, --paced and --max-rate; the reply wait follows the critical rta.
void make_plan(const Options& o, Config& c)
{
  const std::size_t n = c.hosts.size();
  c.plan.count = static_cast<int>(check_integer("packets", o.integer("packets").value_or(5), 1, max_packets));
  c.interval_ms = duration_opt(o, "interval").value_or(100);
  if (c.interval_ms < 1 || c.interval_ms > 60000) invalid_value("interval", o.text("interval"), "1ms to 60s");
  c.plan.paced = o.flag("paced");
  c.max_rate =
      static_cast<int>(check_integer("max-rate", o.integer("max-rate").value_or(default_max_rate), 1, 1000000));
  // One round of the fixed schedule sends a packet to every target; at most
  // max_rate of them a second.
  const double asked_rate = static_cast<double>(n) * 1000.0 / c.interval_ms;
  if (asked_rate > c.max_rate) {
    const double round_ms = static_cast<double>(n) * 1000.0 / c.max_rate;
    c.stretch_note = fmt::format("-i {} ms for {} targets is {} packets/s, more than --max-rate {}: interval {} ms",
                                 format_number(c.interval_ms), n, format_number(std::round(asked_rate)), c.max_rate,
                                 format_number(round_ms));
    c.interval_ms = round_ms;
  }
  c.plan.interval_ns = std::llround(c.interval_ms * 1e6);
  if (static_cast<double>(n) * c.plan.count > max_probes)
    throw UsageError(fmt::format("{} targets x {} packets is more than {} probes in one run: lower -n or split "
                                 "the targets",
                                 n, c.plan.count, format_number(max_probes)));
  // A reply is awaited up to twice the critical rta, so that a slow link is
  // reported as slow rather than lossy (fitted into the budget when probing).
  c.plan.reply_wait_ns = std::llround(std::max(200.0, 2 * c.policy.crit.rta_ms) * 1e6);
}

// -4, -6 and -s, checked against the address literals among the targets.
// With only literals, only their families need a socket; a name may
// resolve to either.
void make_families(const Options& o, Config& c)
{
  const bool only4 = o.flag("ipv4");
  const bool only6 = o.flag("ipv6");
  if (only4 && only6) throw UsageError("-4 and -6 exclude each other");
  c.family = only4 ? AF_INET : only6 ? AF_INET6 : AF_UNSPEC;
  if (auto text = o.optional_text("source")) {
    c.source = parse_numeric(*text);
    if (!c.source) invalid_value("source", *text, "an IPv4 or IPv6 address");
    if (c.family != AF_UNSPEC && c.family != c.source->family())
      throw UsageError(fmt::format("--source {} is an {} address, but -{} was given", *text,
                                   family_name(c.source->family()), only4 ? 4 : 6));
    c.family = c.source->family();
  }
  bool any_name = false, any4 = false, any6 = false;
  for (const auto& h : c.hosts) {
    auto lit = parse_numeric(h);
    if (lit && c.family != AF_UNSPEC && lit->family() != c.family)
      throw UsageError(fmt::format("target {} is an {} address, but only {} is in use (-4/-6/-s)", h,
                                   family_name(lit->family()), family_name(c.family)));
    if (!lit) any_name = true;
    else (lit->family() == AF_INET ? any4 : any6) = true;
  }
  c.want4 = c.family != AF_INET6 && (any_name || any4);
  c.want6 = c.family != AF_INET && (any_name || any6);
}

// -b, --dont-fragment and --mtu: ICMP only.
void make_size(const Options& o, Config& c)
{
  if (auto b = o.integer("size"))
    c.payload = static_cast<std::size_t>(check_integer("size", *b, 16, 65507)); // echo_min_payload..echo_max_payload
  c.dont_fragment = o.flag("dont-fragment");
  if (auto m = o.integer("mtu")) c.policy.mtu_expected = static_cast<int>(check_integer("mtu", *m, 68, 65535));
  if (c.tcp_port && c.policy.order_mode)
    throw UsageError("-O needs ICMP probes (echo sequence numbers); it does not go with --tcp");
  if (c.tcp_port && (o.has("size") || c.dont_fragment || c.policy.mtu_expected))
    throw UsageError("-b, --dont-fragment and --mtu need ICMP probes; they do not go with --tcp");
}

Config make_config(const Options& o)
{
  Config c;
  c.hosts = target_list(o);
  c.policy = make_policy(o);
  make_plan(o, c);
  // -m 0 is check_icmp's "no target needs to be alive": always OK.
  if (auto m = o.integer("min-alive"))
    c.policy.min_alive = static_cast<int>(check_integer("min-alive", *m, 0, static_cast<long long>(c.hosts.size())));
  if (auto p = o.integer("tcp")) c.tcp_port = static_cast<std::uint16_t>(check_integer("tcp", *p, 1, 65535));
  make_families(o, c);
  make_size(o, c);
  return c;
}

// The whole schedule has to fit in the budget, or the answer would be a
// timeout instead of a measurement.
void check_budget(const Config& c, const Context& ctx)
{
  const double schedule_s = c.plan.count * c.interval_ms / 1000.0;
  if (schedule_s + io_margin_seconds + min_reply_wait_s <= ctx.deadline().remaining()) return;
  throw UsageError(fmt::format(
      "-n {} packets every {} ms take {} s, more than the {} s timeout (-t){}", c.plan.count,
      format_number(c.interval_ms), format_number(schedule_s), format_number(ctx.timeout().seconds),
      c.stretch_note.empty()
          ? std::string()
          : fmt::format(" (the interval is {} targets at --max-rate {} packets/s)", c.hosts.size(), c.max_rate)));
}

// Sockets are opened before anything from outside (DNS answers, replies) is
// parsed, and the capabilities go right after. An error is the Result.
std::optional<Result> open_sockets(const Config& c, Context& ctx, std::optional<IcmpProber>& icmp)
{
  Activity act("opening sockets");
  if (!c.tcp_port) {
    icmp.emplace(c.want4, c.want6, c.source);
    icmp->set_probe(c.payload, c.dont_fragment);
  }
  auto dropped = sitelink::drop_capabilities();
  if (!dropped) return Result{State::Unknown, dropped.error(), {}, {}};
  if (icmp) {
    ctx.debug(1, icmp->socket_for(AF_INET).describe());
    ctx.debug(1, icmp->socket_for(AF_INET6).describe());
  }
  ctx.debug(1, "capabilities dropped");
  return std::nullopt;
}

// One endpoint per target, parallel to obs.targets (nullopt: unresolved,
// with the resolver's message in the target's observation).
std::vector<std::optional<Endpoint>> resolve_targets(const Config& c, Observation& obs)
{
  std::vector<std::optional<Endpoint>> endpoints;
  for (const auto& h : c.hosts) {
    TargetObservation t;
    t.name = h;
    Activity act("resolving " + h);
    auto ep = resolve(h, c.family);
    if (ep) {
      t.address = ep->text();
      endpoints.push_back(*ep);
    } else {
      t.resolve_error = ep.error();
      endpoints.push_back(std::nullopt);
    }
    obs.targets.push_back(std::move(t));
  }
  return endpoints;
}

void debug_probing(const IcmpProber* icmp, const Observation& obs, long long took_ns, Context& ctx)
{
  ctx.debug(1, fmt::format("probing took {} ms", format_number(std::round(static_cast<double>(took_ns) / 1e3) / 1e3)));
  if (icmp) {
    ctx.debug(2, fmt::format("window of reply-driven probes: {} at its widest, {} at the end", icmp->peak_window(),
                             icmp->final_window()));
    ctx.debug(2, fmt::format("{} of {} replies timed from the kernel's transmit timestamp", icmp->kernel_tx_stamps(),
                             icmp->replies()));
    if (icmp->foreign_replies() > 0)
      ctx.debug(1, fmt::format("ignored {} echo replies addressed to other programs", icmp->foreign_replies()));
  }
  if (ctx.verbosity() >= 3)
    for (const auto& t : obs.targets) {
      std::string line = t.name + ":";
      for (const auto& r : t.rtt_ms) line += r ? " " + format_number(std::round(*r * 1000) / 1000) : std::string(" -");
      ctx.debug(3, line);
    }
}

// --mtu: each round waits four times the slowest echo reply plus 30 ms
// (the larger probes take longer on the wire and through a user-space
// tunnel; a reply later than that still counts in the next round), at most
// the reply wait. bench/ping-mtu measures the search.
void search_pmtu(const Config& c, IcmpProber& icmp, const std::vector<std::optional<Endpoint>>& endpoints,
                 Observation& obs, Context& ctx)
{
  double slowest_ms = 0;
  for (const auto& t : obs.targets)
    if (auto st = compute_stats(t); st.rtmax) slowest_ms = std::max(slowest_ms, *st.rtmax);
  const long long wait_ns = std::min(c.plan.reply_wait_ns, std::llround((4 * slowest_ms + 30) * 1e6));
  icmp.search_pmtu(endpoints, obs.targets, *c.policy.mtu_expected, wait_ns, ctx.deadline());
  for (const auto& t : obs.targets)
    if (t.pmtu)
      ctx.debug(1, fmt::format("path MTU search {}: passed {}, lost {}, signalled {} by '{}', {} round(s), {} probes, "
                               "round wait {} ms",
                               t.name, t.pmtu->largest_passed,
                               t.pmtu->smallest_lost ? std::to_string(*t.pmtu->smallest_lost) : "-",
                               t.pmtu->signalled_mtu ? std::to_string(*t.pmtu->signalled_mtu) : "-", t.pmtu->hop,
                               t.pmtu->rounds, t.pmtu->probes, format_number(static_cast<double>(wait_ns) / 1e6)));
}

bool nothing_sent(const Observation& obs)
{
  for (const auto& t : obs.targets)
    if (t.sent > 0) return false;
  return true;
}

Result run(const Config& c, Context& ctx)
{
  check_budget(c, ctx);
  if (!c.stretch_note.empty()) ctx.debug(2, c.stretch_note);
  std::optional<IcmpProber> icmp;
  if (auto failed = open_sockets(c, ctx, icmp)) return *failed;

  Observation obs;
  if (c.tcp_port) obs.tcp_port = *c.tcp_port;
  const auto endpoints = resolve_targets(c, obs);
  const Deadline& deadline = ctx.deadline();
  ctx.debug(2, fmt::format("plan: {} packet(s) {} {} ms to {} target(s), reply wait {} ms", c.plan.count,
                           c.plan.paced ? "every" : "at most", format_number(c.interval_ms), obs.targets.size(),
                           format_number(static_cast<double>(fitted_reply_wait_ns(
                                             c.plan, std::chrono::nanoseconds(deadline.io_slice()).count())) /
                                         1e6)));
  const long long t0 = monotonic_ns();
  const ProbeRun probed = c.tcp_port ? probe_tcp(endpoints, obs.targets, c.plan, *c.tcp_port, c.source, deadline)
                                     : icmp->run(endpoints, obs.targets, c.plan, deadline);
  debug_probing(icmp ? &*icmp : nullptr, obs, monotonic_ns() - t0, ctx);
  if (icmp && c.policy.mtu_expected) search_pmtu(c, *icmp, endpoints, obs, ctx);
  // Out of time before a single probe left (the names took the budget): no
  // measurement to judge.
  if (probed.out_of_time && nothing_sent(obs))
    return Result::timed_out(fmt::format("probing {} target(s)", obs.targets.size()));
  return evaluate(obs, c.policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::ping
