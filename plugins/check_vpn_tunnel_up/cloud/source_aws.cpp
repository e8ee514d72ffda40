// SPDX-License-Identifier: GPL-2.0-or-later
// --backend aws: the credential chain (environment, shared files, container,
// IMDSv2), one signed Query API call with its retry, and
// DescribeVpnConnections. parse_aws.cpp reads the replies.
#include "source_aws.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::aws {

namespace {

constexpr const char* sts_version = "2011-06-15";

std::string home(const Environment& env)
{
  return env.get("HOME").value_or("/nonexistent");
}

struct ProfileValues {
  std::map<std::string, std::string> values;
  std::string where;
  bool found = false;
};

// A profile's settings from both shared files; the credentials file wins,
// as in the AWS CLI.
tl::expected<ProfileValues, std::string> read_profile(const Environment& env, const FileSystem& fs,
                                                      const std::string& profile)
{
  ProfileValues out;
  auto conf_path = config_file(env);
  auto conf = fs.read_secret_file(conf_path);
  if (conf.status == FileRead::Status::Refused) return tl::unexpected(conf.error);
  if (conf.status == FileRead::Status::Ok) {
    auto ini = parse_ini(conf.text);
    auto it = ini.find(profile == "default" ? "default" : "profile " + profile);
    if (it == ini.end() && profile == "default") it = ini.find("profile default");
    if (it != ini.end()) {
      out.values = it->second;
      out.where = conf_path;
      out.found = true;
    }
  }
  auto cred_path = credentials_file(env);
  auto cred = fs.read_secret_file(cred_path);
  if (cred.status == FileRead::Status::Refused) return tl::unexpected(cred.error);
  if (cred.status == FileRead::Status::Ok) {
    auto ini = parse_ini(cred.text);
    auto it = ini.find(profile);
    if (it != ini.end()) {
      for (const auto& [k, v] : it->second) out.values[k] = v;
      out.where = cred_path;
      out.found = true;
    }
  }
  return out;
}

std::optional<tl::expected<Credentials, std::string>> container_credentials(const Environment& env,
                                                                            const FileSystem& fs, HttpClient& http,
                                                                            const Deadline& deadline, double now,
                                                                            const Trace& trace)
{
  std::string url;
  if (auto rel = env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) url = "http://169.254.170.2" + *rel;
  else if (auto full = env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) url = *full;
  else return std::nullopt;
  // Plain HTTP only to the container agent or loopback, as the AWS SDKs
  // require: the answer is a set of credentials.
  if (url.rfind("https://", 0) != 0 && !loopback_http(url))
    return tl::unexpected<std::string>("container credentials URI " + outside(url, 100) +
                                       " is neither HTTPS nor a loopback or container-agent address");
  HttpRequest rq;
  rq.url = url;
  rq.max_time = std::chrono::milliseconds(2000);
  std::string token;
  if (auto tf = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    auto f = fs.read_secret_file(*tf);
    if (f.status != FileRead::Status::Ok)
      return tl::unexpected(f.status == FileRead::Status::Missing ? "container token file " + *tf + " not found"
                                                                  : f.error);
    token = trim(f.text);
  } else if (auto t = env.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *t;
  }
  if (!token.empty()) rq.headers.push_back({"Authorization", token});
  trace(1, "aws: container credentials from " + url_origin(url));
  auto rs = http.send(rq, deadline);
  if (!rs) return tl::unexpected<std::string>("container credentials endpoint: " + rs.error().message);
  if (rs->status != 200)
    return tl::unexpected(fmt::format("container credentials endpoint answered HTTP {}", rs->status));
  return credentials_from_json(rs->body, "container credentials", now);
}

tl::expected<Credentials, std::string> imds_credentials(const Environment& env, HttpClient& http,
                                                        const Deadline& deadline, double now, const Trace& trace)
{
  std::string base = env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!base.empty() && base.back() == '/') base.pop_back();
  trace(1, "aws: instance metadata (IMDSv2) at " + url_origin(base));
  // IMDS answers in milliseconds or not at all (not on EC2): short caps so
  // the rest of the budget is left for the real call.
  const auto cap = std::chrono::milliseconds(1000);
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.headers.push_back({"X-aws-ec2-metadata-token-ttl-seconds", "60"});
  put.max_time = cap;
  auto tok = http.send(put, deadline);
  if (!tok) return tl::unexpected<std::string>("IMDS token: " + tok.error().message);
  if (tok->status != 200) return tl::unexpected(fmt::format("IMDS token request answered HTTP {}", tok->status));
  const std::string token = trim(tok->body);
  HttpRequest get;
  get.url = base + "/latest/meta-data/iam/security-credentials/";
  get.headers.push_back({"X-aws-ec2-metadata-token", token});
  get.max_time = cap;
  auto role = http.send(get, deadline);
  if (!role) return tl::unexpected<std::string>("IMDS role: " + role.error().message);
  if (role->status != 200) return tl::unexpected(fmt::format("IMDS: no instance role (HTTP {})", role->status));
  auto name = trim(role->body.substr(0, role->body.find('\n')));
  if (name.empty() || name.find('/') != std::string::npos) return tl::unexpected<std::string>("IMDS: no instance role");
  get.url += name;
  auto cred = http.send(get, deadline);
  if (!cred) return tl::unexpected<std::string>("IMDS credentials: " + cred.error().message);
  if (cred->status != 200) return tl::unexpected(fmt::format("IMDS credentials answered HTTP {}", cred->status));
  return credentials_from_json(cred->body, "instance role " + outside(name, 64) + " (IMDSv2)", now);
}

} // namespace

std::string credentials_file(const Environment& env)
{
  return env.get("AWS_SHARED_CREDENTIALS_FILE").value_or(home(env) + "/.aws/credentials");
}

std::string config_file(const Environment& env)
{
  return env.get("AWS_CONFIG_FILE").value_or(home(env) + "/.aws/config");
}

std::string profile_name(const Environment& env, const std::string& cli_profile)
{
  if (!cli_profile.empty()) return cli_profile;
  return env.get("AWS_PROFILE").value_or("default");
}

tl::expected<std::string, std::string> resolve_region(const Environment& env, const FileSystem& fs,
                                                      const std::string& cli_region, const std::string& cli_profile)
{
  if (!cli_region.empty()) return cli_region;
  if (auto r = env.get("AWS_REGION")) return *r;
  if (auto r = env.get("AWS_DEFAULT_REGION")) return *r;
  auto p = read_profile(env, fs, profile_name(env, cli_profile));
  if (!p) return tl::unexpected(p.error());
  if (auto it = p->values.find("region"); it != p->values.end() && !it->second.empty()) return it->second;
  return tl::unexpected<std::string>("no AWS region: give --region, set AWS_REGION, or set region in the profile");
}

tl::expected<Credentials, std::string> resolve_credentials(const Environment& env, const FileSystem& fs,
                                                           HttpClient& http, const Deadline& deadline,
                                                           const std::string& cli_profile, double now,
                                                           const Trace& trace)
{
  // An explicit --profile means that profile, even if the environment
  // holds other keys (the AWS CLI does the same).
  if (cli_profile.empty()) {
    auto id = env.get("AWS_ACCESS_KEY_ID");
    auto secret = env.get("AWS_SECRET_ACCESS_KEY");
    if (id && secret) {
      trace(1, "aws: credentials from the environment");
      return Credentials{*id, *secret, env.get("AWS_SESSION_TOKEN").value_or(""), "environment", std::nullopt};
    }
    if (id || secret)
      return tl::unexpected<std::string>("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }

  const std::string profile = profile_name(env, cli_profile);
  auto p = read_profile(env, fs, profile);
  if (!p) return tl::unexpected(p.error());
  const bool named = !cli_profile.empty() || env.get("AWS_PROFILE");
  if (p->found) {
    auto get = [&p](const char* k) {
      auto it = p->values.find(k);
      return it == p->values.end() ? std::string() : it->second;
    };
    auto id = get("aws_access_key_id");
    auto secret = get("aws_secret_access_key");
    if (!id.empty() && !secret.empty()) {
      trace(1, "aws: credentials from profile " + profile + " in " + p->where);
      return Credentials{id, secret, get("aws_session_token"), "profile " + profile, std::nullopt};
    }
    if (named)
      return tl::unexpected<std::string>("profile " + profile + " in " + p->where +
                                         " has no aws_access_key_id/aws_secret_access_key");
  } else if (named) {
    return tl::unexpected<std::string>("AWS profile " + profile + " not found in " + credentials_file(env) + " or " +
                                       config_file(env));
  }

  if (auto c = container_credentials(env, fs, http, deadline, now, trace)) return *c;

  auto disabled = env.get("AWS_EC2_METADATA_DISABLED");
  if (disabled && (*disabled == "true" || *disabled == "TRUE" || *disabled == "1"))
    return tl::unexpected<std::string>(
        "no AWS credentials found (environment, shared files, container; IMDS disabled)");
  auto imds = imds_credentials(env, http, deadline, now, trace);
  if (!imds)
    return tl::unexpected<std::string>(
        "no AWS credentials found (environment, shared files, container, IMDS: " + imds.error() + ")");
  return imds;
}

std::string service_endpoint(const Request& req, const Environment& env, const std::string& service,
                             const std::string& region)
{
  std::string upper = service;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (auto e = env.get("AWS_ENDPOINT_URL_" + upper)) return *e;
  if (!req.endpoint_url.empty()) return req.endpoint_url;
  if (auto e = env.get("AWS_ENDPOINT_URL")) return *e;
  return "https://" + service + "." + region + ".amazonaws.com/";
}

tl::expected<std::string, CallError> call(const Session& s, const std::string& url, const std::string& service,
                                          const std::string& region, const Credentials& creds,
                                          const std::string& action, const std::string& form)
{
  HttpRequest rq;
  rq.method = "POST";
  rq.url = url;
  rq.body = "Action=" + action + "&" + form;
  rq.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  rq.aws = AwsSigning{region, service, creds.access_key, creds.secret_key, creds.session_token};
  for (int attempt = 1;; ++attempt) {
    s.activity("calling " + action + " at " + url_origin(url));
    s.debug(1, fmt::format("aws: POST {} to {} (attempt {})", action, url_origin(url), attempt));
    s.debug(3, "aws: request body: " + rq.body);
    const double t0 = s.deadline.elapsed();
    auto rs = s.http.send(rq, s.deadline);
    const double took = s.deadline.elapsed() - t0;
    if (!rs) {
      CallError e;
      e.timed_out = rs.error().kind == HttpErrorKind::Timeout;
      e.text = fmt::format("{} at {}: {}", action, url_origin(url), rs.error().message);
      return tl::unexpected(std::move(e));
    }
    s.debug(2, fmt::format("aws: {} answered HTTP {}, {} bytes in {} ms", action, rs->status, rs->body.size(),
                           static_cast<long>(took * 1000)));
    if (rs->status == 200) return std::move(rs->body);
    CallError e;
    e.api = parse_error(rs->body, rs->status);
    if (!e.api) e.api = ApiError{rs->status, fmt::format("HTTP{}", rs->status), "no error document in the reply"};
    if (rs->status >= 300 && rs->status < 400)
      e.api->message = "redirect to " + outside(rs->header("Location"), 100) + " not followed";
    e.text = fmt::format("{} failed: {}: {}", action, outside(e.api->code, 64), outside(e.api->message));
    if (attempt == 1 && is_retryable(*e.api) && s.can_retry(took)) {
      s.debug(1, "aws: " + e.api->code + ", retrying once");
      s.backoff();
      continue;
    }
    if (is_retryable(*e.api)) e.text += attempt > 1 ? " (after one retry)" : " (no time left to retry)";
    return tl::unexpected(std::move(e));
  }
}

tl::expected<Prepared, CallError> prepare(const Session& s, const Environment& env, const FileSystem& fs, double now)
{
  Trace trace = [&s](int level, const std::string& line) { s.debug(level, line); };
  auto region = resolve_region(env, fs, s.req.region, s.req.profile);
  if (!region) return tl::unexpected(CallError{std::nullopt, region.error(), false});
  s.debug(1, "aws: region " + *region);
  s.activity("looking for AWS credentials");
  auto creds = resolve_credentials(env, fs, s.http, s.deadline, s.req.profile, now, trace);
  if (!creds) return tl::unexpected(CallError{std::nullopt, creds.error(), false});
  if (!s.req.role_arn.empty()) {
    const auto sts = service_endpoint(s.req, env, "sts", *region);
    std::string form = "RoleArn=" + url_encode(s.req.role_arn) + "&RoleSessionName=sitelink-check" +
                       "&DurationSeconds=900&Version=" + sts_version;
    auto body = call(s, sts, "sts", *region, *creds, "AssumeRole", form);
    if (!body) {
      auto e = body.error();
      e.text = "cannot assume role " + outside(s.req.role_arn, 120) + " with " + creds->source + ": " + e.text;
      return tl::unexpected(std::move(e));
    }
    auto assumed = parse_assume_role(*body);
    if (!assumed) return tl::unexpected(CallError{std::nullopt, assumed.error(), false});
    assumed->source = "role " + s.req.role_arn + " assumed with " + creds->source;
    s.debug(1, "aws: assumed role " + s.req.role_arn);
    creds = std::move(*assumed);
  }
  return Prepared{*region, std::move(*creds)};
}

Reply& fail_call(const Session& s, const CallError& e)
{
  s.reply.status = e.timed_out ? Reply::Status::TimedOut : Reply::Status::Failed;
  s.reply.error = e.api && is_auth_error(*e.api) ? "AWS refused the request: " + e.text : e.text;
  return s.reply;
}

tl::expected<Ec2, CallError> open_ec2(const Session& s, const Environment& env, const FileSystem& fs, double now)
{
  auto prep = prepare(s, env, fs, now);
  if (!prep) return tl::unexpected(prep.error());
  Ec2 ec2{std::move(*prep), {}};
  ec2.url = service_endpoint(s.req, env, "ec2", ec2.prep.region);
  s.reply.api = "AWS EC2 at " + url_origin(ec2.url);
  return ec2;
}

tl::expected<std::string, CallError> ec2_call(const Session& s, const Ec2& ec2, const std::string& action,
                                              const std::string& form)
{
  return call(s, ec2.url, "ec2", ec2.prep.region, ec2.prep.creds, action,
              form + (form.empty() ? "" : "&") + "Version=" + ec2_version);
}

Reply run_vpn(const Request& req, const Environment& env, const FileSystem& fs, HttpClient& http,
              const Deadline& deadline, double now)
{
  return with_ec2(req, env, fs, http, deadline, now, [&](const Session& s, const Ec2& ec2) -> Reply& {
    std::vector<std::string> ids = req.vpn_connection_ids;
    std::map<std::string, std::vector<Link>> by_id;
    // A NotFound error names the missing IDs and answers nothing for the
    // others, so ask again without them (at most once per requested ID).
    for (std::size_t round = 0; !ids.empty() && round <= req.vpn_connection_ids.size(); ++round) {
      std::string form;
      for (std::size_t i = 0; i < ids.size(); ++i)
        form += fmt::format("{}VpnConnectionId.{}={}", i == 0 ? "" : "&", i + 1, url_encode(ids[i]));
      auto body = ec2_call(s, ec2, "DescribeVpnConnections", form);
      if (!body) {
        const auto& e = body.error();
        if (e.api && e.api->code == "InvalidVpnConnectionID.NotFound") {
          auto gone = ids_in_message(e.api->message);
          if (gone.empty() && ids.size() == 1) gone = ids;
          std::size_t before = ids.size();
          for (const auto& g : gone) {
            by_id[g] = missing_links(g, "VPN connection " + g + " not found");
            ids.erase(std::remove(ids.begin(), ids.end(), g), ids.end());
          }
          if (ids.size() != before) continue;
        }
        return fail_call(s, e);
      }
      auto conns = parse_vpn_connections(*body);
      if (!conns) return s.fail(conns.error());
      for (const auto& c : *conns) {
        if (std::find(ids.begin(), ids.end(), c.id) == ids.end()) continue;
        by_id[c.id] = links_of(c);
        if (c.state != "available") {
          s.reply.summary_notes.push_back(c.id + " " + outside(c.state, 32));
          s.reply.notes.push_back("VPN connection " + c.id + " is " + outside(c.state, 32) + ", not available");
        }
        s.debug(2, fmt::format("aws: {} state {}, {} routing, {} tunnel(s) in telemetry", c.id, c.state,
                               c.bgp ? "BGP" : "static", c.telemetry.size()));
      }
      for (const auto& id : ids)
        if (by_id.find(id) == by_id.end())
          by_id[id] = missing_links(id, "VPN connection " + id + " not in EC2's answer");
      ids.clear();
    }
    for (const auto& id : req.vpn_connection_ids) {
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;
      for (auto& l : it->second) {
        if (std::find(s.reply.expected.begin(), s.reply.expected.end(), l.name) != s.reply.expected.end()) continue;
        s.reply.expected.push_back(l.name);
        s.reply.links.push_back(std::move(l));
      }
      by_id.erase(it);
    }
    s.reply.status = Reply::Status::Ok;
    return s.reply;
  });
}

} // namespace sitelink::vpn::cloud::aws
