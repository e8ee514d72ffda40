// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The TCP connect Source of check_cross_site_ping (--tcp PORT): concurrent
// connects on the same schedule as the echo probes. It fills
// TargetObservations; evaluate() judges them. I/O only.

#include <cstdint>
#include <optional>
#include <vector>

#include "evaluate.hpp"
#include "net.hpp"
#include "schedule.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::ping {

// TCP connect probes to `port`; a refused connection is an answer (the host
// is alive) and is counted in TargetObservation::refused. `obs` is parallel
// to `targets`; the schedule and the reply wait end within
// deadline.io_slice().
ProbeRun probe_tcp(const std::vector<std::optional<Endpoint>>& targets, std::vector<TargetObservation>& obs,
                   const ProbePlan& plan, std::uint16_t port, const std::optional<Endpoint>& source,
                   const Deadline& deadline);

} // namespace sitelink::ping
