// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend wireguard: the UAPI socket of wireguard-go.

#include <map>
#include <string>

#include "parse_wireguard.hpp"
#include "source.hpp"

namespace sitelink::vpn::wireguard {

// The UAPI exchange over any stream (a fake in unit tests).
Observation query(net::Stream& s, const std::string& endpoint, double now,
                  const std::map<std::string, std::string>& aliases, const Trace& trace);
// Connects to `socket_path` and reads the peers within the deadline.
Observation read(const std::string& socket_path, const std::string& interface, double now,
                 const std::map<std::string, std::string>& aliases, const Deadline& deadline, const Trace& trace);

} // namespace sitelink::vpn::wireguard
