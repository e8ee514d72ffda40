// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/clock.hpp"

#include <chrono>

namespace sitelink {

double SystemClock::now() const
{
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

} // namespace sitelink
