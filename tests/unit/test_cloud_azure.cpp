// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "check_vpn_tunnel_up/cloud/jwt.hpp"
#include "check_vpn_tunnel_up/cloud/rest.hpp"
#include "check_vpn_tunnel_up/cloud/source_azure.hpp"
#include "cloud_fakes.hpp"

using namespace sitelink;
using namespace sitelink::vpn::cloud;
using namespace cloudtest;

namespace {

std::string connection(const std::string& name)
{
  auto all = nlohmann::json::parse(fixture("azure_connections.json"));
  return all[name].dump();
}

} // namespace

TEST_CASE("azure: connection resource")
{
  auto c = azure::parse_connection(connection("cn-dc1"));
  REQUIRE(c);
  CHECK(c->name == "cn-dc1");
  CHECK(c->status == "Connected");
  CHECK(c->bgp);
  CHECK(c->gateway_id == "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworkGateways/"
                         "vpngw-aa");
  REQUIRE(c->tunnels.size() == 2);
  CHECK(c->tunnels[0].bytes_in == 1048576.0);
  CHECK(c->tunnels[1].status == "Connected");
  CHECK_FALSE(azure::parse_connection("{\"name\": 1}"));
  CHECK_FALSE(azure::parse_connection("not json"));
}

TEST_CASE("azure: connection states and times")
{
  CHECK(azure::state_of("Connected") == LinkState::Up);
  CHECK(azure::state_of("Connecting") == LinkState::Connecting);
  CHECK(azure::state_of("NotConnected") == LinkState::Down);
  CHECK(azure::state_of("Unknown") == LinkState::Down);
  CHECK(azure::state_of("") == LinkState::Down);
  CHECK(azure::parse_time("2026-12-01T08:15:30.1234567Z") == 1796112930.0);
  CHECK(azure::parse_time("12/1/2026 8:15:30 AM") == 1796112930.0);
  CHECK(azure::parse_time("12/1/2026 8:15:30 PM") == 1796112930.0 + 12 * 3600);
  CHECK_FALSE(azure::parse_time("yesterday"));
  CHECK_FALSE(azure::parse_time("2026-13-01T00:00:00Z"));
}

TEST_CASE("azure: fill_reply splits active-active connections and never carries the shared key")
{
  std::vector<azure::Found> found;
  for (const char* n : {"cn-dc1", "cn-down", "cn-aa-half"})
    found.push_back({n, *azure::parse_connection(connection(n))});
  found.push_back({"cn-gone", std::nullopt});
  std::map<std::string, azure::GatewayBgp> bgp;
  bgp[found[0].connection->gateway_id] = {*azure::parse_bgp_peers(fixture("azure_bgp_peer_status.json")), {}};
  Reply r;
  azure::fill_reply(r, found, bgp);
  REQUIRE(r.links.size() == 6);
  CHECK(r.links[0].name == "cn-dc1/vpngw-aa_IN_0_203.0.113.10");
  CHECK(r.links[0].state == LinkState::Up);
  CHECK(r.links[0].since_epoch.has_value());
  CHECK(r.links[2].name == "cn-down");
  CHECK(r.links[2].state == LinkState::Down);
  CHECK(r.links[4].state == LinkState::Down);
  CHECK(r.links[5].state == LinkState::Missing);
  bool bgp_note = false;
  for (const auto& n : r.notes) {
    bgp_note = bgp_note || n.rfind("gateway vpngw-aa: BGP 2 of 2 peer(s) connected", 0) == 0;
    CHECK(n.find("AZURE_PSK_SECRET") == std::string::npos);
  }
  CHECK(bgp_note);
  for (const auto& l : r.links) CHECK(l.detail.find("AZURE_PSK_SECRET") == std::string::npos);
}

TEST_CASE("azure: error documents")
{
  CHECK(azure::arm_message(
            R"({"error":{"code":"ResourceGroupNotFound","message":"Resource group 'x|y' could not be found."}})") ==
        "ResourceGroupNotFound: Resource group 'x y' could not be found.");
  CHECK(azure::arm_code(R"({"error":{"code":"ResourceNotFound"}})") == "ResourceNotFound");
  CHECK(azure::entra_message(
            R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid.\r\nTrace ID: 1"})") ==
        "invalid_client: AADSTS7000215: Invalid.");
  CHECK(azure::entra_message("<html>") == "");
  auto t = azure::parse_token(R"({"access_token":"abc","expires_in":"86399"})");
  REQUIRE(t);
  CHECK(t->expires_in == 86399.0);
  CHECK_FALSE(azure::parse_token(R"({"expires_in":1})"));
}

TEST_CASE("azure: credential chain order")
{
  FakeEnvironment env;
  FakeFileSystem fs;
  auto c = azure::resolve_credential(env, fs);
  REQUIRE(c);
  CHECK(c->kind == azure::Credential::Kind::ManagedIdentity);
  env.vars["AZURE_FEDERATED_TOKEN_FILE"] = "/run/token";
  CHECK_FALSE(azure::resolve_credential(env, fs)); // needs tenant and client
  env.vars["AZURE_TENANT_ID"] = "t";
  env.vars["AZURE_CLIENT_ID"] = "c";
  fs.files["/run/token"] = {FileRead::Status::Ok, "federated\n", ""};
  c = azure::resolve_credential(env, fs);
  REQUIRE(c);
  CHECK(c->kind == azure::Credential::Kind::Workload);
  CHECK(c->secret == "federated");
  env.vars["AZURE_CLIENT_SECRET"] = "s";
  c = azure::resolve_credential(env, fs);
  REQUIRE(c);
  CHECK(c->kind == azure::Credential::Kind::Secret);
  auto form = azure::token_form(*c, azure::endpoints(env), 0);
  REQUIRE(form);
  CHECK(*form == "grant_type=client_credentials&client_id=c&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
                 "&client_secret=s");
  env.vars.erase("AZURE_CLIENT_SECRET");
  env.vars["AZURE_CLIENT_CERTIFICATE_PATH"] = "/etc/cert.pem";
  fs.files["/etc/cert.pem"] = {FileRead::Status::Refused, "", "refusing /etc/cert.pem: mode 0644"};
  auto refused = azure::resolve_credential(env, fs);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("mode 0644") != std::string::npos);
}

TEST_CASE("azure: endpoints from the environment")
{
  FakeEnvironment env;
  auto ep = azure::endpoints(env);
  CHECK(ep.authority == "https://login.microsoftonline.com");
  CHECK(ep.management == "https://management.azure.com");
  CHECK(ep.imds == "http://169.254.169.254");
  env.vars["AZURE_AUTHORITY_HOST"] = "login.microsoftonline.us/";
  CHECK(azure::endpoints(env).authority == "https://login.microsoftonline.us");
}

TEST_CASE("jwt: base64url and Retry-After")
{
  CHECK(jwt::base64url("") == "");
  CHECK(jwt::base64url("f") == "Zg");
  CHECK(jwt::base64url("fo") == "Zm8");
  CHECK(jwt::base64url("foo") == "Zm9v");
  CHECK(jwt::base64url("\xfb\xff") == "-_8");
  CHECK_FALSE(jwt::sign_rs256("{}", "{}", "not a key"));
  CHECK_FALSE(jwt::x5t("not a certificate"));
  CHECK(jwt::random_id().size() == 32);
  CHECK(rest::retry_after_seconds("3") == 3.0);
  CHECK(rest::retry_after_seconds("") == 1.0);
  CHECK(rest::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 1.0);
  CHECK(rest::retry_after_seconds("999") == 60.0);
}
