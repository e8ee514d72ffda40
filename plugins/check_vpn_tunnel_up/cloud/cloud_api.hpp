// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The boundary between check_vpn_tunnel_up and the sitelink_cloud module
// (libcurl, pugixml, yaml-cpp: loaded only for --backend aws, aws-route and
// openstack; see sitelink/module.hpp).
//
// The plugin links libstdc++ statically and the module uses the shared one,
// so two rules hold across this boundary: the entry point is noexcept and
// catches everything (an exception must never unwind from one runtime into
// the other), and only plain data crosses it (strings, vectors, optionals of
// scalars, the Deadline; no virtual classes, no callbacks that throw). Both
// sides allocate through malloc, so handing over std::string and std::vector
// is safe. Any change to these structs must change cloud_abi.

#include <optional>
#include <string>
#include <vector>

#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud {

inline constexpr const char* module_name = "sitelink_cloud";
inline constexpr const char* module_symbol = "sitelink_cloud_module_v1";
// Bumped whenever a struct below changes, so a stale module is refused.
inline constexpr const char* cloud_abi = "sitelink-cloud-8";

enum class Backend { Aws, AwsRoute, OpenStack, Azure, Gcp, AwsEip, Vcd };

struct Request {
  Backend backend = Backend::Aws;
  // The check's own Deadline, copied: its start on the monotonic clock and
  // its budget. The module runs in the same process, so the copy ends at the
  // same instant as the plugin's and the module's requests take their
  // timeouts from it as every source does (a "seconds left" figure would
  // restart the budget when the module starts and lose the time before).
  Deadline deadline{10};
  int verbosity = 0;
  // aws, aws-route
  std::vector<std::string> vpn_connection_ids;
  std::string region;
  std::string profile;
  std::string role_arn;
  std::string endpoint_url;
  std::string route_table_id;
  std::string destination;
  // aws-route: the targets whose tunnels are judged besides the route's
  // own (--expect-target, --standby-target); for a vgw- among them the
  // module reads the gateway's VPN connections.
  std::vector<std::string> route_targets;
  // aws-eip: --public-ip or --allocation-id, and the instances to describe
  std::string public_ip;
  std::string allocation_id;
  std::vector<std::string> instances;
  // openstack
  std::vector<std::string> tunnels; // names or IDs of ipsec-site-connections
  std::string os_cloud;
  std::string os_region; // --os-region: wins over OS_REGION_NAME and clouds.yaml
  // azure: connections by name in one resource group
  std::string subscription;
  std::string resource_group;
  std::vector<std::string> connections;
  // gcp: `tunnels` by name, in `region` of this project
  std::string project;
  // vcd (tunnels: names or IDs of the edge's IPsec tunnels, as openstack)
  std::string edge_gateway;     // name or urn:vcloud:gateway:ID
  std::string api_version;      // --api-version; empty: negotiated
  std::string credentials_file; // --credentials-file; empty: the VCD_* variables
  // every backend
  std::string cacert;
  bool insecure = false;
  // The plugin's watchdog names what the check is doing in its timeout
  // message; the module has its own copy of the runtime, so it reports
  // through this.
  void (*set_activity)(const char* what) noexcept = nullptr;
};

enum class LinkState { Up, Down, Connecting, Missing };

struct Link {
  std::string name;  // aws: <vpn-id>/<outside-ip>; openstack: connection name
  std::string group; // the site: aws: the VPN connection ID; openstack: the peer networks
  LinkState state = LinkState::Down;
  std::optional<double> since_epoch; // when it entered this state
  std::string detail;                // what the API says, without secrets
  bool bgp = false;                  // aws: dynamically routed connection
  std::optional<double> accepted_routes;
  bool checklist = false;          // openstack: print the VPNaaS troubleshooting checklist
  std::optional<double> bytes_in;  // azure: the tunnel's ingress bytes
  std::optional<double> bytes_out; // azure: the tunnel's egress bytes
  std::string gateway;             // aws-route: the virtual private gateway (vgw-...) of the connection
  // Up but impaired (vcd: NSX-T DEGRADED): a WARNING naming this reason.
  std::string warning;
};

struct RouteFinding {
  std::string table_id;
  std::string destination;
  bool found = false;
  std::string state;  // active, blackhole
  std::string target; // igw-..., i-..., eni-..., tgw-...
  std::string origin; // CreateRoute, EnableVgwRoutePropagation, ...
  // Every ID the route names for its target: an instance route carries
  // both instanceId and networkInterfaceId.
  std::vector<std::string> target_ids;
};

// aws-route: the VPN connections of the virtual private gateways among the
// route's targets (DescribeVpnConnections filtered by vpn-gateway-id).
struct GatewayTunnels {
  std::vector<std::string> gateways; // the gateways asked about
  bool read = false;                 // the call answered; Reply::links hold their tunnels
  std::string error;                 // !read: why
  bool timed_out = false;            // !read because the time ran out (Reply::activity says doing what)
};

// aws-eip: DescribeAddresses and DescribeInstances.
struct InstanceInfo {
  std::string id;
  std::string state; // pending, running, stopping, stopped, shutting-down, terminated
  std::string name;  // the Name tag
};
struct AddressFinding {
  bool found = false;
  std::string public_ip;
  std::string allocation_id;
  std::string instance_id;          // empty when not on an instance
  std::string network_interface_id; // the ENI the address is on, if any
  std::vector<InstanceInfo> instances;
};

struct Reply {
  enum class Status { Ok, Failed, TimedOut };
  Status status = Status::Failed;
  std::string error;    // Failed/TimedOut: what went wrong, for the summary
  std::string activity; // TimedOut: what the module was doing (its last step)
  std::string api;      // "AWS EC2 at https://...", "Neutron at https://..."
  std::vector<Link> links;
  std::vector<std::string> expected;      // every tunnel the check expects, by name
  std::vector<std::string> notes;         // long-output facts (connection and service states)
  std::vector<std::string> summary_notes; // short facts for line 1 ("vpn-1 pending")
  std::optional<RouteFinding> route;
  std::optional<GatewayTunnels> gateways;
  std::optional<AddressFinding> address;
  std::vector<std::pair<int, std::string>> debug; // (level, line), secrets already left out
};

struct ModuleTable {
  const char* abi;
  Reply (*run)(const Request& request) noexcept;
};

} // namespace sitelink::vpn::cloud
