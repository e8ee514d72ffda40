// SPDX-License-Identifier: GPL-2.0-or-later
#include "login_retry.hpp"

#include <algorithm>
#include <cstring>

namespace sitelink::replication {

LoginRetry::LoginRetry(ms budget) noexcept : cap_(std::clamp(budget / 4, first_window, max_window))
{}

std::optional<LoginRetry::ms> LoginRetry::next(ms left, ms took, double unit)
{
  ++refusals_;
  slowest_ = std::max(slowest_, took);
  const ms reserve = std::max(min_reserve, 2 * slowest_);
  const ms window = std::min(window_, cap_);
  unit = std::clamp(unit, 0.0, 1.0);
  const ms pause = window / 2 + ms(static_cast<ms::rep>(static_cast<double>((window / 2).count()) * unit));
  window_ = std::min(window_ * 2, max_window);
  if (pause + reserve >= left) return std::nullopt;
  return pause;
}

bool server_full(const char* message)
{
  return message != nullptr && (std::strstr(message, "too many clients") != nullptr ||
                                std::strstr(message, "remaining connection slots") != nullptr);
}

double next_unit(std::uint64_t& state) noexcept
{
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

} // namespace sitelink::replication
