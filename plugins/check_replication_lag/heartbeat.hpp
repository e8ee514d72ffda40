// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sitelink::replication {

// The first line of a heartbeat file: a Unix epoch (integer or fractional) or
// an RFC 3339 timestamp with a zone ("2026-11-22T02:14:57Z",
// "2026-11-22 03:14:57.25+01:00"). Returns the epoch.
tl::expected<double, std::string> parse_heartbeat(std::string_view content);

// RFC 3339 date-time with a mandatory zone.
tl::expected<double, std::string> parse_rfc3339(std::string_view text);

} // namespace sitelink::replication
