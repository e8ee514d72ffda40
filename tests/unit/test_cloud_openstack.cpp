// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/source_openstack.hpp"
#include "cloud_fakes.hpp"

using namespace sitelink;
using namespace sitelink::vpn::cloud;
using namespace cloudtest;

namespace {
const Deadline budget(10);

const char* clouds = R"(clouds:
  dr:
    auth:
      auth_url: https://keystone.test:5000/v3/
      username: monitor
      password: pw
      project_name: dr
      domain_name: Corp
    region_name: RegionOne
    interface: internal
    cacert: /etc/ssl/os.pem
  app:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://keystone.test:5000
      application_credential_id: ac1
      application_credential_secret: s3
  odd:
    auth_type: token
    auth:
      auth_url: https://k
)";

std::string token_json(const std::string& base)
{
  auto t = fixture("keystone_token.json");
  for (auto p = t.find("{base}"); p != std::string::npos; p = t.find("{base}")) t.replace(p, 6, base);
  return t;
}
} // namespace

TEST_CASE("cloud::openstack::parse_clouds_yaml")
{
  auto a = openstack::parse_clouds_yaml(clouds, "dr", "/c.yaml").value();
  CHECK(a.auth_url == "https://keystone.test:5000/v3/");
  CHECK(a.method == "password");
  CHECK(a.user_domain_name == "Corp");
  CHECK(a.project_domain_name == "Corp");
  CHECK(a.interface == "internal");
  CHECK(a.region == "RegionOne");
  CHECK(a.cacert == "/etc/ssl/os.pem");
  auto b = openstack::parse_clouds_yaml(clouds, "app", "/c.yaml").value();
  CHECK(b.method == "application_credential");
  CHECK(b.app_cred_id == "ac1");
  CHECK(openstack::parse_clouds_yaml(clouds, "odd", "/c.yaml").error().find("not supported") != std::string::npos);
  CHECK(openstack::parse_clouds_yaml(clouds, "none", "/c.yaml").error().find("not found") != std::string::npos);
  CHECK(openstack::parse_clouds_yaml("clouds: [", "dr", "/c.yaml").error().find("malformed YAML") != std::string::npos);
}

TEST_CASE("cloud::openstack::resolve_auth")
{
  FakeEnvironment env;
  FakeFileSystem fs;
  SUBCASE("OS_CLOUD finds the first clouds.yaml; OS_INTERFACE and OS_REGION_NAME win")
  {
    env.vars = {{"HOME", "/h"}, {"OS_CLOUD", "dr"}, {"OS_INTERFACE", "publicURL"}, {"OS_REGION_NAME", "R2"}};
    fs.files["/h/.config/openstack/clouds.yaml"] = FileRead{FileRead::Status::Ok, clouds, {}};
    auto a = openstack::resolve_auth(env, fs, "").value();
    CHECK(a.interface == "public");
    CHECK(a.region == "R2");
    CHECK(a.source.find("/h/.config/openstack/clouds.yaml") != std::string::npos);
  }
  SUBCASE("--os-cloud without any clouds.yaml")
  {
    CHECK(openstack::resolve_auth(env, fs, "dr").error().find("no clouds.yaml") != std::string::npos);
  }
  SUBCASE("a clouds.yaml readable by others is refused")
  {
    env.vars = {{"OS_CLIENT_CONFIG_FILE", "/x.yaml"}};
    fs.files["/x.yaml"] = FileRead{FileRead::Status::Refused, {}, "refusing /x.yaml: mode 0644"};
    CHECK(openstack::resolve_auth(env, fs, "dr").error() == "refusing /x.yaml: mode 0644");
  }
  SUBCASE("OS_* environment")
  {
    env.vars = {{"OS_AUTH_URL", "https://k/v3"},
                {"OS_APPLICATION_CREDENTIAL_ID", "id"},
                {"OS_APPLICATION_CREDENTIAL_SECRET", "s"},
                {"OS_AUTH_TYPE", "v3applicationcredential"}};
    auto a = openstack::resolve_auth(env, fs, "").value();
    CHECK(a.method == "application_credential");
    CHECK(a.interface == "public");
  }
  SUBCASE("incomplete")
  {
    env.vars = {{"OS_AUTH_URL", "https://k/v3"}, {"OS_USERNAME", "u"}};
    CHECK_FALSE(openstack::resolve_auth(env, fs, "").has_value());
    env.vars.clear();
    CHECK(openstack::resolve_auth(env, fs, "").error().find("no OpenStack credentials") != std::string::npos);
  }
}

TEST_CASE("cloud::openstack::tokens_url")
{
  CHECK(openstack::tokens_url("https://k:5000") == "https://k:5000/v3/auth/tokens");
  CHECK(openstack::tokens_url("https://k:5000/v3/") == "https://k:5000/v3/auth/tokens");
}

TEST_CASE("cloud::openstack::token_request_body")
{
  openstack::Auth a;
  a.username = "u";
  a.password = "p";
  a.project_name = "dr";
  auto j = nlohmann::json::parse(openstack::token_request_body(a));
  CHECK(j["auth"]["identity"]["methods"][0] == "password");
  CHECK(j["auth"]["identity"]["password"]["user"]["domain"]["name"] == "Default");
  CHECK(j["auth"]["scope"]["project"]["name"] == "dr");
  a.method = "application_credential";
  a.app_cred_id = "id";
  a.app_cred_secret = "s";
  j = nlohmann::json::parse(openstack::token_request_body(a));
  CHECK(j["auth"]["identity"]["application_credential"]["id"] == "id");
  CHECK_FALSE(j["auth"].contains("scope"));
}

TEST_CASE("cloud::openstack::network_endpoint")
{
  auto t = token_json("https://c");
  CHECK(openstack::network_endpoint(t, "public", "").value() == "https://c/network/");
  CHECK(openstack::network_endpoint(t, "internal", "RegionOne").value() == "https://c/network-internal");
  CHECK(openstack::network_endpoint(t, "public", "RegionTwo").value() == "https://c/network-two");
  CHECK(openstack::network_endpoint(t, "admin", "").error() ==
        "no network endpoint (interface admin) in the service catalog");
  CHECK_FALSE(openstack::network_endpoint(fixture("keystone_token_no_network.json"), "public", "").has_value());
  CHECK(openstack::network_endpoint("{", "public", "").error() == "malformed JSON from Keystone");
}

TEST_CASE("cloud::openstack::state_of")
{
  CHECK(openstack::state_of("ACTIVE") == LinkState::Up);
  CHECK(openstack::state_of("DOWN") == LinkState::Down);
  CHECK(openstack::state_of("ERROR") == LinkState::Down);
  CHECK(openstack::state_of("BUILD") == LinkState::Connecting);
  CHECK(openstack::state_of("PENDING_CREATE") == LinkState::Connecting);
  CHECK(openstack::state_of("PENDING CREATE") == LinkState::Connecting);
  CHECK(openstack::state_of("PENDING_UPDATE") == LinkState::Connecting);
  CHECK(openstack::state_of("whatever") == LinkState::Down);
}

TEST_CASE("cloud::openstack::parse_connections")
{
  auto c = openstack::parse_connections(fixture("neutron_ipsec_site_connections.json")).value();
  REQUIRE(c.size() == 5);
  CHECK(c[0].name == "site-a");
  CHECK(c[0].status == "ACTIVE");
  CHECK(c[0].admin_up);
  CHECK_FALSE(openstack::parse_connections("{\"x\": 1}").has_value());
  CHECK_FALSE(openstack::parse_connections("{not json").has_value());
}

TEST_CASE("cloud::openstack::fill_reply")
{
  auto conns = openstack::parse_connections(fixture("neutron_ipsec_site_connections.json")).value();
  auto svcs = openstack::parse_services(fixture("neutron_vpnservices.json")).value();
  SUBCASE("by name and ID; unknown ones missing")
  {
    Reply r;
    openstack::fill_reply(r, conns, svcs, {"site-a", "7e0b1f44-3a8c-4a64-9d2e-1b7f4b0d2c11", "site-z"});
    REQUIRE(r.links.size() == 3);
    CHECK(r.expected == std::vector<std::string>{"site-a", "site-b", "site-z"});
    CHECK(r.links[0].detail == "status ACTIVE, VPN service vpn-dr ACTIVE, peer 192.0.2.2");
    CHECK(r.links[1].checklist);
    CHECK(r.links[2].state == LinkState::Missing);
    CHECK(std::count(r.notes.begin(), r.notes.end(), "VPN service vpn-dr: ACTIVE") == 1);
  }
  SUBCASE("administratively down is down, without the checklist")
  {
    conns[0].admin_up = false;
    Reply r;
    openstack::fill_reply(r, conns, svcs, {"site-a"});
    CHECK(r.links[0].state == LinkState::Down);
    CHECK_FALSE(r.links[0].checklist);
  }
  SUBCASE("a service that is not ACTIVE goes to the summary")
  {
    Reply r;
    openstack::fill_reply(r, conns, svcs, {"site-c"});
    CHECK(r.summary_notes == std::vector<std::string>{"VPN service vpn-new PENDING_CREATE"});
    CHECK(r.notes.size() == 1 + openstack::checklist("site-c").size());
  }
}

TEST_CASE("cloud::openstack::run")
{
  FakeEnvironment env;
  env.vars = {{"OS_AUTH_URL", "http://k/v3"}, {"OS_USERNAME", "u"}, {"OS_PASSWORD", "p"}, {"OS_PROJECT_NAME", "dr"}};
  FakeFileSystem fs;
  FakeHttp http;
  Request req;
  req.backend = Backend::OpenStack;
  req.tunnels = {"site-a"};
  auto token = ok(token_json("http://n"), 201, {{"X-Subject-Token", "TOK1"}});
  SUBCASE("fields asked, psk never")
  {
    http.on("http://k/v3/auth/tokens", token);
    http.on("http://n/network/v2.0/vpn/ipsec-site-connections", ok(fixture("neutron_ipsec_site_connections.json")));
    http.on("http://n/network/v2.0/vpn/vpnservices", ok(fixture("neutron_vpnservices.json")));
    auto r = openstack::run(req, env, fs, http, budget);
    REQUIRE(r.status == Reply::Status::Ok);
    REQUIRE(http.asked.size() == 3);
    CHECK(http.asked[1].url.find("fields=status") != std::string::npos);
    CHECK(http.asked[1].url.find("psk") == std::string::npos);
    CHECK(http.asked[1].headers.at(0).value == "TOK1");
  }
  SUBCASE("expired token: one re-authentication")
  {
    http.on("http://k/v3/auth/tokens", token);
    http.on("http://n/network/v2.0/vpn/ipsec-site-connections", ok("{}", 401));
    http.on("http://n/network/v2.0/vpn/ipsec-site-connections", ok(fixture("neutron_ipsec_site_connections.json")));
    http.on("http://n/network/v2.0/vpn/vpnservices", ok(fixture("neutron_vpnservices.json")));
    auto r = openstack::run(req, env, fs, http, budget);
    CHECK(r.status == Reply::Status::Ok);
    CHECK(http.asked.size() == 5);
  }
  SUBCASE("still refused after re-authentication")
  {
    http.on("http://k/v3/auth/tokens", token);
    http.on("http://n/network/v2.0/vpn/ipsec-site-connections", ok("{}", 401));
    auto r = openstack::run(req, env, fs, http, budget);
    CHECK(r.status == Reply::Status::Failed);
    CHECK(r.error.find("even after re-authenticating") != std::string::npos);
    CHECK(http.asked.size() == 4);
  }
  SUBCASE("Keystone refuses")
  {
    http.on("http://k/v3/auth/tokens", ok(fixture("keystone_error_401.json"), 401));
    auto r = openstack::run(req, env, fs, http, budget);
    CHECK(r.error == "Keystone refused the password credentials from OS_* environment (HTTP 401): The request you have "
                     "made requires authentication.");
  }
  SUBCASE("Neutron times out")
  {
    http.on("http://k/v3/auth/tokens", token);
    http.on("http://n/", tl::unexpected(HttpError{HttpErrorKind::Timeout, "no answer within 100 ms"}));
    CHECK(openstack::run(req, env, fs, http, budget).status == Reply::Status::TimedOut);
  }
}

TEST_CASE("cloud::openstack::fill_reply identity, sites and routers")
{
  auto conn = [](const std::string& id, const std::string& name, const std::string& status, const std::string& svc,
                 const std::string& cidr) {
    openstack::Connection c;
    c.id = id;
    c.name = name;
    c.status = status;
    c.vpnservice_id = svc;
    if (!cidr.empty()) c.peer_cidrs = {cidr};
    return c;
  };
  const std::vector<openstack::Service> svcs = {
      {"s1", "vpn-a", "ACTIVE", "r1"}, {"s2", "vpn-b", "PENDING_CREATE", "r1"}, {"s3", "vpn-c", "ACTIVE", "r2"}};
  const std::vector<openstack::Connection> conns = {
      conn("11111111-aaaa", "to-office", "ACTIVE", "s1", "10.1.0.0/16"),
      conn("22222222-bbbb", "to-office", "DOWN", "s3", "10.2.0.0/16"),
      conn("33333333-cccc", "to-dc", "ACTIVE", "s3", "10.2.0.0/16"),
  };
  SUBCASE("same-named connections are told apart by a short ID and judged each")
  {
    Reply r;
    openstack::fill_reply(r, conns, svcs, {"to-office"});
    CHECK(r.expected == std::vector<std::string>{"to-office [11111111]", "to-office [22222222]"});
    CHECK(r.summary_notes == std::vector<std::string>{"to-office matches 2 connections, judging each"});
    CHECK(r.links[1].state == LinkState::Down);
  }
  SUBCASE("an ID selects one connection, shown with its name and short ID")
  {
    Reply r;
    openstack::fill_reply(r, conns, svcs, {"22222222-bbbb"});
    CHECK(r.expected == std::vector<std::string>{"to-office [22222222]"});
    CHECK(r.summary_notes.empty());
  }
  SUBCASE("two same-named connections, one DOWN: never OK")
  {
    for (const char* w : {"2:", "1:"}) {
      Reply r;
      r.status = Reply::Status::Ok;
      r.api = "Neutron at http://n";
      openstack::fill_reply(r, conns, svcs, {"to-office"});
      vpn::Policy p;
      p.warn = Range::parse(w).value();
      auto res = judge(r, p, 0);
      // Two sites (10.1/16 and 10.2/16): the DOWN one is its site's only
      // tunnel, so that site is cut off.
      CHECK(res.state == State::Critical);
      CHECK(res.summary.rfind("site 10.2.0.0/16 cut off: 0 of 1 tunnels up", 0) == 0);
    }
    // Same site for both: WARNING by the default ranges, CRITICAL with -c 2:.
    auto same = conns;
    same[1].peer_cidrs = {"10.1.0.0/16"};
    Reply r;
    r.status = Reply::Status::Ok;
    r.api = "Neutron at http://n";
    openstack::fill_reply(r, same, svcs, {"to-office"});
    CHECK(judge(r, {}, 0).state == State::Warning);
    CHECK(judge(r, {}, 0).summary.rfind("1 of 2 tunnels up: to-office [22222222] down (status DOWN", 0) == 0);
    vpn::Policy strict;
    strict.crit = Range::parse("2:").value();
    CHECK(judge(r, strict, 0).state == State::Critical);
  }
  SUBCASE("each link's site: peer CIDRs, else endpoint group, else peer address")
  {
    auto c = conns;
    c[0].peer_cidrs = {"10.9.0.0/16", "10.8.0.0/16"};
    c[1].peer_cidrs.clear();
    c[1].peer_ep_group_id = "abcdef12-3456";
    c[2].peer_cidrs.clear();
    c[2].peer_address = "192.0.2.9";
    Reply r;
    openstack::fill_reply(r, c, svcs, {});
    CHECK(r.links[0].group == "10.8.0.0/16+10.9.0.0/16");
    CHECK(r.links[1].group == "peer group abcdef12");
    CHECK(r.links[2].group == "192.0.2.9");
  }
  SUBCASE("a service not ACTIVE on a router that carries another: the likely cause")
  {
    auto c = conns;
    c[0].vpnservice_id = "s2";
    c[0].status = "PENDING_CREATE";
    Reply r;
    openstack::fill_reply(r, c, svcs, {"11111111-aaaa"});
    CHECK(r.summary_notes ==
          std::vector<std::string>{"VPN service vpn-b PENDING_CREATE (its router also carries VPN service vpn-a: "
                                   "likely cause)"});
    CHECK(std::any_of(r.notes.begin(), r.notes.end(), [](const std::string& n) {
      return n.rfind("VPN service vpn-b is PENDING_CREATE and its router r1 also carries VPN service vpn-a (ACTIVE): "
                     "a router holds one VPN service",
                     0) == 0;
    }));
  }
}

TEST_CASE("cloud::openstack::resolve_auth --os-region")
{
  FakeEnvironment env;
  FakeFileSystem fs;
  env.vars = {{"OS_AUTH_URL", "http://k/v3"},
              {"OS_USERNAME", "u"},
              {"OS_PASSWORD", "p"},
              {"OS_PROJECT_NAME", "dr"},
              {"OS_REGION_NAME", "RegionOne"}};
  CHECK(openstack::resolve_auth(env, fs, "").value().region == "RegionOne");
  CHECK(openstack::resolve_auth(env, fs, "", "RegionTwo").value().region == "RegionTwo");
}
