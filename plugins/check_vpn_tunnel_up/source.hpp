// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the three daemon Sources share (strongSwan VICI, OpenVPN management,
// WireGuard UAPI): where the control socket is, connecting to it under the
// check's deadline, and turning a failed exchange into an Observation.
// Each backend has a pure part (parse_<backend>: reply -> Observation),
// unit-tested from fixtures, and its I/O (source_<backend>: the session).

#include <functional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "evaluate.hpp"
#include "sitelink/socket.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn {

using Trace = std::function<void(int level, const std::string&)>;

// A failed connect or exchange as an Observation: missing socket or refused
// connection is DaemonDown, permission is NoPermission (with a hint naming
// the socket's owner and group), running out of time is Failed with
// timed_out and the activity, anything else Failed.
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

// Connects within the deadline's I/O budget (deadline.io_end()).
tl::expected<net::Socket, net::IoError> connect(const Endpoint& ep, const Deadline& deadline);

} // namespace sitelink::vpn
