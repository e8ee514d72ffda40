// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "check_vpn_tunnel_up/cloud/source_gcp.hpp"
#include "cloud_fakes.hpp"

using namespace sitelink;
using namespace sitelink::vpn::cloud;
using namespace cloudtest;

TEST_CASE("gcp: vpnTunnels list")
{
  auto p = gcp::parse_tunnels(fixture("gcp_vpn_tunnels.json"));
  REQUIRE(p);
  REQUIRE(p->tunnels.size() == 7);
  CHECK(p->tunnels[0].name == "ha-tunnel-0");
  CHECK(p->tunnels[0].gateway == "ha-gw-1");
  CHECK(p->tunnels[0].interface == 0);
  CHECK(p->tunnels[1].interface == 1);
  CHECK(p->tunnels[4].gateway == "classic-gw");
  CHECK_FALSE(p->tunnels[4].interface.has_value());
  CHECK(p->next_page_token.empty());
  auto empty = gcp::parse_tunnels(R"({"kind":"compute#vpnTunnelList"})");
  REQUIRE(empty);
  CHECK(empty->tunnels.empty());
  CHECK_FALSE(gcp::parse_tunnels(R"({"items": 3})"));
  CHECK_FALSE(gcp::parse_tunnels("["));
}

TEST_CASE("gcp: status mapping")
{
  CHECK(gcp::state_of("ESTABLISHED") == LinkState::Up);
  for (const char* s :
       {"FIRST_HANDSHAKE", "NEGOTIATING", "PROVISIONING", "WAITING_FOR_FULL_CONFIG", "ALLOCATING_RESOURCES"})
    CHECK(gcp::state_of(s) == LinkState::Connecting);
  for (const char* s :
       {"NO_INCOMING_PACKETS", "NEGOTIATION_FAILURE", "AUTHORIZATION_ERROR", "PEER_IDENTITY_MISMATCH", "NETWORK_ERROR",
        "FAILED", "REJECTED", "STOPPED", "DEPROVISIONING", "TS_NARROWING_NOT_ALLOWED", "", "SOMETHING_NEW"})
    CHECK(gcp::state_of(s) == LinkState::Down);
}

TEST_CASE("gcp: fill_reply groups HA interfaces and keeps detailedStatus")
{
  auto p = gcp::parse_tunnels(fixture("gcp_vpn_tunnels.json"));
  REQUIRE(p);
  Reply r;
  gcp::fill_reply(r, p->tunnels, {"ha2-tunnel-0", "ha2-tunnel-1", "gone"});
  REQUIRE(r.links.size() == 3);
  CHECK(r.links[1].state == LinkState::Down);
  CHECK(r.links[1].detail.find("NO_INCOMING_PACKETS: No incoming packets from peer.") != std::string::npos);
  CHECK(r.links[2].state == LinkState::Missing);
  REQUIRE(r.summary_notes.size() == 1);
  CHECK(r.summary_notes[0] == "HA gateway ha-gw-2 interface 1 has no tunnel up");
  bool grouped = false;
  for (const auto& n : r.notes) grouped = grouped || n.rfind("HA VPN gateway ha-gw-2: interface 0:", 0) == 0;
  CHECK(grouped);
}

TEST_CASE("gcp: credentials files")
{
  auto k = gcp::parse_key_file(R"({"type":"service_account","client_email":"a@b","private_key":"K",
                                   "private_key_id":"id1"})",
                               "/k.json");
  REQUIRE(k);
  CHECK(k->token_uri == "https://oauth2.googleapis.com/token");
  auto claims = nlohmann::json::parse(gcp::assertion_claims(*k, 1000));
  CHECK(claims["iss"] == "a@b");
  CHECK(claims["aud"] == "https://oauth2.googleapis.com/token");
  CHECK(claims["scope"] == "https://www.googleapis.com/auth/compute.readonly");
  CHECK(claims["exp"] == 4600);
  CHECK(nlohmann::json::parse(gcp::assertion_header(*k))["kid"] == "id1");
  auto ext = gcp::parse_key_file(R"({"type":"external_account"})", "/k.json");
  REQUIRE_FALSE(ext);
  CHECK(ext.error().find("external_account") != std::string::npos);

  FakeEnvironment env;
  FakeFileSystem fs;
  env.vars["HOME"] = "/home/m";
  auto c = gcp::resolve_credentials(env, fs);
  REQUIRE(c);
  CHECK_FALSE(c->key.has_value());
  fs.files["/home/m/.config/gcloud/application_default_credentials.json"] = {
      FileRead::Status::Ok, R"({"type":"authorized_user","client_id":"i","client_secret":"s","refresh_token":"r"})",
      ""};
  c = gcp::resolve_credentials(env, fs);
  REQUIRE(c);
  REQUIRE(c->key.has_value());
  CHECK(c->key->type == "authorized_user");
  env.vars["GOOGLE_APPLICATION_CREDENTIALS"] = "/nowhere.json";
  CHECK_FALSE(gcp::resolve_credentials(env, fs));
  fs.files["/http.json"] = {FileRead::Status::Ok,
                            R"({"type":"service_account","client_email":"a@b","private_key":"K",
                                "token_uri":"http://oauth2.example/token"})",
                            ""};
  env.vars["GOOGLE_APPLICATION_CREDENTIALS"] = "/http.json";
  auto plain = gcp::resolve_credentials(env, fs);
  REQUIRE_FALSE(plain);
  CHECK(plain.error().find("not HTTPS") != std::string::npos);
}

TEST_CASE("gcp: error documents")
{
  CHECK(gcp::error_message(
            R"({"error":{"code":403,"message":"Required 'compute.vpnTunnels.list'","status":"PERMISSION_DENIED"}})") ==
        "403 PERMISSION_DENIED: Required 'compute.vpnTunnels.list'");
  CHECK(gcp::error_message(R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})") ==
        "invalid_grant: Invalid JWT Signature.");
  CHECK(gcp::error_message("nope") == "");
  CHECK(gcp::compute_endpoint(FakeEnvironment{}) == "https://compute.googleapis.com/compute/v1/");
}
