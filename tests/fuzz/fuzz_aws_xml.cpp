// SPDX-License-Identifier: GPL-2.0-or-later
// --backend aws / aws-route / aws-eip: the EC2 and STS Query API XML (error
// bodies, DescribeVpnConnections, AssumeRole, DescribeRouteTables,
// DescribeAddresses, DescribeInstances), timestamps, shared
// config/credentials INI files, then the plugin's judgement.
// Input: the response body (also tried as an INI file and a timestamp).
#include "check_vpn_tunnel_up/cloud/evaluate_cloud.hpp"
#include "check_vpn_tunnel_up/cloud/evaluate_failover.hpp"
#include "check_vpn_tunnel_up/cloud/source_aws.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;
using namespace sitelink::vpn;
using namespace sitelink::vpn::cloud;

namespace {

// Pre-shared keys of the customer gateway configuration (raw or, as EC2
// sends it, XML-escaped inside customerGatewayConfiguration) that occur
// nowhere else in the body: none of them may reach a parsed field.
std::vector<std::string> psks_in(std::string_view body)
{
  std::vector<std::string> keys;
  std::string rest(body);
  for (auto [open, close] : {std::pair<std::string_view, std::string_view>{"<pre_shared_key>", "</pre_shared_key>"},
                             {"&lt;pre_shared_key&gt;", "&lt;/pre_shared_key&gt;"}}) {
    for (std::size_t p = 0; (p = rest.find(open, p)) != std::string::npos;) {
      auto start = p + open.size();
      auto end = rest.find(close, start);
      if (end == std::string::npos) break;
      if (end - start >= 16 && rest.substr(start, end - start).find(' ') == std::string::npos)
        keys.push_back(rest.substr(start, end - start));
      rest.erase(start, end - start);
      p = start;
    }
  }
  std::vector<std::string> out;
  for (auto& k : keys)
    if (rest.find(k) == std::string::npos && sanitize(rest).find(k) == std::string::npos) out.push_back(std::move(k));
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view body = fuzz::as_view(data, size);
  (void)aws::parse_ini(body);
  (void)aws::parse_time(body);
  (void)aws::ids_in_message(body);
  if (auto e = aws::parse_error(body, 400)) {
    (void)aws::is_auth_error(*e);
    (void)aws::is_retryable(*e);
  }
  (void)aws::parse_assume_role(body);

  Reply reply;
  reply.status = Reply::Status::Ok;
  reply.api = "AWS EC2 at https://ec2.example";
  if (auto conns = aws::parse_vpn_connections(body)) {
    for (const auto& c : *conns) {
      auto links = aws::links_of(c);
      reply.links.insert(reply.links.end(), links.begin(), links.end());
      reply.expected.push_back(c.id);
    }
  }
  const auto psks = psks_in(body);
  std::string out = fuzz::render_checked("VPN_TUNNEL", judge(reply, Policy{}, 1.7e9));
  for (const auto& l : reply.links) out += l.name + "\n" + l.group + "\n" + l.detail + "\n";
  for (const auto& k : psks)
    if (out.find(k) != std::string::npos) fuzz::fail("a tunnel pre-shared key reached the output", k);

  if (auto route = aws::parse_route_tables(body, "rtb-0123456789abcdef0", "10.102.0.0/16")) {
    fuzz::render_checked("VPN_TUNNEL", evaluate_route(*route, "vgw-0123456789abcdef0"));
    // The route with the tunnels of the gateways the parsed connections name.
    Reply r = reply;
    r.route = *route;
    r.gateways = GatewayTunnels{};
    r.gateways->read = true;
    for (const auto& l : r.links)
      if (!l.gateway.empty()) r.gateways->gateways.push_back(l.gateway);
    RoutePolicy p;
    p.expect = route->target;
    p.standby = "vgw-0123456789abcdef0";
    fuzz::render_checked("VPN_TUNNEL", evaluate_route_tunnels(r, p, {}));
  }
  if (auto address = aws::parse_addresses(body)) {
    Reply r;
    r.status = Reply::Status::Ok;
    r.address = *address;
    if (auto instances = aws::parse_instances(body)) r.address->instances = *instances;
    fuzz::render_checked("VPN_TUNNEL", evaluate_eip(r, EipPolicy{"198.51.100.10", address->instance_id, "i-1"}));
  }
  (void)aws::parse_instances(body);
  return 0;
}
