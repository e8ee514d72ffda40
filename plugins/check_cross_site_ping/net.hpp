// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Addresses, name resolution, clocks and resource limits: the small system
// edges that both probe kinds share.

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <sys/socket.h>

#include <tl/expected.hpp>

namespace sitelink::ping {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family() const noexcept { return addr.ss_family; }
  std::string text() const; // numeric form, no port
  bool same_host(const sockaddr_storage& other) const noexcept;
};

// A numeric IPv4 or IPv6 literal (no name lookup); nullopt otherwise.
std::optional<Endpoint> parse_numeric(const std::string& host);

// A literal, or the first address getaddrinfo() gives for `family`
// (AF_UNSPEC, AF_INET or AF_INET6). The error is the resolver's message.
tl::expected<Endpoint, std::string> resolve(const std::string& host, int family);

// The path MTU the kernel knows towards `ep` (its route cache, else the
// interface's), read from a connected UDP socket: no packet is sent.
std::optional<int> route_mtu(const Endpoint& ep) noexcept;

// Raises the soft open-file limit to the hard one (many concurrent TCP
// probes each need a socket).
void raise_fd_limit() noexcept;

// Nanoseconds on CLOCK_REALTIME (the clock kernel receive stamps use) and
// CLOCK_MONOTONIC (for scheduling).
long long realtime_ns() noexcept;
long long monotonic_ns() noexcept;
// A steady_clock time point (CLOCK_MONOTONIC) as monotonic_ns() counts it.
long long monotonic_ns(std::chrono::steady_clock::time_point t) noexcept;
// A wait of `ns` nanoseconds for ppoll (negative: none).
timespec to_timespec(long long ns) noexcept;
// strerror(err) as a string.
std::string errstr(int err);

} // namespace sitelink::ping
