// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend openstack, the pure half: clouds.yaml, the Keystone v3 token
// request and service catalog, and the Neutron VPNaaS ipsec-site-connections
// and vpnservices read without their PSKs.

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "cloud_api.hpp"
#include "host.hpp"

namespace sitelink::vpn::cloud::openstack {

struct Auth {
  std::string auth_url;
  std::string method = "password"; // or "application_credential"
  std::string username, user_id, password, user_domain_name, user_domain_id;
  std::string project_name, project_id, project_domain_name, project_domain_id;
  std::string app_cred_id, app_cred_name, app_cred_secret;
  std::string region;
  std::string interface = "public";
  std::string cacert;
  bool verify = true;
  std::string source; // "clouds.yaml cloud 'x' (/path)" or "OS_* environment"
};

// clouds.yaml: OS_CLIENT_CONFIG_FILE, ./clouds.yaml,
// ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml.
std::vector<std::string> clouds_yaml_paths(const Environment& env);
tl::expected<Auth, std::string> parse_clouds_yaml(std::string_view text, const std::string& cloud,
                                                  const std::string& path);

// The Keystone v3 POST /auth/tokens body.
std::string token_request_body(const Auth& a);
std::string tokens_url(const std::string& auth_url);

// The network endpoint of the token's catalog for the interface and region.
tl::expected<std::string, std::string> network_endpoint(std::string_view token_json, const std::string& interface,
                                                        const std::string& region);

// The message of a Keystone or Neutron error body, sanitised; empty if none.
std::string keystone_message(std::string_view body);

struct Connection {
  std::string id, name, status, vpnservice_id, peer_address;
  std::vector<std::string> peer_cidrs; // empty when the peer is an endpoint group
  std::string peer_ep_group_id;
  bool admin_up = true;
};
struct Service {
  std::string id, name, status, router_id;
};
tl::expected<std::vector<Connection>, std::string> parse_connections(std::string_view json);
tl::expected<std::vector<Service>, std::string> parse_services(std::string_view json);

// ACTIVE up; DOWN, ERROR down; BUILD, PENDING_* (or "PENDING CREATE")
// connecting.
LinkState state_of(std::string_view status);

// Links for the expected connections (`wanted` names or IDs; empty: all),
// with service states and the troubleshooting flag. Connections are told
// apart by ID: a name that several connections carry is shown as
// "name [first 8 of the ID]", and a wanted name matching several judges all
// of them (and says so). Each link's group is the site it reaches: the peer
// CIDRs, else the peer endpoint group, else the peer address.
void fill_reply(Reply& reply, const std::vector<Connection>& conns, const std::vector<Service>& services,
                const std::vector<std::string>& wanted);

// The four things to check when a connection never came up.
std::vector<std::string> checklist(const std::string& name);

} // namespace sitelink::vpn::cloud::openstack
