// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

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

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_tunnel_traffic";
  i.service = "TUNNEL_TRAFFIC";
  i.synopsis = "(-i IFACE|--pcap-file FILE) [--peer ADDR]... [--protocol auto|ipsec|openvpn|wireguard] "
               "[--port N] [--duration SECONDS] [--idle-state STATE] [-t SECONDS[:STATE]] [--runbook ID]";
  i.description = "Proves from the packets on the outside interface that a tunnel carries traffic both ways. "
                  "It captures IKE, ESP (plain and in UDP 4500), OpenVPN and WireGuard packets and judges each "
                  "peer: flowing (OK), one-way out (CRITICAL: nothing comes back), one-way in (WARNING), "
                  "ike-unanswered (CRITICAL: IKE requests get no reply) or idle (--idle-state).";
  i.notes = "Live capture needs CAP_NET_RAW (root, or `setcap cap_net_raw+ep` on the plugin); every\n"
            "capability is dropped once the capture is open. --pcap-file needs no privilege and\n"
            "needs --peer: packets to a peer are outgoing, packets from it incoming. Without --peer,\n"
            "the interface's own addresses tell the direction and every other end is a peer; name\n"
            "the peers to get stable perfdata labels (8 per peer: pps and bytes/s each way, IKE\n"
            "requests and responses each way). Defaults: --duration 5, --idle-state ok\n"
            "(a quiet link notifies no one; only one-way traffic and unanswered IKE alert).\n"
            "Example:\n"
            "  check_tunnel_traffic -i eth1 --peer 192.0.2.2 --protocol ipsec --runbook dr-vpn\n";
  return i;
}

po::options_description plugin_options()
{
  po::options_description o("Traffic options");
  // clang-format off
  o.add_options()
    ("interface,i", po::value<std::string>()->value_name("IFACE"), "Capture on this interface (live)")
    ("pcap-file", po::value<std::string>()->value_name("FILE"), "Read a capture file instead (pcap or pcapng)")
    ("peer", po::value<std::vector<std::string>>()->value_name("ADDR"), "Tunnel peer address (repeatable)")
    ("protocol", po::value<std::string>()->value_name("NAME"), "auto (default), ipsec, openvpn or wireguard")
    ("port", po::value<std::string>()->value_name("N"), "OpenVPN/WireGuard port (default 1194/51820)")
    ("duration", po::value<std::string>()->value_name("SECONDS"), "Live capture length (default 5, within -t)")
    ("idle-state", po::value<std::string>()->value_name("STATE"), "State when a peer sent nothing (default ok)");
  // clang-format on
  return o;
}

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
