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
#include "cloud/evaluate_failover.hpp"
#include "cloud/source_cloud.hpp"
#include "cloud/source_targets.hpp"
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
  std::optional<cloud::Request> cloud;        // aws, aws-route, aws-eip, openstack, azure, gcp
  std::string expect_target;                  // aws-route
  cloud::RoutePolicy route;                   // aws-route: the targets named
  std::vector<cloud::TargetSource> targets;   // aws-route: --target-tunnel
  cloud::EipPolicy eip;                       // aws-eip
  // openvpn with several --management: (server name, endpoint), a pair.
  std::vector<std::pair<std::string, Endpoint>> servers;
};

const std::initializer_list<std::string_view> backends = {"strongswan", "openvpn",   "wireguard", "aws", "aws-route",
                                                          "aws-eip",    "openstack", "azure",     "gcp", "vcd"};
const std::initializer_list<std::string_view> cloud_only = {
    "vpn-connection-id", "region",           "profile",        "role-arn",      "endpoint-url", "route-table-id",
    "destination",       "expect-target",    "standby-target", "target-tunnel", "public-ip",    "allocation-id",
    "expect-instance",   "standby-instance", "os-cloud",       "cacert",        "insecure",     "subscription",
    "resource-group",    "connection",       "project",        "os-region",     "edge-gateway", "api-version",
    "credentials-file"};
// The options of aws-route's and aws-eip's own, refused with the others.
const std::initializer_list<std::string_view> route_only = {"route-table-id", "destination", "expect-target",
                                                            "standby-target", "target-tunnel"};
const std::initializer_list<std::string_view> eip_only = {"public-ip", "allocation-id", "expect-instance",
                                                          "standby-instance"};
const std::initializer_list<std::string_view> vcd_only = {"edge-gateway", "api-version", "credentials-file"};
const std::initializer_list<std::string_view> daemon_only = {
    "stale",     "socket",     "management", "management-password-file",
    "interface", "peer-alias", "idle-state", "no-keepalive-state",
    "group"};

bool is_cloud_backend(const std::string& backend)
{
  return backend == "aws" || backend == "aws-route" || backend == "aws-eip" || backend == "openstack" ||
         backend == "azure" || backend == "gcp" || backend == "vcd";
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
  if (!req.region.empty() && o.text("backend") != "gcp")
    require_match(req.region, "region", region, "an AWS region such as eu-west-1");
  if (!req.endpoint_url.empty()) require_match(req.endpoint_url, "endpoint-url", url, "an http:// or https:// URL");
  if (!req.role_arn.empty()) require_match(req.role_arn, "role-arn", arn, "arn:aws:iam::ACCOUNT:role/NAME");
  if (!req.cacert.empty()) readable_file("cacert", req.cacert);
  return req;
}

// The azure and gcp options, refused with every other backend.
void refuse_provider_options(const Options& o, const std::string& backend)
{
  if (backend != "azure") refuse_with_backend(o, backend, {"subscription", "resource-group", "connection"});
  if (backend != "gcp") refuse_with_backend(o, backend, {"project"});
}

// --backend azure and gcp (make_config's part for them).
cloud::Request provider_request(const Options& o, const std::string& backend, cloud::Request req)
{
  static const std::regex uuid("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");
  static const std::regex group(R"([-\w.()]{0,89}[-\w()])");
  static const std::regex connection(R"(\w([-\w.]{0,78}\w)?)");
  static const std::regex project("([a-z][-a-z0-9.]{2,61}[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]");
  static const std::regex gcp_region("[a-z]+(-[a-z]+)+[0-9]+");
  static const std::regex tunnel("[a-z]([-a-z0-9]{0,61}[a-z0-9])?");
  if (backend == "azure") {
    req.backend = cloud::Backend::Azure;
    refuse_with_backend(
        o, backend,
        {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url", "os-cloud", "os-region", "tunnel"});
    req.subscription = o.text("subscription");
    req.resource_group = o.text("resource-group");
    req.connections = o.list("connection");
    if (req.subscription.empty() || req.resource_group.empty() || req.connections.empty())
      throw UsageError("--backend azure needs --subscription ID, --resource-group NAME and --connection NAME");
    require_match(req.subscription, "subscription", uuid, "a subscription ID (a UUID)");
    require_match(req.resource_group, "resource-group", group, "a resource group name");
    for (const auto& c : req.connections) require_match(c, "connection", connection, "a connection name");
    return req;
  }
  req.backend = cloud::Backend::Gcp;
  refuse_with_backend(o, backend,
                      {"vpn-connection-id", "profile", "role-arn", "endpoint-url", "os-cloud", "os-region"});
  req.project = o.text("project");
  if (req.project.empty() || req.region.empty())
    throw UsageError("--backend gcp needs --project ID and --region REGION");
  require_match(req.project, "project", project, "a project ID");
  require_match(req.region, "region", gcp_region, "a Google Cloud region such as europe-west3");
  req.tunnels = o.list("tunnel");
  for (const auto& t : req.tunnels) require_match(t, "tunnel", tunnel, "a VPN tunnel name");
  return req;
}

// --target-tunnel TARGET=SOURCE: an instance or interface, and its daemon.
std::vector<cloud::TargetSource> target_sources(const Options& o)
{
  static const std::regex target("(i|eni)-[0-9a-f]{8,17}");
  std::vector<cloud::TargetSource> out;
  for (const auto& t : o.list("target-tunnel")) {
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == t.size())
      invalid_value("target-tunnel", t, "TARGET=SOURCE, e.g. i-0123456789abcdef0=10.0.1.5:7505");
    cloud::TargetSource src;
    src.target = t.substr(0, eq);
    if (src.target.rfind("vgw-", 0) == 0)
      invalid_value("target-tunnel", t, "an i- or eni- target (a vgw-'s tunnels are read from EC2 without one)");
    if (!std::regex_match(src.target, target))
      invalid_value("target-tunnel", t, "an i- or eni- target (unknown target type '" + src.target + "')");
    for (const auto& other : out)
      if (other.target == src.target) invalid_value("target-tunnel", t, "each target once");
    const std::string where = t.substr(eq + 1);
    src.vici = where.rfind("unix://", 0) == 0 || where.rfind("tcp://", 0) == 0;
    auto ep = parse_endpoint(where, true);
    if (!ep)
      invalid_value("target-tunnel", t,
                    "TARGET=SOURCE with SOURCE an OpenVPN management PATH or HOST:PORT or a strongSwan "
                    "unix:// or tcp:// URI");
    src.endpoint = *ep;
    out.push_back(std::move(src));
  }
  return out;
}

// --backend aws-route's targets (make_config's part for them).
void route_config(const Options& o, Config& c)
{
  static const std::regex target("(i|eni|vgw)-[0-9a-f]{8,17}");
  c.route.expect = o.text("expect-target");
  c.route.standby = o.text("standby-target");
  c.targets = target_sources(o);
  for (const auto& t : c.targets) c.route.tunnel_targets.push_back(t.target);
  const auto& standby = c.route.standby;
  if (o.has("standby-target")) {
    if (!std::regex_match(standby, target))
      invalid_value("standby-target", standby, "an i-, eni- or vgw- target (unknown target type)");
    if (c.route.expect.empty()) throw UsageError("option '--standby-target' needs --expect-target");
    if (standby == c.route.expect)
      invalid_value("standby-target", standby, "another target than --expect-target (it is the same)");
  }
  if (o.has("management-password-file") &&
      std::none_of(c.targets.begin(), c.targets.end(), [](const cloud::TargetSource& t) { return !t.vici; }))
    throw UsageError("option '--management-password-file' needs an OpenVPN --target-tunnel");
  c.password_file = o.optional_text("management-password-file");
  c.cloud->route_targets = {c.route.expect, standby};
}

// --backend aws-eip (make_config's part for it).
void eip_config(const Options& o, Config& c)
{
  static const std::regex ipv4(R"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})");
  static const std::regex alloc("eipalloc-[0-9a-f]{8,17}");
  static const std::regex instance("i-[0-9a-f]{8,17}");
  auto& req = *c.cloud;
  req.public_ip = o.text("public-ip");
  req.allocation_id = o.text("allocation-id");
  if (req.public_ip.empty() == req.allocation_id.empty())
    throw UsageError("--backend aws-eip needs one of --public-ip IP and --allocation-id eipalloc-...");
  if (!req.public_ip.empty()) require_match(req.public_ip, "public-ip", ipv4, "an IPv4 address");
  if (!req.allocation_id.empty())
    require_match(req.allocation_id, "allocation-id", alloc, "eipalloc- and 8 or 17 hex digits");
  c.eip.address = req.public_ip.empty() ? req.allocation_id : req.public_ip;
  c.eip.expect_instance = o.text("expect-instance");
  c.eip.standby_instance = o.text("standby-instance");
  if (c.eip.expect_instance.empty()) throw UsageError("--backend aws-eip needs --expect-instance i-...");
  require_match(c.eip.expect_instance, "expect-instance", instance, "i- and 8 or 17 hex digits");
  if (o.has("standby-instance")) {
    require_match(c.eip.standby_instance, "standby-instance", instance, "i- and 8 or 17 hex digits");
    if (c.eip.standby_instance == c.eip.expect_instance)
      invalid_value("standby-instance", c.eip.standby_instance,
                    "another instance than --expect-instance (it is the same)");
  }
  req.instances = {c.eip.expect_instance};
  if (!c.eip.standby_instance.empty()) req.instances.push_back(c.eip.standby_instance);
}

// --backend vcd (cloud_request's part for it).
void vcd_request(const Options& o, cloud::Request& req)
{
  static const std::regex version("[1-9][0-9]?\\.[0-9]{1,2}");
  req.backend = cloud::Backend::Vcd;
  refuse_with_backend(o, "vcd",
                      {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url", "os-cloud", "os-region"});
  req.edge_gateway = o.text("edge-gateway");
  if (req.edge_gateway.empty()) throw UsageError("--backend vcd needs --edge-gateway NAME or urn:vcloud:gateway:ID");
  req.tunnels = o.list("tunnel");
  req.api_version = o.text("api-version");
  if (!req.api_version.empty()) require_match(req.api_version, "api-version", version, "an API version such as 38.0");
  req.credentials_file = o.text("credentials-file");
  if (!req.credentials_file.empty()) readable_file("credentials-file", req.credentials_file);
}

// --backend aws, aws-route, aws-eip, openstack, azure, gcp, vcd (make_config's part for them).
cloud::Request cloud_request(const Options& o, const std::string& backend)
{
  static const std::regex vpn_id("vpn-[0-9a-f]{8,17}");
  static const std::regex rtb_id("rtb-[0-9a-f]{8,17}");
  // aws-route reads OpenVPN targets, which may need the management password.
  if (backend == "aws-route")
    refuse_with_backend(
        o, backend, {"stale", "socket", "management", "interface", "peer-alias", "idle-state", "no-keepalive-state"});
  else refuse_with_backend(o, backend, daemon_only);
  refuse_provider_options(o, backend);
  cloud::Request req = cloud_common(o);
  if (backend != "aws-route") refuse_with_backend(o, backend, route_only);
  if (backend != "aws-eip") refuse_with_backend(o, backend, eip_only);
  if (backend != "vcd") refuse_with_backend(o, backend, vcd_only);
  if (backend == "azure" || backend == "gcp") return provider_request(o, backend, std::move(req));
  if (backend == "aws") {
    req.backend = cloud::Backend::Aws;
    refuse_with_backend(o, backend, {"os-cloud", "tunnel", "os-region"});
    req.vpn_connection_ids = o.list("vpn-connection-id");
    if (req.vpn_connection_ids.empty()) throw UsageError("--backend aws needs --vpn-connection-id vpn-...");
    for (const auto& id : req.vpn_connection_ids)
      require_match(id, "vpn-connection-id", vpn_id, "vpn- and 8 or 17 hex digits");
  } else if (backend == "aws-route") {
    req.backend = cloud::Backend::AwsRoute;
    refuse_with_backend(o, backend, {"vpn-connection-id", "os-cloud", "tunnel", "warning", "critical", "os-region"});
    req.route_table_id = o.text("route-table-id");
    req.destination = o.text("destination");
    if (req.route_table_id.empty() || req.destination.empty())
      throw UsageError("--backend aws-route needs --route-table-id rtb-... and --destination CIDR");
    require_match(req.route_table_id, "route-table-id", rtb_id, "rtb- and 8 or 17 hex digits");
    if (!valid_cidr(req.destination)) invalid_value("destination", req.destination, "a CIDR such as 10.20.0.0/16");
  } else if (backend == "aws-eip") {
    req.backend = cloud::Backend::AwsEip;
    refuse_with_backend(o, backend, {"vpn-connection-id", "os-cloud", "os-region", "tunnel", "warning", "critical"});
  } else if (backend == "vcd") {
    vcd_request(o, req);
  } else {
    req.backend = cloud::Backend::OpenStack;
    refuse_with_backend(o, backend, {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url"});
    req.tunnels = o.list("tunnel");
    req.os_cloud = o.text("os-cloud");
    req.os_region = o.text("os-region");
    static const std::regex os_region("[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}");
    if (o.has("os-region")) require_match(req.os_region, "os-region", os_region, "a region name such as RegionOne");
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

// --management [NAME=]ENDPOINT given more than once: the servers of a pair,
// named NAME or by their address. Names must differ (they prefix tunnels).
std::vector<std::pair<std::string, Endpoint>> servers_of(const std::vector<std::string>& list)
{
  static const std::regex named("([A-Za-z0-9_.-]{1,32})=(.+)");
  std::vector<std::pair<std::string, Endpoint>> out;
  for (const auto& text : list) {
    std::smatch m;
    const bool has_name = std::regex_match(text, m, named);
    Endpoint ep = endpoint_of("management", has_name ? m[2].str() : text, true);
    std::string name = has_name ? m[1].str() : ep.text();
    for (const auto& [other, _] : out)
      if (other == name) invalid_value("management", text, "a server name or address not given twice");
    out.emplace_back(std::move(name), std::move(ep));
  }
  return out;
}

// --group SITE=TUNNEL,TUNNEL...: the tunnels it names are the expected ones
// (with --tunnel's); a tunnel belongs to one site only.
void groups_of(const Options& o, Policy& policy)
{
  static const std::regex group("([^=,]{1,64})=([^=,]+(,[^=,]+)*)");
  for (const auto& text : o.list("group")) {
    std::smatch m;
    if (!std::regex_match(text, m, group)) invalid_value("group", text, "SITE=TUNNEL[,TUNNEL...]");
    const std::string site = m[1].str();
    std::string rest = m[2].str();
    for (std::size_t start = 0; start <= rest.size();) {
      auto comma = rest.find(',', start);
      std::string tunnel = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      for (const auto& [known, _] : policy.group_of)
        if (known == tunnel) invalid_value("group", text, "each tunnel in one group only ('" + tunnel + "' twice)");
      policy.group_of.emplace_back(tunnel, site);
      policy.expected.push_back(tunnel);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
}

// --backend strongswan, openvpn, wireguard (make_config's part for them).
void daemon_config(const Options& o, Config& c)
{
  refuse_with_backend(o, c.backend, cloud_only);
  if (c.backend == "strongswan") {
    refuse_with_backend(o, c.backend,
                        {"management", "management-password-file", "interface", "peer-alias", "no-keepalive-state"});
    groups_of(o, c.policy);
    c.endpoint = endpoint_of("socket", o.text("socket", "unix:///var/run/charon.vici"), false);
  } else if (c.backend == "openvpn") {
    refuse_with_backend(o, c.backend,
                        {"socket", "interface", "peer-alias", "idle-state", "no-keepalive-state", "group"});
    if (!o.has("management")) throw UsageError("--backend openvpn needs --management PATH or HOST:PORT");
    const auto management = o.list("management");
    if (management.size() == 1) c.endpoint = endpoint_of("management", management.front(), true);
    else c.servers = servers_of(management);
    c.password_file = o.optional_text("management-password-file");
  } else {
    refuse_with_backend(o, c.backend, {"management", "management-password-file", "idle-state"});
    c.interface = o.text("interface", "wg0");
    const auto& i = c.interface;
    if (i.empty() || i.size() > 15 || i.find('/') != std::string::npos || i == "." || i == "..")
      invalid_value("interface", i, "an interface name (at most 15 characters, no '/')");
    c.aliases = aliases_of(o);
    groups_of(o, c.policy);
    // WireGuard judges peers by handshake age: --stale, else 180 s.
    c.policy.handshake_limit = c.policy.stale ? *c.policy.stale : 180;
    c.policy.stale.reset();
    c.uapi_socket = o.text("socket", "/var/run/wireguard/" + c.interface + ".sock");
  }
}

Config make_config(const Options& o)
{
  if (!o.has("backend"))
    throw UsageError(
        "missing --backend (strongswan, openvpn, wireguard, aws, aws-route, aws-eip, openstack, azure, gcp or vcd)");
  Config c;
  c.backend = one_of("backend", o.text("backend"), backends);
  c.policy = policy_of(o);
  if (is_cloud_backend(c.backend)) {
    c.cloud = cloud_request(o, c.backend);
    c.expect_target = o.text("expect-target");
    if (c.backend == "aws-route") route_config(o, c);
    if (c.backend == "aws-eip") eip_config(o, c);
  } else {
    daemon_config(o, c);
  }
  return c;
}

// An OpenVPN pair: each server read in turn with an equal share of the time
// left, so a black-holed first server leaves the second its share; the
// readings merged into one observation (merge_servers).
Observation observe_pair(const Config& c, const std::optional<std::string>& password, const std::string& p2p,
                         std::vector<std::string>& expected, Context& ctx, const Trace& trace)
{
  std::vector<std::pair<std::string, Observation>> readings;
  const double now = ctx.clock().now();
  for (std::size_t i = 0; i < c.servers.size(); ++i) {
    const auto& [name, ep] = c.servers[i];
    const Deadline share(ctx.deadline().remaining() / static_cast<double>(c.servers.size() - i));
    ctx.debug(1, "openvpn: server " + name + ", management interface " + ep.text());
    readings.emplace_back(name, openvpn::read(ep, password, p2p, now, share, trace));
  }
  return merge_servers(readings, c.policy.expected, expected);
}

// The daemon's answer (or why there was none); an unreadable password file
// is an error before any I/O. `pair_expected` receives the tunnels a pair expects.
tl::expected<Observation, std::string> observe_daemon(const Config& c, Context& ctx, const Trace& trace,
                                                      std::vector<std::string>& pair_expected)
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
    Observation obs;
    if (!c.servers.empty()) {
      obs = observe_pair(c, password, p2p, pair_expected, ctx, trace);
    } else {
      ctx.debug(1, "openvpn: management interface " + c.endpoint.text());
      obs = openvpn::read(c.endpoint, password, p2p, now, ctx.deadline(), trace);
    }
    if (password) explicit_bzero(password->data(), password->size());
    return obs;
  }
  ctx.debug(1, "wireguard: UAPI socket " + c.uapi_socket);
  return wireguard::read(c.uapi_socket, c.interface, now, c.aliases, ctx.deadline(), trace);
}

// aws-route: the route from EC2, then the tunnels of the --target-tunnel
// targets from their daemons (the route's own target first).
Result judge_route(const Config& c, Context& ctx, const cloud::Reply& reply)
{
  std::vector<cloud::TargetTunnel> tunnels;
  if (reply.status == cloud::Reply::Status::Ok && reply.route && !c.targets.empty()) {
    std::optional<std::string> password;
    if (c.password_file) {
      auto pw = openvpn::read_password_file(*c.password_file);
      if (!pw) return Result{State::Unknown, pw.error(), {}, {}};
      password = std::move(*pw);
    }
    Trace trace = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
    tunnels =
        cloud::read_targets(c.targets, reply.route->target_ids, password, ctx.clock().now(), ctx.deadline(), trace);
    if (password) explicit_bzero(password->data(), password->size());
  }
  return cloud::evaluate_route_tunnels(reply, c.route, tunnels);
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
  if (c.cloud->backend == cloud::Backend::AwsRoute) return judge_route(c, ctx, *reply);
  if (c.cloud->backend == cloud::Backend::AwsEip) return cloud::evaluate_eip(*reply, c.eip);
  return cloud::judge(*reply, c.policy, ctx.clock().now());
}

Result run(const Config& c, Context& ctx)
{
  if (c.cloud) return run_cloud(c, ctx);
  Trace trace = [&ctx](int level, const std::string& line) { ctx.debug(level, line); };
  const double started = ctx.deadline().elapsed();
  std::vector<std::string> pair_expected;
  auto obs = observe_daemon(c, ctx, trace, pair_expected);
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
  if (!c.servers.empty() && obs->status == Observation::Status::Read) {
    Policy pair = c.policy;
    pair.expected = pair_expected;
    return evaluate(*obs, pair);
  }
  return evaluate(*obs, c.policy);
}

} // namespace

int main(int argc, const char* const* argv)
{
  return run_plugin(argc, argv, info(), plugin_options(), make_config, run);
}

} // namespace sitelink::vpn
