// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the plugin lends a database source besides the deadline: where to
// name what it is doing (for the watchdog's timeout and signal lines) and
// where -v lines go. The sources are modules, so both are plain callbacks.

#include <functional>
#include <string>

namespace sitelink::replication {

struct SourceHooks {
  // Names what the source is doing now.
  std::function<void(const std::string&)> activity;
  // A verbose line at -v level `level` (1 to 3).
  std::function<void(int level, const std::string&)> debug;
};

} // namespace sitelink::replication
