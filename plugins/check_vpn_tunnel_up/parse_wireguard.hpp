// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// WireGuard's UAPI reply as tunnels (pure, unit-tested from fixtures).

#include <map>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "source.hpp"

namespace sitelink::vpn::wireguard {

// 64 hex digits -> the usual base64 form; anything else unchanged.
std::string key_to_base64(std::string_view key);
// `aliases`: base64 public key -> name. Secret keys are skipped, never
// stored or traced.
tl::expected<Observation, std::string> observe(std::string_view uapi_reply, double now,
                                               const std::map<std::string, std::string>& aliases, const Trace& trace);

} // namespace sitelink::vpn::wireguard
