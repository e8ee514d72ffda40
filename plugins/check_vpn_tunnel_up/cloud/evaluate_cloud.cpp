// SPDX-License-Identifier: GPL-2.0-or-later
#include "cloud_backend.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/module.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud {

namespace {

const char* const cloud_only[] = {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url",
                                  "route-table-id", "destination", "expect-target", "os-cloud", "cacert"};
const char* const daemon_only[] = {"stale", "socket", "management", "management-password-file", "interface",
                                   "peer-alias"};

std::vector<std::string> strings(const Context& ctx, const char* name)
{
  return ctx.get<std::vector<std::string>>(name, {});
}

std::string text(const Context& ctx, const char* name)
{
  return ctx.get<std::string>(name, "");
}

void refuse(const Context& ctx, const std::string& backend, std::initializer_list<const char*> names)
{
  for (const char* n : names)
    if (ctx.has(n)) throw UsageError(fmt::format("option '--{}' does not apply to --backend {}", n, backend));
}

void require_match(const std::string& value, const char* option, const std::regex& re, const char* expected)
{
  if (!std::regex_match(value, re))
    throw UsageError(fmt::format("invalid value '{}' for option '--{}': expected {}", sanitize_quote(value, 80), option,
                                 expected));
}

bool valid_cidr(const std::string& s)
{
  static const std::regex v4(R"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}/(3[0-2]|[12]?\d))");
  static const std::regex v6(R"([0-9a-fA-F:]*:[0-9a-fA-F:.]*/(12[0-8]|1[01]\d|[1-9]?\d))");
  return std::regex_match(s, v4) || std::regex_match(s, v6);
}

Request request_of(const Context& ctx, const std::string& backend)
{
  static const std::regex vpn_id("vpn-[0-9a-f]{8,17}");
  static const std::regex rtb_id("rtb-[0-9a-f]{8,17}");
  static const std::regex region("[a-z]{2}(-[a-z0-9]+)+-\\d+");
  static const std::regex url("https?://[^\\s]+");
  static const std::regex arn("arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]{1,512}");

  Request req;
  for (const char* n : daemon_only)
    if (ctx.has(n)) throw UsageError(fmt::format("option '--{}' does not apply to --backend {}", n, backend));
  req.region = text(ctx, "region");
  req.profile = text(ctx, "profile");
  req.role_arn = text(ctx, "role-arn");
  req.endpoint_url = text(ctx, "endpoint-url");
  req.cacert = text(ctx, "cacert");
  req.insecure = ctx.get<bool>("insecure", false);
  if (!req.region.empty()) require_match(req.region, "region", region, "an AWS region such as eu-west-1");
  if (!req.endpoint_url.empty()) require_match(req.endpoint_url, "endpoint-url", url, "an http:// or https:// URL");
  if (!req.role_arn.empty()) require_match(req.role_arn, "role-arn", arn, "arn:aws:iam::ACCOUNT:role/NAME");
  if (!req.cacert.empty() && ::access(req.cacert.c_str(), R_OK) != 0)
    throw UsageError("cannot read the file given to option '--cacert': " + sanitize_quote(req.cacert, 120));

  if (backend == "aws") {
    req.backend = Backend::Aws;
    refuse(ctx, backend, {"route-table-id", "destination", "expect-target", "os-cloud", "tunnel"});
    req.vpn_connection_ids = strings(ctx, "vpn-connection-id");
    if (req.vpn_connection_ids.empty()) throw UsageError("--backend aws needs --vpn-connection-id vpn-...");
    for (const auto& id : req.vpn_connection_ids)
      require_match(id, "vpn-connection-id", vpn_id, "vpn- and 8 or 17 hex digits");
  } else if (backend == "aws-route") {
    req.backend = Backend::AwsRoute;
    refuse(ctx, backend, {"vpn-connection-id", "os-cloud", "tunnel", "warning", "critical"});
    req.route_table_id = text(ctx, "route-table-id");
    req.destination = text(ctx, "destination");
    if (req.route_table_id.empty() || req.destination.empty())
      throw UsageError("--backend aws-route needs --route-table-id rtb-... and --destination CIDR");
    require_match(req.route_table_id, "route-table-id", rtb_id, "rtb- and 8 or 17 hex digits");
    if (!valid_cidr(req.destination))
      throw UsageError("invalid value '" + sanitize_quote(req.destination, 80) +
                       "' for option '--destination': expected a CIDR such as 10.20.0.0/16");
  } else {
    req.backend = Backend::OpenStack;
    refuse(ctx, backend, {"vpn-connection-id", "region", "profile", "role-arn", "endpoint-url", "route-table-id",
                          "destination", "expect-target"});
    req.tunnels = strings(ctx, "tunnel");
    for (const auto& t : req.tunnels)
      if (t.empty()) throw UsageError("empty name for option '--tunnel'");
    req.os_cloud = text(ctx, "os-cloud");
  }
  req.verbosity = ctx.verbosity();
  return req;
}

TunnelState tunnel_state(LinkState s)
{
  switch (s) {
  case LinkState::Up: return TunnelState::Up;
  case LinkState::Down: return TunnelState::Down;
  case LinkState::Connecting: return TunnelState::Connecting;
  case LinkState::Missing: return TunnelState::Missing;
  }
  return TunnelState::Down;
}

std::string daemon_of(const Reply& reply)
{
  auto at = reply.api.find(" at ");
  return at == std::string::npos ? reply.api : reply.api.substr(0, at);
}

} // namespace

po::options_description options()
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

bool is_cloud_backend(const std::string& backend)
{
  return backend == "aws" || backend == "aws-route" || backend == "openstack";
}

Observation observation_of(const Reply& reply, double now)
{
  Observation obs;
  obs.daemon = daemon_of(reply);
  auto at = reply.api.find(" at ");
  obs.endpoint = at == std::string::npos ? std::string() : reply.api.substr(at + 4);
  obs.status = reply.status == Reply::Status::Ok ? Observation::Status::Read : Observation::Status::Failed;
  obs.error = reply.error;
  for (const auto& l : reply.links) {
    Tunnel t;
    t.name = l.name;
    t.state = tunnel_state(l.state);
    if (l.since_epoch && now >= *l.since_epoch) t.since = now - *l.since_epoch;
    t.detail = l.detail;
    obs.tunnels.push_back(std::move(t));
  }
  obs.configured = reply.expected;
  return obs;
}

Result judge(const Reply& reply, Policy policy, double now)
{
  policy.expected = reply.expected;
  policy.stale.reset();
  policy.handshake_limit.reset();
  auto obs = observation_of(reply, now);
  Result r = evaluate(obs, policy);
  if (reply.status != Reply::Status::Ok) {
    r.state = State::Unknown;
    r.summary = sanitize_quote(reply.error, 400);
    return r;
  }
  std::vector<std::string> extra;
  for (const auto& l : reply.links) {
    if (!l.bgp) continue;
    r.perfdata.push_back({l.name + "_routes", l.accepted_routes, Uom::None, {}, {}, 0.0, {}});
    if (l.state == LinkState::Up && l.accepted_routes && *l.accepted_routes == 0) {
      extra.push_back(sanitize_quote(l.name, 64) + " up but no routes");
      r.details.push_back(sanitize_quote(l.name, 64) +
                          ": BGP session up but 0 routes accepted; traffic cannot use this tunnel");
      if (r.state == State::Ok || r.state == State::Unknown) r.state = State::Warning;
    }
  }
  for (const auto& n : reply.summary_notes) extra.push_back(n);
  if (!extra.empty()) {
    std::string joined;
    for (const auto& e : extra) joined += (joined.empty() ? "" : ", ") + e;
    r.summary += "; " + joined;
  }
  for (const auto& n : reply.notes) r.details.push_back(n);
  return r;
}

Result evaluate_route(const RouteFinding& route, const std::string& expect_target)
{
  Result r;
  const std::string dest = sanitize_quote(route.destination, 64);
  const std::string table = sanitize_quote(route.table_id, 64);
  const std::string target = sanitize_quote(route.target, 64);
  const bool active = route.found && route.state == "active";
  std::optional<double> on_expected;
  if (!expect_target.empty() && route.found) on_expected = active && route.target == expect_target ? 1.0 : 0.0;
  if (!route.found) {
    r.state = State::Critical;
    r.summary = fmt::format("no route to {} in {}", dest, table);
  } else if (route.state == "blackhole") {
    r.state = State::Critical;
    r.summary = fmt::format("route to {} in {} is a blackhole: target {} is gone", dest, table,
                            target.empty() ? "?" : target);
  } else if (!active) {
    r.state = State::Critical;
    r.summary = fmt::format("route to {} in {} is {}, not active (target {})", dest, table,
                            sanitize_quote(route.state, 32), target);
  } else if (!expect_target.empty() && route.target != expect_target) {
    r.state = State::Warning;
    r.summary = fmt::format("route to {} failed over to {} (expected {})", dest, target,
                            sanitize_quote(expect_target, 64));
  } else {
    r.state = State::Ok;
    r.summary = fmt::format("route to {} in {} active via {}", dest, table, target);
  }
  if (route.found)
    r.details.push_back(fmt::format("{} in {}: state {}, target {}, origin {}", dest, table,
                                    sanitize_quote(route.state, 32), target.empty() ? "?" : target,
                                    route.origin.empty() ? "?" : sanitize_quote(route.origin, 64)));
  r.perfdata.push_back({"route_active", active ? 1.0 : 0.0, Uom::None, {}, {}, 0.0, 1.0});
  r.perfdata.push_back({"route_on_expected_target", on_expected, Uom::None, {}, {}, 0.0, 1.0});
  return r;
}

std::optional<Result> dispatch(Context& ctx, const std::string& backend, const Policy& policy)
{
  if (!is_cloud_backend(backend)) {
    for (const char* n : cloud_only)
      if (ctx.has(n)) throw UsageError(fmt::format("option '--{}' does not apply to --backend {}", n, backend));
    if (ctx.get<bool>("insecure", false))
      throw UsageError("option '--insecure' does not apply to --backend " + backend);
    return std::nullopt;
  }
  Request req = request_of(ctx, backend);
  const std::string expect_target = text(ctx, "expect-target");

  void* sym = nullptr;
  {
    Activity act("loading the cloud backend module");
    auto loaded = load_module_symbol(module_name, module_symbol);
    if (!loaded) return Result{State::Unknown, loaded.error(), {}, {}};
    sym = *loaded;
  }
  auto entry = reinterpret_cast<sitelink_cloud_module_fn>(sym);
  const ModuleTable* table = entry();
  if (table == nullptr || std::string_view(table->abi) != cloud_abi)
    return Result{State::Unknown,
                  fmt::format("backend module {} is from another build (ABI {}, expected {})", module_name,
                              table != nullptr ? table->abi : "?", cloud_abi),
                  {},
                  {}};
  req.budget = ctx.deadline().remaining();
  req.set_activity = [](const char* what) noexcept { watchdog::set_activity(what); };
  Reply reply = table->run(req);
  for (const auto& [level, line] : reply.debug) ctx.debug(level, line);

  if (reply.status == Reply::Status::TimedOut) {
    Result r;
    r.state = ctx.timeout().state;
    r.summary = fmt::format("timed out after {} s while {}", format_number(ctx.timeout().seconds),
                            watchdog::activity());
    r.details.push_back(sanitize_quote(reply.error, 200));
    return r;
  }
  if (req.backend == Backend::AwsRoute) {
    if (reply.status != Reply::Status::Ok || !reply.route) {
      Result r{State::Unknown, sanitize_quote(reply.error, 400), {}, {}};
      r.perfdata.push_back({"route_active", std::nullopt, Uom::None, {}, {}, 0.0, 1.0});
      r.perfdata.push_back({"route_on_expected_target", std::nullopt, Uom::None, {}, {}, 0.0, 1.0});
      return r;
    }
    return evaluate_route(*reply.route, expect_target);
  }
  return judge(reply, policy, ctx.clock().now());
}

} // namespace sitelink::vpn::cloud
