// SPDX-License-Identifier: GPL-2.0-or-later
// strongSwan through VICI: list-conns says what should exist, list-sas what
// does. A connection is up when an IKE SA is ESTABLISHED with at least one
// CHILD SA INSTALLED.
#include <algorithm>

#include <fmt/format.h>

#include "parse_strongswan.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink::vpn::strongswan {

namespace {

std::optional<double> num(const vici::Section& s, std::string_view key)
{
  const std::string* v = s.value(key);
  if (v == nullptr) return std::nullopt;
  auto n = parse_number(*v);
  if (!n || *n < 0) return std::nullopt;
  return *n;
}

std::string str(const vici::Section& s, std::string_view key)
{
  const std::string* v = s.value(key);
  return v ? sanitize_quote(*v, 40) : std::string();
}

// A CHILD SA that carries traffic. REKEYING is included because the old SA
// stays installed while its successor is negotiated; a rekey must not read
// as an outage.
bool child_carries(const std::string& state)
{
  return state == "INSTALLED" || state == "REKEYING";
}

bool ike_established(const std::string& state)
{
  return state == "ESTABLISHED" || state == "REKEYING" || state == "REKEYED";
}

int rank(TunnelState s)
{
  switch (s) {
  case TunnelState::Up: return 3;
  case TunnelState::Stale: return 2;
  case TunnelState::Connecting: return 1;
  default: return 0;
  }
}

Tunnel from_ike_sa(const vici::Section& ike)
{
  Tunnel t;
  t.name = ike.name;
  const std::string state = str(ike, "state");
  const std::string remote = str(ike, "remote-host");
  std::vector<const vici::Section*> carrying;
  std::vector<std::string> child_states;
  if (const vici::Section* children = ike.section("child-sas")) {
    for (const auto& c : children->sections) {
      const std::string cs = str(c, "state");
      child_states.push_back(cs);
      if (child_carries(cs)) carrying.push_back(&c);
    }
  }
  if (ike_established(state) && !carrying.empty()) {
    t.state = TunnelState::Up;
    t.since = num(ike, "established");
    double in = 0, out = 0;
    bool have_in = false, have_out = false;
    for (const vici::Section* c : carrying) {
      if (auto b = num(*c, "bytes-in")) {
        in += *b;
        have_in = true;
      }
      if (auto b = num(*c, "bytes-out")) {
        out += *b;
        have_out = true;
      }
      // use-in is absent until the first inbound packet; a CHILD SA that has
      // received nothing since it was installed has been silent that long.
      std::optional<double> idle = num(*c, "use-in");
      if (!idle && num(*c, "packets-in").value_or(0) == 0) idle = num(*c, "install-time");
      if (idle && (!t.last_inbound || *idle < *t.last_inbound)) t.last_inbound = idle;
      // use-out likewise, for --stale's one-way rule (sent but not answered).
      std::optional<double> quiet_out = num(*c, "use-out");
      if (!quiet_out && num(*c, "packets-out").value_or(0) == 0) quiet_out = num(*c, "install-time");
      if (quiet_out && (!t.last_outbound || *quiet_out < *t.last_outbound)) t.last_outbound = quiet_out;
    }
    t.reports_outbound = true;
    if (have_in) t.bytes_in = in;
    if (have_out) t.bytes_out = out;
    t.detail = fmt::format("IKE {} with {}, {} CHILD SA{} installed", state, remote.empty() ? "?" : remote,
                           carrying.size(), carrying.size() == 1 ? "" : "s");
    return t;
  }
  std::string children = child_states.empty() ? "no CHILD SA" : "CHILD " + child_states.front();
  if (ike_established(state)) {
    t.state = TunnelState::Connecting;
    t.detail = "IKE " + state + ", " + children;
  } else if (state == "CONNECTING" || state == "CREATED") {
    t.state = TunnelState::Connecting;
    t.detail = "IKE " + state;
  } else {
    t.state = TunnelState::Down;
    t.detail = "IKE " + (state.empty() ? std::string("state unknown") : state);
  }
  return t;
}

} // namespace

Observation observe(const std::vector<vici::Section>& conns, const std::vector<vici::Section>& sas)
{
  Observation o;
  o.status = Observation::Status::Read;
  o.daemon = "charon";
  for (const auto& msg : conns)
    for (const auto& c : msg.sections)
      if (std::find(o.configured.begin(), o.configured.end(), c.name) == o.configured.end())
        o.configured.push_back(c.name);
  for (const auto& msg : sas) {
    for (const auto& ike : msg.sections) {
      Tunnel t = from_ike_sa(ike);
      auto it = std::find_if(o.tunnels.begin(), o.tunnels.end(), [&](const Tunnel& x) { return x.name == t.name; });
      // Several IKE SAs of one connection (reauthentication, duplicates):
      // the best one tells whether traffic can flow.
      if (it == o.tunnels.end()) o.tunnels.push_back(std::move(t));
      else if (rank(t.state) > rank(it->state)) *it = std::move(t);
    }
  }
  for (const auto& name : o.configured) {
    if (std::none_of(o.tunnels.begin(), o.tunnels.end(), [&](const Tunnel& x) { return x.name == name; })) {
      Tunnel t;
      t.name = name;
      t.state = TunnelState::Down;
      t.detail = "no IKE SA";
      o.tunnels.push_back(std::move(t));
    }
  }
  return o;
}

} // namespace sitelink::vpn::strongswan
