// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// When each probe leaves: pure logic, no sockets, so it is unit-tested with
// made-up clocks. The ICMP and TCP probers feed it sends, replies and the time.
//
// Two modes:
//  - adaptive (default, check_icmp's meaning of -i): a target's next probe
//    leaves as soon as the reply to its previous one is in, and at the latest
//    INTERVAL after it. With sub-millisecond round trips five probes take a
//    few milliseconds instead of 5 x INTERVAL.
//  - paced (--paced): probe k of every target leaves at k x INTERVAL, the
//    targets spread evenly within each interval; the run samples the path
//    over the whole n x INTERVAL.
//
// Both keep the paced schedule as a floor: probe k of a target never leaves
// later than its paced time (unless a socket refuses to send), so n x
// INTERVAL plus the reply wait bounds the run whatever the replies do.
//
// Early (reply-driven) probes are limited by a window of probes in flight, so
// a thousand fast targets do not flood the path: a probe stops counting
// against the window when its reply arrives or INTERVAL after it left. Probes
// due on the paced floor or on the INTERVAL limit are not held back by the
// window (they keep the time bound). Once the window is full, early probes
// wait until half of it has drained and then leave together: measured in the
// lab (100 targets, -n 5, userspace ESP), the tunnel's daemons then handle
// the probes in batches instead of waking for each one.
//
// The window follows the path's round trip (WindowPolicy): a path carries
// its rate times its round trip without queueing (Little's law), a few probes
// on a sub-millisecond LAN path, hundreds across a 20 ms WAN link. The window
// is `per_ms` probes per millisecond of the shortest round trip seen so far
// (before the first reply, of the time since the first probe left, a lower
// bound of it), at least `min` and at most `max` (and the number of targets).
// It never follows a round trip that grows: a queue the probes build
// themselves does not widen the window that built it. Measured in the lab,
// 100 targets, -n 5, +10 ms each way: a fixed window of 16 took 523 ms,
// check_icmp 128 ms (whole rounds at once), this window 110-140 ms; on the
// 0.3 ms path it stays at 16. A fixed window (min = max) does not adapt.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <vector>

namespace sitelink::ping {

// Every target gets its probe k at k × interval, and the targets are spread
// evenly over the interval (target a of n at a/n × interval), so a thousand
// targets do not leave in one burst that overflows queues and receive buffers.
constexpr long long send_offset_ns(int probe, std::size_t slot, std::size_t slots, long long interval_ns) noexcept
{
  return static_cast<long long>(probe) * interval_ns +
         (slots == 0 ? 0 : static_cast<long long>(slot) * interval_ns / static_cast<long long>(slots));
}

struct WindowPolicy {
  std::size_t min = 16;
  std::size_t max = 256;
  long long per_ms = 16; // probes in flight per millisecond of round trip
  // How long a full window waits for half of it to come back before it
  // refills as probes return (negative: as long as it takes). On the lab's
  // 0.3 ms path half the window drains well within it; across a 20 ms link
  // it would take a round trip when the window is narrower than the targets.
  long long max_hold_ns = 2'000'000;

  static WindowPolicy fixed(std::size_t w) noexcept { return WindowPolicy{w, w, 0, -1}; }
  bool adaptive() const noexcept { return min != max; }
};

struct ProbeSlot {
  std::size_t target = 0; // index into the scheduler's targets (0..targets-1)
  int probe = 0;          // 0..count-1
};

class ProbeSchedule {
public:
  ProbeSchedule(std::size_t targets, int count, long long interval_ns, long long start_ns, bool paced,
                WindowPolicy window = {});
  // A fixed window of `window` probes.
  ProbeSchedule(std::size_t targets, int count, long long interval_ns, long long start_ns, bool paced,
                std::size_t window)
      : ProbeSchedule(targets, count, interval_ns, start_ns, paced, WindowPolicy::fixed(window))
  {}

  // The next probe that may leave at `now`, if any. Call sent() once the
  // kernel took it; when the socket was busy, just ask again later (the same
  // probe is offered again).
  std::optional<ProbeSlot> next(long long now);
  void sent(ProbeSlot p, long long now);
  // The probe cannot be sent at all (no route, ...): it is skipped.
  void skipped(ProbeSlot p, long long now);
  // The reply to a probe came in (at most once per probe), `rtt_ns` after
  // the probe left (negative: unknown, the window does not learn from it).
  void replied(ProbeSlot p, long long now, long long rtt_ns = -1);

  // When next() may have something new to offer without a reply coming in;
  // nullopt once every probe has left.
  std::optional<long long> wake_at();
  bool all_sent() const noexcept { return sent_total_ == total_; }
  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t window() const noexcept { return window_; }
  std::size_t peak_window() const noexcept { return peak_window_; }

private:
  struct Due {
    long long at;
    std::size_t target;
    int probe;
    bool operator>(const Due& o) const noexcept { return at != o.at ? at > o.at : target > o.target; }
  };
  long long paced_at(std::size_t t, int k) const noexcept;
  void expire(long long now);
  void advance(std::size_t t, int k, long long now);
  bool stale(std::size_t t, int k) const noexcept { return next_probe_[t] != k; }
  void resize(long long now) noexcept;

  std::size_t targets_;
  int count_;
  long long interval_;
  long long start_;
  bool paced_;
  WindowPolicy policy_;
  std::size_t window_;
  std::size_t peak_window_;
  long long min_rtt_ = -1;    // the run's shortest round trip so far
  long long first_sent_ = -1; // when the first probe left
  std::size_t total_;
  std::size_t sent_total_ = 0;
  std::size_t in_flight_ = 0;
  bool refilling_ = true;                                             // early probes may leave until the window is full
  long long paused_at_ = 0;                                           // when the window last filled up
  std::vector<int> next_probe_;                                       // per target: the probe that leaves next
  std::vector<std::uint8_t> counted_;                                 // per probe: still counts against the window
  std::priority_queue<Due, std::vector<Due>, std::greater<>> timers_; // floor and INTERVAL-limit sends
  std::deque<ProbeSlot> early_;                                       // reply-driven sends, in arrival order
  std::deque<std::pair<long long, std::size_t>> flight_;              // (left at, probe index), in sending order
};

// What a probing run is asked to do, whatever the probe kind.
struct ProbePlan {
  int count = 5;
  long long interval_ns = 100'000'000;
  long long reply_wait_ns = 1'000'000'000; // a reply later than this counts as lost (before fitted_reply_wait_ns)
  bool paced = false;                      // keep every probe on the fixed schedule
};

// The reply wait that fits the time left for I/O: the plan's, cut so that
// the whole schedule plus the wait ends within `io_left_ns`, and at least
// 1 ms, so that a slow link is measured as slow, never past the budget.
long long fitted_reply_wait_ns(const ProbePlan& plan, long long io_left_ns) noexcept;

// How a probing run ended: `out_of_time` when the deadline stopped it while
// probes were still unsent (the measurement covers the probes that left).
struct ProbeRun {
  bool out_of_time = false;
};

} // namespace sitelink::ping
