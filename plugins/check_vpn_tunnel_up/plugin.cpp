// SPDX-License-Identifier: GPL-2.0-or-later
#include "vpn.hpp"

#include <cmath>

#include <fmt/format.h>

#include "backends.hpp"
#include "cloud_backend.hpp"
#include "sitelink/number.hpp"
#include "sitelink/plugin.hpp"

namespace sitelink::vpn {

namespace {

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_vpn_tunnel_up";
  i.service = "VPN_TUNNEL";
  i.synopsis = "--backend strongswan|openvpn|wireguard [--tunnel NAME]... [-w RANGE] [-c RANGE] "
               "[--stale SECONDS] [--socket URI] [--management PATH|HOST:PORT] "
               "[--management-password-file PATH] [--interface IF] [--peer-alias NAME=PUBKEY]... "
               "[-t SECONDS[:STATE]] [--runbook ID]";
  i.description =
      "Checks that the VPN tunnels between sites are up, reading the daemon's control interface "
      "natively: strongSwan's VICI socket, OpenVPN's management interface or WireGuard's UAPI socket. "
      "Tunnels are judged as a group: -w/-c are ranges on the number of expected tunnels that are up. "
      "An expected tunnel the daemon does not have is reported missing and counts as down.";
  i.notes =
      "Defaults: every configured tunnel is expected (name them with --tunnel to notice one that\n"
      "vanished from the configuration); -c 1: (at least one up) and -w N: with N expected, so lost\n"
      "redundancy is a WARNING. An active/passive pair is -w 1:1 -c 1:.\n"
      "--stale S: an established tunnel that received nothing for more than S seconds is stale and\n"
      "does not count as up (strongSwan: CHILD SA use-in; OpenVPN server: client Last Ref). It needs\n"
      "steady traffic (a keepalive ping) and is off by default. WireGuard always judges peers by\n"
      "handshake age, limit 180 s unless --stale is given; a peer that never completed a handshake is\n"
      "down. A missing socket or refused connection is CRITICAL (the daemon is not running).\n"
      "Backends:\n"
      "  strongswan  --socket unix:///var/run/charon.vici (default); tunnels are connections\n"
      "  openvpn     --management PATH or HOST:PORT; point-to-point: one tunnel named by --tunnel\n"
      "              (default 'openvpn'); server: each client common name is a tunnel\n"
      "  wireguard   --interface wg0 (socket /var/run/wireguard/wg0.sock, or --socket PATH);\n"
      "              peers are named by base64 public key or --peer-alias NAME=PUBKEY\n"
      "  aws         --vpn-connection-id ID...: tunnels <vpn-id>/<outside-ip>, two per connection;\n"
      "              BGP tunnel up with 0 routes is WARNING; credentials from the environment,\n"
      "              shared files (--profile), container or IMDSv2; --role-arn assumes a role\n"
      "  aws-route   --route-table-id ID --destination CIDR [--expect-target ID]: blackhole is\n"
      "              CRITICAL, another target than expected WARNING (failed over)\n"
      "  openstack   [--tunnel NAME|ID]... [--os-cloud NAME]: VPNaaS ipsec-site-connections;\n"
      "              credentials from clouds.yaml or OS_* variables, never the command line\n"
      "Examples:\n"
      "  check_vpn_tunnel_up --backend strongswan --tunnel dr-primary --tunnel dr-secondary\n"
      "  check_vpn_tunnel_up --backend strongswan --tunnel dr-primary --tunnel dr-secondary \\\n"
      "    -w 1:1 -c 1: --stale 3 --runbook dr-vpn\n"
      "  check_vpn_tunnel_up --backend wireguard --interface wg0 --peer-alias site-b=PUBKEY\n";
  return i;
}

po::options_description plugin_options()
{
  po::options_description o("VPN options");
  // clang-format off
  o.add_options()
    ("backend", po::value<std::string>()->value_name("NAME"), "Backend: strongswan, openvpn, wireguard, aws, aws-route or openstack")
    ("tunnel", po::value<std::vector<std::string>>()->value_name("NAME"),
       "Expected tunnel (repeatable); default: every configured one")
    ("warning,w", po::value<Range>()->value_name("RANGE"), "Warning range on the number of tunnels up (default N:)")
    ("critical,c", po::value<Range>()->value_name("RANGE"), "Critical range on the number of tunnels up (default 1:)")
    ("stale", po::value<std::string>()->value_name("SECONDS"),
       "An established tunnel silent for longer is stale (not up)")
    ("socket", po::value<std::string>()->value_name("URI"),
       "strongswan: VICI socket (default unix:///var/run/charon.vici); wireguard: UAPI socket path")
    ("management", po::value<std::string>()->value_name("PATH|HOST:PORT"), "openvpn: management interface")
    ("management-password-file", po::value<std::string>()->value_name("PATH"),
       "openvpn: file holding the management password (mode 0600 or 0640)")
    ("interface", po::value<std::string>()->value_name("IF"), "wireguard: interface name (default wg0)")
    ("peer-alias", po::value<std::vector<std::string>>()->value_name("NAME=PUBKEY"),
       "wireguard: name a peer by its public key (repeatable)");
  // clang-format on
  o.add(cloud::options());
  return o;
}

std::vector<std::string> strings(const Context& ctx, const char* name)
{
  return ctx.get<std::vector<std::string>>(name, {});
}

void refuse_options(const Context& ctx, const std::string& backend, std::initializer_list<const char*> names)
{
  for (const char* n : names)
    if (ctx.has(n)) throw UsageError(fmt::format("option '--{}' does not apply to --backend {}", n, backend));
}

net::TimePoint io_deadline(const Context& ctx)
{
  // Leave a little of the budget so that a timeout is reported by the check
  // itself, with what it was doing, rather than by the watchdog.
  return net::deadline_in(ctx.deadline().slice(1.0, 0.3, 50));
}

Result run(Context& ctx)
{
  if (!ctx.has("backend")) throw UsageError("missing --backend (strongswan, openvpn, wireguard, aws, aws-route or openstack)");
  const auto backend = ctx.vm()["backend"].as<std::string>();
  Policy policy;
  policy.expected = strings(ctx, "tunnel");
  for (const auto& t : policy.expected)
    if (t.empty()) throw UsageError("empty name for option '--tunnel'");
  if (ctx.has("warning")) policy.warn = ctx.vm()["warning"].as<Range>();
  if (ctx.has("critical")) policy.crit = ctx.vm()["critical"].as<Range>();
  if (ctx.has("stale")) {
    auto s = parse_number(ctx.vm()["stale"].as<std::string>());
    if (!s || *s <= 0)
      throw UsageError("invalid value '" + ctx.vm()["stale"].as<std::string>() +
                       "' for option '--stale': expected a number of seconds > 0");
    policy.stale = *s;
  }
  // --backend aws, aws-route, openstack: the cloud module (cloud/).
  if (auto cloud_result = cloud::dispatch(ctx, backend, policy)) return *cloud_result;
  Trace trace = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
  const double now = ctx.clock().now();
  const double started = ctx.deadline().elapsed();
  Observation obs;

  if (backend == "strongswan") {
    refuse_options(ctx, backend, {"management", "management-password-file", "interface", "peer-alias"});
    auto ep = parse_endpoint(ctx.get<std::string>("socket", "unix:///var/run/charon.vici"), false);
    if (!ep) throw UsageError("invalid value for option '--socket': " + ep.error());
    ctx.debug(1, "strongswan: VICI socket " + ep->text());
    obs = strongswan::read(*ep, io_deadline(ctx), trace);
  } else if (backend == "openvpn") {
    refuse_options(ctx, backend, {"socket", "interface", "peer-alias"});
    if (!ctx.has("management")) throw UsageError("--backend openvpn needs --management PATH or HOST:PORT");
    auto ep = parse_endpoint(ctx.vm()["management"].as<std::string>(), true);
    if (!ep) throw UsageError("invalid value for option '--management': " + ep.error());
    std::optional<std::string> password;
    if (ctx.has("management-password-file")) {
      auto pw = openvpn::read_password_file(ctx.vm()["management-password-file"].as<std::string>());
      if (!pw) return Result{State::Unknown, pw.error(), {}, {}};
      password = std::move(*pw);
    }
    // A point-to-point instance is one tunnel; its name is the one --tunnel
    // gives (or 'openvpn'). In server mode the names are client CNs.
    const std::string p2p = policy.expected.size() == 1 ? policy.expected.front() : "openvpn";
    ctx.debug(1, "openvpn: management interface " + ep->text());
    obs = openvpn::read(*ep, password, p2p, now, io_deadline(ctx), trace);
    if (password) explicit_bzero(password->data(), password->size());
  } else if (backend == "wireguard") {
    refuse_options(ctx, backend, {"management", "management-password-file"});
    const auto ifname = ctx.get<std::string>("interface", "wg0");
    if (ifname.empty() || ifname.size() > 15 || ifname.find('/') != std::string::npos || ifname == "." ||
        ifname == "..")
      throw UsageError("invalid interface name '" + ifname + "' for option '--interface'");
    std::map<std::string, std::string> aliases;
    for (const auto& a : strings(ctx, "peer-alias")) {
      auto eq = a.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == a.size())
        throw UsageError("invalid value '" + a + "' for option '--peer-alias': expected NAME=PUBKEY");
      // Base64 keys end in '=': the name is before the first one.
      std::string key = wireguard::key_to_base64(a.substr(eq + 1));
      if (key.size() != 44 || key.back() != '=')
        throw UsageError("invalid public key in '" + a + "' for option '--peer-alias': expected 44 base64 characters");
      aliases[key] = a.substr(0, eq);
    }
    if (!ctx.has("stale")) policy.handshake_limit = 180;
    else policy.handshake_limit = policy.stale;
    policy.stale.reset();
    const auto path = ctx.get<std::string>("socket", "/var/run/wireguard/" + ifname + ".sock");
    ctx.debug(1, "wireguard: UAPI socket " + path);
    obs = wireguard::read(path, ifname, now, aliases, io_deadline(ctx), trace);
  } else {
    throw UsageError("unknown backend '" + backend + "' for option '--backend' (strongswan, openvpn, wireguard, aws, aws-route or openstack)");
  }
  ctx.debug(1, fmt::format("{}: {} tunnel(s), {} configured", obs.daemon, obs.tunnels.size(), obs.configured.size()));
  ctx.debug(2, fmt::format("connect and exchange took {} ms",
                           format_number(std::round((ctx.deadline().elapsed() - started) * 1e5) / 100)));
  if (obs.timed_out)
    return Result{ctx.timeout().state,
                  fmt::format("timed out after {} s while {}", format_number(ctx.timeout().seconds), obs.activity),
                  {obs.daemon + " at " + obs.endpoint + " gave no complete answer in time"},
                  {}};
  return evaluate(obs, policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), run);
}

} // namespace sitelink::vpn
