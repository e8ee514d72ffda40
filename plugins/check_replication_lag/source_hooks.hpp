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

  // Records `what` as the observation's activity (`slot`) and names it to
  // the plugin.
  void set_activity(std::string& slot, const std::string& what) const
  {
    slot = what;
    if (activity) activity(what);
  }
  // Passes a verbose line on, if the plugin wants them.
  void trace(int level, const std::string& line) const
  {
    if (debug) debug(level, line);
  }
};

} // namespace sitelink::replication
