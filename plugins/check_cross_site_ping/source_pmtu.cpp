// SPDX-License-Identifier: GPL-2.0-or-later
// The --mtu search's I/O: the ladder of each round leaves at once with DF
// set (IP_PMTUDISC_PROBE: the kernel's cached path MTU does not stop it, so
// the path itself is measured); echo replies say a size crossed, and the
// error queue (IP_RECVERR / IPV6_RECVERR) brings the ICMP
// fragmentation-needed / packet-too-big messages with their MTU and hop.
// PmtuSearch (pmtu.cpp) decides; this only sends and reads.
#include "source_icmp.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <poll.h>

#include <fmt/format.h>

#include "packet.hpp"
#include "pmtu.hpp"

namespace sitelink::ping {

namespace {

void set_int(int fd, int level, int opt, int value)
{
  (void)::setsockopt(fd, level, opt, &value, sizeof value);
}

// DF without regard to the cached path MTU, ICMP errors on the error queue,
// and no transmit timestamps (they would fill the queue with copies of the
// large probes).
void prepare(const IcmpSocket& s)
{
  if (s.fd < 0) return;
  const int off = 0;
  (void)::setsockopt(s.fd, SOL_SOCKET, SO_TIMESTAMPING, &off, sizeof off);
  if (s.family == AF_INET6) {
    set_int(s.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
    set_int(s.fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1);
    set_int(s.fd, IPPROTO_IPV6, IPV6_RECVERR, 1);
  } else {
    set_int(s.fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
    set_int(s.fd, IPPROTO_IP, IP_RECVERR, 1);
  }
}

struct Probe {
  std::size_t target = 0;
  int size = 0;
  bool done = false;
};

// A probe of the round that has not left yet.
struct Pending {
  std::size_t target = 0;
  int size = 0;
};

class PmtuRun {
public:
  PmtuRun(const IcmpSocket& v4, const IcmpSocket& v6, std::uint64_t cookie,
          const std::vector<std::optional<Endpoint>>& targets, std::vector<PmtuSearch*>& searches)
      : v4_(v4), v6_(v6), cookie_(cookie), targets_(targets), searches_(searches), buf_(max_packet_size + 64)
  {}
  // One round: sends every search's ladder, reads until all are settled or
  // `end_ns`. False when no search had sizes left.
  bool round(long long end_ns);

private:
  const IcmpSocket& socket_for(int family) const noexcept { return family == AF_INET6 ? v6_ : v4_; }
  std::vector<Pending> plan_round();
  void send_all(const pollfd* pfds, nfds_t n);
  void send_one(const Pending& p);
  void read_all(const pollfd* pfds, nfds_t n);
  bool settled() const;
  void read_replies(const IcmpSocket& s);
  void read_errors(const IcmpSocket& s);
  std::optional<std::size_t> target_of(const sockaddr_storage& a) const;

  const IcmpSocket& v4_;
  const IcmpSocket& v6_;
  std::uint64_t cookie_;
  const std::vector<std::optional<Endpoint>>& targets_;
  std::vector<PmtuSearch*>& searches_;
  std::vector<Probe> probes_;
  // Every probe of the search, all rounds: a reply that comes after its
  // round ended still proves its size crossed (a slow path, not a hole).
  static constexpr std::uint32_t first_id_ = 0x10000; // above any echo run's probe index
  std::uint32_t next_id_ = first_id_;
  std::size_t round_start_ = 0; // the current round's first probe
  std::vector<std::uint8_t> buf_;
};

// The round's probes in sending order: per target, copy 0 largest first,
// copy 1 smallest first. A queue that overflows in the burst (the lab's
// user-space ESP does) drops the burst's tail, and every size has one copy
// near its head.
std::vector<Pending> PmtuRun::plan_round()
{
  std::vector<Pending> out;
  for (std::size_t t = 0; t < searches_.size(); ++t) {
    if (!searches_[t]) continue;
    const std::vector<int> sizes = searches_[t]->next_round();
    for (int copy = 0; copy < pmtu_copies; ++copy)
      for (std::size_t k = 0; k < sizes.size(); ++k)
        out.push_back(Pending{t, copy % 2 == 0 ? sizes[sizes.size() - 1 - k] : sizes[k]});
  }
  return out;
}

void PmtuRun::send_one(const Pending& p)
{
  const Endpoint& ep = *targets_[p.target];
  const IcmpSocket& s = socket_for(ep.family());
  const bool v6 = s.family == AF_INET6;
  const std::uint32_t id = next_id_++;
  probes_.push_back(Probe{p.target, p.size, false});
  auto req =
      build_echo_request(v6, s.ident, static_cast<std::uint16_t>(id & 0xffff),
                         EchoId{cookie_, static_cast<std::uint32_t>(p.target), id}, echo_payload_for(v6, p.size));
  // EMSGSIZE (above the interface MTU) is also queued as a local error
  // with the MTU; anything else leaves the size unanswered.
  (void)::sendto(s.fd, req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
}

// Sends the round 50 us apart, reading what came back in between: a size
// at or below one already answered can no longer change the finding and is
// not sent (on a healthy path the largest rung, sent first, answers within
// a round trip and the rest of the burst stays home). PmtuSearch counts a
// size left out like an answered one: it is below the largest that passed.
void PmtuRun::send_all(const pollfd* pfds, nfds_t n)
{
  round_start_ = probes_.size();
  const std::vector<Pending> plan = plan_round();
  bool sent = false;
  for (const Pending& p : plan) {
    if (sent) read_all(pfds, n);
    // No sleep before a size that is left out: on a busy machine every
    // sleep can cost a scheduler round, not 50 us.
    if (p.size <= searches_[p.target]->finding().largest_passed) {
      --searches_[p.target]->finding().probes;
      continue;
    }
    if (sent) {
      const timespec gap{0, 50'000};
      ::nanosleep(&gap, nullptr);
      read_all(pfds, n);
      if (p.size <= searches_[p.target]->finding().largest_passed) {
        --searches_[p.target]->finding().probes;
        continue;
      }
    }
    send_one(p);
    sent = true;
  }
}

void PmtuRun::read_all(const pollfd* pfds, nfds_t n)
{
  for (nfds_t i = 0; i < n; ++i) {
    const IcmpSocket& s = pfds[i].fd == v4_.fd ? v4_ : v6_;
    read_errors(s);
    read_replies(s);
  }
}

bool PmtuRun::settled() const
{
  for (std::size_t i = round_start_; i < probes_.size(); ++i) {
    const Probe& p = probes_[i];
    if (p.done) continue;
    const PmtuFinding& f = searches_[p.target]->finding();
    if (p.size <= f.largest_passed || (f.signalled_mtu && p.size > *f.signalled_mtu)) continue;
    return false;
  }
  return true;
}

std::optional<std::size_t> PmtuRun::target_of(const sockaddr_storage& a) const
{
  for (std::size_t t = 0; t < searches_.size(); ++t)
    if (searches_[t] && targets_[t]->same_host(a)) return t;
  return std::nullopt;
}

void PmtuRun::read_replies(const IcmpSocket& s)
{
  for (;;) {
    sockaddr_storage from{};
    socklen_t flen = sizeof from;
    const ssize_t n =
        ::recvfrom(s.fd, buf_.data(), buf_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    auto r =
        parse_echo_reply(s.family == AF_INET6, s.raw && s.family == AF_INET, buf_.data(), static_cast<std::size_t>(n));
    if (!r || r->ident != s.ident || r->id.cookie != cookie_ || r->id.probe < first_id_ || r->id.probe >= next_id_)
      continue;
    Probe& p = probes_[r->id.probe - first_id_];
    if (p.target != r->id.target || !targets_[p.target]->same_host(from)) continue;
    p.done = true;
    searches_[p.target]->answered(p.size);
  }
}

void PmtuRun::read_errors(const IcmpSocket& s)
{
  for (;;) {
    sockaddr_storage to{};
    alignas(cmsghdr) char ctrl[512];
    iovec iov{buf_.data(), 512};
    msghdr m{};
    m.msg_name = &to;
    m.msg_namelen = sizeof to;
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctrl;
    m.msg_controllen = sizeof ctrl;
    if (::recvmsg(s.fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    // The error's address is the probe's destination: the target it concerns.
    const auto t = target_of(to);
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); t && c != nullptr; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_len < CMSG_LEN(0)) break;
      auto sig = parse_path_error(c->cmsg_level, c->cmsg_type, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
      if (sig) searches_[*t]->signalled(*sig);
    }
  }
}

bool PmtuRun::round(long long end_ns)
{
  pollfd pfds[2] = {};
  nfds_t n = 0;
  for (const IcmpSocket* s : {&v4_, &v6_})
    if (s->fd >= 0) pfds[n++] = pollfd{s->fd, POLLIN, 0};
  const bool any = std::any_of(searches_.begin(), searches_.end(), [](const PmtuSearch* x) { return x && !x->done(); });
  if (!any) return false;
  send_all(pfds, n);
  for (;;) {
    read_all(pfds, n);
    const long long now = monotonic_ns();
    if (settled() || now >= end_ns) break;
    timespec ts = to_timespec(end_ns - now);
    (void)::ppoll(pfds, n, &ts, nullptr);
  }
  for (PmtuSearch* s : searches_)
    if (s) s->end_round();
  return true;
}

} // namespace

void IcmpProber::search_pmtu(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                             int expected, long long round_wait_ns, const Deadline& deadline)
{
  std::vector<std::optional<PmtuSearch>> store(targets.size());
  std::vector<PmtuSearch*> searches(targets.size(), nullptr);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    // Only a target that answers small probes can tell a black hole from a
    // dead host; the others are judged by their loss alone.
    if (!targets[i] || socket_for(targets[i]->family()).fd < 0 || compute_stats(obs[i]).received == 0) continue;
    store[i].emplace(echo_packet_size(targets[i]->family() == AF_INET6, payload_), expected);
    searches[i] = &*store[i];
  }
  prepare(v4_);
  prepare(v6_);
  Activity act("searching the path MTU");
  const long long t0 = monotonic_ns();
  const long long end = monotonic_ns(deadline.io_end());
  PmtuRun run(v4_, v6_, cookie_, targets, searches);
  while (monotonic_ns() < end && run.round(std::min(end, monotonic_ns() + round_wait_ns))) {}
  const long long took = monotonic_ns() - t0;
  for (std::size_t i = 0; i < targets.size(); ++i)
    if (store[i]) {
      obs[i].pmtu = store[i]->finding();
      obs[i].pmtu->took_ns = took;
    }
}

} // namespace sitelink::ping
