// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The pauses between logins to a PostgreSQL server that answers "too many
// clients" / "remaining connection slots are reserved" (pure, for tests).
//
// Every refused login costs the server a forked backend, and the "reserved
// slots" refusal comes after the whole SCRAM login: about as much server
// CPU as a check's own session (bench/results/drills.md, crowd section). So
// a crowd that asks again at a steady rate spends the server's CPU on
// refusals and starves the checks that got in. The pauses therefore grow
// (the window doubles from 100 ms up to a quarter of the budget, at most
// 4 s: a 20 s budget asks about 11 times, where fixed pauses of at most
// 800 ms asked about 30 times) and each is drawn at random in the upper half
// of its window, so that a crowd released at one instant does not come back
// at one instant. The cap is taken from the whole budget, not from the time
// left: a cap that shrinks with the time left would ask ever faster towards
// the end, a storm again.

#include <chrono>
#include <cstdint>
#include <optional>

namespace sitelink::replication {

class LoginRetry {
public:
  using ms = std::chrono::milliseconds;
  static constexpr ms first_window{100};
  static constexpr ms max_window{4000};
  // Time kept for the login that follows a pause and the queries after it:
  // twice the slowest refused login seen, at least this.
  static constexpr ms min_reserve{200};

  // `budget`: the I/O budget at the first login.
  explicit LoginRetry(ms budget) noexcept;

  // After a refused login that took `took`, with `left` of the I/O budget:
  // the pause before asking again, or nullopt when a pause and another
  // login no longer fit (the refusal is then the finding). `unit` is a
  // random number in [0, 1).
  std::optional<ms> next(ms left, ms took, double unit);
  int refusals() const noexcept { return refusals_; }

private:
  ms cap_;
  ms window_{first_window};
  ms slowest_{0};
  int refusals_ = 0;
};

// Is this libpq message a server without a free slot?
bool server_full(const char* message);

// A random number in [0, 1) from a splitmix64 state (the caller seeds it
// from its PID and the clock, so processes started together differ).
double next_unit(std::uint64_t& state) noexcept;

} // namespace sitelink::replication
