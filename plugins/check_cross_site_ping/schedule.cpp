// SPDX-License-Identifier: GPL-2.0-or-later
#include "schedule.hpp"

#include <algorithm>
#include <cmath>

namespace sitelink::ping {

ProbeSchedule::ProbeSchedule(std::size_t targets, int count, long long interval_ns, long long start_ns, bool paced,
                             WindowPolicy window)
    : targets_(targets), count_(std::max(count, 0)), interval_(interval_ns), start_(start_ns), paced_(paced),
      policy_(window), total_(targets * static_cast<std::size_t>(count_)), next_probe_(targets, 0), counted_(total_, 0)
{
  policy_.min = std::max<std::size_t>(policy_.min, 1);
  // A target has at most one reply-driven probe out: a wider window is idle.
  if (policy_.adaptive()) policy_.max = std::min(policy_.max, std::max<std::size_t>(targets, 1));
  policy_.max = std::max(policy_.max, policy_.min);
  window_ = policy_.min;
  peak_window_ = window_;
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

void ProbeSchedule::resize(long long now) noexcept
{
  if (!policy_.adaptive()) return;
  long long rtt = min_rtt_;
  if (rtt < 0) rtt = first_sent_ >= 0 ? std::max(0LL, now - first_sent_) : 0;
  const long long w = std::clamp(rtt / 1'000'000 * policy_.per_ms + rtt % 1'000'000 * policy_.per_ms / 1'000'000,
                                 static_cast<long long>(policy_.min), static_cast<long long>(policy_.max));
  window_ = static_cast<std::size_t>(w);
  peak_window_ = std::max(peak_window_, window_);
}

std::optional<ProbeSlot> ProbeSchedule::next(long long now)
{
  expire(now);
  resize(now);
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
    // Before the first reply the window widens with time: fill it as it does.
    if (in_flight_ <= window_ / 2 || (policy_.adaptive() && min_rtt_ < 0)) refilling_ = true;
    // A full window waits for half of it to come back, max_hold at most.
    if (!refilling_ && policy_.max_hold_ns >= 0 && paused_at_ + policy_.max_hold_ns <= now && in_flight_ < window_)
      refilling_ = true;
    if (in_flight_ >= window_) {
      if (refilling_) paused_at_ = now;
      refilling_ = false;
    }
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
  if (first_sent_ < 0) first_sent_ = now;
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

void ProbeSchedule::replied(ProbeSlot p, long long now, long long rtt_ns)
{
  if (p.target >= targets_ || p.probe < 0 || p.probe >= count_) return;
  const std::size_t idx = p.target * static_cast<std::size_t>(count_) + static_cast<std::size_t>(p.probe);
  if (counted_[idx] != 0) {
    counted_[idx] = 0;
    --in_flight_;
  }
  if (rtt_ns >= 0 && (min_rtt_ < 0 || rtt_ns < min_rtt_)) {
    min_rtt_ = rtt_ns;
    resize(now);
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
  // INTERVAL (or replies come in, which wake the caller), or when a full
  // window has waited max_hold; next() decides whether enough of it has
  // drained.
  if (!early_.empty() && !flight_.empty()) {
    long long opens = flight_.front().first + interval_;
    if (!refilling_ && policy_.max_hold_ns >= 0 && in_flight_ < window_)
      opens = std::min(opens, paused_at_ + policy_.max_hold_ns);
    // Before the first reply the window widens with the time waited.
    if (policy_.adaptive() && min_rtt_ < 0 && first_sent_ >= 0 && window_ < policy_.max && policy_.per_ms > 0)
      opens =
          std::min(opens, first_sent_ + ((static_cast<long long>(in_flight_) + 1) * 1'000'000 + policy_.per_ms - 1) /
                                            policy_.per_ms); // rounded up: the window has grown by then
    at = at ? std::min(*at, opens) : opens;
  }
  return at;
}

long long fitted_reply_wait_ns(const ProbePlan& plan, long long io_left_ns) noexcept
{
  const double left_ms = static_cast<double>(io_left_ns - plan.count * plan.interval_ns) / 1e6;
  const double wait_ms = static_cast<double>(plan.reply_wait_ns) / 1e6;
  return std::llround(std::max(1.0, std::min(wait_ms, left_ms)) * 1e6);
}

} // namespace sitelink::ping
