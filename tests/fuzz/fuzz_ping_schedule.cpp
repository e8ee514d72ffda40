// SPDX-License-Identifier: GPL-2.0-or-later
// ProbeSchedule of check_cross_site_ping under arbitrary event sequences:
// sends, replies (also duplicate, stale and made-up ones), refused sends and
// clock jumps.
// Input: byte 0: targets (1-64), byte 1: packets (1-32), byte 2: interval
// (1-256 ms), byte 3: bit 0 paced, bits 1-4 window (1-16), bit 5 a window
// that follows the round trip (from that size up to 8 times it, bits 6-7:
// probes per ms 0-3, hold 1 ms); then one event per 2 bytes: (kind, argument).
#include <map>
#include <vector>

#include "check_cross_site_ping/schedule.hpp"
#include "fuzz_support.hpp"

using namespace sitelink::ping;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 4) return 0;
  const std::size_t targets = 1 + data[0] % 64;
  const int count = 1 + data[1] % 32;
  const long long interval = (1 + data[2]) * 1'000'000LL;
  const bool paced = (data[3] & 1) != 0;
  const std::size_t window = 1 + ((data[3] >> 1) & 15);
  const bool follows = (data[3] & 32) != 0;
  ProbeSchedule s = follows ? ProbeSchedule(targets, count, interval, 0, paced,
                                            WindowPolicy{window, window * 8, (data[3] >> 6) & 3, 1'000'000})
                            : ProbeSchedule(targets, count, interval, 0, paced, window);

  long long now = 0;
  std::vector<int> sent_upto(targets, -1); // highest probe handed out per target
  std::vector<std::pair<ProbeSlot, long long>> flying;
  std::size_t total = 0;
  for (std::size_t i = 4; i + 1 < size; i += 2) {
    const std::uint8_t kind = data[i] % 5;
    const std::uint8_t arg = data[i + 1];
    if (kind == 0) { // send whatever is due
      if (auto p = s.next(now)) {
        if (p->target >= targets || p->probe < 0 || p->probe >= count) sitelink::fuzz::fail("probe outside the plan");
        if (p->probe != sent_upto[p->target] + 1) sitelink::fuzz::fail("probes of a target out of order");
        // Paced probes never leave before their slot.
        if (paced && now < send_offset_ns(p->probe, p->target, targets, interval))
          sitelink::fuzz::fail("paced probe before its slot");
        if (arg & 1) {
          s.skipped(*p, now);
        } else {
          s.sent(*p, now);
          flying.emplace_back(*p, now);
        }
        sent_upto[p->target] = p->probe;
        ++total;
      }
    } else if (kind == 1 && !flying.empty()) { // a reply to one in flight
      auto& f = flying[arg % flying.size()];
      s.replied(f.first, now, now - f.second);
    } else if (kind == 2) { // a made-up reply
      s.replied(ProbeSlot{static_cast<std::size_t>(arg % (targets + 2)), static_cast<int>(arg) - 3}, now,
                static_cast<long long>(arg) * 1000 - 1000);
    } else if (kind == 3) { // time passes
      now += static_cast<long long>(arg) * interval / 16;
    } else { // jump to the schedule's own wake-up
      if (auto w = s.wake_at()) {
        if (*w < 0) sitelink::fuzz::fail("wake-up before the start");
        if (*w > now) now = *w;
      }
    }
    if (s.in_flight() > total) sitelink::fuzz::fail("more in flight than sent");
    if (s.window() < 1 || (follows && s.window() > window * 8)) sitelink::fuzz::fail("window outside its bounds");
  }
  // Whatever happened, the schedule drains: waking when it says and sending
  // what it offers ends with every probe out, no later than the paced plan.
  for (int guard = 0; !s.all_sent(); ++guard) {
    if (guard > 64 * 32 * 4 + 16) sitelink::fuzz::fail("schedule does not drain");
    while (auto p = s.next(now)) {
      if (p->probe != sent_upto[p->target] + 1) sitelink::fuzz::fail("probes of a target out of order");
      s.sent(*p, now);
      sent_upto[p->target] = p->probe;
    }
    if (s.all_sent()) break;
    auto w = s.wake_at();
    if (!w) sitelink::fuzz::fail("probes left but no wake-up");
    if (*w > now) now = *w;
  }
  for (std::size_t t = 0; t < targets; ++t)
    if (sent_upto[t] != count - 1) sitelink::fuzz::fail("a target did not get all its probes");
  return 0;
}
