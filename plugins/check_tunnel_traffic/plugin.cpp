// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include "cli.hpp" // generated from cli.json

#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "evaluate.hpp"
#include "filter.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/privilege.hpp"
#include "source_capture.hpp"

namespace sitelink::traffic {

namespace {

constexpr double max_duration = 3600;
constexpr double default_duration = 5;

struct Config {
  std::optional<std::string> interface; // live capture
  std::optional<std::string> pcap_file; // or a capture file
  ClassifyConfig classify;
  std::vector<Address> peers;
  std::optional<double> duration; // --duration (live only)
  Policy policy;
};

ClassifyConfig protocol_config(const Options& o)
{
  ClassifyConfig c;
  const auto proto = one_of("protocol", o.text("protocol", "auto"), {"auto", "ipsec", "openvpn", "wireguard"});
  if (proto == "ipsec") c.openvpn = c.wireguard = false;
  else if (proto == "openvpn") c.ipsec = c.wireguard = false;
  else if (proto == "wireguard") c.ipsec = c.openvpn = false;
  if (auto text = o.optional_text("port")) {
    const auto port = parse_port("port", *text);
    if (proto != "openvpn" && proto != "wireguard")
      throw UsageError("--port needs --protocol openvpn or wireguard (IKE always uses 500 and 4500)");
    if (c.openvpn) c.openvpn_port = port;
    if (c.wireguard) c.wireguard_port = port;
  }
  return c;
}

std::vector<Address> peers_of(const Options& o)
{
  std::vector<Address> peers;
  for (const auto& text : o.list("peer")) {
    auto a = Address::parse(text);
    if (!a) throw UsageError("invalid value '" + sanitize_quote(text, 60) + "' for option '--peer': not an IP address");
    peers.push_back(*a);
  }
  return peers;
}

Config make_config(const Options& o)
{
  Config c;
  c.interface = o.optional_text("interface");
  c.pcap_file = o.optional_text("pcap-file");
  if (c.interface.has_value() == c.pcap_file.has_value())
    throw UsageError("give either -i IFACE (live capture) or --pcap-file FILE");
  c.classify = protocol_config(o);
  c.peers = peers_of(o);
  if (auto text = o.optional_text("idle-state")) {
    auto s = parse_state(*text);
    if (!s) invalid_value("idle-state", *text, "ok, warning, critical, unknown or 0-3");
    c.policy.idle_state = *s;
  }
  if (c.pcap_file) {
    if (c.peers.empty()) throw UsageError("--pcap-file needs --peer ADDR: the peers tell which packets are outgoing");
    if (o.has("duration")) throw UsageError("--duration applies to live capture (-i), not to --pcap-file");
  } else if (auto text = o.optional_text("duration")) {
    auto d = parse_number(*text);
    if (!d || *d <= 0 || *d > max_duration) invalid_value("duration", *text, "seconds, more than 0 and at most 3600");
    c.duration = *d;
  }
  return c;
}

Result unknown(std::string summary)
{
  Result r;
  r.state = State::Unknown;
  r.summary = std::move(summary);
  return r;
}

Result run_file(const Config& c, Context& ctx)
{
  const auto& path = *c.pcap_file;
  Observation obs{"in capture file " + sanitize(path), std::nullopt, Tally(c.peers, {}), std::nullopt, std::nullopt};
  auto st = read_capture_file(path, c.classify, obs.tally, ctx.deadline());
  if (!st) return unknown(st.error());
  if (st->timed_out_while) return Result::timed_out(*st->timed_out_while);
  ctx.debug(1, "link type " + st->link);
  for (const auto& n : st->notes) ctx.debug(2, n);
  ctx.debug(3, capability_status());
  obs.window = st->window;
  obs.end_time = st->end_time;
  return evaluate(obs, c.policy);
}

// The live capture's length: --duration, shortened to what the deadline
// leaves for I/O (said in `shortened`).
double capture_length(const Config& c, const Context& ctx, std::string& shortened)
{
  const double duration = c.duration.value_or(default_duration);
  const double room = std::chrono::duration<double>(ctx.deadline().io_slice()).count();
  if (duration <= room) return duration;
  if (room < 0.1)
    throw UsageError(
        fmt::format("-t {} leaves no time for a capture: give at least 1 s", format_number(ctx.timeout().seconds)));
  shortened = fmt::format("capture shortened from {} s to {} s to finish within -t {}", format_number(duration),
                          format_number(std::round(room * 10) / 10), format_number(ctx.timeout().seconds));
  return room;
}

Result run_live(const Config& c, const std::string& filter, Context& ctx)
{
  std::string shortened;
  const double duration = capture_length(c, ctx, shortened);
  const auto& iface = *c.interface;
  auto local = local_addresses();
  ctx.debug(2, fmt::format("{} local addresses decide the direction", local.size()));
  Observation obs{"on " + sanitize(iface), std::nullopt, Tally(c.peers, std::move(local)), std::nullopt, std::nullopt};
  auto st = capture_live(iface, filter, duration, c.classify, obs.tally, ctx.deadline());
  if (!st) return unknown(st.error());
  ctx.debug(1, "link type " + st->link);
  for (const auto& n : st->notes) ctx.debug(1, n);
  ctx.debug(3, capability_status());
  obs.window = st->window;
  obs.end_time = st->end_time;
  obs.dropped = st->dropped;
  Result r = evaluate(obs, c.policy);
  if (!shortened.empty()) r.details.push_back(shortened);
  return r;
}

Result run(const Config& c, Context& ctx)
{
  const std::string filter = bpf_filter(c.classify, c.peers);
  ctx.debug(1, "BPF filter: " + filter);
  return c.pcap_file ? run_file(c, ctx) : run_live(c, filter, ctx);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::traffic
