// SPDX-License-Identifier: GPL-2.0-or-later
#include "source_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heartbeat.hpp"
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

} // namespace sitelink::replication
