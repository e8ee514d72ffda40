// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sitelink/perfdata.hpp"
#include "sitelink/state.hpp"

namespace sitelink {

// What a check concluded: line 1 summary, long output, perfdata.
struct Result {
  State state = State::Unknown;
  std::string summary;
  std::vector<std::string> details; // one fact per line
  std::vector<Perfdatum> perfdata;
  // Set when a source ran out of time: what it was doing. The runtime then
  // writes the summary "timed out after N s while <this>" and the -t state;
  // plugins never format that line themselves.
  std::optional<std::string> timed_out_while = std::nullopt;

  // A source ran out of time while doing `activity`; `details` say more.
  static Result timed_out(std::string activity, std::vector<std::string> details = {});
};

// A part of a check (one tunnel, one target, one replica, one metric).
struct SubResult {
  State state = State::Unknown;
  std::string text;
  std::vector<Perfdatum> perfdata;
};

// Aggregates parts: the state is the worst (CRITICAL > WARNING > UNKNOWN >
// OK); the summary lists the texts of the parts in the worst state; every
// part becomes a long-output line. No parts at all is UNKNOWN ("no
// measurement").
Result aggregate(const std::vector<SubResult>& parts);

} // namespace sitelink
