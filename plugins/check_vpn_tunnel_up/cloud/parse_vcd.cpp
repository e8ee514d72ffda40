// SPDX-License-Identifier: GPL-2.0-or-later
// The pure half of --backend vcd. Field names and shapes, as read (never
// copied) from vmware/go-vcloud-director:
//   types/v56/nsxt_types.go   NsxtIpSecVpnTunnel (id, name, enabled,
//                             localEndpoint.localAddress,
//                             remoteEndpoint.remoteAddress),
//                             NsxtIpSecVpnTunnelStatus (tunnelStatus,
//                             ikeStatus.ikeServiceStatus, ikeStatus.failReason),
//                             OpenAPIEdgeGateway (id, name,
//                             gatewayBacking.gatewayType)
//   types/v56/openapi.go      OpenApiPages (page, pageCount, values),
//                             OpenApiError (minorErrorCode, message)
//   types/v56/types.go        ApiTokenRefresh (access_token)
//   govcd/api_vcd_versions.go SupportedVersions/VersionInfo (Version,
//                             deprecated attribute)
//   govcd/openapi.go          the Link header's rel="nextPage"
// and the NSX for vSphere API guide (6.4), GET /api/4.0/edges/{id}/ipsec/
// statistics: ipsecStatusAndStats/siteStatistics with ikeStatus
// (channelStatus, channelState, peerId, peerIpAddress,
// lastInformationalMessage) and tunnelStats (tunnelStatus, tunnelState,
// localSubnet, peerSubnet, failureMessage, lastInformationalMessage).
#include "parse_vcd.hpp"
#include "json_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud::vcd {

using nlohmann::json;

namespace {

std::string upper(std::string_view s)
{
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequal(std::string_view a, std::string_view b)
{
  return a.size() == b.size() && upper(a) == upper(b);
}

// Child text by local name, whatever the namespace prefix.
std::string child_text(const pugi::xml_node& n, const char* name)
{
  for (auto c : n.children()) {
    std::string_view cn = c.name();
    auto colon = cn.find(':');
    if (colon != std::string_view::npos) cn.remove_prefix(colon + 1);
    if (cn == name) return c.text().as_string();
  }
  return {};
}

std::vector<pugi::xml_node> children_named(const pugi::xml_node& n, const char* name)
{
  std::vector<pugi::xml_node> out;
  for (auto c : n.children()) {
    std::string_view cn = c.name();
    auto colon = cn.find(':');
    if (colon != std::string_view::npos) cn.remove_prefix(colon + 1);
    if (cn == name) out.push_back(c);
  }
  return out;
}

void join(std::string& into, const std::string& part)
{
  if (part.empty()) return;
  into += (into.empty() ? "" : ", ") + part;
}

} // namespace

bool Auth::provider() const
{
  return iequal(org, "system");
}

tl::expected<CredentialFields, std::string> parse_credentials_json(std::string_view text, const std::string& path)
{
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected(path + " is not a JSON object");
  CredentialFields f;
  f.url = jstr(j, "url");
  f.org = jstr(j, "org");
  f.sysorg = jstr(j, "sysorg");
  f.user = jstr(j, "user");
  f.password = jstr(j, "password");
  f.api_token = jstr(j, "api_token");
  f.api_token_file = jstr(j, "api_token_file");
  return f;
}

tl::expected<std::string, std::string> parse_token_file(std::string_view text, const std::string& path)
{
  auto j = json::parse(text, nullptr, false);
  auto t = jstr(j, "refresh_token");
  if (t.empty()) return tl::unexpected(path + " holds no refresh_token");
  return t;
}

std::string base_of(std::string url)
{
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() >= 4 && url.compare(url.size() - 4, 4, "/api") == 0) url.resize(url.size() - 4);
  return url;
}

tl::expected<Auth, std::string> auth_of(const CredentialFields& f, const std::string& source)
{
  Auth a;
  a.source = source;
  a.base = base_of(f.url);
  a.org = f.sysorg.empty() ? f.org : f.sysorg;
  a.user = f.user;
  a.password = f.password;
  a.api_token = f.api_token;
  if (a.base.rfind("https://", 0) != 0 && a.base.rfind("http://", 0) != 0)
    return tl::unexpected(source + ": the url (VCD_URL) must be https://HOST/api");
  if (a.org.empty())
    return tl::unexpected(source + ": no organisation (VCD_ORG or VCD_SYS_ORG; System for the provider)");
  if (!a.token() && (a.user.empty() || a.password.empty()))
    return tl::unexpected(source +
                          ": give an API token (VCD_API_TOKEN) or a user and password (VCD_USER, VCD_PASSWORD)");
  return a;
}

bool version_less(std::string_view a, std::string_view b)
{
  auto parts = [](std::string_view v, int(&out)[2]) {
    auto dot = v.find('.');
    std::string_view maj = v.substr(0, dot), min = dot == std::string_view::npos ? "0" : v.substr(dot + 1);
    auto r1 = std::from_chars(maj.data(), maj.data() + maj.size(), out[0]);
    auto r2 = std::from_chars(min.data(), min.data() + min.size(), out[1]);
    return !maj.empty() && !min.empty() && r1.ec == std::errc() && r1.ptr == maj.data() + maj.size() &&
           r2.ec == std::errc() && r2.ptr == min.data() + min.size();
  };
  int x[2] = {0, 0}, y[2] = {0, 0};
  if (!parts(a, x) || !parts(b, y)) return false;
  return x[0] != y[0] ? x[0] < y[0] : x[1] < y[1];
}

tl::expected<std::string, std::string> negotiate_version(std::string_view versions_xml)
{
  pugi::xml_document doc;
  if (!doc.load_buffer(versions_xml.data(), versions_xml.size(), pugi::parse_default & ~pugi::parse_doctype))
    return tl::unexpected<std::string>("malformed XML from /api/versions");
  auto root = doc.document_element();
  std::string best, newest;
  for (auto vi : children_named(root, "VersionInfo")) {
    std::string v = child_text(vi, "Version");
    if (!version_less(v, "0.0") && !version_less("0.0", v)) continue; // malformed
    if (newest.empty() || version_less(newest, v)) newest = v;
    if (version_less(v, min_api_version) || version_less(max_api_version, v)) continue;
    if (best.empty() || version_less(best, v)) best = v;
  }
  if (newest.empty()) return tl::unexpected<std::string>("/api/versions lists no API version");
  if (best.empty())
    return tl::unexpected(fmt::format("Cloud Director offers API versions up to {}; this check needs {} to {} "
                                      "(Cloud Director 10.0 or later; or set --api-version)",
                                      outside(newest, 16), min_api_version, max_api_version));
  return best;
}

tl::expected<std::string, std::string> parse_access_token(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return tl::unexpected<std::string>("malformed JSON from the OAuth token endpoint");
  auto t = jstr(j, "access_token");
  if (t.empty()) return tl::unexpected<std::string>("the OAuth token endpoint sent no access_token");
  return t;
}

std::string parse_session_id(std::string_view body)
{
  return jstr(json::parse(body, nullptr, false), "id");
}

std::string api_error(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto code = jstr(j, "minorErrorCode"), msg = jstr(j, "message");
    if (msg.empty()) msg = jstr(j, "error_description");
    if (code.empty()) code = jstr(j, "error");
    if (code.empty() && msg.empty()) return {};
    return outside(code.empty() ? msg : msg.empty() ? code : code + " - " + msg, 300);
  }
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default & ~pugi::parse_doctype)) return {};
  auto e = doc.document_element();
  std::string code = e.attribute("minorErrorCode").as_string(), msg = e.attribute("message").as_string();
  if (code.empty() && msg.empty()) return {};
  return outside(code.empty() ? msg : code + " - " + msg, 300);
}

std::string basic_auth(const Auth& a)
{
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const std::string in = a.user + "@" + a.org + ":" + a.password;
  std::string out = "Basic ";
  for (std::size_t i = 0; i < in.size(); i += 3) {
    auto byte = [&in](std::size_t k) {
      return k < in.size() ? static_cast<unsigned>(static_cast<unsigned char>(in[k])) : 0U;
    };
    const unsigned n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += i + 1 < in.size() ? digits[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? digits[n & 63] : '=';
  }
  return out;
}

tl::expected<std::vector<Edge>, std::string> parse_edges(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected<std::string>("malformed JSON from edgeGateways");
  std::vector<Edge> out;
  auto one = [&out](const json& e) {
    Edge x{jstr(e, "id"), jstr(e, "name"), {}};
    if (e.is_object() && e.contains("gatewayBacking")) x.type = jstr(e["gatewayBacking"], "gatewayType");
    if (!x.id.empty()) out.push_back(std::move(x));
  };
  if (j.contains("values")) {
    if (!j["values"].is_array()) return tl::unexpected<std::string>("malformed JSON from edgeGateways");
    for (const auto& e : j["values"]) one(e);
  } else {
    one(j);
  }
  return out;
}

std::string edge_uuid(const std::string& urn)
{
  auto colon = urn.rfind(':');
  return colon == std::string::npos ? urn : urn.substr(colon + 1);
}

tl::expected<Page, std::string> parse_tunnel_page(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("values") || !j["values"].is_array())
    return tl::unexpected<std::string>("malformed JSON from ipsec/tunnels");
  Page p;
  auto num = [&j](const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<int>() : 0; };
  p.page = num("page");
  p.page_count = num("pageCount");
  for (const auto& t : j["values"]) {
    TunnelConf c;
    c.id = jstr(t, "id");
    c.name = jstr(t, "name");
    if (t.is_object() && t.contains("enabled") && t["enabled"].is_boolean()) c.enabled = t["enabled"].get<bool>();
    if (t.is_object() && t.contains("localEndpoint")) c.local_address = jstr(t["localEndpoint"], "localAddress");
    if (t.is_object() && t.contains("remoteEndpoint")) c.remote_address = jstr(t["remoteEndpoint"], "remoteAddress");
    if (!c.id.empty() || !c.name.empty()) p.tunnels.push_back(std::move(c));
  }
  return p;
}

std::string next_page(std::string_view link)
{
  // Link: <url>;rel="lastPage";type="...", <url>;rel="nextPage";...
  for (std::size_t p = 0; (p = link.find('<', p)) != std::string_view::npos;) {
    auto close = link.find('>', p);
    if (close == std::string_view::npos) break;
    auto url = link.substr(p + 1, close - p - 1);
    auto next = link.find('<', close);
    auto params = link.substr(close, next == std::string_view::npos ? std::string_view::npos : next - close);
    if (params.find("rel=\"nextPage\"") != std::string_view::npos ||
        params.find("rel=nextPage") != std::string_view::npos)
      return std::string(url);
    p = close;
  }
  return {};
}

tl::expected<TunnelStatus, std::string> parse_tunnel_status(std::string_view body)
{
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return tl::unexpected<std::string>("malformed JSON from a tunnel's status");
  TunnelStatus s;
  s.tunnel = upper(jstr(j, "tunnelStatus"));
  if (j.contains("ikeStatus") && j["ikeStatus"].is_object()) {
    s.ike = upper(jstr(j["ikeStatus"], "ikeServiceStatus"));
    s.reason = jstr(j["ikeStatus"], "failReason");
  }
  return s;
}

tl::expected<std::vector<NsxvSite>, std::string> parse_nsxv_statistics(std::string_view xml)
{
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default & ~pugi::parse_doctype))
    return tl::unexpected<std::string>("malformed XML from the NSX-V edge's IPsec statistics");
  auto root = doc.document_element();
  if (std::string_view(root.name()) != "ipsecStatusAndStats")
    return tl::unexpected<std::string>("the NSX-V edge's IPsec statistics have no ipsecStatusAndStats");
  std::vector<NsxvSite> out;
  for (auto site : children_named(root, "siteStatistics")) {
    NsxvSite s;
    auto ike = site.child("ikeStatus");
    s.peer_id = child_text(ike, "peerId");
    s.peer_ip = child_text(ike, "peerIpAddress");
    s.local_ip = child_text(ike, "localIpAddress");
    s.channel_status = child_text(ike, "channelStatus");
    s.channel_state = child_text(ike, "channelState");
    s.message = child_text(ike, "lastInformationalMessage");
    for (auto t : children_named(site, "tunnelStats"))
      s.tunnels.push_back({child_text(t, "tunnelStatus"), child_text(t, "tunnelState"), child_text(t, "localSubnet"),
                           child_text(t, "peerSubnet"), child_text(t, "failureMessage"),
                           child_text(t, "lastInformationalMessage")});
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> checklist(const std::string& name, const std::string& reason)
{
  std::vector<std::string> out;
  out.push_back(name + " is not up; Cloud Director IPsec checklist:");
  const std::string r = upper(reason);
  if (r.find("AUTH") != std::string::npos || r.find("PSK") != std::string::npos ||
      r.find("PEER ID") != std::string::npos)
    out.push_back("- first: the IKE failure names authentication; compare the pre-shared key and the remote ID");
  else if (r.find("PROPOSAL") != std::string::npos || r.find("NO_PROPOSAL") != std::string::npos)
    out.push_back("- first: the IKE failure names the proposal; compare the security profile with the peer's");
  else if (r.find("TIMEOUT") != std::string::npos || r.find("NO RESPONSE") != std::string::npos ||
           r.find("NOT RESPONDING") != std::string::npos || r.find("UNREACHABLE") != std::string::npos)
    out.push_back("- first: the peer does not answer; check reachability of its public address");
  out.insert(out.end(),
             {
                 "- the edge's local endpoint IP and the peer's remote IP (and remote ID, if NAT) are right",
                 "- IKE version, encryption, digest and DH group of the security profile match the peer's",
                 "- the pre-shared key (or certificate) is the same at both ends",
                 "- local and remote networks mirror the peer's policy exactly",
                 "- the edge firewall and the peer's allow UDP 500, UDP 4500 and ESP between the endpoints",
                 "- the tunnel and the edge's IPsec service are enabled; see the edge's IPsec VPN status view",
             });
  return out;
}

std::vector<const TunnelConf*> chosen(const std::vector<TunnelConf>& tunnels, const std::vector<std::string>& wanted)
{
  std::vector<const TunnelConf*> out;
  if (wanted.empty()) {
    for (const auto& t : tunnels)
      if (t.enabled) out.push_back(&t);
    return out;
  }
  for (const auto& w : wanted)
    for (const auto& t : tunnels)
      if ((t.id == w || t.name == w) && std::find(out.begin(), out.end(), &t) == out.end()) {
        out.push_back(&t);
        break;
      }
  return out;
}

namespace {

// One NSX-T tunnel with its status: UP up; DEGRADED up with a warning;
// NEGOTIATING (IKE) connecting; DOWN and UNKNOWN down.
Link nsxt_link(const TunnelConf& t, const TunnelStatus* st)
{
  Link l;
  l.name = t.name.empty() ? t.id : t.name;
  // One group: the edge's tunnels are judged together by -w/-c.
  std::string detail;
  if (!t.enabled) {
    l.state = LinkState::Down;
    join(detail, "disabled in Cloud Director");
  } else if (st == nullptr) {
    l.state = LinkState::Down;
    join(detail, "no status");
  } else {
    const auto reason = outside(st->reason, 120);
    if (st->tunnel == "UP") l.state = LinkState::Up;
    else if (st->tunnel == "DEGRADED") {
      l.state = LinkState::Up;
      l.warning = "degraded (" + (reason.empty() ? std::string("IKE up, not every IPsec SA up") : reason) + ")";
    } else if (st->ike == "NEGOTIATING") l.state = LinkState::Connecting;
    else l.state = LinkState::Down;
    join(detail, "status " + (st->tunnel.empty() ? std::string("?") : outside(st->tunnel, 24)));
    join(detail, "IKE " + (st->ike.empty() ? std::string("?") : outside(st->ike, 24)));
    if (!reason.empty() && l.state != LinkState::Up) join(detail, reason);
    else if (!reason.empty() && !l.warning.empty()) join(detail, "reason " + reason);
  }
  if (!t.remote_address.empty()) join(detail, "peer " + outside(t.remote_address, 64));
  l.detail = detail;
  return l;
}

} // namespace

void fill_nsxt(Reply& reply, const std::vector<TunnelConf>& tunnels, const std::map<std::string, TunnelStatus>& status,
               const std::vector<std::string>& wanted)
{
  for (const auto* t : chosen(tunnels, wanted)) {
    auto it = status.find(t->id);
    Link l = nsxt_link(*t, it == status.end() ? nullptr : &it->second);
    if (l.state != LinkState::Up && t->enabled) {
      l.checklist = true;
      for (auto& line : checklist(outside(l.name, 64), it == status.end() ? "" : it->second.reason))
        reply.notes.push_back(std::move(line));
    }
    if (!l.warning.empty()) reply.summary_notes.push_back(outside(l.name, 64) + " " + l.warning);
    reply.expected.push_back(l.name);
    reply.links.push_back(std::move(l));
  }
  for (const auto& w : wanted) {
    bool found =
        std::any_of(tunnels.begin(), tunnels.end(), [&w](const TunnelConf& t) { return t.id == w || t.name == w; });
    if (found) continue;
    Link l;
    l.name = w;
    l.state = LinkState::Missing;
    l.detail = "no IPsec tunnel with this name or ID on the edge";
    reply.expected.push_back(w);
    reply.links.push_back(std::move(l));
  }
}

namespace {

Link nsxv_link(const NsxvSite& s)
{
  Link l;
  l.name = s.peer_id.empty() ? s.peer_ip : s.peer_id;
  // One group: the edge's sites are judged together by -w/-c.
  std::size_t up = 0;
  std::string failure;
  for (const auto& t : s.tunnels) {
    if (iequal(t.status, "up")) ++up;
    else if (failure.empty()) failure = !t.failure.empty() ? t.failure : t.message;
  }
  const bool channel_up = iequal(s.channel_status, "up");
  std::string detail = "IKE channel " + (s.channel_status.empty() ? std::string("?") : outside(s.channel_status, 24));
  if (!s.channel_state.empty()) detail += " in " + outside(s.channel_state, 80);
  join(detail, fmt::format("{} of {} tunnels up", up, s.tunnels.size()));
  if (channel_up && !s.tunnels.empty() && up == s.tunnels.size()) {
    l.state = LinkState::Up;
  } else if (channel_up && up > 0) {
    l.state = LinkState::Up;
    l.warning = fmt::format("degraded: {} of {} tunnels down", s.tunnels.size() - up, s.tunnels.size());
    if (!failure.empty()) l.warning += " (" + outside(failure, 100) + ")";
  } else {
    l.state = LinkState::Down;
    if (failure.empty()) failure = s.message;
    if (!failure.empty()) join(detail, outside(failure, 120));
  }
  if (!s.peer_ip.empty() && s.peer_ip != l.name) join(detail, "peer " + outside(s.peer_ip, 64));
  l.detail = detail;
  return l;
}

} // namespace

void fill_nsxv(Reply& reply, const std::vector<NsxvSite>& sites, const std::vector<std::string>& wanted)
{
  std::vector<const NsxvSite*> picked;
  std::vector<std::string> missing;
  if (wanted.empty())
    for (const auto& s : sites) picked.push_back(&s);
  for (const auto& w : wanted) {
    auto it =
        std::find_if(sites.begin(), sites.end(), [&w](const NsxvSite& s) { return s.peer_id == w || s.peer_ip == w; });
    if (it == sites.end()) missing.push_back(w);
    else if (std::find(picked.begin(), picked.end(), &*it) == picked.end()) picked.push_back(&*it);
  }
  for (const auto* s : picked) {
    Link l = nsxv_link(*s);
    if (l.state != LinkState::Up) {
      l.checklist = true;
      for (auto& line : checklist(outside(l.name, 64), s->message)) reply.notes.push_back(std::move(line));
    }
    for (const auto& t : s->tunnels)
      reply.notes.push_back(fmt::format("{}: {} -> {} {}{}", outside(l.name, 64), outside(t.local_subnet, 48),
                                        outside(t.peer_subnet, 48), outside(t.status.empty() ? "?" : t.status, 16),
                                        t.failure.empty() ? std::string() : " (" + outside(t.failure, 100) + ")"));
    if (!l.warning.empty()) reply.summary_notes.push_back(outside(l.name, 64) + " " + l.warning);
    reply.expected.push_back(l.name);
    reply.links.push_back(std::move(l));
  }
  add_missing(reply, missing,
              "no IPsec site with this peer ID or IP in the edge's statistics (disabled or not configured)");
}

} // namespace sitelink::vpn::cloud::vcd
