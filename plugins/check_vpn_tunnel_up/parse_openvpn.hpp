// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// OpenVPN's management replies as tunnels (pure, unit-tested from fixtures).

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "evaluate.hpp"

namespace sitelink::vpn::openvpn {

struct StateLine {
  double time = 0;
  std::string state; // CONNECTED, RECONNECTING, WAIT, ...
  std::string description;
  std::string remote; // remote address, if any
  std::string remote_port;
};
tl::expected<StateLine, std::string> parse_state(const std::vector<std::string>& lines);

struct Client {
  std::string common_name;
  std::string real_address;
  std::optional<double> bytes_in, bytes_out, connected_since;
  std::optional<double> last_ref; // newest routing-table "Last Ref" for the client
};
struct Status {
  bool server = false;
  std::optional<double> time;             // server mode: the daemon's clock
  std::map<std::string, double> counters; // p2p: "TUN/TAP read bytes" -> value
  std::vector<Client> clients;
};
tl::expected<Status, std::string> parse_status(const std::vector<std::string>& lines);

Observation observe(const StateLine& state, const Status& status, const std::string& p2p_name, double now);

} // namespace sitelink::vpn::openvpn
