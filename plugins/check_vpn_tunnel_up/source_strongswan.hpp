// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend strongswan: the VICI session over charon's control socket.

#include <string>

#include "parse_strongswan.hpp"
#include "source.hpp"

namespace sitelink::vpn::strongswan {

// The VICI session over any stream (a fake in unit tests).
Observation query(net::Stream& s, const std::string& endpoint, const Trace& trace);
// Connects to `ep` and runs the session within the deadline.
Observation read(const Endpoint& ep, const Deadline& deadline, const Trace& trace);

} // namespace sitelink::vpn::strongswan
