// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <sys/types.h>

#include <tl/expected.hpp>

#include "sitelink/state.hpp"

namespace sitelink {

// -t SECONDS[:STATE]
struct TimeoutSpec {
  double seconds = 10;
  State state = State::Unknown;
};
tl::expected<TimeoutSpec, std::string> parse_timeout(std::string_view text);

// Seconds of the budget that I/O leaves unused, so that a source that runs out
// of time still returns and says what it was doing (Result::timed_out) before
// the watchdog has to fire. The one margin every source uses.
inline constexpr double io_margin_seconds = 0.3;

// The check's time budget on the monotonic clock. Every blocking call derives
// its own deadline from remaining(), so a black-holed peer ends the check on
// time even where a call cannot be interrupted.
class Deadline {
public:
  using clock = std::chrono::steady_clock;
  explicit Deadline(double budget_seconds);
  // A budget that began `already_elapsed` seconds ago (the process's start,
  // see seconds_since_process_start).
  Deadline(double budget_seconds, double already_elapsed);
  double budget() const noexcept { return budget_; }
  double elapsed() const noexcept;
  double remaining() const noexcept; // never negative
  // Remaining time minus a safety margin, clamped to [min_ms, ...]; for
  // per-call socket and library timeouts.
  std::chrono::milliseconds slice(double fraction = 1.0, double margin_seconds = 0.2, long min_ms = 50) const noexcept;
  bool expired() const noexcept { return remaining() <= 0; }
  // The budget for I/O: slice(1.0, io_margin_seconds, 50). Sources take their
  // per-call timeouts from these two and nothing else.
  std::chrono::milliseconds io_slice() const noexcept { return slice(1.0, io_margin_seconds, 50); }
  clock::time_point io_end() const noexcept { return clock::now() + io_slice(); }

private:
  clock::time_point start_;
  double budget_;
};

// Seconds since this process was started (forked), from /proc/self/stat on
// the boot clock: the loader, static initialisers and option parsing that ran
// before the check's Deadline existed. The monitoring core counts them
// against -t too, and on a busy machine (or under the sanitizers) they take
// a good part of a second. 0 when it cannot be read or makes no sense.
double seconds_since_process_start() noexcept;

// The process-wide watchdog: on SIGALRM (the budget ran out) it prints
// "<SERVICE> <STATE> - timed out after N s while <activity>" plus the runbook
// block; on SIGTERM/SIGINT/SIGHUP it prints "<SERVICE> UNKNOWN - terminated by
// signal while <activity>". Then it kills registered children and _exit()s.
// Everything it prints is prepared beforehand, so the handlers only call
// async-signal-safe functions.
namespace watchdog {
void install_signal_handlers(std::string_view service);
// Fires `seconds - already_elapsed` from now (at least 10 ms); the message
// names the whole `seconds`.
void arm(double seconds, State on_timeout, const std::string& timeout_tail, const std::string& term_tail,
         double already_elapsed = 0);
void disarm() noexcept;
void set_activity(std::string_view what) noexcept;
std::string activity();
void register_child(pid_t pid) noexcept;
void unregister_child(pid_t pid) noexcept;
// Blocks the watchdog's signals while the final output is written.
void hold() noexcept;
} // namespace watchdog

// Names what the plugin is doing, for the timeout message.
class Activity {
public:
  explicit Activity(std::string_view what);
  ~Activity();
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

private:
  std::string previous_;
};

} // namespace sitelink
