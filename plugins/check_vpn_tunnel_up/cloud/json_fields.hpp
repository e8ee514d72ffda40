// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Small text, time and JSON helpers shared by the pure parse_* halves of the
// cloud backends (azure, gcp, openstack, vcd). No I/O here.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cloud_api.hpp"

namespace sitelink::vpn::cloud {

// Text that came from a cloud API, sanitised and shortened for our output.
std::string outside(std::string_view s, std::size_t max = 160);

// j[key] when j is an object and that member is a string; "" otherwise.
std::string jstr(const nlohmann::json& j, const char* key);

// j[key] when j is an object and that member is a number; nullopt otherwise.
std::optional<double> jnum(const nlohmann::json& j, const char* key);

// The resource's last path segment ("/subscriptions/.../vpngw" -> "vpngw",
// ".../vpnTunnels/t1" -> "t1"); the whole text when it has no '/'.
std::string last_segment(const std::string& id);

// Seconds since the epoch of a UTC calendar time (year, month 1-12, day,
// hour, minute, second), through timegm; the caller checks the ranges.
double utc_seconds(int year, int month, int day, int hour, int minute, int second);

// Appends one Missing link per name in `missing` (in order) to the reply's
// links and expected names, each with `detail` as its detail.
void add_missing(Reply& reply, const std::vector<std::string>& missing, const std::string& detail);

} // namespace sitelink::vpn::cloud
