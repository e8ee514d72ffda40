// SPDX-License-Identifier: GPL-2.0-or-later
#include "evaluate.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "wording.hpp"

namespace sitelink::replication {

namespace {

// The Read case: future (clock skew), critical, warning or fine.
void judge_age(Result& r, Perfdatum& age, const std::string& path, const HeartbeatObservation& obs,
               const HeartbeatPolicy& policy, double now)
{
  double a = now - *obs.timestamp;
  if (-a > policy.max_future) {
    r.state = State::Warning;
    r.summary =
        fmt::format("heartbeat {} is {} s in the future: clock skew between the sites?", path, seconds_text(-a));
    age.value = std::round(a * 1000) / 1000;
    r.details.push_back(fmt::format("allowed skew is {} s", format_number(policy.max_future)));
    return;
  }
  if (a < 0) a = 0;
  a = std::round(a * 1000) / 1000;
  age.value = a;
  if (policy.crit.alerts(a)) {
    r.state = State::Critical;
    r.summary = fmt::format("heartbeat {} is {} s old (critical {} s)", path, seconds_text(a), policy.crit.describe());
  } else if (policy.warn.alerts(a)) {
    r.state = State::Warning;
    r.summary = fmt::format("heartbeat {} is {} s old (warning {} s)", path, seconds_text(a), policy.warn.describe());
  } else {
    r.state = State::Ok;
    r.summary = fmt::format("heartbeat {} is {} s old", path, seconds_text(a));
  }
  r.details.push_back(fmt::format("heartbeat timestamp {} (epoch), checked at {}", format_number(*obs.timestamp),
                                  format_number(std::round(now * 1000) / 1000)));
}

} // namespace

Result evaluate_heartbeat(const HeartbeatObservation& obs, const HeartbeatPolicy& policy, double now)
{
  Result r;
  Perfdatum age{"age", std::nullopt, Uom::Seconds, policy.warn, policy.crit, 0.0, std::nullopt};
  const std::string path = sanitize(obs.path);
  switch (obs.status) {
  case HeartbeatObservation::Status::Missing:
    r.state = State::Critical;
    r.summary = fmt::format("heartbeat {} does not exist: the sync never delivered it", path);
    r.details.push_back(fmt::format("open({}): {}", path, obs.error));
    break;
  case HeartbeatObservation::Status::Unreadable:
    r.state = State::Unknown;
    r.summary = fmt::format("cannot read heartbeat {}: {}", path, obs.error);
    if (obs.error == std::strerror(EACCES))
      r.details.push_back(
          "the plugin's user needs read permission on the file and search permission on its directories");
    break;
  case HeartbeatObservation::Status::Unparsable:
    r.state = State::Unknown;
    r.summary =
        fmt::format("heartbeat {} has unparsable content '{}': {}", path, sanitize_quote(obs.content, 40), obs.error);
    r.details.push_back("expected a Unix epoch or an RFC 3339 timestamp with a zone on the first line");
    break;
  case HeartbeatObservation::Status::Read: judge_age(r, age, path, obs, policy, now); break;
  }
  r.perfdata.push_back(age);
  return r;
}

} // namespace sitelink::replication
