// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend file: a heartbeat file written at the live site and carried to
// the DR site by the sync; the check says how stale the copy is. The
// database backends' judgement is in evaluate_postgresql.hpp and
// evaluate_mysql.hpp.

#include <optional>
#include <string>

#include "sitelink/range.hpp"
#include "sitelink/result.hpp"

namespace sitelink::replication {

struct HeartbeatObservation {
  enum class Status { Read, Missing, Unreadable, Unparsable };
  Status status = Status::Unreadable;
  std::string path;
  std::optional<double> timestamp; // epoch, when Read
  std::string error;               // strerror or parse error
  std::string content;             // raw first bytes, when Unparsable
};

struct HeartbeatPolicy {
  Range warn;
  Range crit;
  double max_future = 60; // seconds ahead before it is clock skew
};

// Pure judgement of the heartbeat's age at `now` (epoch seconds).
Result evaluate_heartbeat(const HeartbeatObservation& obs, const HeartbeatPolicy& policy, double now);

} // namespace sitelink::replication
