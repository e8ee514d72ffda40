// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_tcp.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <unistd.h>

#include <fmt/format.h>

namespace sitelink::ping {

namespace {

// `ep` with its port set.
Endpoint with_port(Endpoint ep, std::uint16_t port)
{
  if (ep.family() == AF_INET6) {
    sockaddr_in6 a{};
    std::memcpy(&a, &ep.addr, sizeof a);
    a.sin6_port = htons(port);
    std::memcpy(&ep.addr, &a, sizeof a);
  } else {
    sockaddr_in a{};
    std::memcpy(&a, &ep.addr, sizeof a);
    a.sin_port = htons(port);
    std::memcpy(&ep.addr, &a, sizeof a);
  }
  return ep;
}

// One run of connect probes: every connect is a non-blocking socket watched
// by epoll; a connect that completes lets the target's next probe go at once
// (the same schedule as ICMP; INTERVAL is the longest gap, or, paced, the gap).
class TcpProber {
public:
  TcpProber(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
            const std::vector<std::size_t>& active, const ProbePlan& plan, std::uint16_t port,
            const std::optional<Endpoint>& source, long long wait_ns, long long end_ns);
  ~TcpProber();
  TcpProber(const TcpProber&) = delete;
  TcpProber& operator=(const TcpProber&) = delete;

  ProbeRun run();

private:
  struct Conn {
    bool open = false;
    std::uint64_t serial = 0;
    std::size_t target = 0;
    std::size_t probe = 0;
    long long t0 = 0;
  };
  struct Queued {
    int fd;
    std::uint64_t serial;
    long long t0;
  };

  void connect_due();
  void start(ProbeSlot p);
  int open_socket(std::size_t t, ProbeSlot p);
  void expire(long long now);
  void wait(long long now);
  void complete(int fd);
  void answer(std::size_t t, std::size_t k, long long t0, bool refused, long long kernel_rtt_us = 0);
  void finish(int fd);

  const std::vector<std::optional<Endpoint>>& targets_;
  std::vector<TargetObservation>& obs_;
  const std::vector<std::size_t>& active_;
  std::uint16_t port_;
  const std::optional<Endpoint>& source_;
  long long wait_ns_;
  long long end_ns_;
  int ep_ = -1;
  std::vector<Conn> conns_;  // by file descriptor
  std::deque<Queued> queue_; // in sending order, for expiry
  std::uint64_t serial_ = 0;
  std::size_t open_count_ = 0;
  std::vector<std::size_t> slot_of_; // target -> index in `active`
  ProbeSchedule sched_;
};

TcpProber::TcpProber(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                     const std::vector<std::size_t>& active, const ProbePlan& plan, std::uint16_t port,
                     const std::optional<Endpoint>& source, long long wait_ns, long long end_ns)
    : targets_(targets), obs_(obs), active_(active), port_(port), source_(source), wait_ns_(wait_ns), end_ns_(end_ns),
      ep_(::epoll_create1(EPOLL_CLOEXEC)), slot_of_(targets.size(), 0),
      sched_(active.size(), plan.count, plan.interval_ns, monotonic_ns(), plan.paced)
{
  if (ep_ < 0) throw std::runtime_error("epoll_create1: " + errstr(errno));
  for (std::size_t a = 0; a < active_.size(); ++a) slot_of_[active_[a]] = a;
}

TcpProber::~TcpProber()
{
  for (std::size_t fd = 0; fd < conns_.size(); ++fd)
    if (conns_[fd].open) finish(static_cast<int>(fd));
  if (ep_ >= 0) ::close(ep_);
}

void TcpProber::finish(int fd)
{
  linger lg{1, 0}; // reset instead of TIME_WAIT: thousands of probes
  (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  ::close(fd);
  conns_[static_cast<std::size_t>(fd)].open = false;
  --open_count_;
}

// kernel_rtt_us: the kernel's own handshake round trip (TCP_INFO), free of
// the plugin's scheduling delays; otherwise (refused, or a retransmitted
// SYN, where the kernel takes no sample) the connect time seen here.
void TcpProber::answer(std::size_t t, std::size_t k, long long t0, bool refused, long long kernel_rtt_us)
{
  const long long now = monotonic_ns();
  obs_[t].rtt_ms[k] =
      kernel_rtt_us > 0 ? static_cast<double>(kernel_rtt_us) / 1e3 : static_cast<double>(now - t0) / 1e6;
  if (refused) ++obs_[t].refused;
  sched_.replied(ProbeSlot{slot_of_[t], static_cast<int>(k)}, now, std::llround(*obs_[t].rtt_ms[k] * 1e6));
}

// A non-blocking TCP socket bound to the source address, or -1 with the
// target's setup error set and the probe skipped.
int TcpProber::open_socket(std::size_t t, ProbeSlot p)
{
  int fd = ::socket(targets_[t]->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    obs_[t].setup_error = "cannot open a TCP socket: " + errstr(errno);
    sched_.skipped(p, monotonic_ns());
    return -1;
  }
  if (source_ && ::bind(fd, reinterpret_cast<const sockaddr*>(&source_->addr), source_->len) != 0) {
    obs_[t].setup_error = fmt::format("cannot use source address {}: {}", source_->text(), errstr(errno));
    ::close(fd);
    sched_.skipped(p, monotonic_ns());
    return -1;
  }
  return fd;
}

void TcpProber::start(ProbeSlot p)
{
  const std::size_t t = active_[p.target];
  const auto k = static_cast<std::size_t>(p.probe);
  const Endpoint dst = with_port(*targets_[t], port_);
  const int fd = open_socket(t, p);
  if (fd < 0) return;
  if (conns_.size() <= static_cast<std::size_t>(fd)) conns_.resize(static_cast<std::size_t>(fd) + 1);
  const long long t0 = monotonic_ns();
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&dst.addr), dst.len);
  int err = rc == 0 ? 0 : errno;
  Conn& c = conns_[static_cast<std::size_t>(fd)];
  c = Conn{true, ++serial_, t, k, t0};
  ++open_count_;
  if (err == EINPROGRESS) {
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = fd;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    queue_.push_back({fd, c.serial, t0});
    ++obs_[t].sent;
    sched_.sent(p, t0);
  } else if (err == 0 || err == ECONNREFUSED) {
    ++obs_[t].sent;
    sched_.sent(p, t0);
    answer(t, k, t0, err != 0);
    finish(fd);
  } else {
    obs_[t].send_error = errstr(err);
    sched_.skipped(p, monotonic_ns());
    finish(fd);
  }
}

void TcpProber::connect_due()
{
  long long now = monotonic_ns();
  while (auto p = sched_.next(now)) {
    start(*p);
    now = monotonic_ns();
  }
}

// Unanswered probes older than the wait count as lost.
void TcpProber::expire(long long now)
{
  while (!queue_.empty()) {
    const Queued& q = queue_.front();
    const Conn& c = conns_[static_cast<std::size_t>(q.fd)];
    if (!c.open || c.serial != q.serial) {
      queue_.pop_front();
      continue;
    }
    if (q.t0 + wait_ns_ > now) break;
    finish(q.fd);
    queue_.pop_front();
  }
}

// A connect finished: open (the kernel's round trip when it has one),
// refused (the host is alive) or failed.
void TcpProber::complete(int fd)
{
  Conn& c = conns_[static_cast<std::size_t>(fd)];
  if (!c.open) return;
  int soerr = 0;
  socklen_t len = sizeof soerr;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
  if (soerr == 0) {
    tcp_info ti{};
    socklen_t tlen = sizeof ti;
    long long krtt = 0;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 && ti.tcpi_total_retrans == 0) krtt = ti.tcpi_rtt;
    answer(c.target, c.probe, c.t0, false, krtt);
  } else if (soerr == ECONNREFUSED) {
    answer(c.target, c.probe, c.t0, true);
  } else {
    obs_[c.target].probe_error = errstr(soerr);
  }
  ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  finish(fd);
}

void TcpProber::wait(long long now)
{
  long long wake = end_ns_;
  if (auto at = sched_.wake_at()) wake = std::min(wake, *at);
  if (!queue_.empty()) wake = std::min(wake, queue_.front().t0 + wait_ns_);
  pollfd pfd{ep_, POLLIN, 0};
  timespec ts = to_timespec(wake - now);
  if (::ppoll(&pfd, 1, &ts, nullptr) <= 0) return;
  epoll_event events[256];
  const int n = ::epoll_wait(ep_, events, 256, 0);
  for (int i = 0; i < n; ++i) complete(events[i].data.fd);
}

ProbeRun TcpProber::run()
{
  ProbeRun outcome;
  for (;;) {
    connect_due();
    const long long now = monotonic_ns();
    expire(now);
    if (sched_.all_sent() && open_count_ == 0) break;
    if (now >= end_ns_) {
      outcome.out_of_time = !sched_.all_sent();
      break;
    }
    wait(now);
  }
  return outcome;
}

} // namespace

ProbeRun probe_tcp(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                   const ProbePlan& plan, std::uint16_t port, const std::optional<Endpoint>& source,
                   const Deadline& deadline)
{
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    obs[i].rtt_ms.assign(static_cast<std::size_t>(plan.count), std::nullopt);
    if (!targets[i]) continue;
    if (source && source->family() != targets[i]->family()) {
      obs[i].setup_error = fmt::format("source address {} is of another address family", source->text());
      continue;
    }
    active.push_back(i);
  }
  if (active.empty()) return {};
  raise_fd_limit();
  const long long wait_ns = fitted_reply_wait_ns(plan, std::chrono::nanoseconds(deadline.io_slice()).count());
  TcpProber prober(targets, obs, active, plan, port, source, wait_ns, monotonic_ns(deadline.io_end()));
  Activity act(fmt::format("probing {} target(s) on tcp/{}", active.size(), port));
  return prober.run();
}

} // namespace sitelink::ping
