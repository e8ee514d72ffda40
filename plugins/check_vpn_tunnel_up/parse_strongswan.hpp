// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// strongSwan's VICI replies as tunnels (pure, unit-tested from fixtures).

#include <vector>

#include "evaluate.hpp"
#include "sitelink/vici.hpp"

namespace sitelink::vpn::strongswan {

// `conns`: the messages of the list-conn events; `sas`: of the list-sa events.
Observation observe(const std::vector<vici::Section>& conns, const std::vector<vici::Section>& sas);

} // namespace sitelink::vpn::strongswan
