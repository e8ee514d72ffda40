// SPDX-License-Identifier: GPL-2.0-or-later
// The strongSwan Source: the VICI session (list-conns, then list-sas) over
// the control socket; parse_strongswan.cpp turns the replies into tunnels.
#include "source_strongswan.hpp"

#include <fmt/format.h>

namespace sitelink::vpn::strongswan {

Observation query(net::Stream& s, const std::string& endpoint, const Trace& trace)
{
  vici::Client client(s);
  if (trace) client.trace = [&](const std::string& line) { trace(3, "vici " + line); };
  std::vector<vici::Section> conns, sas;
  {
    Activity act("listing connections (list-conns) from charon at " + endpoint);
    auto r =
        client.call_streamed("list-conns", "list-conn", {}, [&](vici::Section&& m) { conns.push_back(std::move(m)); });
    if (!r) return failure("charon", endpoint, r.error());
  }
  {
    Activity act("listing SAs (list-sas) from charon at " + endpoint);
    auto r = client.call_streamed("list-sas", "list-sa", {}, [&](vici::Section&& m) { sas.push_back(std::move(m)); });
    if (!r) return failure("charon", endpoint, r.error());
  }
  if (trace) trace(2, fmt::format("charon: {} list-conn event(s), {} list-sa event(s)", conns.size(), sas.size()));
  Observation o = observe(conns, sas);
  o.endpoint = endpoint;
  return o;
}

Observation read(const Endpoint& ep, const Deadline& deadline, const Trace& trace)
{
  Activity act("connecting to charon at " + ep.text());
  auto sock = connect(ep, deadline);
  if (!sock) return failure("charon", ep.text(), sock.error());
  return query(*sock, ep.text(), trace);
}

} // namespace sitelink::vpn::strongswan
