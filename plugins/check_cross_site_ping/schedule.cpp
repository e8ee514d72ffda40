// SPDX-License-Identifier: GPL-2.0-or-later
#include "schedule.hpp"

#include <algorithm>

namespace sitelink::ping {

ProbeSchedule::ProbeSchedule(std::size_t targets, int count, long long interval_ns, long long start_ns, bool paced,
                             std::size_t window)
    : targets_(targets), count_(std::max(count, 0)), interval_(interval_ns), start_(start_ns), paced_(paced),
      window_(std::max<std::size_t>(window, 1)), total_(targets * static_cast<std::size_t>(count_)),
      next_probe_(targets, 0), counted_(total_, 0)
{
  if (count_ == 0) return;
  for (std::size_t t = 0; t < targets_; ++t) {
    timers_.push(Due{paced_at(t, 0), t, 0});
    if (!paced_) early_.push_back(ProbeSlot{t, 0});
  }
}

long long ProbeSchedule::paced_at(std::size_t t, int k) const noexcept
{
  return start_ + send_offset_ns(k, t, targets_, interval_);
}

void ProbeSchedule::expire(long long now)
{
  while (!flight_.empty() && flight_.front().first + interval_ <= now) {
    const std::size_t idx = flight_.front().second;
    if (counted_[idx] != 0) {
      counted_[idx] = 0;
      --in_flight_;
    }
    flight_.pop_front();
  }
}

std::optional<ProbeSlot> ProbeSchedule::next(long long now)
{
  expire(now);
  while (!timers_.empty()) {
    const Due& d = timers_.top();
    if (stale(d.target, d.probe)) {
      timers_.pop();
      continue;
    }
    if (d.at <= now) return ProbeSlot{d.target, d.probe};
    break;
  }
  while (!early_.empty()) {
    const ProbeSlot& p = early_.front();
    if (stale(p.target, p.probe)) {
      early_.pop_front();
      continue;
    }
    if (in_flight_ <= window_ / 2) refilling_ = true;
    if (in_flight_ >= window_) refilling_ = false;
    if (refilling_) return p;
    break;
  }
  return std::nullopt;
}

void ProbeSchedule::advance(std::size_t t, int k, long long now)
{
  ++sent_total_;
  next_probe_[t] = k + 1;
  if (k + 1 >= count_) return;
  long long due = paced_at(t, k + 1);
  if (!paced_) due = std::min(due, now + interval_);
  timers_.push(Due{due, t, k + 1});
}

void ProbeSchedule::sent(ProbeSlot p, long long now)
{
  if (p.target >= targets_ || stale(p.target, p.probe)) return;
  const std::size_t idx = p.target * static_cast<std::size_t>(count_) + static_cast<std::size_t>(p.probe);
  counted_[idx] = 1;
  ++in_flight_;
  flight_.emplace_back(now, idx);
  advance(p.target, p.probe, now);
}

void ProbeSchedule::skipped(ProbeSlot p, long long now)
{
  if (p.target >= targets_ || stale(p.target, p.probe)) return;
  advance(p.target, p.probe, now);
}

void ProbeSchedule::replied(ProbeSlot p, long long now)
{
  (void)now;
  if (p.target >= targets_ || p.probe < 0 || p.probe >= count_) return;
  const std::size_t idx = p.target * static_cast<std::size_t>(count_) + static_cast<std::size_t>(p.probe);
  if (counted_[idx] != 0) {
    counted_[idx] = 0;
    --in_flight_;
  }
  // Only the reply to a target's latest probe lets the next one go early.
  if (!paced_ && next_probe_[p.target] == p.probe + 1 && p.probe + 1 < count_)
    early_.push_back(ProbeSlot{p.target, p.probe + 1});
}

std::optional<long long> ProbeSchedule::wake_at()
{
  if (all_sent()) return std::nullopt;
  std::optional<long long> at;
  while (!timers_.empty() && stale(timers_.top().target, timers_.top().probe)) timers_.pop();
  if (!timers_.empty()) at = timers_.top().at;
  while (!early_.empty() && stale(early_.front().target, early_.front().probe)) early_.pop_front();
  // Early probes wait for the window: it opens as probes in flight reach
  // INTERVAL (or replies come in, which wake the caller); next() decides
  // whether enough of it has drained.
  if (!early_.empty() && !flight_.empty()) {
    const long long opens = flight_.front().first + interval_;
    at = at ? std::min(*at, opens) : opens;
  }
  return at;
}

} // namespace sitelink::ping
