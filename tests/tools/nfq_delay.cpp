// SPDX-License-Identifier: GPL-2.0-or-later
// nfq_delay: holds every packet of an NFQUEUE queue for a fixed time before
// accepting it. Test tool for latency injection where sch_netem is missing:
//
//   iptables -A FORWARD -p icmp -j NFQUEUE --queue-num 7 --queue-bypass
//   nfq_delay --queue 7 --delay-ms 25 [--jitter-ms 10]
//
// Packets keep their order (one fixed delay, first in first out). With
// --jitter-ms J each packet is held for the delay plus a uniformly random
// 0..J ms of its own, and packets leave in the order their holds end, so a
// later packet can overtake an earlier one (delay variation and reordering,
// what netem's jitter does). Prints
// "ready" once the queue is bound; ends on SIGTERM/SIGINT, accepting what it
// still holds, and then prints what it really did:
//
//   held N packets: mean X ms, min Y ms, max Z ms (K from kernel timestamps)
//
// A packet's hold runs from the kernel's receive timestamp of it (when the
// kernel stamps packets at all: while any socket asks for timestamps) to the
// verdict, so the time the packet waited for this process to be scheduled
// counts toward the delay instead of adding to it. Without a timestamp the
// hold starts when the packet reaches this process. Tests compare a measured
// RTT against the holds printed here, not against the nominal delay: on a
// loaded machine the release is late by up to a scheduler wake-up.

#include <arpa/inet.h> // before the netfilter headers (they need the in_addr types)

#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <iterator>
#include <poll.h>
#include <random>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_signal(int)
{
  g_stop = 1;
}

long long clock_ns(clockid_t clock)
{
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

long long now_ns()
{
  return clock_ns(CLOCK_MONOTONIC);
}

struct Held {
  std::uint32_t id;
  long long start;   // CLOCK_MONOTONIC
  long long release; // start + delay (+ this packet's jitter)
};

struct Stats {
  long long count = 0;
  long long stamped = 0;
  long long sum_ns = 0;
  long long min_ns = 0;
  long long max_ns = 0;

  void add(long long held_ns)
  {
    if (count == 0 || held_ns < min_ns) min_ns = held_ns;
    if (count == 0 || held_ns > max_ns) max_ns = held_ns;
    ++count;
    sum_ns += held_ns;
  }
};

struct State {
  long long delay_ns = 0;
  long long jitter_ns = 0;
  std::mt19937_64 rng{std::random_device{}()};
  std::deque<Held> held; // by release time
  Stats stats;
};

int on_packet(nfq_q_handle*, nfgenmsg*, nfq_data* nfa, void* data)
{
  auto* st = static_cast<State*>(data);
  nfqnl_msg_packet_hdr* ph = nfq_get_msg_packet_hdr(nfa);
  if (ph == nullptr) return 0;
  long long now = now_ns();
  long long start = now;
  timeval tv{};
  if (nfq_get_timestamp(nfa, &tv) == 0 && tv.tv_sec > 0) {
    // The kernel's stamp is wall-clock time; its age moves it onto the
    // monotonic clock. An age that is negative or implausible (the wall clock
    // stepped) is ignored.
    long long age = clock_ns(CLOCK_REALTIME) - (static_cast<long long>(tv.tv_sec) * 1000000000LL + tv.tv_usec * 1000LL);
    if (age >= 0 && age < 1'000'000'000LL) {
      start = now - age;
      ++st->stats.stamped;
    }
  }
  long long due = start + st->delay_ns;
  if (st->jitter_ns > 0) due += std::uniform_int_distribution<long long>(0, st->jitter_ns)(st->rng);
  auto at = st->held.end();
  while (at != st->held.begin() && std::prev(at)->release > due) --at;
  st->held.insert(at, {ntohl(ph->packet_id), start, due});
  return 0;
}

void release(nfq_q_handle* qh, State& st)
{
  const Held& p = st.held.front();
  nfq_set_verdict(qh, p.id, NF_ACCEPT, 0, nullptr);
  st.stats.add(now_ns() - p.start);
  st.held.pop_front();
}

bool parse_uint(const char* s, unsigned long max, unsigned long& out)
{
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v > max) return false;
  out = v;
  return true;
}

[[noreturn]] void usage()
{
  std::fprintf(stderr, "usage: nfq_delay --queue NUM --delay-ms MS[.fraction] [--jitter-ms MS[.fraction]]\n");
  std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
  unsigned long queue = 0;
  double delay_ms = -1;
  double jitter_ms = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--queue" && i + 1 < argc) {
      if (!parse_uint(argv[++i], 65535, queue)) usage();
    } else if (a == "--delay-ms" && i + 1 < argc) {
      char* end = nullptr;
      delay_ms = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || delay_ms < 0 || delay_ms > 60000) usage();
    } else if (a == "--jitter-ms" && i + 1 < argc) {
      char* end = nullptr;
      jitter_ms = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || !(jitter_ms >= 0) || jitter_ms > 60000) usage();
    } else {
      usage();
    }
  }
  if (delay_ms < 0) usage();

  State st;
  st.delay_ns = static_cast<long long>(delay_ms * 1e6);
  st.jitter_ns = static_cast<long long>(jitter_ms * 1e6);
  nfq_handle* h = nfq_open();
  if (h == nullptr) {
    std::perror("nfq_open");
    return 1;
  }
  nfq_q_handle* qh = nfq_create_queue(h, static_cast<std::uint16_t>(queue), &on_packet, &st);
  if (qh == nullptr) {
    std::fprintf(stderr, "nfq_delay: cannot bind queue %lu: %s\n", queue, std::strerror(errno));
    nfq_close(h);
    return 1;
  }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, 65536) < 0) {
    std::perror("nfq_set_mode");
    return 1;
  }
  nfnl_rcvbufsiz(nfq_nfnlh(h), 8 << 20);
  int fd = nfq_fd(h);
  // On a loaded machine an ordinary process wakes up milliseconds late,
  // which would add to every delay; real-time priority keeps the release
  // within tens of microseconds. Best effort: without it the tool still works.
  sched_param sp{};
  sp.sched_priority = 50;
  if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0)
    std::fprintf(stderr, "nfq_delay: no real-time priority: %s\n", std::strerror(errno));
  mlockall(MCL_CURRENT | MCL_FUTURE);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::printf("ready\n");
  std::fflush(stdout);

  alignas(8) char buf[65536];
  while (g_stop == 0) {
    long long now = now_ns();
    while (!st.held.empty() && st.held.front().release <= now) release(qh, st);
    long long wait = st.held.empty() ? 200'000'000LL : st.held.front().release - now;
    timespec ts{static_cast<time_t>(wait / 1000000000LL), static_cast<long>(wait % 1000000000LL)};
    pollfd p{fd, POLLIN, 0};
    int rc = ppoll(&p, 1, &ts, nullptr);
    if (rc > 0) {
      for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) break;
        nfq_handle_packet(h, buf, static_cast<int>(n));
      }
    }
  }
  while (!st.held.empty()) release(qh, st);
  const Stats& s = st.stats;
  std::printf("held %lld packets: mean %.3f ms, min %.3f ms, max %.3f ms (%lld from kernel timestamps)\n", s.count,
              s.count > 0 ? static_cast<double>(s.sum_ns) / static_cast<double>(s.count) / 1e6 : 0.0,
              static_cast<double>(s.min_ns) / 1e6, static_cast<double>(s.max_ns) / 1e6, s.stamped);
  std::fflush(stdout);
  nfq_destroy_queue(qh);
  nfq_close(h);
  return 0;
}
