// SPDX-License-Identifier: GPL-2.0-or-later
#include "plugin.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "source_capture.hpp"
#include "evaluate.hpp"
#include "filter.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/plugin.hpp"
#include "sitelink/privilege.hpp"

namespace sitelink::traffic {

namespace {

constexpr double max_duration = 3600;
// Time kept back from -t for opening the handle and the final output.
constexpr double budget_margin = 0.5;

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
            "requests and responses each way). Defaults: --duration 5, --idle-state warning.\n"
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
    ("idle-state", po::value<std::string>()->value_name("STATE"), "State when a peer sent nothing (default warning)");
  // clang-format on
  return o;
}

ClassifyConfig protocol_config(const Context& ctx)
{
  ClassifyConfig c;
  const auto proto = ctx.get<std::string>("protocol", "auto");
  if (proto == "ipsec") c.openvpn = c.wireguard = false;
  else if (proto == "openvpn") c.ipsec = c.wireguard = false;
  else if (proto == "wireguard") c.ipsec = c.openvpn = false;
  else if (proto != "auto")
    throw UsageError("invalid value '" + sanitize_quote(proto, 40) +
                     "' for option '--protocol': expected auto, ipsec, openvpn or wireguard");
  if (ctx.has("port")) {
    const auto text = ctx.vm()["port"].as<std::string>();
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535)
      throw UsageError("invalid value '" + sanitize_quote(text, 40) + "' for option '--port': expected 1..65535");
    if (proto != "openvpn" && proto != "wireguard")
      throw UsageError("--port needs --protocol openvpn or wireguard (IKE always uses 500 and 4500)");
    const auto port = static_cast<std::uint16_t>(value);
    if (c.openvpn) c.openvpn_port = port;
    if (c.wireguard) c.wireguard_port = port;
  }
  return c;
}

std::vector<Address> peers_of(const Context& ctx)
{
  std::vector<Address> peers;
  if (!ctx.has("peer")) return peers;
  for (const auto& text : ctx.vm()["peer"].as<std::vector<std::string>>()) {
    auto a = Address::parse(text);
    if (!a)
      throw UsageError("invalid value '" + sanitize_quote(text, 60) + "' for option '--peer': not an IP address");
    peers.push_back(*a);
  }
  return peers;
}

double duration_of(const Context& ctx)
{
  if (!ctx.has("duration")) return 5;
  const auto text = ctx.vm()["duration"].as<std::string>();
  auto d = parse_number(text);
  if (!d || *d <= 0 || *d > max_duration)
    throw UsageError("invalid value '" + sanitize_quote(text, 40) + "' for option '--duration': expected seconds, "
                     "more than 0 and at most 3600");
  return *d;
}

Result unknown(std::string summary)
{
  Result r;
  r.state = State::Unknown;
  r.summary = std::move(summary);
  return r;
}

Result run(Context& ctx)
{
  const bool live = ctx.has("interface");
  const bool file = ctx.has("pcap-file");
  if (live == file) throw UsageError("give either -i IFACE (live capture) or --pcap-file FILE");
  const auto config = protocol_config(ctx);
  const auto peers = peers_of(ctx);
  Policy policy;
  if (ctx.has("idle-state")) {
    const auto text = ctx.vm()["idle-state"].as<std::string>();
    auto s = parse_state(text);
    if (!s)
      throw UsageError("invalid value '" + sanitize_quote(text, 40) +
                       "' for option '--idle-state': expected ok, warning, critical, unknown or 0-3");
    policy.idle_state = *s;
  }
  const std::string filter = bpf_filter(config, peers);
  ctx.debug(1, "BPF filter: " + filter);

  if (file) {
    if (peers.empty()) throw UsageError("--pcap-file needs --peer ADDR: the peers tell which packets are outgoing");
    if (ctx.has("duration")) throw UsageError("--duration applies to live capture (-i), not to --pcap-file");
    const auto path = ctx.vm()["pcap-file"].as<std::string>();
    Observation obs{"in capture file " + sanitize(path), std::nullopt, Tally(peers, {}), std::nullopt, std::nullopt};
    auto st = read_capture_file(path, config, obs.tally);
    if (!st) return unknown(st.error());
    ctx.debug(1, "link type " + st->link);
    for (const auto& n : st->notes) ctx.debug(2, n);
    ctx.debug(3, capability_status());
    obs.window = st->window;
    obs.end_time = st->end_time;
    return evaluate(obs, policy);
  }

  double duration = duration_of(ctx);
  const double room = ctx.deadline().remaining() - budget_margin;
  std::string shortened;
  if (duration > room) {
    if (room < 0.1)
      throw UsageError(fmt::format("-t {} leaves no time for a capture: give at least 1 s",
                                   format_number(ctx.timeout().seconds)));
    shortened = fmt::format("capture shortened from {} s to {} s to finish within -t {}", format_number(duration),
                            format_number(std::round(room * 10) / 10), format_number(ctx.timeout().seconds));
    duration = room;
  }
  const auto iface = ctx.vm()["interface"].as<std::string>();
  auto local = local_addresses();
  ctx.debug(2, fmt::format("{} local addresses decide the direction", local.size()));
  Observation obs{"on " + sanitize(iface), std::nullopt, Tally(peers, std::move(local)), std::nullopt, std::nullopt};
  auto st = capture_live(iface, filter, duration, config, obs.tally, ctx.deadline());
  if (!st) return unknown(st.error());
  ctx.debug(1, "link type " + st->link);
  for (const auto& n : st->notes) ctx.debug(1, n);
  ctx.debug(3, capability_status());
  obs.window = st->window;
  obs.end_time = st->end_time;
  obs.dropped = st->dropped;
  Result r = evaluate(obs, policy);
  if (!shortened.empty()) r.details.push_back(shortened);
  return r;
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), run);
}

} // namespace sitelink::traffic
