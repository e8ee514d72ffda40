// SPDX-License-Identifier: GPL-2.0-or-later
// The pure half of --backend aws and aws-route: the shared files' INI, the
// EC2/STS Query API's XML, credential JSON, and the tunnels and route they
// describe. No I/O here; source_aws.cpp and source_aws_route.cpp do it.
#include "parse_aws.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::aws {

namespace {

std::string text_of(const pugi::xml_node& n, const char* child)
{
  return trim(n.child(child).text().as_string());
}

} // namespace

std::string trim(std::string_view s)
{
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return std::string(s);
}

tl::expected<Credentials, std::string> credentials_from_json(std::string_view body, const std::string& source,
                                                             double now)
{
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(source + " returned malformed JSON");
  auto str = [&j](const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  Credentials c;
  c.access_key = str("AccessKeyId");
  c.secret_key = str("SecretAccessKey");
  c.session_token = str("Token");
  c.source = source;
  if (c.access_key.empty() || c.secret_key.empty())
    return tl::unexpected(source + " returned no AccessKeyId/SecretAccessKey");
  if (auto exp = str("Expiration"); !exp.empty()) {
    c.expiration = parse_time(exp);
    if (c.expiration && *c.expiration <= now)
      return tl::unexpected(source + " returned credentials that expired at " + outside(exp, 40));
  }
  return c;
}

bool loopback_http(std::string_view url)
{
  for (const char* p :
       {"http://127.", "http://localhost", "http://[::1]", "http://169.254.170.2", "http://169.254.170.23"})
    if (url.rfind(p, 0) == 0) return true;
  return false;
}

Ini parse_ini(std::string_view text)
{
  Ini ini;
  std::string section;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = trim(text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(std::string_view(line).substr(1, line.size() - 2));
      ini[section];
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    ini[section][trim(std::string_view(line).substr(0, eq))] = trim(std::string_view(line).substr(eq + 1));
  }
  return ini;
}

std::optional<ApiError> parse_error(std::string_view xml, long http)
{
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return std::nullopt;
  auto err = doc.select_node("//Error").node();
  if (!err) return std::nullopt;
  ApiError e;
  e.http = http;
  e.code = text_of(err, "Code");
  e.message = text_of(err, "Message");
  if (e.code.empty()) return std::nullopt;
  return e;
}

bool is_auth_error(const ApiError& e)
{
  static const char* codes[] = {"AuthFailure",
                                "UnauthorizedOperation",
                                "SignatureDoesNotMatch",
                                "InvalidClientTokenId",
                                "ExpiredToken",
                                "RequestExpired",
                                "AccessDenied",
                                "OptInRequired",
                                "MissingAuthenticationToken",
                                "IncompleteSignature",
                                "Blocked",
                                "InvalidAccessKeyId"};
  for (const char* c : codes)
    if (e.code == c) return true;
  return e.http == 401 || e.http == 403;
}

bool is_retryable(const ApiError& e)
{
  return e.http >= 500 || e.code == "Throttling" || e.code == "ThrottlingException" ||
         e.code == "RequestLimitExceeded" || e.code == "InternalError" || e.code == "ServiceUnavailable";
}

std::optional<double> parse_time(std::string_view text)
{
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  // Only UTC ("Z" or +00:00) is what the APIs send; an offset is applied.
  double offset = 0;
  auto tpos = t.find('T');
  auto zone = t.find_first_of("Z+-", tpos);
  if (zone != std::string::npos && t[zone] != 'Z') {
    int oh = 0, om = 0;
    if (std::sscanf(t.c_str() + zone + 1, "%2d:%2d", &oh, &om) >= 1)
      offset = (t[zone] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
  }
  return utc_seconds(y, mo, d, h, mi, s) - offset;
}

tl::expected<std::vector<VpnConnection>, std::string> parse_vpn_connections(std::string_view xml)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from EC2 ({} at byte {})", ok.description(), ok.offset));
  auto root = doc.child("DescribeVpnConnectionsResponse");
  if (!root) return tl::unexpected<std::string>("unexpected reply from EC2: no DescribeVpnConnectionsResponse");
  std::vector<VpnConnection> out;
  for (auto item : root.child("vpnConnectionSet").children("item")) {
    VpnConnection c;
    c.id = text_of(item, "vpnConnectionId");
    c.state = text_of(item, "state");
    c.type = text_of(item, "type");
    c.gateway = text_of(item, "vpnGatewayId");
    auto opts = item.child("options");
    c.bgp = !opts || trim(opts.child("staticRoutesOnly").text().as_string()) != "true";
    for (auto t : item.child("vgwTelemetry").children("item")) {
      Telemetry tel;
      tel.outside_ip = text_of(t, "outsideIpAddress");
      tel.status = text_of(t, "status");
      tel.last_change = parse_time(text_of(t, "lastStatusChange"));
      tel.message = text_of(t, "statusMessage");
      if (auto n = parse_number(text_of(t, "acceptedRouteCount"))) tel.accepted_routes = *n;
      c.telemetry.push_back(std::move(tel));
    }
    out.push_back(std::move(c));
  }
  return out;
}

tl::expected<Credentials, std::string> parse_assume_role(std::string_view xml)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from STS ({} at byte {})", ok.description(), ok.offset));
  auto c = doc.child("AssumeRoleResponse").child("AssumeRoleResult").child("Credentials");
  Credentials out;
  out.access_key = text_of(c, "AccessKeyId");
  out.secret_key = text_of(c, "SecretAccessKey");
  out.session_token = text_of(c, "SessionToken");
  out.expiration = parse_time(text_of(c, "Expiration"));
  if (out.access_key.empty() || out.secret_key.empty() || out.session_token.empty())
    return tl::unexpected<std::string>("unexpected reply from STS AssumeRole: no credentials");
  return out;
}

tl::expected<RouteFinding, std::string> parse_route_tables(std::string_view xml, const std::string& table_id,
                                                           const std::string& destination)
{
  pugi::xml_document doc;
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from EC2 ({} at byte {})", ok.description(), ok.offset));
  auto root = doc.child("DescribeRouteTablesResponse");
  if (!root) return tl::unexpected<std::string>("unexpected reply from EC2: no DescribeRouteTablesResponse");
  RouteFinding f;
  f.table_id = table_id;
  f.destination = destination;
  bool table = false;
  for (auto t : root.child("routeTableSet").children("item")) {
    if (text_of(t, "routeTableId") != table_id) continue;
    table = true;
    for (auto r : t.child("routeSet").children("item")) {
      auto dest = text_of(r, "destinationCidrBlock");
      if (dest.empty()) dest = text_of(r, "destinationIpv6CidrBlock");
      if (dest != destination) continue;
      f.found = true;
      f.state = text_of(r, "state");
      f.origin = text_of(r, "origin");
      f.target.clear();
      f.target_ids.clear();
      for (const char* k : {"instanceId", "networkInterfaceId", "gatewayId", "transitGatewayId", "natGatewayId",
                            "vpcPeeringConnectionId", "carrierGatewayId", "localGatewayId", "coreNetworkArn"}) {
        auto v = text_of(r, k);
        if (v.empty()) continue;
        if (f.target.empty()) f.target = v;
        f.target_ids.push_back(v);
      }
    }
  }
  if (!table) return tl::unexpected<std::string>("route table " + table_id + " not in EC2's answer");
  return f;
}

namespace {

// The root element of an EC2 answer, or why there is none.
tl::expected<pugi::xml_node, std::string> ec2_root(pugi::xml_document& doc, std::string_view xml, const char* root)
{
  auto ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) return tl::unexpected(fmt::format("malformed XML from EC2 ({} at byte {})", ok.description(), ok.offset));
  auto node = doc.child(root);
  if (!node) return tl::unexpected(fmt::format("unexpected reply from EC2: no {}", root));
  return node;
}

} // namespace

tl::expected<AddressFinding, std::string> parse_addresses(std::string_view xml)
{
  pugi::xml_document doc;
  auto root = ec2_root(doc, xml, "DescribeAddressesResponse");
  if (!root) return tl::unexpected(root.error());
  AddressFinding f;
  auto item = root->child("addressesSet").child("item");
  if (!item) return f;
  f.found = true;
  f.public_ip = text_of(item, "publicIp");
  f.allocation_id = text_of(item, "allocationId");
  f.instance_id = text_of(item, "instanceId");
  f.network_interface_id = text_of(item, "networkInterfaceId");
  return f;
}

tl::expected<std::vector<InstanceInfo>, std::string> parse_instances(std::string_view xml)
{
  pugi::xml_document doc;
  auto root = ec2_root(doc, xml, "DescribeInstancesResponse");
  if (!root) return tl::unexpected(root.error());
  std::vector<InstanceInfo> out;
  for (auto res : root->child("reservationSet").children("item")) {
    for (auto i : res.child("instancesSet").children("item")) {
      InstanceInfo info;
      info.id = text_of(i, "instanceId");
      info.state = text_of(i.child("instanceState"), "name");
      for (auto t : i.child("tagSet").children("item"))
        if (text_of(t, "key") == "Name") info.name = text_of(t, "value");
      if (!info.id.empty()) out.push_back(std::move(info));
    }
  }
  return out;
}

std::vector<Link> missing_links(const std::string& id, const std::string& why)
{
  std::vector<Link> out;
  for (int i = 1; i <= 2; ++i) {
    Link l;
    l.name = fmt::format("{}/tunnel{}", id, i);
    l.group = id;
    l.state = LinkState::Missing;
    l.detail = why;
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<Link> links_of(const VpnConnection& c)
{
  std::vector<Link> out;
  const bool gone = c.state == "deleted" || c.state == "deleting";
  for (const auto& t : c.telemetry) {
    Link l;
    l.name = c.id + "/" + (t.outside_ip.empty() ? std::string("?") : t.outside_ip);
    l.group = c.id;
    l.gateway = c.gateway;
    l.bgp = c.bgp;
    l.accepted_routes = t.accepted_routes;
    l.since_epoch = t.last_change;
    if (t.status == "UP") l.state = LinkState::Up;
    else l.state = LinkState::Down;
    std::vector<std::string> parts;
    if (t.status != "UP" && t.status != "DOWN") parts.push_back("status " + outside(t.status, 32));
    if (!t.message.empty()) parts.push_back(outside(t.message, 120));
    if (c.bgp && t.accepted_routes) parts.push_back(format_number(*t.accepted_routes) + " BGP routes");
    if (c.state != "available") {
      parts.push_back("connection " + outside(c.state, 32));
      if (gone) l.state = LinkState::Down;
      else if (c.state == "pending" && l.state != LinkState::Up) l.state = LinkState::Connecting;
    }
    for (const auto& p : parts) l.detail += (l.detail.empty() ? "" : ", ") + p;
    out.push_back(std::move(l));
  }
  // Every Site-to-Site VPN connection has two tunnels; one without
  // telemetry is not there as far as the check can tell.
  for (auto i = c.telemetry.size(); i < 2; ++i) {
    Link l;
    l.name = fmt::format("{}/tunnel{}", c.id, i + 1);
    l.group = c.id;
    l.gateway = c.gateway;
    l.state = LinkState::Missing;
    l.detail = "no telemetry for this tunnel" + (c.state != "available" ? ", connection " + outside(c.state, 32) : "");
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<std::string> ids_in_message(std::string_view message)
{
  std::vector<std::string> out;
  static const std::regex re("vpn-[0-9a-fA-F]+");
  std::string m(message);
  for (auto it = std::sregex_iterator(m.begin(), m.end(), re); it != std::sregex_iterator(); ++it)
    if (std::find(out.begin(), out.end(), it->str()) == out.end()) out.push_back(it->str());
  return out;
}

} // namespace sitelink::vpn::cloud::aws
