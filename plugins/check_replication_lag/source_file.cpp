// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "heartbeat.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::replication {

namespace {

struct Fd {
  int fd = -1;
  ~Fd()
  {
    if (fd >= 0) ::close(fd);
  }
};

HeartbeatObservation from_errno(HeartbeatObservation obs, int err)
{
  obs.status = err == ENOENT || err == ENOTDIR ? HeartbeatObservation::Status::Missing
                                               : HeartbeatObservation::Status::Unreadable;
  obs.error = std::strerror(err);
  return obs;
}

std::string seconds_text(double s)
{
  double a = std::fabs(s);
  if (a >= 100) return format_number(std::round(s));
  return format_number(std::round(s * 10) / 10);
}

} // namespace

HeartbeatObservation read_heartbeat(const std::string& path, TimestampSource source)
{
  HeartbeatObservation obs;
  obs.path = path;
  Activity act("opening heartbeat file " + path);
  Fd f;
  // A FIFO or a hung network file system blocks here; the watchdog ends it.
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (f.fd < 0) return from_errno(obs, errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return from_errno(obs, errno);
  if (S_ISDIR(st.st_mode)) {
    obs.status = HeartbeatObservation::Status::Unreadable;
    obs.error = "is a directory";
    return obs;
  }
  if (source == TimestampSource::Mtime) {
    obs.status = HeartbeatObservation::Status::Read;
    obs.timestamp = static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) / 1e9;
    return obs;
  }
  Activity rd("reading heartbeat file " + path);
  char buf[512];
  std::size_t have = 0;
  while (have < sizeof buf) {
    ssize_t n = ::read(f.fd, buf + have, sizeof buf - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return from_errno(obs, errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
    if (std::memchr(buf, '\n', have) != nullptr) break;
  }
  std::string_view content(buf, have);
  auto ts = parse_heartbeat(content);
  if (!ts) {
    obs.status = HeartbeatObservation::Status::Unparsable;
    obs.error = ts.error();
    obs.content = std::string(content.substr(0, content.find('\n')));
    return obs;
  }
  obs.status = HeartbeatObservation::Status::Read;
  obs.timestamp = *ts;
  return obs;
}

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
      r.details.push_back("the plugin's user needs read permission on the file and search permission on its directories");
    break;
  case HeartbeatObservation::Status::Unparsable:
    r.state = State::Unknown;
    r.summary = fmt::format("heartbeat {} has unparsable content '{}': {}", path,
                            sanitize_quote(obs.content, 40), obs.error);
    r.details.push_back("expected a Unix epoch or an RFC 3339 timestamp with a zone on the first line");
    break;
  case HeartbeatObservation::Status::Read: {
    double a = now - *obs.timestamp;
    if (-a > policy.max_future) {
      r.state = State::Warning;
      r.summary = fmt::format("heartbeat {} is {} s in the future: clock skew between the sites?", path,
                              seconds_text(-a));
      age.value = std::round(a * 1000) / 1000;
      r.details.push_back(fmt::format("allowed skew is {} s", format_number(policy.max_future)));
      break;
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
    break;
  }
  }
  r.perfdata.push_back(age);
  return r;
}

} // namespace sitelink::replication
