// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include <cmath>
#include <sys/socket.h>

#include <fmt/format.h>

#include "evaluate.hpp"
#include "net.hpp"
#include "source_icmp.hpp"
#include "sitelink/number.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/privilege.hpp"
#include "thresholds.hpp"

namespace sitelink::ping {

namespace {

constexpr double output_margin_s = 0.3; // left of the budget for rendering
constexpr int max_packets = 65535;      // the echo sequence number is 16 bits
constexpr double max_probes = 1e6;      // targets x packets: bounds the memory of one run (~30 MB)
constexpr int default_max_rate = 5000;  // packets/s on the fixed schedule (see --max-rate)

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_cross_site_ping";
  i.service = "CROSS_SITE_PING";
  i.synopsis = "-H HOST[,HOST...] [-H HOST]... [-w RTA,PL%] [-c RTA,PL%] [-n PACKETS] [-i INTERVAL] "
               "[--paced] [--max-rate PPS] [-m MIN_ALIVE] [-s SOURCE] [-4|-6] [--jitter-warning MS] [--jitter-critical MS] "
               "[--tcp PORT] [-t SECONDS[:STATE]] [--runbook ID]";
  i.description = "Probes hosts at another site with ICMP echo requests (or TCP connects) and reports "
                  "round-trip average, packet loss and jitter. All targets are probed at the same "
                  "time. A target's next packet leaves as soon as the previous reply is in, and INTERVAL "
                  "after the previous packet at the latest (check_icmp's meaning of -i), so a healthy "
                  "path is measured in a few round trips and a lossy one in at most PACKETS x INTERVAL "
                  "plus the wait for the last reply, whatever the number of targets. Uses a raw socket with CAP_NET_RAW, else an "
                  "unprivileged ICMP socket (net.ipv4.ping_group_range); every capability is dropped "
                  "right after the sockets are open.";
  i.notes = "Defaults: -w 200ms,20% -c 500ms,60% -n 5 -i 100ms. RTA takes us, ms (default) or s;\n"
            "a value equal to a threshold alerts. A target's state is the worst of its rta, loss\n"
            "and jitter states. A reply later than twice the critical rta (at least 200 ms) is\n"
            "counted as lost; the run also stops before the -t budget runs out.\n"
            "--paced: every packet leaves on the fixed schedule (packet k at k x INTERVAL), so the\n"
            "run samples the path over the whole PACKETS x INTERVAL and catches brief outages.\n"
            "Early packets (sent on a reply) are limited in flight across all targets to 16 per\n"
            "millisecond of the shortest round trip seen (at least 16, at most 256): 16 on a LAN\n"
            "path, every target at once across a 20 ms link. A full window refills in one batch\n"
            "once half of it has come back, or after 2 ms.\n"
            "--max-rate PPS (default 5000): the fixed schedule sends at most PPS packets/s over\n"
            "all targets. When TARGETS / INTERVAL is more, INTERVAL is stretched to TARGETS / PPS\n"
            "(shown at -vv), so that a large run does not overload the path and measure the loss\n"
            "it caused itself. Early packets are paced by the replies and not counted.\n"
            "-m N: OK when at least N targets are OK, else WARNING when at least N are OK or\n"
            "WARNING, else the worst target state (check_icmp's meaning).\n"
            "--tcp PORT: the round trip is the TCP connect time; a refused connection still\n"
            "proves the host is alive and counts as a reply.\n"
            "Perfdata: one target: rta, pl, rtmin, rtmax, jitter. Several targets: the same per\n"
            "target as '<host>_rta' and so on, for up to 20 targets while they fit in about\n"
            "5 KiB; beyond that only aggregates (hosts_alive, hosts_ok, rta, rta_max, pl, pl_max,\n"
            "jitter_max), so that 1,000 targets stay within 8 KiB of output.\n"
            "Example:\n"
            "  check_cross_site_ping -H 10.102.0.10,10.102.0.11 -w 50ms,10% -c 200ms,40% -n 10\n";
  return i;
}

po::options_description plugin_options()
{
  po::options_description o("Ping options");
  // clang-format off
  o.add_options()
    ("hostname,H", po::value<std::vector<std::string>>()->value_name("HOST[,HOST...]"),
       "Target host name or address; repeatable, comma-separated lists allowed")
    ("warning,w", po::value<std::string>()->value_name("RTA,PL%"), "Warning thresholds (default 200ms,20%)")
    ("critical,c", po::value<std::string>()->value_name("RTA,PL%"), "Critical thresholds (default 500ms,60%)")
    ("packets,n", po::value<int>()->value_name("PACKETS"), "Packets per target (default 5)")
    ("interval,i", po::value<std::string>()->value_name("INTERVAL"),
       "Longest gap between packets to the same target (default 100ms; us, ms, s)")
    ("paced", po::bool_switch(), "Send every packet exactly INTERVAL after the previous one to that target")
    ("max-rate", po::value<int>()->value_name("PPS"),
       "Most packets per second on the fixed schedule, all targets together (default 5000)")
    ("min-alive,m", po::value<int>()->value_name("N"), "Targets that must be OK for an OK result")
    ("source,s", po::value<std::string>()->value_name("ADDRESS"), "Source address of the probes")
    ("ipv4,4", po::bool_switch(), "Resolve names to IPv4 addresses only")
    ("ipv6,6", po::bool_switch(), "Resolve names to IPv6 addresses only")
    ("jitter-warning", po::value<std::string>()->value_name("MS"), "Warning when jitter reaches MS")
    ("jitter-critical", po::value<std::string>()->value_name("MS"), "Critical when jitter reaches MS")
    ("tcp", po::value<int>()->value_name("PORT"), "Probe with TCP connects to PORT instead of ICMP");
  // clang-format on
  return o;
}

Thresholds thresholds_or(const Context& ctx, const char* name, Thresholds fallback)
{
  if (!ctx.has(name)) return fallback;
  auto t = parse_thresholds(ctx.vm()[name].as<std::string>());
  if (!t) throw UsageError(t.error() + fmt::format(" for option '--{}'", name));
  return *t;
}

std::optional<double> duration_opt(const Context& ctx, const char* name)
{
  if (!ctx.has(name)) return std::nullopt;
  auto v = parse_duration_ms(ctx.vm()[name].as<std::string>());
  if (!v) throw UsageError(v.error() + fmt::format(" for option '--{}'", name));
  return *v;
}

const char* family_name(int f)
{
  return f == AF_INET6 ? "IPv6" : "IPv4";
}

Result run(Context& ctx)
{
  // Options first: nothing touches the network before they are all valid.
  if (!ctx.has("hostname")) throw UsageError("missing -H HOST");
  auto hosts = split_hosts(ctx.vm()["hostname"].as<std::vector<std::string>>());
  if (!hosts) throw UsageError(hosts.error() + " for option '--hostname'");
  Policy policy;
  policy.warn = thresholds_or(ctx, "warning", policy.warn);
  policy.crit = thresholds_or(ctx, "critical", policy.crit);
  if (auto ok = check_order(policy.warn, policy.crit); !ok) throw UsageError(ok.error() + " (-w/-c)");
  policy.jitter_warn_ms = duration_opt(ctx, "jitter-warning");
  policy.jitter_crit_ms = duration_opt(ctx, "jitter-critical");
  if (policy.jitter_warn_ms && policy.jitter_crit_ms && *policy.jitter_warn_ms > *policy.jitter_crit_ms)
    throw UsageError("--jitter-warning is above --jitter-critical");

  ProbePlan plan;
  plan.count = ctx.get<int>("packets", 5);
  if (plan.count < 1 || plan.count > max_packets)
    throw UsageError(fmt::format("invalid value '{}' for option '--packets': expected 1 to {}", plan.count, max_packets));
  double interval_ms = duration_opt(ctx, "interval").value_or(100);
  if (interval_ms < 1 || interval_ms > 60000)
    throw UsageError(fmt::format("invalid value '{}' for option '--interval': expected 1ms to 60s",
                                 ctx.vm()["interval"].as<std::string>()));
  plan.paced = ctx.get<bool>("paced", false);
  const int max_rate = ctx.get<int>("max-rate", default_max_rate);
  if (max_rate < 1 || max_rate > 1000000)
    throw UsageError(fmt::format("invalid value '{}' for option '--max-rate': expected 1 to 1000000 packets/s",
                                 max_rate));
  // One round of the fixed schedule sends a packet to every target; at most
  // max_rate of them a second.
  const double asked_rate = static_cast<double>(hosts->size()) * 1000.0 / interval_ms;
  const bool stretched = asked_rate > max_rate;
  if (stretched) {
    const double round_ms = static_cast<double>(hosts->size()) * 1000.0 / max_rate;
    ctx.debug(2, fmt::format("-i {} ms for {} targets is {} packets/s, more than --max-rate {}: interval {} ms",
                             format_number(interval_ms), hosts->size(), format_number(std::round(asked_rate)),
                             max_rate, format_number(round_ms)));
    interval_ms = round_ms;
  }
  plan.interval_ns = std::llround(interval_ms * 1e6);

  if (static_cast<double>(hosts->size()) * plan.count > max_probes)
    throw UsageError(fmt::format("{} targets x {} packets is more than {} probes in one run: lower -n or split "
                                 "the targets",
                                 hosts->size(), plan.count, format_number(max_probes)));
  if (ctx.has("min-alive")) {
    int m = ctx.vm()["min-alive"].as<int>();
    if (m < 1 || static_cast<std::size_t>(m) > hosts->size())
      throw UsageError(fmt::format("invalid value '{}' for option '--min-alive': expected 1 to the number of "
                                   "targets ({})",
                                   m, hosts->size()));
    policy.min_alive = m;
  }
  std::optional<std::uint16_t> tcp_port;
  if (ctx.has("tcp")) {
    int p = ctx.vm()["tcp"].as<int>();
    if (p < 1 || p > 65535) throw UsageError(fmt::format("invalid value '{}' for option '--tcp': expected 1 to 65535", p));
    tcp_port = static_cast<std::uint16_t>(p);
  }
  const bool only4 = ctx.get<bool>("ipv4", false);
  const bool only6 = ctx.get<bool>("ipv6", false);
  if (only4 && only6) throw UsageError("-4 and -6 exclude each other");
  int family = only4 ? AF_INET : only6 ? AF_INET6 : AF_UNSPEC;
  std::optional<Endpoint> source;
  if (ctx.has("source")) {
    const auto& text = ctx.vm()["source"].as<std::string>();
    source = parse_numeric(text);
    if (!source) throw UsageError(fmt::format("invalid value '{}' for option '--source': expected an IPv4 or IPv6 address", text));
    if (family != AF_UNSPEC && family != source->family())
      throw UsageError(fmt::format("--source {} is an {} address, but -{} was given", text,
                                   family_name(source->family()), only4 ? 4 : 6));
    family = source->family();
  }
  // With only address literals, only their families need a socket; a name
  // may resolve to either.
  bool any_name = false, any4 = false, any6 = false;
  for (const auto& h : *hosts) {
    auto lit = parse_numeric(h);
    if (lit && family != AF_UNSPEC && lit->family() != family)
      throw UsageError(fmt::format("target {} is an {} address, but only {} is in use (-4/-6/-s)", h,
                                   family_name(lit->family()), family_name(family)));
    if (!lit) any_name = true;
    else (lit->family() == AF_INET ? any4 : any6) = true;
  }
  const bool want4 = family != AF_INET6 && (any_name || any4);
  const bool want6 = family != AF_INET && (any_name || any6);
  // The whole schedule has to fit in the budget, or the answer would be a
  // timeout instead of a measurement.
  const double schedule_s = plan.count * interval_ms / 1000.0;
  if (schedule_s + output_margin_s + 0.05 > ctx.deadline().remaining())
    throw UsageError(fmt::format("-n {} packets every {} ms take {} s, more than the {} s timeout (-t){}",
                                 plan.count, format_number(interval_ms), format_number(schedule_s),
                                 format_number(ctx.timeout().seconds),
                                 stretched ? fmt::format(" (the interval is {} targets at --max-rate {} packets/s)",
                                                         hosts->size(), max_rate)
                                           : std::string()));

  // Sockets are opened before anything from outside (DNS answers, replies)
  // is parsed, and the capabilities go right after.
  std::optional<IcmpProber> icmp;
  {
    Activity act("opening sockets");
    if (!tcp_port) icmp.emplace(want4, want6, source);
    auto dropped = sitelink::drop_capabilities();
    if (!dropped) return Result{State::Unknown, dropped.error(), {}, {}};
    if (icmp) {
      ctx.debug(1, icmp->socket_for(AF_INET).describe());
      ctx.debug(1, icmp->socket_for(AF_INET6).describe());
    }
    ctx.debug(1, "capabilities dropped");
  }

  Observation obs;
  if (tcp_port) obs.tcp_port = *tcp_port;
  std::vector<std::optional<Endpoint>> endpoints;
  for (const auto& h : *hosts) {
    TargetObservation t;
    t.name = h;
    Activity act("resolving " + h);
    auto ep = resolve(h, family);
    if (ep) {
      t.address = ep->text();
      endpoints.push_back(*ep);
    } else {
      t.resolve_error = ep.error();
      endpoints.push_back(std::nullopt);
    }
    obs.targets.push_back(std::move(t));
  }

  // A reply is awaited up to twice the critical rta, so that a slow link is
  // reported as slow rather than lossy, but never past the budget.
  const double wait_ms = std::max(200.0, 2 * policy.crit.rta_ms);
  const double left_ms = (ctx.deadline().remaining() - output_margin_s) * 1000 - plan.count * interval_ms;
  plan.wait_ns = std::llround(std::max(1.0, std::min(wait_ms, left_ms)) * 1e6);
  plan.end_ns = monotonic_ns() + std::llround((ctx.deadline().remaining() - output_margin_s) * 1e9);
  ctx.debug(2, fmt::format("plan: {} packet(s) {} {} ms to {} target(s), reply wait {} ms", plan.count,
                           plan.paced ? "every" : "at most", format_number(interval_ms), obs.targets.size(),
                           format_number(static_cast<double>(plan.wait_ns) / 1e6)));

  const long long t0 = monotonic_ns();
  if (tcp_port) probe_tcp(endpoints, obs.targets, plan, *tcp_port, source);
  else icmp->run(endpoints, obs.targets, plan);
  ctx.debug(1, fmt::format("probing took {} ms", format_number(std::round(static_cast<double>(monotonic_ns() - t0) / 1e3) / 1e3)));
  if (icmp)
    ctx.debug(2, fmt::format("window of reply-driven probes: {} at its widest, {} at the end", icmp->peak_window(),
                             icmp->final_window()));
  if (icmp)
    ctx.debug(2, fmt::format("{} of {} replies timed from the kernel's transmit timestamp", icmp->kernel_tx_stamps(),
                             icmp->replies()));
  if (icmp && icmp->foreign_replies() > 0)
    ctx.debug(1, fmt::format("ignored {} echo replies addressed to other programs", icmp->foreign_replies()));
  if (ctx.verbosity() >= 3)
    for (const auto& t : obs.targets) {
      std::string line = t.name + ":";
      for (const auto& r : t.rtt_ms) line += r ? " " + format_number(std::round(*r * 1000) / 1000) : std::string(" -");
      ctx.debug(3, line);
    }
  return evaluate(obs, policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), run);
}

} // namespace sitelink::ping
