// SPDX-License-Identifier: GPL-2.0-or-later
// check_vpn_tunnel_up: the options, the typed Config built from them, and
// the run: config -> source (a daemon's control socket or the cloud module)
// -> Observation -> evaluate -> Result.
#include "plugin.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cloud/evaluate_cloud.hpp"
#include "cloud/source_cloud.hpp"
#include "evaluate.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/plugin.hpp"
#include "source_openvpn.hpp"
#include "source_strongswan.hpp"
#include "source_wireguard.hpp"

namespace sitelink::vpn {

namespace {

PluginInfo info()
{
  PluginInfo i;
  i.name = "check_vpn_tunnel_up";
  i.service = "VPN_TUNNEL";
  i.synopsis = "--backend strongswan|openvpn|wireguard [--tunnel NAME]... [-w RANGE] [-c RANGE] "
               "[--stale SECONDS] [--idle-state STATE] [--no-keepalive-state STATE] [--socket URI] "
               "[--management PATH|HOST:PORT] "
               "[--management-password-file PATH] [--interface IF] [--peer-alias NAME=PUBKEY]... "
               "[-t SECONDS[:STATE]] [--runbook ID]";
  i.description = "Checks that the VPN tunnels between sites are up, reading the daemon's control interface "
                  "natively: strongSwan's VICI socket, OpenVPN's management interface or WireGuard's UAPI socket. "
                  "Tunnels are judged as a group: -w/-c are ranges on the number of expected tunnels that are up. "
                  "An expected tunnel the daemon does not have is reported missing and counts as down.";
  i.notes = "Defaults: every configured tunnel is expected (name them with --tunnel to notice one that\n"
            "vanished from the configuration); -c 1: (at least one up) and -w N: with N expected, so lost\n"
            "redundancy is a WARNING. An active/passive pair is -w 1:1 -c 1:.\n"
            "--stale S (off by default) judges silence. strongSwan (CHILD SA use-in and use-out): a tunnel\n"
            "that received nothing for more than S seconds while it sent something after the last inbound\n"
            "packet is stale and does not count as up (a dead path: we send, nothing comes back); silent both\n"
            "ways it is idle: up, 'idle for N s', state --idle-state (default ok; warning or critical where\n"
            "constant traffic is expected). OpenVPN server (client Last Ref) reports no outbound figure: there\n"
            "a client that sent nothing for S seconds is stale, idle or not, so it needs steady traffic (a\n"
            "keepalive ping). WireGuard always judges peers by handshake age, limit 180 s unless --stale is\n"
            "given: a peer with PersistentKeepalive whose handshake is older is stale; without keepalive an\n"
            "idle peer makes no handshakes, so an old handshake gives --no-keepalive-state (default warning)\n"
            "and a hint; a peer that never completed a handshake is down. A missing socket or refused\n"
            "connection is CRITICAL (the daemon is not running).\n"
            "Perfdata: tunnels_up, tunnels_expected and, per tunnel, <name>_up, _in_idle, _bytes_in,\n"
            "_bytes_out (wireguard: _handshake_age; aws: _routes) for up to 20 tunnels while they fit\n"
            "in about 5 KiB; beyond that aggregates only (in_idle_max, handshake_age_max, bytes_in,\n"
            "bytes_out), and line 1 names the tunnels not up within 1 KiB, so that hundreds of\n"
            "tunnels stay within 8 KiB of output.\n"
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

po::options_description cloud_options()
{
  po::options_description o("Cloud options (--backend aws, aws-route, openstack)");
  // clang-format off
  o.add_options()
    ("vpn-connection-id", po::value<std::vector<std::string>>()->value_name("ID"),
       "aws: Site-to-Site VPN connection (repeatable; two tunnels each)")
    ("region", po::value<std::string>()->value_name("REGION"), "aws: region (default AWS_REGION or the profile's)")
    ("profile", po::value<std::string>()->value_name("NAME"), "aws: shared-credentials profile (default AWS_PROFILE)")
    ("role-arn", po::value<std::string>()->value_name("ARN"), "aws: assume this role with STS first")
    ("endpoint-url", po::value<std::string>()->value_name("URL"), "aws: EC2 endpoint instead of AWS's")
    ("route-table-id", po::value<std::string>()->value_name("ID"), "aws-route: VPC route table")
    ("destination", po::value<std::string>()->value_name("CIDR"), "aws-route: on-premises CIDR of the route")
    ("expect-target", po::value<std::string>()->value_name("ID"),
       "aws-route: the route's normal target; another one is a fail-over (WARNING)")
    ("os-cloud", po::value<std::string>()->value_name("NAME"), "openstack: cloud in clouds.yaml (default OS_CLOUD)")
    ("cacert", po::value<std::string>()->value_name("PATH"),
       "aws, openstack: CA bundle for TLS verification (default: AWS_CA_BUNDLE; OS_CACERT or clouds.yaml cacert)")
    ("insecure", po::bool_switch(), "aws, openstack: do not verify TLS certificates");
  // clang-format on
  return o;
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
       "An established tunnel silent for longer is stale (not up); see below")
    ("idle-state", po::value<std::string>()->value_name("STATE"),
       "strongswan, with --stale: state of a tunnel silent both ways (default ok)")
    ("no-keepalive-state", po::value<std::string>()->value_name("STATE"),
       "wireguard: state of a peer without keepalive whose handshake is older than the limit (default warning)")
    ("socket", po::value<std::string>()->value_name("URI"),
       "strongswan: VICI socket (default unix:///var/run/charon.vici); wireguard: UAPI socket path")
    ("management", po::value<std::string>()->value_name("PATH|HOST:PORT"), "openvpn: management interface")
    ("management-password-file", po::value<std::string>()->value_name("PATH"),
       "openvpn: file holding the management password (mode 0600 or 0640)")
    ("interface", po::value<std::string>()->value_name("IF"), "wireguard: interface name (default wg0)")
    ("peer-alias", po::value<std::vector<std::string>>()->value_name("NAME=PUBKEY"),
       "wireguard: name a peer by its public key (repeatable)");
  // clang-format on
  o.add(cloud_options());
  return o;
}

// What one run checks, from the command line (make_config only).
struct Config {
  std::string backend;
  Policy policy;                              // -w, -c, --tunnel, --stale
  Endpoint endpoint;                          // strongswan --socket, openvpn --management
  std::optional<std::string> password_file;   // openvpn
  std::string interface;                      // wireguard
  std::string uapi_socket;                    // wireguard
  std::map<std::string, std::string> aliases; // wireguard: base64 public key -> name
  std::optional<cloud::Request> cloud;        // aws, aws-route, openstack
  std::string expect_target;                  // aws-route
};

const std::initializer_list<std::string_view> backends = {"strongswan", "openvpn",   "wireguard",
                                                          "aws",        "aws-route", "openstack"};
const std::initializer_list<std::string_view> cloud_only = {
    "vpn-connection-id", "region",        "profile",  "role-arn", "endpoint-url", "route-table-id",
    "destination",       "expect-target", "os-cloud", "cacert",   "insecure"};
const std::initializer_list<std::string_view> daemon_only = {
    "stale",     "socket",     "management", "management-password-file",
    "interface", "peer-alias", "idle-state", "no-keepalive-state"};

bool is_cloud_backend(const std::string& backend)
{
  return backend == "aws" || backend == "aws-route" || backend == "openstack";
}

void require_match(const std::string& value, std::string_view option, const std::regex& re, std::string_view expected)
{
  if (!std::regex_match(value, re)) invalid_value(option, value, expected);
}

bool valid_cidr(const std::string& s)
{
  static const std::regex v4(
      R"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}/(3[0-2]|[12]?\d))");
  static const std::regex v6(R"([0-9a-fA-F:]*:[0-9a-fA-F:.]*/(12[0-8]|1[01]\d|[1-9]?\d))");
  return std::regex_match(s, v4) || std::regex_match(s, v6);
}

// ok, warning, critical, unknown or 0-3 (as check_tunnel_traffic's --idle-state).
State state_option(const Options& o, std::string_view name, State fallback)
{
  auto text = o.optional_text(name);
  if (!text) return fallback;
  auto s = parse_state(*text);
  if (!s) invalid_value(name, *text, "ok, warning, critical, unknown or 0-3");
  return *s;
}

// -w, -c, --tunnel and --stale, as every backend reads them.
Policy policy_of(const Options& o)
{
  Policy policy;
  policy.expected = o.list("tunnel");
  for (const auto& t : policy.expected)
    if (t.empty()) invalid_value("tunnel", t, "a tunnel name");
  policy.warn = o.range("warning");
  policy.crit = o.range("critical");
  if (auto stale = o.optional_text("stale")) policy.stale = parse_seconds("stale", *stale);
  policy.idle_state = state_option(o, "idle-state", policy.idle_state);
  policy.no_keepalive_state = state_option(o, "no-keepalive-state", policy.no_keepalive_state);
  return policy;
}

// The options every cloud backend shares (make_config's part for them).
cloud::Request cloud_common(const Options& o)
{
  static const std::regex region("[a-z]{2}(-[a-z0-9]+)+-\\d+");
  static const std::regex url("https?://[^\\s]+");
  static const std::regex arn("arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}");
  cloud::Request req;
  req.region = o.text("region");
  req.profile = o.text("profile");
  req.role_arn = o.text("role-arn");
  req.endpoint_url = o.text("endpoint-url");
  req.cacert = o.text("cacert");
  req.insecure = o.flag("insecure");
  if (!req.region.empty()) require_match(req.region, "region", region, "an AWS region such as eu-west-1");
  if (!req.endpoint_url.empty()) require_match(req.endpoint_url, "endpoint-url", url, "an http:// or https:// URL");
  if (!req.role_arn.empty()) require_match(req.role_arn, "role-arn", arn, "arn:aws:iam::ACCOUNT:role/NAME");
  if (!req.cacert.empty()) readable_file("cacert", req.cacert);
  return req;
}

// --backend aws, aws-route, openstack (make_config's part for them).
cloud::Request cloud_request(const Options& o, const std::string& backend)
{
  static const std::regex vpn_id("vpn-[0-9a-f]{8,17}");
  static const std::regex rtb_id("rtb-[0-9a-f]{8,17}");
  refuse_with_backend(o, backend, daemon_only);
  cloud::Request req = cloud_common(o);
  if (backend == "aws") {
    req.backend = cloud::Backend::Aws;
    refuse_with_backend(o, backend, {"route-table-id", "destination", "expect-target", "os-cloud", "tunnel"});
    req.vpn_connection_ids = o.list("vpn-connection-id");
    if (req.vpn_connection_ids.empty()) throw UsageError("--backend aws needs --vpn-connection-id vpn-...");
    for (const auto& id : req.vpn_connection_ids)
      require_match(id, "vpn-connection-id", vpn_id, "vpn- and 8 or 17 hex digits");
  } else if (backend == "aws-route") {
    req.backend = cloud::Backend::AwsRoute;
    refuse_with_backend(o, backend, {"vpn-connection-id", "os-cloud", "tunnel", "warning", "critical"});
    req.route_table_id = o.text("route-table-id");
    req.destination = o.text("destination");
    if (req.route_table_id.empty() || req.destination.empty())
      throw UsageError("--backend aws-route needs --route-table-id rtb-... and --destination CIDR");
    require_match(req.route_table_id, "route-table-id", rtb_id, "rtb- and 8 or 17 hex digits");
    if (!valid_cidr(req.destination)) invalid_value("destination", req.destination, "a CIDR such as 10.20.0.0/16");
  } else {
    req.backend = cloud::Backend::OpenStack;
    refuse_with_backend(o, backend,
                        {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url", "route-table-id",
                         "destination", "expect-target"});
    req.tunnels = o.list("tunnel");
    req.os_cloud = o.text("os-cloud");
  }
  return req;
}

Endpoint endpoint_of(std::string_view option, const std::string& text, bool allow_bare_host_port)
{
  auto ep = parse_endpoint(text, allow_bare_host_port);
  if (!ep)
    invalid_value(option, text,
                  allow_bare_host_port ? "a socket path or HOST:PORT"
                                       : "unix://PATH, an absolute path or tcp://HOST:PORT");
  return *ep;
}

// --peer-alias NAME=PUBKEY, the key in base64 or hex.
std::map<std::string, std::string> aliases_of(const Options& o)
{
  std::map<std::string, std::string> aliases;
  for (const auto& a : o.list("peer-alias")) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == a.size()) invalid_value("peer-alias", a, "NAME=PUBKEY");
    // Base64 keys end in '=': the name is before the first one.
    std::string key = wireguard::key_to_base64(a.substr(eq + 1));
    if (key.size() != 44 || key.back() != '=')
      invalid_value("peer-alias", a, "NAME=PUBKEY with a 44-character base64 (or 64-digit hex) key");
    aliases[key] = a.substr(0, eq);
  }
  return aliases;
}

// --backend strongswan, openvpn, wireguard (make_config's part for them).
void daemon_config(const Options& o, Config& c)
{
  refuse_with_backend(o, c.backend, cloud_only);
  if (c.backend == "strongswan") {
    refuse_with_backend(o, c.backend,
                        {"management", "management-password-file", "interface", "peer-alias", "no-keepalive-state"});
    c.endpoint = endpoint_of("socket", o.text("socket", "unix:///var/run/charon.vici"), false);
  } else if (c.backend == "openvpn") {
    refuse_with_backend(o, c.backend, {"socket", "interface", "peer-alias", "idle-state", "no-keepalive-state"});
    if (!o.has("management")) throw UsageError("--backend openvpn needs --management PATH or HOST:PORT");
    c.endpoint = endpoint_of("management", o.text("management"), true);
    c.password_file = o.optional_text("management-password-file");
  } else {
    refuse_with_backend(o, c.backend, {"management", "management-password-file", "idle-state"});
    c.interface = o.text("interface", "wg0");
    const auto& i = c.interface;
    if (i.empty() || i.size() > 15 || i.find('/') != std::string::npos || i == "." || i == "..")
      invalid_value("interface", i, "an interface name (at most 15 characters, no '/')");
    c.aliases = aliases_of(o);
    // WireGuard judges peers by handshake age: --stale, else 180 s.
    c.policy.handshake_limit = c.policy.stale ? *c.policy.stale : 180;
    c.policy.stale.reset();
    c.uapi_socket = o.text("socket", "/var/run/wireguard/" + c.interface + ".sock");
  }
}

Config make_config(const Options& o)
{
  if (!o.has("backend"))
    throw UsageError("missing --backend (strongswan, openvpn, wireguard, aws, aws-route or openstack)");
  Config c;
  c.backend = one_of("backend", o.text("backend"), backends);
  c.policy = policy_of(o);
  if (is_cloud_backend(c.backend)) {
    c.cloud = cloud_request(o, c.backend);
    c.expect_target = o.text("expect-target");
  } else {
    daemon_config(o, c);
  }
  return c;
}

// The daemon's answer (or why there was none); an unreadable password file
// is an error before any I/O.
tl::expected<Observation, std::string> observe_daemon(const Config& c, Context& ctx, const Trace& trace)
{
  const double now = ctx.clock().now();
  if (c.backend == "strongswan") {
    ctx.debug(1, "strongswan: VICI socket " + c.endpoint.text());
    return strongswan::read(c.endpoint, ctx.deadline(), trace);
  }
  if (c.backend == "openvpn") {
    std::optional<std::string> password;
    if (c.password_file) {
      auto pw = openvpn::read_password_file(*c.password_file);
      if (!pw) return tl::make_unexpected(pw.error());
      password = std::move(*pw);
    }
    // A point-to-point instance is one tunnel; its name is the one --tunnel
    // gives (or 'openvpn'). In server mode the names are client CNs.
    const auto& expected = c.policy.expected;
    const std::string p2p = expected.size() == 1 ? expected.front() : "openvpn";
    ctx.debug(1, "openvpn: management interface " + c.endpoint.text());
    Observation obs = openvpn::read(c.endpoint, password, p2p, now, ctx.deadline(), trace);
    if (password) explicit_bzero(password->data(), password->size());
    return obs;
  }
  ctx.debug(1, "wireguard: UAPI socket " + c.uapi_socket);
  return wireguard::read(c.uapi_socket, c.interface, now, c.aliases, ctx.deadline(), trace);
}

Result run_cloud(const Config& c, Context& ctx)
{
  cloud::Request req = *c.cloud;
  req.deadline = ctx.deadline();
  req.verbosity = ctx.verbosity();
  auto reply = cloud::ask_module(std::move(req));
  if (!reply) return Result{State::Unknown, reply.error(), {}, {}};
  for (const auto& [level, line] : reply->debug) ctx.debug(level, line);
  if (reply->status == cloud::Reply::Status::TimedOut)
    return Result::timed_out(reply->activity, {sanitize_quote(reply->error, 200)});
  if (c.cloud->backend == cloud::Backend::AwsRoute) return cloud::evaluate_route_reply(*reply, c.expect_target);
  return cloud::judge(*reply, c.policy, ctx.clock().now());
}

Result run(const Config& c, Context& ctx)
{
  if (c.cloud) return run_cloud(c, ctx);
  Trace trace = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
  const double started = ctx.deadline().elapsed();
  auto obs = observe_daemon(c, ctx, trace);
  if (!obs) return Result{State::Unknown, obs.error(), {}, {}};
  ctx.debug(1,
            fmt::format("{}: {} tunnel(s), {} configured", obs->daemon, obs->tunnels.size(), obs->configured.size()));
  ctx.debug(2, fmt::format("connect and exchange took {} ms",
                           format_number(std::round((ctx.deadline().elapsed() - started) * 1e5) / 100)));
  if (obs->timed_out) {
    std::vector<std::string> details{obs->daemon + " at " + obs->endpoint + " gave no complete answer in time"};
    if (!obs->hint.empty()) details.push_back(obs->hint);
    return Result::timed_out(obs->activity, details);
  }
  return evaluate(*obs, c.policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::vpn
