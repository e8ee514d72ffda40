// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend openvpn: the management interface (unix socket or TCP).

#include <optional>
#include <string>

#include <tl/expected.hpp>

#include "parse_openvpn.hpp"
#include "source.hpp"

namespace sitelink::vpn::openvpn {

// Reads the password file: the first line. Refuses files others can read.
tl::expected<std::string, std::string> read_password_file(const std::string& path);

// The management session over any stream: greeting or password prompt,
// "state", "status 2", "quit".
Observation query(net::Stream& s, const std::string& endpoint, const std::optional<std::string>& password,
                  const std::string& p2p_name, double now, const Trace& trace);
// Connects to `ep` and runs the session within the deadline.
Observation read(const Endpoint& ep, const std::optional<std::string>& password, const std::string& p2p_name,
                 double now, const Deadline& deadline, const Trace& trace);

} // namespace sitelink::vpn::openvpn
