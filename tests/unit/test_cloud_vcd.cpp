// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/source_vcd.hpp"
#include "cloud_fakes.hpp"

using namespace sitelink;
using namespace sitelink::vpn::cloud;
using namespace cloudtest;

namespace {
const Deadline budget(10);

std::string versions_with(std::initializer_list<const char*> vs)
{
  std::string x = R"(<?xml version="1.0"?><SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">)";
  for (const auto* v : vs) x += std::string("<VersionInfo><Version>") + v + "</Version></VersionInfo>";
  return x + "</SupportedVersions>";
}

vcd::TunnelConf conf(const char* id, const char* name, bool enabled = true)
{
  return {id, name, enabled, "203.0.113.10", "198.51.100.1"};
}
} // namespace

TEST_CASE("cloud::vcd::negotiate_version")
{
  SUBCASE("the highest supported version within the range")
  {
    CHECK(vcd::negotiate_version(fixture("vcd_api_versions.xml")).value() == "39.1");
    CHECK(vcd::negotiate_version(versions_with({"33.0", "36.0", "37.2"})).value() == "37.2");
  }
  SUBCASE("too old a Cloud Director is named with its newest version")
  {
    auto e = vcd::negotiate_version(versions_with({"29.0", "32.0"})).error();
    CHECK(e.find("up to 32.0") != std::string::npos);
  }
  SUBCASE("malformed")
  {
    CHECK(!vcd::negotiate_version("<a>"));
    CHECK(!vcd::negotiate_version(versions_with({"x.y"})));
  }
  CHECK(vcd::version_less("9.0", "33.0"));
  CHECK(vcd::version_less("38.0", "38.1"));
  CHECK(!vcd::version_less("39.1", "39.1"));
  CHECK(!vcd::version_less("a", "1.0"));
}

TEST_CASE("cloud::vcd::auth_of")
{
  vcd::CredentialFields f;
  f.url = "https://vcd.example.com/api/";
  f.org = "live";
  f.api_token = "t";
  auto a = vcd::auth_of(f, "env").value();
  CHECK(a.base == "https://vcd.example.com");
  CHECK(a.token());
  CHECK(!a.provider());
  f.sysorg = "System";
  CHECK(vcd::auth_of(f, "env").value().provider());
  f.api_token.clear();
  CHECK(vcd::auth_of(f, "env").error().find("give an API token") != std::string::npos);
  f.url = "vcd.example.com";
  CHECK(vcd::auth_of(f, "env").error().find("https://HOST/api") != std::string::npos);
}

TEST_CASE("cloud::vcd::basic_auth")
{
  vcd::Auth a;
  a.user = "monitor";
  a.org = "live";
  a.password = "pw";
  CHECK(vcd::basic_auth(a) == "Basic bW9uaXRvckBsaXZlOnB3"); // base64("monitor@live:pw")
  a.password = "p";
  CHECK(vcd::basic_auth(a) == "Basic bW9uaXRvckBsaXZlOnA=");
}

TEST_CASE("cloud::vcd::parse_credentials_json")
{
  auto f = vcd::parse_credentials_json(R"({"url":"https://v/api","org":"o","user":"u","password":"p"})", "/f").value();
  CHECK(f.user == "u");
  CHECK(f.password == "p");
  CHECK(!vcd::parse_credentials_json("[]", "/f"));
  CHECK(vcd::parse_token_file(R"({"refresh_token":"r"})", "/t").value() == "r");
  CHECK(!vcd::parse_token_file("{}", "/t"));
}

TEST_CASE("cloud::vcd::api_error")
{
  CHECK(vcd::api_error(fixture("vcd_error_401.json")).rfind("UNAUTHORIZED - Either no", 0) == 0);
  CHECK(vcd::api_error(R"({"error":"invalid_grant","error_description":"bad"})") == "invalid_grant - bad");
  CHECK(vcd::api_error(R"(<Error minorErrorCode="NOT_FOUND" message="gone|x"/>)") == "NOT_FOUND - gone x");
  CHECK(vcd::api_error("garbage").empty());
}

TEST_CASE("cloud::vcd::parse_edges")
{
  auto e = vcd::parse_edges(fixture("vcd_edge_gateways.json")).value();
  REQUIRE(e.size() == 4);
  CHECK(e[0].name == "edge-live");
  CHECK(e[0].type == "NSXT_BACKED");
  CHECK(e[1].type == "NSXV_BACKED");
  CHECK(vcd::edge_uuid(e[1].id) == "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c60");
  CHECK(vcd::parse_edges(R"({"id":"urn:vcloud:gateway:1","name":"one"})").value().size() == 1);
  CHECK(!vcd::parse_edges(R"({"values":3})"));
}

TEST_CASE("cloud::vcd::parse_tunnel_page")
{
  auto p = vcd::parse_tunnel_page(
               R"({"page":2,"pageCount":3,"values":[{"id":"a","name":"x","enabled":false,
               "remoteEndpoint":{"remoteAddress":"192.0.2.1"},"preSharedKey":"SECRET"}]})")
               .value();
  CHECK(p.page == 2);
  CHECK(p.page_count == 3);
  REQUIRE(p.tunnels.size() == 1);
  CHECK(!p.tunnels[0].enabled);
  CHECK(p.tunnels[0].remote_address == "192.0.2.1");
  CHECK(!vcd::parse_tunnel_page("{}"));
}

TEST_CASE("cloud::vcd::next_page")
{
  CHECK(
      vcd::next_page(R"(<https://h/x?page=3>;rel="lastPage";type="a", <https://h/x?page=2>;rel="nextPage";type="a")") ==
      "https://h/x?page=2");
  CHECK(vcd::next_page(R"(<https://h/x?page=3>;rel="lastPage")").empty());
  CHECK(vcd::next_page("<unterminated").empty());
}

TEST_CASE("cloud::vcd::fill_nsxt")
{
  std::vector<vcd::TunnelConf> t = {conf("1", "up"),  conf("2", "down"),       conf("3", "deg"),
                                    conf("4", "neg"), conf("5", "off", false), conf("6", "unk")};
  std::map<std::string, vcd::TunnelStatus> st = {{"1", {"UP", "UP", ""}},
                                                 {"2", {"DOWN", "DOWN", "Authentication failed"}},
                                                 {"3", {"DEGRADED", "UP", ""}},
                                                 {"4", {"DOWN", "NEGOTIATING", ""}},
                                                 {"6", {"UNKNOWN", "", ""}}};
  SUBCASE("every enabled tunnel by default, each state mapped")
  {
    Reply r;
    vcd::fill_nsxt(r, t, st, {});
    REQUIRE(r.links.size() == 5);
    CHECK(r.links[0].state == LinkState::Up);
    CHECK(r.links[1].state == LinkState::Down);
    CHECK(r.links[1].detail.find("Authentication failed") != std::string::npos);
    CHECK(r.links[2].state == LinkState::Up);
    CHECK(r.links[2].warning == "degraded (IKE up, not every IPsec SA up)");
    CHECK(r.links[3].state == LinkState::Connecting);
    CHECK(r.links[4].state == LinkState::Down);
    CHECK(r.links[4].name == "unk");
  }
  SUBCASE("a named disabled tunnel is down, a named unknown one missing")
  {
    Reply r;
    vcd::fill_nsxt(r, t, st, {"off", "6", "nope"});
    REQUIRE(r.links.size() == 3);
    CHECK(r.links[0].detail.rfind("disabled in Cloud Director", 0) == 0);
    CHECK(!r.links[0].checklist);
    CHECK(r.links[1].name == "unk");
    CHECK(r.links[2].state == LinkState::Missing);
    CHECK(r.expected == std::vector<std::string>{"off", "unk", "nope"});
  }
  SUBCASE("degraded judged as WARNING")
  {
    Reply r;
    r.status = Reply::Status::Ok;
    r.api = "Cloud Director at https://v";
    vcd::fill_nsxt(r, t, st, {"deg"});
    auto res = judge(r, vpn::Policy{}, 1.7e9);
    CHECK(res.state == State::Warning);
    CHECK(res.summary == "1 of 1 tunnels up; deg degraded (IKE up, not every IPsec SA up)");
  }
}

TEST_CASE("cloud::vcd::parse_nsxv_statistics")
{
  auto sites = vcd::parse_nsxv_statistics(fixture("vcd_nsxv_ipsec_statistics.xml")).value();
  REQUIRE(sites.size() == 3);
  CHECK(sites[0].peer_id == "dr-site");
  CHECK(sites[0].tunnels.size() == 2);
  CHECK(sites[1].channel_status == "down");
  CHECK(sites[1].tunnels[0].failure == "IKE SA not established: no response from peer");
  CHECK(!vcd::parse_nsxv_statistics("<other/>"));
  Reply r;
  vcd::fill_nsxv(r, sites, {});
  REQUIRE(r.links.size() == 3);
  CHECK(r.links[0].state == LinkState::Up);
  CHECK(r.links[1].state == LinkState::Down);
  CHECK(r.links[1].checklist);
  CHECK(r.links[2].state == LinkState::Up);
  CHECK(r.links[2].warning.rfind("degraded: 1 of 2 tunnels down", 0) == 0);
}

TEST_CASE("cloud::vcd::checklist")
{
  auto c = vcd::checklist("t", "Authentication failed");
  CHECK(c[1].find("pre-shared key") != std::string::npos);
  CHECK(vcd::checklist("t", "Peer not responding")[1].find("does not answer") != std::string::npos);
  CHECK(vcd::checklist("t", "").size() == 7);
}

TEST_CASE("cloud::vcd::resolve_auth")
{
  FakeEnvironment env;
  FakeFileSystem fs;
  CHECK(vcd::resolve_auth(env, fs, "").error().find("no Cloud Director credentials") != std::string::npos);
  env.vars = {{"VCD_URL", "https://v/api"}, {"VCD_ORG", "live"}, {"VCD_API_TOKEN_FILE", "/t.json"}};
  fs.files["/t.json"] = {FileRead::Status::Ok, R"({"refresh_token":"rt"})", ""};
  CHECK(vcd::resolve_auth(env, fs, "").value().api_token == "rt");
  fs.files["/t.json"] = {FileRead::Status::Refused, "", "refusing /t.json: mode 0644"};
  CHECK(vcd::resolve_auth(env, fs, "").error() == "refusing /t.json: mode 0644");
  fs.files["/c.json"] = {FileRead::Status::Ok, R"({"url":"https://w/api","org":"o","user":"u","password":"p"})", ""};
  auto a = vcd::resolve_auth(env, fs, "/c.json").value();
  CHECK(a.base == "https://w");
  CHECK(a.source == "credentials file /c.json");
}

TEST_CASE("cloud::vcd::run")
{
  FakeEnvironment env;
  env.vars = {{"VCD_URL", "https://v/api"}, {"VCD_ORG", "live"}, {"VCD_API_TOKEN", "rt"}};
  FakeFileSystem fs;
  FakeHttp http;
  Request req;
  req.backend = Backend::Vcd;
  req.edge_gateway = "edge-live";
  req.tunnels = {"live-to-dr"};
  http.on("https://v/api/versions", ok(fixture("vcd_api_versions.xml")));
  http.on("https://v/oauth/tenant/live/token", ok(R"({"access_token":"AT"})"));
  http.on("https://v/cloudapi/1.0.0/edgeGateways?", ok(fixture("vcd_edge_gateways.json")));
  http.on("https://v/cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:6f3c1b7e-0d2a-4c55-9a0e-3b8e1f2d4a10/ipsec/"
          "tunnels?",
          ok(R"({"page":1,"pageCount":1,"values":[{"id":"t1","name":"live-to-dr","enabled":true}]})"));
  http.on("https://v/cloudapi/1.0.0/edgeGateways/urn:vcloud:gateway:6f3c1b7e-0d2a-4c55-9a0e-3b8e1f2d4a10/ipsec/"
          "tunnels/t1/status",
          ok(R"({"tunnelStatus":"UP","ikeStatus":{"ikeServiceStatus":"UP"}})"));
  http.on("https://v/cloudapi/1.0.0/sessions/current", ok("", 204));
  SUBCASE("one check: versions, token, edge, one page, one status, logout")
  {
    auto r = vcd::run(req, env, fs, http, budget);
    CHECK(r.status == Reply::Status::Ok);
    REQUIRE(r.links.size() == 1);
    CHECK(r.links[0].state == LinkState::Up);
    REQUIRE(http.asked.size() == 6);
    CHECK(http.asked[1].body == "grant_type=refresh_token&refresh_token=rt");
    CHECK(http.asked[2].headers[0].value == "application/json;version=39.1");
    CHECK(http.asked[2].headers[1].value == "Bearer AT");
    CHECK(http.asked[5].method == "DELETE");
  }
  SUBCASE("throttled once, then answered")
  {
    http.routes.insert(http.routes.begin(), {"https://v/cloudapi/1.0.0/edgeGateways?", {ok("", 429)}});
    http.routes[0].second.push_back(ok(fixture("vcd_edge_gateways.json")));
    auto r = vcd::run(req, env, fs, http, budget);
    CHECK(r.status == Reply::Status::Ok);
    CHECK(http.asked.size() == 7);
  }
}
