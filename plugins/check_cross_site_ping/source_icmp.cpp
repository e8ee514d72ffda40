// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_icmp.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

#include "packet.hpp"
#include "pmtu.hpp"
#include "sitelink/privilege.hpp"

namespace sitelink::ping {

namespace {

// From <linux/icmp.h>, which clashes with the glibc headers.
constexpr int icmp_filter_opt = 1;

void set_int(int fd, int level, int opt, int value)
{
  (void)::setsockopt(fd, level, opt, &value, sizeof value);
}

// A raw socket, else (no CAP_NET_RAW) a datagram "ping" socket; -1 with
// `s.error` set when neither can be had.
int open_fd(IcmpSocket& s, int proto, const char* name)
{
  int fd = ::socket(s.family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) {
    s.raw = true;
    return fd;
  }
  if (errno != EPERM && errno != EACCES) {
    s.error = fmt::format("cannot open an {} socket: {}", name, errstr(errno));
    return -1;
  }
  fd = ::socket(s.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) return fd;
  const int err = errno;
  if (err == EACCES || err == EPERM)
    s.error = fmt::format("no permission to send {} echo requests: the plugin needs CAP_NET_RAW "
                          "(setcap cap_net_raw+p on the binary) or a group in net.ipv4.ping_group_range "
                          "(gid {} is not)",
                          name, ::getgid());
  else s.error = fmt::format("cannot open an {} socket: {}", name, errstr(err));
  return -1;
}

// Timestamps, buffer sizes and (raw sockets) the filter for echo replies.
void configure(IcmpSocket& s)
{
  const int fd = s.fd;
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
  if (s.raw && s.family == AF_INET) {
    // A raw socket sees every ICMP packet of the host: only echo replies.
    std::uint32_t mask = ~(1u << 0);
    (void)::setsockopt(fd, SOL_RAW, icmp_filter_opt, &mask, sizeof mask);
  } else if (s.raw) {
    icmp6_filter f{};
    for (auto& w : f.icmp6_filt) w = 0xffffffffu;
    f.icmp6_filt[ICMP6_ECHO_REPLY >> 5] &= ~(1u << (ICMP6_ECHO_REPLY & 31));
    (void)::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  }
}

// Binds to the source address of this family, and any datagram socket (the
// kernel then picks its identifier). False with `s.error` set on failure.
bool bind_socket(IcmpSocket& s, const std::optional<Endpoint>& source, const char* name)
{
  const bool ours = source && source->family() == s.family;
  if (!ours && s.raw) return true;
  Endpoint any;
  if (ours) {
    any = *source;
  } else {
    any.addr.ss_family = static_cast<sa_family_t>(s.family);
    any.len = s.family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  }
  if (::bind(s.fd, reinterpret_cast<const sockaddr*>(&any.addr), any.len) == 0) return true;
  s.error = ours ? fmt::format("cannot use source address {}: {}", source->text(), errstr(errno))
                 : fmt::format("cannot bind the {} socket: {}", name, errstr(errno));
  return false;
}

// The identifier the kernel gave a bound datagram socket (its "port").
std::uint16_t kernel_ident(int fd, int family)
{
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  std::uint16_t port = 0;
  if (family == AF_INET6) {
    sockaddr_in6 a{};
    std::memcpy(&a, &bound, sizeof a);
    port = a.sin6_port;
  } else {
    sockaddr_in a{};
    std::memcpy(&a, &bound, sizeof a);
    port = a.sin_port;
  }
  return ntohs(port);
}

IcmpSocket open_icmp(int family, const std::optional<Endpoint>& source)
{
  IcmpSocket s;
  s.family = family;
  const bool v6 = family == AF_INET6;
  const int proto = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  const char* name = v6 ? "ICMPv6" : "ICMP";
  s.fd = open_fd(s, proto, name);
  if (s.fd < 0) return s;
  configure(s);
  if (!bind_socket(s, source, name)) {
    ::close(s.fd);
    s.fd = -1;
    return s;
  }
  s.ident = s.raw ? static_cast<std::uint16_t>(random_u64() & 0xffff) : kernel_ident(s.fd, family);
  return s;
}

// Reads datagrams in batches with recvmmsg: one system call per wake-up
// however many replies are queued, and none that only learns the queue is
// empty (a short batch means it was drained). An echo reply of ours is at
// most 60 bytes of IPv4 header plus 64 of ICMP; longer datagrams are not
// ours and are cut (MSG_TRUNC) before parsing rejects them. With -b the
// slots grow to hold a whole reply of that payload.
class BatchReader {
public:
  static constexpr std::size_t batch = 64;
  struct Slot {
    std::vector<std::uint8_t> buf;
    alignas(cmsghdr) char ctrl[256];
    sockaddr_storage from;
    iovec iov;
  };

  explicit BatchReader(std::size_t payload = echo_payload_size)
      : size_(std::max<std::size_t>(256, 60 + echo_header_size + payload)), slots_(batch), msgs_(batch)
  {
    for (auto& s : slots_) s.buf.resize(size_);
  }
  std::size_t size() const noexcept { return size_; }

  // Reads everything queued on `fd` (`flags`: MSG_DONTWAIT, with
  // MSG_ERRQUEUE for the error queue), calling on(slot, header, length) for
  // each datagram. Returns whether anything was read.
  template <class OnMessage>
  bool drain(int fd, int flags, OnMessage&& on)
  {
    bool any = false;
    for (;;) {
      reset();
      const int got = ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(batch), flags, nullptr);
      if (got < 0) {
        if (errno == EINTR) continue;
        return any;
      }
      any = any || got > 0;
      for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) on(slots_[i], msgs_[i].msg_hdr, msgs_[i].msg_len);
      if (static_cast<std::size_t>(got) < batch) return any;
    }
  }

private:
  void reset() noexcept
  {
    for (std::size_t i = 0; i < batch; ++i) {
      Slot& slot = slots_[i];
      slot.iov = iovec{slot.buf.data(), size_};
      msghdr& m = msgs_[i].msg_hdr;
      m = msghdr{};
      m.msg_name = &slot.from;
      m.msg_namelen = sizeof slot.from;
      m.msg_iov = &slot.iov;
      m.msg_iovlen = 1;
      m.msg_control = slot.ctrl;
      m.msg_controllen = sizeof slot.ctrl;
      msgs_[i].msg_len = 0;
    }
  }

  std::size_t size_;
  std::vector<Slot> slots_;
  std::vector<mmsghdr> msgs_;
};

// The kernel's receive time of a datagram (SCM_TIMESTAMPNS), else now, on
// CLOCK_REALTIME.
long long receive_stamp(const msghdr& m)
{
  long long rx = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&m), c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      rx = static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
    }
  }
  return rx < 0 ? realtime_ns() : rx;
}

// A transmit timestamp from the error queue: SCM_TIMESTAMPING (software time
// first) with an extended error of origin TIMESTAMPING. Its time on
// CLOCK_REALTIME, or -1 when the message is something else.
long long transmit_stamp(const msghdr& m)
{
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
  return stamp ? when : -1;
}

// What one run counted, for the prober's -v lines.
struct RunCounts {
  std::size_t foreign = 0, replies = 0, kernel_tx = 0, peak_window = 0, final_window = 0;
};

// One probing run: the send loop, the reply and timestamp readers and the
// wait between them, over the schedule of the active targets.
class IcmpRun {
public:
  IcmpRun(const IcmpSocket& v4, const IcmpSocket& v6, std::uint64_t cookie,
          const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
          const std::vector<std::size_t>& active, const ProbePlan& plan, long long wait_ns, long long end_ns,
          std::size_t payload)
      : v4_(v4), v6_(v6), cookie_(cookie), payload_(payload), targets_(targets), obs_(obs), active_(active),
        count_(static_cast<std::size_t>(plan.count)), wait_ns_(wait_ns), end_ns_(end_ns),
        tx_(targets.size() * count_, -1), tx_kernel_(targets.size() * count_, -1), got_(targets.size() * count_, false),
        slot_of_(targets.size(), 0), start_(monotonic_ns()), last_send_(start_),
        sched_(active.size(), plan.count, plan.interval_ns, start_, plan.paced), reader_(payload)
  {
    for (std::size_t a = 0; a < active_.size(); ++a) slot_of_[active_[a]] = a;
    for (const IcmpSocket* s : {&v4_, &v6_})
      if (s->fd >= 0) pfds_[npfd_++] = pollfd{s->fd, POLLIN, 0};
  }

  ProbeRun run();
  const RunCounts& counts() const noexcept { return counts_; }

private:
  enum class Sent { yes, skipped, busy };
  struct Batch {
    bool busy = false; // the socket was full: retry shortly
    bool sent_any = false;
  };
  const IcmpSocket& socket_for(int family) const noexcept { return family == AF_INET6 ? v6_ : v4_; }
  Batch send_due();
  Sent send(ProbeSlot p, long long& now);
  void wait(long long now, bool busy);
  void take_reply(const IcmpSocket& s, const BatchReader::Slot& slot, const msghdr& m, std::size_t n);
  void take_tx(const BatchReader::Slot& slot, const msghdr& m, std::size_t n);
  bool drain_errors(const IcmpSocket& s);
  void drain(const IcmpSocket& s);
  void drain_all();

  const IcmpSocket& v4_;
  const IcmpSocket& v6_;
  std::uint64_t cookie_;
  std::size_t payload_;
  const std::vector<std::optional<Endpoint>>& targets_;
  std::vector<TargetObservation>& obs_;
  const std::vector<std::size_t>& active_;
  std::size_t count_;
  long long wait_ns_;
  long long end_ns_;
  // Per probe (target * count + probe):
  std::vector<long long> tx_;        // user space, just before sendto
  std::vector<long long> tx_kernel_; // the device's transmit timestamp
  std::vector<bool> got_;
  std::vector<std::size_t> slot_of_; // target -> index in `active`
  std::size_t pending_ = 0;
  long long start_;
  long long last_send_;
  ProbeSchedule sched_;
  pollfd pfds_[2] = {};
  nfds_t npfd_ = 0;
  BatchReader reader_;
  RunCounts counts_;
};

void IcmpRun::take_reply(const IcmpSocket& s, const BatchReader::Slot& slot, const msghdr& m, std::size_t n)
{
  const long long rx = receive_stamp(m);
  auto r = parse_echo_reply(s.family == AF_INET6, s.raw && s.family == AF_INET, slot.buf.data(),
                            std::min(n, reader_.size()));
  if (!r) return;
  // Identifier, cookie, sequence and source must all be ours: a raw
  // socket also sees the replies of every other ping on the host.
  if (r->ident != s.ident || r->id.cookie != cookie_ || r->id.target >= targets_.size() || r->id.probe >= count_ ||
      r->seq != static_cast<std::uint16_t>(r->id.probe & 0xffff) || !targets_[r->id.target] ||
      !targets_[r->id.target]->same_host(slot.from)) {
    ++counts_.foreign;
    return;
  }
  const std::size_t idx = r->id.target * count_ + r->id.probe;
  if (tx_[idx] < 0 || got_[idx]) return; // never sent, or a duplicate
  const bool kernel_tx = tx_kernel_[idx] >= 0;
  const long long rtt = std::max(0LL, rx - (kernel_tx ? tx_kernel_[idx] : tx_[idx]));
  if (rtt > wait_ns_) return; // too late: counted as lost
  got_[idx] = true;
  --pending_;
  ++counts_.replies;
  if (kernel_tx) ++counts_.kernel_tx;
  obs_[r->id.target].rtt_ms[r->id.probe] = static_cast<double>(rtt) / 1e6;
  obs_[r->id.target].reply_order.push_back(static_cast<int>(r->id.probe)); // -O: the order replies came in
  sched_.replied(ProbeSlot{slot_of_[r->id.target], static_cast<int>(r->id.probe)}, monotonic_ns(), rtt);
}

// The copy of the sent packet that comes with a transmit timestamp names
// the probe in its payload.
void IcmpRun::take_tx(const BatchReader::Slot& slot, const msghdr& m, std::size_t n)
{
  const long long when = transmit_stamp(m);
  if (when < 0) return;
  auto id = find_echo_id(slot.buf.data(), std::min(n, reader_.size()), cookie_);
  if (!id || id->target >= targets_.size() || id->probe >= count_) return;
  const std::size_t idx = id->target * count_ + id->probe;
  // Same clock as the user-space time taken before sendto, and after it.
  if (tx_[idx] < 0 || got_[idx] || tx_kernel_[idx] >= 0 || when < tx_[idx] || when - tx_[idx] > wait_ns_) return;
  tx_kernel_[idx] = when;
}

// The error queue first: a reply is then matched with its request's
// transmit timestamp, which the device queued while sendto ran.
bool IcmpRun::drain_errors(const IcmpSocket& s)
{
  if (!s.tx_stamps) return false;
  return reader_.drain(s.fd, MSG_ERRQUEUE | MSG_DONTWAIT,
                       [this](const BatchReader::Slot& slot, const msghdr& m, std::size_t n) { take_tx(slot, m, n); });
}

void IcmpRun::drain(const IcmpSocket& s)
{
  reader_.drain(s.fd, MSG_DONTWAIT, [this, &s](const BatchReader::Slot& slot, const msghdr& m, std::size_t n) {
    take_reply(s, slot, m, n);
  });
}

void IcmpRun::drain_all()
{
  for (const IcmpSocket* s : {&v4_, &v6_})
    if (s->fd >= 0) {
      drain_errors(*s);
      drain(*s);
    }
}

// Sends one probe; busy when the socket is full (the schedule offers the
// same probe again), skipped when the network refused it. `now` is the time
// after the system call.
IcmpRun::Sent IcmpRun::send(ProbeSlot p, long long& now)
{
  const std::size_t t = active_[p.target];
  const int k = p.probe;
  const Endpoint& ep = *targets_[t];
  const IcmpSocket& s = socket_for(ep.family());
  EchoId id{cookie_, static_cast<std::uint32_t>(t), static_cast<std::uint32_t>(k)};
  auto req = build_echo_request(s.family == AF_INET6, s.ident, static_cast<std::uint16_t>(k & 0xffff), id, payload_);
  const long long sent_at = realtime_ns();
  ssize_t w = ::sendto(s.fd, req.data(), req.size(), 0, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
  now = monotonic_ns();
  if (w < 0) {
    const int err = errno;
    if (err == EINTR || err == EAGAIN || err == ENOBUFS) return Sent::busy;
    if (err == EMSGSIZE) {
      // Larger than the path MTU the kernel knows (don't-fragment): the
      // size does not fit; not a lost probe.
      if (obs_[t].too_big++ == 0) obs_[t].known_mtu = route_mtu(ep);
    } else {
      obs_[t].send_error = errstr(err);
    }
    sched_.skipped(p, now);
    return Sent::skipped;
  }
  tx_[t * count_ + static_cast<std::size_t>(k)] = sent_at;
  ++obs_[t].sent;
  ++pending_;
  last_send_ = now;
  sched_.sent(p, now);
  return Sent::yes;
}

// Sends every probe that is due now.
IcmpRun::Batch IcmpRun::send_due()
{
  Batch b;
  long long now = monotonic_ns();
  std::size_t n = 0;
  while (auto p = sched_.next(now)) {
    // Replies come back while a long burst is still being sent: read them
    // every few packets, before the receive buffer overflows.
    if (++n % 32 == 0) {
      drain_all();
      now = monotonic_ns();
      continue; // a reply may have changed what goes next
    }
    const Sent r = send(*p, now);
    if (r == Sent::busy) {
      b.busy = true;
      break;
    }
    if (r == Sent::yes) b.sent_any = true;
  }
  return b;
}

// Sleeps until `wake` or a socket has something, and reads it.
void IcmpRun::wait(long long now, bool busy)
{
  long long wake = sched_.all_sent() ? last_send_ + wait_ns_ : sched_.wake_at().value_or(end_ns_);
  if (busy) wake = now + 200'000; // the socket was full
  wake = std::max(now, std::min(wake, end_ns_));
  timespec ts = to_timespec(wake - now);
  if (::ppoll(pfds_, npfd_, &ts, nullptr) <= 0) return;
  for (nfds_t i = 0; i < npfd_; ++i) {
    const pollfd& pfd = pfds_[i];
    const IcmpSocket& s = pfd.fd == v4_.fd ? v4_ : v6_;
    // POLLERR: a transmit timestamp stamped later (a queueing device), or a
    // pending socket error, which reading SO_ERROR clears; either way poll
    // would report it again at once.
    if ((pfd.revents & POLLERR) && !drain_errors(s)) {
      int err = 0;
      socklen_t len = sizeof err;
      (void)::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (pfd.revents & POLLIN) drain(s);
  }
}

ProbeRun IcmpRun::run()
{
  ProbeRun outcome;
  for (;;) {
    const Batch b = send_due();
    // The transmit timestamps of this batch are queued by now (the device
    // stamps while sendto runs): one read for all, before the replies.
    if (b.sent_any)
      for (const IcmpSocket* s : {&v4_, &v6_})
        if (s->fd >= 0) drain_errors(*s);
    const long long now = monotonic_ns();
    if (sched_.all_sent() && (pending_ == 0 || now >= last_send_ + wait_ns_)) break;
    if (now >= end_ns_) {
      outcome.out_of_time = !sched_.all_sent();
      break;
    }
    wait(now, b.busy);
  }
  counts_.peak_window = sched_.peak_window();
  counts_.final_window = sched_.window();
  return outcome;
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

void IcmpProber::set_probe(std::size_t payload, bool dont_fragment)
{
  payload_ = payload;
  if (!dont_fragment) return;
  // DF on every probe; one larger than the path MTU the kernel knows is
  // refused locally with EMSGSIZE. IPv6 never fragments in transit: its
  // probes are only kept from being fragmented here.
  if (v4_.fd >= 0) set_int(v4_.fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
  if (v6_.fd >= 0) {
    set_int(v6_.fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_DO);
    set_int(v6_.fd, IPPROTO_IPV6, IPV6_DONTFRAG, 1);
  }
}

IcmpProber::~IcmpProber()
{
  if (v4_.fd >= 0) ::close(v4_.fd);
  if (v6_.fd >= 0) ::close(v6_.fd);
}

ProbeRun IcmpProber::run(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                         const ProbePlan& plan, const Deadline& deadline)
{
  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    obs[i].rtt_ms.assign(static_cast<std::size_t>(plan.count), std::nullopt);
    obs[i].reply_order.clear();
    if (!targets[i]) continue;
    const IcmpSocket& s = socket_for(targets[i]->family());
    if (s.fd < 0) {
      obs[i].setup_error = s.error;
      continue;
    }
    obs[i].probe_size = echo_packet_size(targets[i]->family() == AF_INET6, payload_);
    active.push_back(i);
  }
  kernel_tx_ = replies_ = 0;
  if (active.empty()) return {};
  const long long wait_ns = fitted_reply_wait_ns(plan, std::chrono::nanoseconds(deadline.io_slice()).count());
  IcmpRun one(v4_, v6_, cookie_, targets, obs, active, plan, wait_ns, monotonic_ns(deadline.io_end()), payload_);
  Activity act(fmt::format("probing {} target(s) with ICMP echo", active.size()));
  const ProbeRun outcome = one.run();
  const RunCounts& c = one.counts();
  foreign_ += c.foreign;
  replies_ = c.replies;
  kernel_tx_ = c.kernel_tx;
  peak_window_ = c.peak_window;
  final_window_ = c.final_window;
  return outcome;
}

} // namespace sitelink::ping
