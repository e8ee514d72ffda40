// SPDX-License-Identifier: GPL-2.0-or-later
// check_vpn_tunnel_up: the options, the typed Config built from them, and
// the run: config -> source (a daemon's control socket or the cloud module)
// -> Observation -> evaluate -> Result.
#include "plugin.hpp"

#include "cli.hpp" // generated from cli.json

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
  if (obs->timed_out)
    return Result::timed_out(obs->activity,
                             {obs->daemon + " at " + obs->endpoint + " gave no complete answer in time"});
  return evaluate(*obs, c.policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::vpn
