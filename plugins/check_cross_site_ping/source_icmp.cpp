// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_icmp.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

#include "packet.hpp"
#include "sitelink/privilege.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::ping {

namespace {

// From <linux/icmp.h>, which clashes with the glibc headers.
constexpr int icmp_filter_opt = 1;

std::string errstr(int err)
{
  return std::strerror(err);
}

void set_int(int fd, int level, int opt, int value)
{
  (void)::setsockopt(fd, level, opt, &value, sizeof value);
}

timespec to_timespec(long long ns)
{
  if (ns < 0) ns = 0;
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ns / 1000000000LL);
  ts.tv_nsec = static_cast<long>(ns % 1000000000LL);
  return ts;
}

IcmpSocket open_icmp(int family, const std::optional<Endpoint>& source)
{
  IcmpSocket s;
  s.family = family;
  const bool v6 = family == AF_INET6;
  const int proto = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  const char* name = v6 ? "ICMPv6" : "ICMP";
  int fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) {
    s.raw = true;
  } else if (errno == EPERM || errno == EACCES) {
    fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    if (fd < 0) {
      int err = errno;
      if (err == EACCES || err == EPERM)
        s.error = fmt::format("no permission to send {} echo requests: the plugin needs CAP_NET_RAW "
                              "(setcap cap_net_raw+p on the binary) or a group in net.ipv4.ping_group_range "
                              "(gid {} is not)",
                              name, ::getgid());
      else s.error = fmt::format("cannot open an {} socket: {}", name, errstr(err));
      return s;
    }
  } else {
    s.error = fmt::format("cannot open an {} socket: {}", name, errstr(errno));
    return s;
  }
  s.fd = fd;
  set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
  // Transmit timestamps: the device's time for each request, looped back on
  // the error queue with a copy of the packet. The round trip then starts
  // when the request left instead of before the system call that sent it
  // (about 30 us earlier in the lab). Without them (an old kernel,
  // net.core.tstamp_allow_data=0 for an unprivileged socket) the user-space
  // time stays.
  const int ts_flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  s.tx_stamps = ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &ts_flags, sizeof ts_flags) == 0;
  // Replies of many targets arrive close together; the default buffer holds
  // only a few hundred. The kernel caps SO_RCVBUF at net.core.rmem_max;
  const int rcvbuf = 8 << 20;
  // SO_RCVBUFFORCE passes the cap for root (CAP_NET_ADMIN, still held here).
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
    set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
  set_int(fd, SOL_SOCKET, SO_SNDBUF, 1 << 20);
  if (s.raw && !v6) {
    // A raw socket sees every ICMP packet of the host: only echo replies.
    std::uint32_t mask = ~(1u << 0);
    (void)::setsockopt(fd, SOL_RAW, icmp_filter_opt, &mask, sizeof mask);
  } else if (s.raw) {
    icmp6_filter f{};
    for (auto& w : f.icmp6_filt) w = 0xffffffffu;
    f.icmp6_filt[ICMP6_ECHO_REPLY >> 5] &= ~(1u << (ICMP6_ECHO_REPLY & 31));
    (void)::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  }
  Endpoint any;
  if (source && source->family() == family) {
    any = *source;
  } else {
    any.addr.ss_family = static_cast<sa_family_t>(family);
    any.len = v6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  if ((source && source->family() == family) || !s.raw) {
    // Binding a datagram socket makes the kernel pick its identifier now.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&any.addr), any.len) != 0) {
      s.error = source && source->family() == family
                    ? fmt::format("cannot use source address {}: {}", source->text(), errstr(errno))
                    : fmt::format("cannot bind the {} socket: {}", name, errstr(errno));
      ::close(fd);
      s.fd = -1;
      return s;
    }
  }
  if (s.raw) {
    s.ident = static_cast<std::uint16_t>(random_u64() & 0xffff);
  } else {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    std::uint16_t port = 0;
    if (v6) {
      sockaddr_in6 a{};
      std::memcpy(&a, &bound, sizeof a);
      port = a.sin6_port;
    } else {
      sockaddr_in a{};
      std::memcpy(&a, &bound, sizeof a);
      port = a.sin_port;
    }
    s.ident = ntohs(port);
  }
  return s;
}

} // namespace

std::uint64_t random_u64()
{
  std::uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v))
    v = static_cast<std::uint64_t>(monotonic_ns()) ^ (static_cast<std::uint64_t>(::getpid()) << 32);
  return v;
}

std::string IcmpSocket::describe() const
{
  const char* name = family == AF_INET6 ? "ICMPv6" : "ICMPv4";
  if (fd < 0) return fmt::format("{}: {}", name, error);
  return fmt::format("{}: {} socket, identifier {}", name, raw ? "raw" : "datagram (ping_group_range)", ident);
}

IcmpProber::IcmpProber(bool want_v4, bool want_v6, const std::optional<Endpoint>& source)
{
  v4_.family = AF_INET;
  v6_.family = AF_INET6;
  v4_.error = v6_.error = "address family not in use";
  // A binary with `setcap cap_net_raw+p` starts without it in the effective set.
  sitelink::raise_capability(CAP_NET_RAW);
  if (want_v4) v4_ = open_icmp(AF_INET, source);
  if (want_v6) v6_ = open_icmp(AF_INET6, source);
  cookie_ = random_u64();
}

IcmpProber::~IcmpProber()
{
  if (v4_.fd >= 0) ::close(v4_.fd);
  if (v6_.fd >= 0) ::close(v6_.fd);
}

void IcmpProber::run(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                     const ProbePlan& plan)
{
  const std::size_t n_targets = targets.size();
  const auto count = static_cast<std::size_t>(plan.count);
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < n_targets; ++i) {
    obs[i].rtt_ms.assign(count, std::nullopt);
    if (!targets[i]) continue;
    const IcmpSocket& s = socket_for(targets[i]->family());
    if (s.fd < 0) {
      obs[i].setup_error = s.error;
      continue;
    }
    active.push_back(i);
  }
  if (active.empty()) return;

  // Requests are built once per target and patched per probe.
  std::vector<std::vector<std::uint8_t>> requests(n_targets);
  std::vector<long long> tx(n_targets * count, -1);        // user space, just before sendto
  std::vector<long long> tx_kernel(n_targets * count, -1); // the device's transmit timestamp
  kernel_tx_ = replies_ = 0;
  std::vector<bool> got(n_targets * count, false);

  std::size_t pending = 0;
  const long long start = monotonic_ns();
  long long last_send = start;
  ProbeSchedule sched(active.size(), plan.count, plan.interval_ns, start, plan.paced);
  std::vector<std::size_t> slot_of(n_targets, 0); // target -> index in `active`
  for (std::size_t a = 0; a < active.size(); ++a) slot_of[active[a]] = a;
  Activity act(fmt::format("probing {} target(s) with ICMP echo", active.size()));

  pollfd pfds[2];
  nfds_t npfd = 0;
  for (const IcmpSocket* s : {&v4_, &v6_})
    if (s->fd >= 0) pfds[npfd++] = pollfd{s->fd, POLLIN, 0};

  // Replies are read in batches with recvmmsg: one system call per wake-up
  // however many replies are queued, and none that only learns the queue is
  // empty (a short batch means it was drained). An echo reply of ours is at
  // most 60 bytes of IPv4 header plus 64 of ICMP; longer datagrams are not
  // ours and are cut (MSG_TRUNC) before parsing rejects them.
  constexpr std::size_t rx_batch = 64;
  constexpr std::size_t rx_size = 256;
  struct RxSlot {
    std::uint8_t buf[rx_size];
    alignas(cmsghdr) char ctrl[256];
    sockaddr_storage from;
    iovec iov;
  };
  std::vector<RxSlot> rx_slots(rx_batch);
  std::vector<mmsghdr> rx_msgs(rx_batch);

  auto take = [&](const IcmpSocket& s, const RxSlot& slot, const msghdr& m, std::size_t n) {
    long long rx = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        rx = static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
      }
    }
    if (rx < 0) rx = realtime_ns();
    auto r = parse_echo_reply(s.family == AF_INET6, s.raw && s.family == AF_INET, slot.buf, std::min(n, rx_size));
    if (!r) return;
    // Identifier, cookie, sequence and source must all be ours: a raw
    // socket also sees the replies of every other ping on the host.
    if (r->ident != s.ident || r->id.cookie != cookie_ || r->id.target >= n_targets || r->id.probe >= count ||
        r->seq != static_cast<std::uint16_t>(r->id.probe & 0xffff) || !targets[r->id.target] ||
        !targets[r->id.target]->same_host(slot.from)) {
      ++foreign_;
      return;
    }
    const std::size_t idx = r->id.target * count + r->id.probe;
    if (tx[idx] < 0 || got[idx]) return; // never sent, or a duplicate
    const bool kernel_tx = tx_kernel[idx] >= 0;
    const long long rtt = std::max(0LL, rx - (kernel_tx ? tx_kernel[idx] : tx[idx]));
    if (rtt > plan.wait_ns) return; // too late: counted as lost
    got[idx] = true;
    --pending;
    ++replies_;
    if (kernel_tx) ++kernel_tx_;
    obs[r->id.target].rtt_ms[r->id.probe] = static_cast<double>(rtt) / 1e6;
    sched.replied(ProbeSlot{slot_of[r->id.target], static_cast<int>(r->id.probe)}, monotonic_ns(), rtt);
  };

  // A transmit timestamp: SCM_TIMESTAMPING (software time first) with an
  // extended error of origin TIMESTAMPING, and the packet as sent, in which
  // the payload names the probe.
  auto take_tx = [&](const RxSlot& slot, const msghdr& m, std::size_t n) {
    long long when = -1;
    bool stamp = false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING &&
          c->cmsg_len >= CMSG_LEN(sizeof(scm_timestamping))) {
        scm_timestamping t{};
        std::memcpy(&t, CMSG_DATA(c), sizeof t);
        if (t.ts[0].tv_sec != 0 || t.ts[0].tv_nsec != 0)
          when = static_cast<long long>(t.ts[0].tv_sec) * 1000000000LL + t.ts[0].tv_nsec;
      } else if (((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                  (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
                 c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
        sock_extended_err e{};
        std::memcpy(&e, CMSG_DATA(c), sizeof e);
        stamp = e.ee_origin == SO_EE_ORIGIN_TIMESTAMPING;
      }
    }
    if (!stamp || when < 0) return;
    auto id = find_echo_id(slot.buf, std::min(n, rx_size), cookie_);
    if (!id || id->target >= n_targets || id->probe >= count) return;
    const std::size_t idx = id->target * count + id->probe;
    // Same clock as the user-space time taken before sendto, and after it.
    if (tx[idx] < 0 || got[idx] || tx_kernel[idx] >= 0 || when < tx[idx] || when - tx[idx] > plan.wait_ns) return;
    tx_kernel[idx] = when;
  };

  auto reset_slots = [&]() {
    for (std::size_t i = 0; i < rx_batch; ++i) {
      RxSlot& slot = rx_slots[i];
      slot.iov = iovec{slot.buf, rx_size};
      msghdr& m = rx_msgs[i].msg_hdr;
      m = msghdr{};
      m.msg_name = &slot.from;
      m.msg_namelen = sizeof slot.from;
      m.msg_iov = &slot.iov;
      m.msg_iovlen = 1;
      m.msg_control = slot.ctrl;
      m.msg_controllen = sizeof slot.ctrl;
      rx_msgs[i].msg_len = 0;
    }
  };

  // The error queue first: a reply is then matched with its request's
  // transmit timestamp, which the device queued while sendto ran.
  auto drain_errors = [&](const IcmpSocket& s) {
    bool any = false;
    if (!s.tx_stamps) return any;
    for (;;) {
      reset_slots();
      const int got_n =
          ::recvmmsg(s.fd, rx_msgs.data(), static_cast<unsigned>(rx_batch), MSG_ERRQUEUE | MSG_DONTWAIT, nullptr);
      if (got_n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      any = any || got_n > 0;
      for (int i = 0; i < got_n; ++i)
        take_tx(rx_slots[static_cast<std::size_t>(i)], rx_msgs[static_cast<std::size_t>(i)].msg_hdr,
                rx_msgs[static_cast<std::size_t>(i)].msg_len);
      if (static_cast<std::size_t>(got_n) < rx_batch) break;
    }
    return any;
  };

  auto drain = [&](const IcmpSocket& s) {
    for (;;) {
      reset_slots();
      const int got_n = ::recvmmsg(s.fd, rx_msgs.data(), static_cast<unsigned>(rx_batch), MSG_DONTWAIT, nullptr);
      if (got_n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < got_n; ++i)
        take(s, rx_slots[static_cast<std::size_t>(i)], rx_msgs[static_cast<std::size_t>(i)].msg_hdr,
             rx_msgs[static_cast<std::size_t>(i)].msg_len);
      if (static_cast<std::size_t>(got_n) < rx_batch) return;
    }
  };

  auto drain_all = [&]() {
    for (const IcmpSocket* s : {&v4_, &v6_})
      if (s->fd >= 0) {
        drain_errors(*s);
        drain(*s);
      }
  };

  for (;;) {
    long long now = monotonic_ns();
    std::size_t batch = 0;
    bool busy = false, sent_any = false;
    while (auto p = sched.next(now)) {
      // Replies come back while a long burst is still being sent: read them
      // every few packets, before the receive buffer overflows.
      if (++batch % 32 == 0) {
        drain_all();
        now = monotonic_ns();
        continue; // a reply may have changed what goes next
      }
      const std::size_t t = active[p->target];
      const int k = p->probe;
      const Endpoint& ep = *targets[t];
      const IcmpSocket& s = socket_for(ep.family());
      EchoId id{cookie_, static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(k)};
      auto req = build_echo_request(s.family == AF_INET6, s.ident, static_cast<std::uint16_t>(k & 0xffff), id);
      const long long sent_at = realtime_ns();
      ssize_t w = ::sendto(s.fd, req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
      now = monotonic_ns();
      if (w < 0) {
        int err = errno;
        if (err == EINTR || err == EAGAIN || err == ENOBUFS) {
          busy = true; // retry shortly
          break;
        }
        obs[t].send_error = errstr(err);
        sched.skipped(*p, now);
      } else {
        tx[t * count + static_cast<std::size_t>(k)] = sent_at;
        sent_any = true;
        ++obs[t].sent;
        ++pending;
        last_send = now;
        sched.sent(*p, now);
      }
    }
    // The transmit timestamps of this batch are queued by now (the device
    // stamps while sendto runs): one read for all, before the replies.
    if (sent_any)
      for (const IcmpSocket* s : {&v4_, &v6_})
        if (s->fd >= 0) drain_errors(*s);
    now = monotonic_ns();
    if (sched.all_sent() && (pending == 0 || now >= last_send + plan.wait_ns)) break;
    if (now >= plan.end_ns) break;
    long long wake = sched.all_sent() ? last_send + plan.wait_ns : sched.wake_at().value_or(plan.end_ns);
    if (busy) wake = now + 200'000; // the socket was full
    wake = std::max(now, std::min(wake, plan.end_ns));
    timespec ts = to_timespec(wake - now);
    int rc = ::ppoll(pfds, npfd, &ts, nullptr);
    if (rc > 0) {
      for (nfds_t i = 0; i < npfd; ++i) {
        const IcmpSocket& s = pfds[i].fd == v4_.fd ? v4_ : v6_;
        // POLLERR: a transmit timestamp stamped later (a queueing device),
        // or a pending socket error, which reading SO_ERROR clears; either
        // way poll would report it again at once.
        if ((pfds[i].revents & POLLERR) && !drain_errors(s)) {
          int err = 0;
          socklen_t len = sizeof err;
          (void)::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
        if (pfds[i].revents & POLLIN) drain(s);
      }
    }
  }
  peak_window_ = sched.peak_window();
  final_window_ = sched.window();
}

void probe_tcp(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
               const ProbePlan& plan, std::uint16_t port, const std::optional<Endpoint>& source)
{
  const std::size_t n_targets = targets.size();
  const auto count = static_cast<std::size_t>(plan.count);
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < n_targets; ++i) {
    obs[i].rtt_ms.assign(count, std::nullopt);
    if (targets[i]) {
      if (source && source->family() != targets[i]->family()) {
        obs[i].setup_error = fmt::format("source address {} is of another address family", source->text());
        continue;
      }
      active.push_back(i);
    }
  }
  if (active.empty()) return;
  raise_fd_limit();
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) throw std::runtime_error("epoll_create1: " + errstr(errno));

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
  std::vector<Conn> conns;
  std::deque<Queued> queue; // in sending order, for expiry
  std::uint64_t serial = 0;
  std::size_t open_count = 0;

  auto finish = [&](int fd) {
    linger lg{1, 0}; // reset instead of TIME_WAIT: thousands of probes
    (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(fd);
    conns[static_cast<std::size_t>(fd)].open = false;
    --open_count;
  };
  const long long start = monotonic_ns();
  // The same schedule as ICMP: a connect that completes lets the target's
  // next probe go at once; INTERVAL is the longest gap (or, paced, the gap).
  ProbeSchedule sched(active.size(), plan.count, plan.interval_ns, start, plan.paced);
  std::vector<std::size_t> slot_of(n_targets, 0);
  for (std::size_t a = 0; a < active.size(); ++a) slot_of[active[a]] = a;
  // kernel_rtt_us: the kernel's own handshake round trip (TCP_INFO), free of
  // the plugin's scheduling delays; otherwise (refused, or a retransmitted
  // SYN, where the kernel takes no sample) the connect time seen here.
  auto answer = [&](std::size_t t, std::size_t k, long long t0, bool refused, long long kernel_rtt_us = 0) {
    const long long now = monotonic_ns();
    obs[t].rtt_ms[k] = kernel_rtt_us > 0 ? static_cast<double>(kernel_rtt_us) / 1e3 : static_cast<double>(now - t0) / 1e6;
    if (refused) ++obs[t].refused;
    sched.replied(ProbeSlot{slot_of[t], static_cast<int>(k)}, now, std::llround(*obs[t].rtt_ms[k] * 1e6));
  };

  Activity act(fmt::format("probing {} target(s) on tcp/{}", active.size(), port));
  epoll_event events[256];
  for (;;) {
    long long now = monotonic_ns();
    while (auto p = sched.next(now)) {
      const int k = p->probe;
      const std::size_t t = active[p->target];
      Endpoint dst = *targets[t];
      if (dst.family() == AF_INET6) {
        sockaddr_in6 a{};
        std::memcpy(&a, &dst.addr, sizeof a);
        a.sin6_port = htons(port);
        std::memcpy(&dst.addr, &a, sizeof a);
      } else {
        sockaddr_in a{};
        std::memcpy(&a, &dst.addr, sizeof a);
        a.sin_port = htons(port);
        std::memcpy(&dst.addr, &a, sizeof a);
      }
      int fd = ::socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        obs[t].setup_error = "cannot open a TCP socket: " + errstr(errno);
        sched.skipped(*p, monotonic_ns());
        continue;
      }
      if (source && ::bind(fd, reinterpret_cast<const sockaddr*>(&source->addr), source->len) != 0) {
        obs[t].setup_error = fmt::format("cannot use source address {}: {}", source->text(), errstr(errno));
        ::close(fd);
        sched.skipped(*p, monotonic_ns());
        continue;
      }
      if (conns.size() <= static_cast<std::size_t>(fd)) conns.resize(static_cast<std::size_t>(fd) + 1);
      const long long t0 = monotonic_ns();
      int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&dst.addr), dst.len);
      int err = rc == 0 ? 0 : errno;
      Conn& c = conns[static_cast<std::size_t>(fd)];
      c = Conn{true, ++serial, t, static_cast<std::size_t>(k), t0};
      ++open_count;
      if (err == EINPROGRESS) {
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        queue.push_back({fd, c.serial, t0});
        ++obs[t].sent;
        sched.sent(*p, t0);
      } else if (err == 0 || err == ECONNREFUSED) {
        ++obs[t].sent;
        sched.sent(*p, t0);
        answer(t, static_cast<std::size_t>(k), t0, err != 0);
        finish(fd);
      } else {
        obs[t].send_error = errstr(err);
        sched.skipped(*p, monotonic_ns());
        finish(fd);
      }
      now = monotonic_ns();
    }
    now = monotonic_ns();
    // Unanswered probes older than the wait count as lost.
    while (!queue.empty()) {
      const Queued& q = queue.front();
      const Conn& c = conns[static_cast<std::size_t>(q.fd)];
      if (!c.open || c.serial != q.serial) {
        queue.pop_front();
        continue;
      }
      if (q.t0 + plan.wait_ns > now) break;
      finish(q.fd);
      queue.pop_front();
    }
    if (sched.all_sent() && open_count == 0) break;
    if (now >= plan.end_ns) break;
    long long wake = plan.end_ns;
    if (auto at = sched.wake_at()) wake = std::min(wake, *at);
    if (!queue.empty()) wake = std::min(wake, queue.front().t0 + plan.wait_ns);
    pollfd pfd{ep, POLLIN, 0};
    timespec ts = to_timespec(wake - now);
    if (::ppoll(&pfd, 1, &ts, nullptr) <= 0) continue;
    int n = ::epoll_wait(ep, events, 256, 0);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      Conn& c = conns[static_cast<std::size_t>(fd)];
      if (!c.open) continue;
      int soerr = 0;
      socklen_t len = sizeof soerr;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
      if (soerr == 0) {
        tcp_info ti{};
        socklen_t tlen = sizeof ti;
        long long krtt = 0;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0 && ti.tcpi_total_retrans == 0)
          krtt = ti.tcpi_rtt;
        answer(c.target, c.probe, c.t0, false, krtt);
      } else if (soerr == ECONNREFUSED) {
        answer(c.target, c.probe, c.t0, true);
      } else {
        obs[c.target].probe_error = errstr(soerr);
      }
      ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      finish(fd);
    }
  }
  for (std::size_t fd = 0; fd < conns.size(); ++fd)
    if (conns[fd].open) finish(static_cast<int>(fd));
  ::close(ep);
}

} // namespace sitelink::ping
