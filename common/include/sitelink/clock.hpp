// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace sitelink {

// Wall-clock time as a Unix epoch with fractions. An interface so that ages
// and staleness are computed from a fake clock in unit tests.
class Clock {
public:
  virtual ~Clock() = default;
  virtual double now() const = 0;
};

class SystemClock final : public Clock {
public:
  double now() const override;
};

class FixedClock final : public Clock {
public:
  explicit FixedClock(double t) : t_(t) {}
  double now() const override { return t_; }
  void set(double t) { t_ = t; }

private:
  double t_;
};

} // namespace sitelink
