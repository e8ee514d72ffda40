// SPDX-License-Identifier: GPL-2.0-or-later
#include "pmtu.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include "packet.hpp"

namespace sitelink::ping {

namespace {

constexpr std::uint8_t icmp4_dest_unreach = 3;
constexpr std::uint8_t icmp4_frag_needed = 4;
constexpr std::uint8_t icmp6_packet_too_big = 2;

// The offender's numeric address after the sock_extended_err, when it is
// there whole and of the socket's family.
std::optional<std::string> offender(bool v6, const std::uint8_t* data, std::size_t len)
{
  const std::size_t at = sizeof(sock_extended_err);
  char text[INET6_ADDRSTRLEN] = {};
  if (v6) {
    sockaddr_in6 a{};
    if (len < at + sizeof a) return std::nullopt;
    std::memcpy(&a, data + at, sizeof a);
    if (a.sin6_family != AF_INET6 || !::inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text)) return std::nullopt;
  } else {
    sockaddr_in a{};
    if (len < at + sizeof a) return std::nullopt;
    std::memcpy(&a, data + at, sizeof a);
    if (a.sin_family != AF_INET || !::inet_ntop(AF_INET, &a.sin_addr, text, sizeof text)) return std::nullopt;
  }
  return std::string(text);
}

} // namespace

int ip_header_size(bool ipv6) noexcept
{
  return ipv6 ? 40 : 20;
}

int echo_packet_size(bool ipv6, std::size_t payload) noexcept
{
  return ip_header_size(ipv6) + static_cast<int>(echo_header_size) + static_cast<int>(payload);
}

std::size_t echo_payload_for(bool ipv6, int size) noexcept
{
  const int p = size - ip_header_size(ipv6) - static_cast<int>(echo_header_size);
  return p > 0 ? static_cast<std::size_t>(p) : 0;
}

std::vector<int> size_ladder(int lo, int hi, int rungs)
{
  std::vector<int> out;
  hi = std::min(hi, max_packet_size);
  if (hi <= lo || rungs < 1) return out;
  const long long n = static_cast<long long>(hi) - lo;
  const long long k = std::min<long long>(rungs, n);
  // Rung i at lo + ceil(n (i+1) / k): the steps differ by at most one byte
  // and the last rung is hi.
  for (long long i = 0; i < k; ++i) out.push_back(static_cast<int>(lo + (n * (i + 1) + k - 1) / k));
  return out;
}

std::optional<PathSignal> parse_path_error(int level, int type, const std::uint8_t* data, std::size_t len)
{
  const bool v4 = level == SOL_IP && type == IP_RECVERR;
  const bool v6 = level == SOL_IPV6 && type == IPV6_RECVERR;
  if ((!v4 && !v6) || data == nullptr || len < sizeof(sock_extended_err)) return std::nullopt;
  sock_extended_err e{};
  std::memcpy(&e, data, sizeof e);
  PathSignal s;
  if (v4 && e.ee_origin == SO_EE_ORIGIN_ICMP && e.ee_type == icmp4_dest_unreach && e.ee_code == icmp4_frag_needed)
    s.kind = PathSignal::Kind::frag_needed;
  else if (v6 && e.ee_origin == SO_EE_ORIGIN_ICMP6 && e.ee_type == icmp6_packet_too_big)
    s.kind = PathSignal::Kind::packet_too_big;
  else if (e.ee_origin == SO_EE_ORIGIN_LOCAL && e.ee_errno == EMSGSIZE) s.kind = PathSignal::Kind::local_too_big;
  else return std::nullopt;
  // An MTU the family does not allow is a broken or forged message (RFC 1191
  // routers that send 0 included): ignored rather than believed.
  const long long mtu = e.ee_info;
  if (mtu < (v6 ? ipv6_min_mtu : ipv4_min_mtu) || mtu > max_packet_size) return std::nullopt;
  s.mtu = static_cast<int>(mtu);
  if (s.kind == PathSignal::Kind::local_too_big) return s;
  auto hop = offender(v6, data, len);
  if (!hop) return std::nullopt;
  s.hop = std::move(*hop);
  return s;
}

PmtuSearch::PmtuSearch(int floor, int top, int rungs) : rungs_(std::max(1, rungs))
{
  f_.largest_passed = floor;
  f_.top = std::min(top, max_packet_size);
}

int PmtuSearch::upper() const
{
  int hi = f_.top;
  if (f_.smallest_lost) hi = std::min(hi, *f_.smallest_lost - 1);
  if (f_.signalled_mtu) hi = std::min(hi, *f_.signalled_mtu);
  return hi;
}

bool PmtuSearch::done() const
{
  return f_.rounds >= pmtu_max_rounds || (upper() <= f_.largest_passed && (!f_.smallest_lost || f_.lost_twice));
}

std::vector<int> PmtuSearch::next_round()
{
  round_.clear();
  if (done()) return round_;
  round_ = size_ladder(f_.largest_passed, upper(), rungs_);
  // The smallest lost size again: a burst lost to a full queue (the large
  // rungs at its tail) must be lost twice to count; if it crosses now the
  // search goes on above it.
  if (f_.smallest_lost && *f_.smallest_lost <= f_.top) round_.push_back(*f_.smallest_lost);
  got_.assign(round_.size(), false);
  ++f_.rounds;
  f_.probes += static_cast<int>(round_.size()) * pmtu_copies;
  return round_;
}

void PmtuSearch::answered(int size)
{
  for (std::size_t i = 0; i < round_.size(); ++i)
    if (round_[i] == size) got_[i] = true;
  f_.largest_passed = std::max(f_.largest_passed, size);
  // A larger size crossed: the earlier "lost" one was plain loss.
  if (f_.smallest_lost && *f_.smallest_lost <= f_.largest_passed) {
    f_.smallest_lost.reset();
    f_.lost_twice = false;
  }
  if (f_.signalled_mtu && *f_.signalled_mtu < f_.largest_passed) f_.signalled_mtu.reset();
}

void PmtuSearch::signalled(const PathSignal& s)
{
  // A size above the named MTU already crossed end to end: the message is
  // stale or forged.
  if (s.mtu < f_.largest_passed) return;
  if (f_.signalled_mtu && *f_.signalled_mtu <= s.mtu) return;
  f_.signalled_mtu = s.mtu;
  f_.hop = s.hop;
  f_.local = s.kind == PathSignal::Kind::local_too_big;
}

void PmtuSearch::end_round()
{
  // The re-sent smallest lost size (the last rung) lost again: confirmed.
  if (f_.smallest_lost && !round_.empty() && round_.back() == *f_.smallest_lost && !got_.back()) f_.lost_twice = true;
  for (std::size_t i = 0; i < round_.size(); ++i)
    if (!got_[i] && round_[i] > f_.largest_passed && (!f_.smallest_lost || round_[i] < *f_.smallest_lost))
      f_.smallest_lost = round_[i];
  round_.clear();
}

} // namespace sitelink::ping
