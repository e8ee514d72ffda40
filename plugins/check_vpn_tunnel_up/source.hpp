// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The three Sources. Each has a pure part (reply -> Observation), unit-tested
// from fixtures, and a thin I/O part that talks to the daemon's control
// socket under the check's deadline.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sitelink/socket.hpp"
#include "sitelink/vici.hpp"
#include "tunnel.hpp"

namespace sitelink::vpn {

using Trace = std::function<void(int level, const std::string&)>;

// A failed connect or exchange as an Observation: missing socket or refused
// connection is DaemonDown, permission is NoPermission (with a hint naming
// the socket's owner and group), anything else Failed.
Observation failure(const std::string& daemon, const std::string& endpoint, const net::IoError& e);

// "unix:///path", "/path", "tcp://host:port" or "host:port".
struct Endpoint {
  bool unix_socket = true;
  std::string path; // unix
  std::string host; // tcp
  std::string port; // tcp
  std::string text() const { return unix_socket ? path : host + ":" + port; }
};
tl::expected<Endpoint, std::string> parse_endpoint(std::string_view text, bool allow_bare_host_port);
tl::expected<net::Socket, net::IoError> connect(const Endpoint& ep, net::TimePoint deadline);

// ---- strongSwan (VICI) ----
namespace strongswan {
// `conns`: the messages of the list-conn events; `sas`: of the list-sa events.
Observation observe(const std::vector<vici::Section>& conns, const std::vector<vici::Section>& sas);
// The VICI session over any stream (a fake in unit tests).
Observation query(net::Stream& s, const std::string& endpoint, const Trace& trace);
Observation read(const Endpoint& ep, net::TimePoint deadline, const Trace& trace);
} // namespace strongswan

// ---- OpenVPN (management interface) ----
namespace openvpn {
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
  std::optional<double> time;              // server mode: the daemon's clock
  std::map<std::string, double> counters;  // p2p: "TUN/TAP read bytes" -> value
  std::vector<Client> clients;
};
tl::expected<Status, std::string> parse_status(const std::vector<std::string>& lines);

Observation observe(const StateLine& state, const Status& status, const std::string& p2p_name, double now);

// Reads the password file: the first line. Refuses files others can read.
tl::expected<std::string, std::string> read_password_file(const std::string& path);

// The management session over any stream: greeting or password prompt,
// "state", "status 2", "quit".
Observation query(net::Stream& s, const std::string& endpoint, const std::optional<std::string>& password,
                  const std::string& p2p_name, double now, const Trace& trace);
Observation read(const Endpoint& ep, const std::optional<std::string>& password, const std::string& p2p_name,
                 double now, net::TimePoint deadline, const Trace& trace);
} // namespace openvpn

// ---- WireGuard (UAPI) ----
namespace wireguard {
// 64 hex digits -> the usual base64 form; anything else unchanged.
std::string key_to_base64(std::string_view key);
// `aliases`: base64 public key -> name.
tl::expected<Observation, std::string> observe(std::string_view uapi_reply, double now,
                                               const std::map<std::string, std::string>& aliases,
                                               const Trace& trace);
Observation query(net::Stream& s, const std::string& endpoint, double now,
                  const std::map<std::string, std::string>& aliases, const Trace& trace);
Observation read(const std::string& socket_path, const std::string& interface, double now,
                 const std::map<std::string, std::string>& aliases, net::TimePoint deadline, const Trace& trace);
} // namespace wireguard

} // namespace sitelink::vpn
