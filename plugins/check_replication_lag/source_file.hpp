// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend file: reads the heartbeat file (the only I/O of this backend).
// A FIFO or a hung network file system blocks in open(); no call here takes
// a timeout, so the watchdog bounds it and names the activity.

#include <string>

#include "evaluate.hpp"

namespace sitelink::replication {

enum class TimestampSource { Content, Mtime };

// Reads the heartbeat's time from its first line or its modification time.
HeartbeatObservation read_heartbeat(const std::string& path, TimestampSource source);

} // namespace sitelink::replication
