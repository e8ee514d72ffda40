// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/cloud/source_aws.hpp"
#include "cloud_fakes.hpp"

using namespace sitelink;
using namespace sitelink::vpn::cloud;
using namespace cloudtest;

namespace {
constexpr double now = 1795300000; // 2026-11-21
const Deadline budget(10);

std::string error_xml(const std::string& code, const std::string& message)
{
  auto t = fixture("ec2_error.xml");
  t.replace(t.find("{code}"), 6, code);
  t.replace(t.find("{message}"), 9, message);
  return t;
}

FakeEnvironment env_keys()
{
  FakeEnvironment env;
  env.vars = {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"}, {"HOME", "/home/n"}};
  return env;
}

FileRead file(std::string text)
{
  return FileRead{FileRead::Status::Ok, std::move(text), {}};
}

Request vpn_request(std::vector<std::string> ids)
{
  Request r;
  r.vpn_connection_ids = std::move(ids);
  r.region = "eu-west-1";
  r.endpoint_url = "http://ec2.test/";
  r.verbosity = 3;
  return r;
}
} // namespace

TEST_CASE("cloud::aws::parse_ini")
{
  auto ini = aws::parse_ini("# c\n[default]\naws_access_key_id = A \n; x\n[profile p]\nregion=eu-west-1\nbad line\n");
  CHECK(ini["default"]["aws_access_key_id"] == "A");
  CHECK(ini["profile p"]["region"] == "eu-west-1");
  CHECK(ini.size() == 2);
}

TEST_CASE("cloud::aws::resolve_region")
{
  FakeEnvironment env;
  env.vars["HOME"] = "/h";
  FakeFileSystem fs;
  SUBCASE("command line first")
  {
    CHECK(aws::resolve_region(env, fs, "us-east-1", "").value() == "us-east-1");
  }
  SUBCASE("then AWS_REGION")
  {
    env.vars["AWS_REGION"] = "eu-north-1";
    CHECK(aws::resolve_region(env, fs, "", "").value() == "eu-north-1");
  }
  SUBCASE("then the profile in the config file")
  {
    fs.files["/h/.aws/config"] = file("[profile p]\nregion = ap-south-1\n[default]\nregion = sa-east-1\n");
    CHECK(aws::resolve_region(env, fs, "", "p").value() == "ap-south-1");
    CHECK(aws::resolve_region(env, fs, "", "").value() == "sa-east-1");
  }
  SUBCASE("none")
  {
    CHECK_FALSE(aws::resolve_region(env, fs, "", "").has_value());
  }
}

TEST_CASE("cloud::aws::resolve_credentials")
{
  FakeFileSystem fs;
  FakeHttp http;
  std::vector<std::string> trace;
  Trace tr = [&trace](int, const std::string& l) { trace.push_back(l); };
  SUBCASE("environment, with session token")
  {
    auto env = env_keys();
    env.vars["AWS_SESSION_TOKEN"] = "TOK";
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE(c);
    CHECK(c->access_key == "AKID");
    CHECK(c->session_token == "TOK");
    CHECK(c->source == "environment");
    CHECK(http.asked.empty());
  }
  SUBCASE("half a key pair in the environment is an error")
  {
    FakeEnvironment env;
    env.vars["AWS_ACCESS_KEY_ID"] = "AKID";
    CHECK_FALSE(aws::resolve_credentials(env, fs, http, budget, "", now, tr).has_value());
  }
  SUBCASE("--profile skips the environment and reads the credentials file")
  {
    auto env = env_keys();
    fs.files["/home/n/.aws/credentials"] = file("[p]\naws_access_key_id=PK\naws_secret_access_key=PS\n");
    auto c = aws::resolve_credentials(env, fs, http, budget, "p", now, tr);
    REQUIRE(c);
    CHECK(c->access_key == "PK");
    CHECK(c->source == "profile p");
  }
  SUBCASE("keys in the config file count too; AWS_CONFIG_FILE moves it")
  {
    FakeEnvironment env;
    env.vars = {{"HOME", "/h"}, {"AWS_CONFIG_FILE", "/etc/aws.conf"}, {"AWS_PROFILE", "q"}};
    fs.files["/etc/aws.conf"] = file("[profile q]\naws_access_key_id=QK\naws_secret_access_key=QS\n");
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE(c);
    CHECK(c->access_key == "QK");
  }
  SUBCASE("a named profile that does not exist is an error, not a fall-through")
  {
    FakeEnvironment env;
    env.vars = {{"HOME", "/h"}, {"AWS_PROFILE", "nope"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds"}};
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE_FALSE(c);
    CHECK(c.error().find("profile nope not found") != std::string::npos);
    CHECK(http.asked.empty());
  }
  SUBCASE("a refused file stops the chain")
  {
    FakeEnvironment env;
    env.vars = {{"HOME", "/h"}};
    fs.files["/h/.aws/credentials"] =
        FileRead{FileRead::Status::Refused, {}, "refusing /h/.aws/credentials: mode 0644"};
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE_FALSE(c);
    CHECK(c.error().find("mode 0644") != std::string::npos);
  }
  SUBCASE("container credentials, token from a file")
  {
    FakeEnvironment env;
    env.vars = {{"HOME", "/h"},
                {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/run/tok"}};
    fs.files["/run/tok"] = file("T0K\n");
    http.on("http://127.0.0.1:9/creds",
            ok(R"({"AccessKeyId":"CK","SecretAccessKey":"CS","Token":"CT","Expiration":"2030-01-01T00:00:00Z"})"));
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE(c);
    CHECK(c->access_key == "CK");
    CHECK(c->session_token == "CT");
    REQUIRE(http.asked.size() == 1);
    CHECK(http.asked[0].headers.at(0).value == "T0K");
  }
  SUBCASE("container credentials over plain HTTP to a remote host are refused")
  {
    FakeEnvironment env;
    env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://203.0.113.9/creds"}};
    CHECK_FALSE(aws::resolve_credentials(env, fs, http, budget, "", now, tr).has_value());
    CHECK(http.asked.empty());
  }
  SUBCASE("relative URI goes to the container agent")
  {
    FakeEnvironment env;
    env.vars = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/abc"}};
    http.on("http://169.254.170.2/v2/creds/abc", ok(R"({"AccessKeyId":"CK","SecretAccessKey":"CS"})"));
    CHECK(aws::resolve_credentials(env, fs, http, budget, "", now, tr).has_value());
  }
  SUBCASE("expired credentials are refused")
  {
    FakeEnvironment env;
    env.vars = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds"}};
    http.on("http://127.0.0.1:9/creds",
            ok(R"({"AccessKeyId":"CK","SecretAccessKey":"CS","Expiration":"2020-01-01T00:00:00Z"})"));
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE_FALSE(c);
    CHECK(c.error().find("expired") != std::string::npos);
  }
  SUBCASE("IMDSv2: token, role, credentials, with short caps")
  {
    FakeEnvironment env;
    env.vars = {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://imds/"}};
    http.on("http://imds/latest/api/token", ok("TOKEN"));
    http.on("http://imds/latest/meta-data/iam/security-credentials/", ok("role1\n"));
    http.on("http://imds/latest/meta-data/iam/security-credentials/role1",
            ok(R"({"AccessKeyId":"IK","SecretAccessKey":"IS","Token":"IT"})"));
    // The more specific route must win: register it first.
    std::swap(http.routes[1], http.routes[2]);
    auto c = aws::resolve_credentials(env, fs, http, budget, "", now, tr);
    REQUIRE(c);
    CHECK(c->access_key == "IK");
    REQUIRE(http.asked.size() == 3);
    CHECK(http.asked[0].method == "PUT");
    CHECK(http.asked[1].headers.at(0).value == "TOKEN");
    for (const auto& a : http.asked) CHECK(a.max_time.value() <= std::chrono::milliseconds(1000));
  }
  SUBCASE("IMDS disabled")
  {
    FakeEnvironment env;
    env.vars = {{"AWS_EC2_METADATA_DISABLED", "true"}};
    CHECK_FALSE(aws::resolve_credentials(env, fs, http, budget, "", now, tr).has_value());
    CHECK(http.asked.empty());
  }
}

TEST_CASE("cloud::aws::parse_error")
{
  auto e = aws::parse_error(error_xml("AuthFailure", "nope"), 401);
  REQUIRE(e);
  CHECK(e->code == "AuthFailure");
  CHECK(e->message == "nope");
  CHECK(aws::is_auth_error(*e));
  auto sts = fixture("sts_error.xml");
  sts.replace(sts.find("{code}"), 6, "AccessDenied");
  sts.replace(sts.find("{message}"), 9, "no");
  CHECK(aws::parse_error(sts, 403)->code == "AccessDenied");
  CHECK_FALSE(aws::parse_error("<oops", 500).has_value());
  CHECK(aws::is_retryable(aws::ApiError{503, "RequestLimitExceeded", ""}));
  CHECK(aws::is_retryable(aws::ApiError{400, "Throttling", ""}));
  CHECK_FALSE(aws::is_retryable(aws::ApiError{400, "InvalidParameterValue", ""}));
}

TEST_CASE("cloud::aws::parse_time")
{
  CHECK(aws::parse_time("1970-01-01T00:01:00.000Z").value() == 60);
  CHECK(aws::parse_time("2026-11-20T08:00:00Z").value() == 1795161600);
  CHECK(aws::parse_time("1970-01-01T01:00:00+01:00").value() == 0);
  CHECK_FALSE(aws::parse_time("yesterday").has_value());
  CHECK_FALSE(aws::parse_time("2026-13-01T00:00:00Z").has_value());
}

TEST_CASE("cloud::aws::parse_vpn_connections")
{
  auto conns = aws::parse_vpn_connections(fixture("ec2_describe_vpn_connections.xml"));
  REQUIRE(conns);
  REQUIRE(conns->size() == 5);
  const auto& c1 = (*conns)[0];
  CHECK(c1.id == "vpn-0a1b2c3d4e5f60001");
  CHECK(c1.state == "available");
  CHECK(c1.bgp);
  REQUIRE(c1.telemetry.size() == 2);
  CHECK(c1.telemetry[0].outside_ip == "203.0.113.11");
  CHECK(c1.telemetry[0].status == "UP");
  CHECK(c1.telemetry[0].accepted_routes.value() == 5);
  CHECK(c1.telemetry[0].last_change.value() == 1795161600);
  CHECK_FALSE((*conns)[1].bgp);
  CHECK((*conns)[4].state == "pending");
  SUBCASE("malformed")
  {
    auto bad = aws::parse_vpn_connections("<DescribeVpnConnectionsResponse><vpnConnectionSet><item>");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().find("malformed XML") != std::string::npos);
    CHECK_FALSE(aws::parse_vpn_connections("<Other/>").has_value());
  }
}

TEST_CASE("cloud::aws::links_of")
{
  auto conns = aws::parse_vpn_connections(fixture("ec2_describe_vpn_connections.xml")).value();
  SUBCASE("one down")
  {
    auto l = aws::links_of(conns[1]);
    REQUIRE(l.size() == 2);
    CHECK(l[0].name == "vpn-0a1b2c3d4e5f60002/203.0.113.21");
    CHECK(l[0].state == LinkState::Up);
    CHECK(l[1].state == LinkState::Down);
    CHECK(l[1].detail == "IPSEC IS DOWN");
  }
  SUBCASE("pending connection: tunnels connecting")
  {
    auto l = aws::links_of(conns[4]);
    CHECK(l[0].state == LinkState::Connecting);
    CHECK(l[0].detail.find("connection pending") != std::string::npos);
  }
  SUBCASE("deleted connection: tunnels down even if UP")
  {
    auto c = conns[0];
    c.state = "deleted";
    CHECK(aws::links_of(c)[0].state == LinkState::Down);
  }
  SUBCASE("missing telemetry")
  {
    auto c = conns[0];
    c.telemetry.resize(1);
    auto l = aws::links_of(c);
    REQUIRE(l.size() == 2);
    CHECK(l[1].state == LinkState::Missing);
    CHECK(l[1].name == "vpn-0a1b2c3d4e5f60001/tunnel2");
  }
  SUBCASE("the customer gateway configuration never reaches a link")
  {
    for (const auto& c : conns)
      for (const auto& l : aws::links_of(c)) CHECK(l.detail.find("PSK_SECRET") == std::string::npos);
  }
}

TEST_CASE("cloud::aws::ids_in_message")
{
  CHECK(aws::ids_in_message("The vpnConnection ID 'vpn-0a1b2c3d4e5f6ffff', 'vpn-12345678' does not exist") ==
        std::vector<std::string>{"vpn-0a1b2c3d4e5f6ffff", "vpn-12345678"});
  CHECK(aws::ids_in_message("nothing").empty());
}

TEST_CASE("cloud::aws::parse_route_tables")
{
  auto xml = fixture("ec2_describe_route_tables.xml");
  auto f = aws::parse_route_tables(xml, "rtb-0123456789abcdef0", "10.101.0.0/16").value();
  CHECK(f.found);
  CHECK(f.state == "active");
  CHECK(f.target == "i-0aaaaaaaaaaaaaaa1");
  CHECK(f.origin == "CreateRoute");
  auto b = aws::parse_route_tables(xml, "rtb-0123456789abcdef0", "10.103.0.0/16").value();
  CHECK(b.state == "blackhole");
  CHECK(b.target == "i-0ccccccccccccccc3");
  CHECK(aws::parse_route_tables(xml, "rtb-0123456789abcdef0", "172.31.0.0/16").value().target == "local");
  CHECK_FALSE(aws::parse_route_tables(xml, "rtb-0123456789abcdef0", "10.9.0.0/16").value().found);
  CHECK_FALSE(aws::parse_route_tables(xml, "rtb-0000000000000000f", "10.9.0.0/16").has_value());
}

TEST_CASE("cloud::aws::run_vpn")
{
  auto env = env_keys();
  FakeFileSystem fs;
  FakeHttp http;
  SUBCASE("signed POST with a form body, PSKs never in the reply")
  {
    http.on("http://ec2.test/", ok(fixture("ec2_describe_vpn_connections.xml")));
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f60001"}), env, fs, http, budget, now);
    REQUIRE(r.status == Reply::Status::Ok);
    REQUIRE(http.asked.size() == 1);
    CHECK(http.asked[0].method == "POST");
    CHECK(http.asked[0].body ==
          "Action=DescribeVpnConnections&VpnConnectionId.1=vpn-0a1b2c3d4e5f60001&Version=2016-11-15");
    REQUIRE(http.asked[0].aws);
    CHECK(http.asked[0].aws->service == "ec2");
    CHECK(http.asked[0].aws->region == "eu-west-1");
    CHECK(r.expected.size() == 2);
    for (const auto& [lvl, line] : r.debug) CHECK(line.find("PSK_SECRET") == std::string::npos);
  }
  SUBCASE("NotFound: that connection missing, the others asked again")
  {
    http.on("http://ec2.test/", ok(error_xml("InvalidVpnConnectionID.NotFound",
                                             "The vpnConnection ID 'vpn-0a1b2c3d4e5f6ffff' does not exist"),
                                   400));
    http.on("http://ec2.test/", ok(fixture("ec2_describe_vpn_connections.xml")));
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f6ffff", "vpn-0a1b2c3d4e5f60002"}), env, fs, http, budget, now);
    REQUIRE(r.status == Reply::Status::Ok);
    REQUIRE(http.asked.size() == 2);
    CHECK(http.asked[1].body.find("ffff") == std::string::npos);
    REQUIRE(r.links.size() == 4);
    CHECK(r.links[0].state == LinkState::Missing);
    CHECK(r.links[0].name == "vpn-0a1b2c3d4e5f6ffff/tunnel1");
    CHECK(r.links[2].name == "vpn-0a1b2c3d4e5f60002/203.0.113.21");
  }
  SUBCASE("throttling retried once, then reported")
  {
    http.on("http://ec2.test/", ok(error_xml("RequestLimitExceeded", "slow down"), 503));
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f60001"}), env, fs, http, budget, now);
    CHECK(r.status == Reply::Status::Failed);
    CHECK(http.asked.size() == 2);
    CHECK(r.error.find("RequestLimitExceeded: slow down (after one retry)") != std::string::npos);
  }
  SUBCASE("no retry when the budget is spent")
  {
    http.on("http://ec2.test/", ok(error_xml("InternalError", "x"), 500));
    const Deadline tiny(0.3);
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f60001"}), env, fs, http, tiny, now);
    CHECK(http.asked.size() == 1);
    CHECK(r.error.find("no time left to retry") != std::string::npos);
  }
  SUBCASE("auth errors name AWS's code and message")
  {
    http.on("http://ec2.test/", ok(error_xml("AuthFailure", "AWS was not able to validate"), 401));
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f60001"}), env, fs, http, budget, now);
    CHECK(r.status == Reply::Status::Failed);
    CHECK(r.error ==
          "AWS refused the request: DescribeVpnConnections failed: AuthFailure: AWS was not able to validate");
    CHECK(http.asked.size() == 1);
  }
  SUBCASE("a timeout is reported as such")
  {
    http.on("http://ec2.test/", tl::unexpected(HttpError{HttpErrorKind::Timeout, "no answer within 9800 ms"}));
    auto r = aws::run_vpn(vpn_request({"vpn-0a1b2c3d4e5f60001"}), env, fs, http, budget, now);
    CHECK(r.status == Reply::Status::TimedOut);
  }
  SUBCASE("assume role first, then call with the role's credentials")
  {
    auto xml = fixture("sts_assume_role.xml");
    for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{{"{role_arn}", "arn:aws:iam::1:role/r"},
                                                                        {"{access_key}", "ASIAROLE"},
                                                                        {"{secret_key}", "RS"},
                                                                        {"{session_token}", "RT"},
                                                                        {"{expiration}", "2030-01-01T00:00:00Z"}})
      xml.replace(xml.find(k), k.size(), v);
    auto req = vpn_request({"vpn-0a1b2c3d4e5f60001"});
    req.role_arn = "arn:aws:iam::1:role/r";
    env.vars["AWS_ENDPOINT_URL_STS"] = "http://sts.test/";
    http.on("http://sts.test/", ok(xml));
    http.on("http://ec2.test/", ok(fixture("ec2_describe_vpn_connections.xml")));
    auto r = aws::run_vpn(req, env, fs, http, budget, now);
    REQUIRE(r.status == Reply::Status::Ok);
    REQUIRE(http.asked.size() == 2);
    CHECK(http.asked[0].aws->service == "sts");
    CHECK(http.asked[0].body.find("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr") == 0);
    CHECK(http.asked[1].aws->access_key == "ASIAROLE");
    CHECK(http.asked[1].aws->session_token == "RT");
  }
}
