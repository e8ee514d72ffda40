// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The ICMP echo Source of check_cross_site_ping: concurrent echo probes to
// every target over one socket per address family. It fills
// TargetObservations; evaluate() judges them. I/O only.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluate.hpp"
#include "net.hpp"
#include "schedule.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::ping {

// One ICMP socket per address family: raw when CAP_NET_RAW is available,
// else an unprivileged datagram ("ping") socket.
struct IcmpSocket {
  int fd = -1;
  int family = 0;
  bool raw = false;
  std::uint16_t ident = 0; // raw: ours; datagram: the one the kernel assigned
  bool tx_stamps = false;  // the kernel reports when each request left (SO_TIMESTAMPING)
  std::string error;       // why there is no socket
  std::string describe() const;
};

class IcmpProber {
public:
  // Opens sockets for the families asked for; a failure is kept per family
  // and reported only for targets of that family.
  IcmpProber(bool want_v4, bool want_v6, const std::optional<Endpoint>& source);
  ~IcmpProber();
  IcmpProber(const IcmpProber&) = delete;
  IcmpProber& operator=(const IcmpProber&) = delete;

  const IcmpSocket& socket_for(int family) const noexcept { return family == AF_INET6 ? v6_ : v4_; }
  std::uint64_t cookie() const noexcept { return cookie_; }

  // -b and --dont-fragment: the echo payload in bytes, and DF on every
  // probe (IP_PMTUDISC_DO / IPV6_DONTFRAG).
  void set_probe(std::size_t payload, bool dont_fragment);
  std::size_t payload() const noexcept { return payload_; }

  // --mtu: the path-MTU search (source_pmtu.cpp) to every target whose echo
  // probes were answered; fills obs[i].pmtu. At most pmtu_max_rounds
  // rounds of `round_wait_ns` each, ending within deadline.io_slice().
  void search_pmtu(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                   int expected, long long round_wait_ns, const Deadline& deadline);

  // Probes every target with an endpoint; `obs` is parallel to `targets`.
  // The schedule and the reply wait end within deadline.io_slice().
  ProbeRun run(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
               const ProbePlan& plan, const Deadline& deadline);

  std::size_t foreign_replies() const noexcept { return foreign_; }
  // The adaptive window of early probes in the last run: its widest, and
  // where it ended.
  std::size_t peak_window() const noexcept { return peak_window_; }
  std::size_t final_window() const noexcept { return final_window_; }
  // Replies in the last run whose round trip starts at the kernel's transmit
  // timestamp (the others start just before the system call that sent them).
  std::size_t kernel_tx_stamps() const noexcept { return kernel_tx_; }
  std::size_t replies() const noexcept { return replies_; }

private:
  IcmpSocket v4_, v6_;
  std::uint64_t cookie_ = 0;
  std::size_t payload_ = 56; // echo_payload_size
  std::size_t foreign_ = 0;  // echo replies that were not ours (another instance's)
  std::size_t peak_window_ = 0;
  std::size_t kernel_tx_ = 0;
  std::size_t replies_ = 0;
  std::size_t final_window_ = 0;
};

// 64 random bits (getrandom, else the clock and the pid).
std::uint64_t random_u64();

} // namespace sitelink::ping
