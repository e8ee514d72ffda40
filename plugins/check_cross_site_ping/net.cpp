// SPDX-License-Identifier: GPL-2.0-or-later
#include "net.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <ctime>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <type_traits>
#include <unistd.h>

#include <fmt/format.h>

namespace sitelink::ping {

std::string Endpoint::text() const
{
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    sockaddr_in a{};
    std::memcpy(&a, &addr, sizeof a);
    ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  } else if (addr.ss_family == AF_INET6) {
    sockaddr_in6 a{};
    std::memcpy(&a, &addr, sizeof a);
    ::inet_ntop(AF_INET6, &a.sin6_addr, buf, sizeof buf);
  }
  return buf;
}

bool Endpoint::same_host(const sockaddr_storage& other) const noexcept
{
  if (other.ss_family != addr.ss_family) return false;
  if (addr.ss_family == AF_INET) {
    sockaddr_in a{}, b{};
    std::memcpy(&a, &addr, sizeof a);
    std::memcpy(&b, &other, sizeof b);
    return a.sin_addr.s_addr == b.sin_addr.s_addr;
  }
  if (addr.ss_family == AF_INET6) {
    sockaddr_in6 a{}, b{};
    std::memcpy(&a, &addr, sizeof a);
    std::memcpy(&b, &other, sizeof b);
    return std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
  }
  return false;
}

// Parses `host` as a literal of `family` into `e`; false when it is not one.
template <class Sockaddr>
bool parse_literal(const std::string& host, int family, Endpoint& e)
{
  Sockaddr a{};
  int parsed = 0;
  if constexpr (std::is_same_v<Sockaddr, sockaddr_in>) {
    parsed = ::inet_pton(family, host.c_str(), &a.sin_addr);
    a.sin_family = AF_INET;
  } else {
    parsed = ::inet_pton(family, host.c_str(), &a.sin6_addr);
    a.sin6_family = AF_INET6;
  }
  if (parsed != 1) return false;
  std::memcpy(&e.addr, &a, sizeof a);
  e.len = sizeof a;
  return true;
}

std::optional<Endpoint> parse_numeric(const std::string& host)
{
  Endpoint e;
  if (parse_literal<sockaddr_in>(host, AF_INET, e) || parse_literal<sockaddr_in6>(host, AF_INET6, e)) return e;
  return std::nullopt;
}

tl::expected<Endpoint, std::string> resolve(const std::string& host, int family)
{
  if (auto e = parse_numeric(host)) return *e;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return tl::unexpected(std::string(::gai_strerror(rc)));
  Endpoint e;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && ai->ai_addrlen <= sizeof e.addr) {
      std::memcpy(&e.addr, ai->ai_addr, ai->ai_addrlen);
      e.len = ai->ai_addrlen;
      break;
    }
  }
  ::freeaddrinfo(res);
  if (e.len == 0) return tl::unexpected(std::string("no IPv4 or IPv6 address"));
  return e;
}

std::optional<int> route_mtu(const Endpoint& ep) noexcept
{
  const int fd = ::socket(ep.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  Endpoint to = ep;
  // UDP needs a port to connect; 9 (discard) is never contacted.
  if (to.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&to.addr)->sin6_port = htons(9);
  else reinterpret_cast<sockaddr_in*>(&to.addr)->sin_port = htons(9);
  int mtu = 0;
  socklen_t len = sizeof mtu;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to.addr), to.len) == 0 &&
                  (to.family() == AF_INET6 ? ::getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len)
                                           : ::getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len)) == 0;
  ::close(fd);
  if (!ok || mtu <= 0) return std::nullopt;
  return mtu;
}

void raise_fd_limit() noexcept
{
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

long long realtime_ns() noexcept
{
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long long monotonic_ns() noexcept
{
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long long monotonic_ns(std::chrono::steady_clock::time_point t) noexcept
{
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

timespec to_timespec(long long ns) noexcept
{
  if (ns < 0) ns = 0;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000LL);
  ts.tv_nsec = static_cast<long>(ns % 1000000000LL);
  return ts;
}

std::string errstr(int err)
{
  return std::strerror(err);
}

} // namespace sitelink::ping
