// SPDX-License-Identifier: GPL-2.0-or-later
#include "host.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sitelink::vpn::cloud {

std::optional<std::string> ProcessEnvironment::get(const std::string& name) const
{
  const char* v = std::getenv(name.c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

FileRead RealFileSystem::read_secret_file(const std::string& path) const
{
  FileRead r;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return r;
    r.status = FileRead::Status::Refused;
    r.error = "cannot open " + path + ": " + std::strerror(errno);
    return r;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    r.status = FileRead::Status::Refused;
    r.error = path + " is not a regular file";
    return r;
  }
  if ((st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    r.status = FileRead::Status::Refused;
    r.error = "refusing " + path + ": mode " + mode +
              " lets other users read or change the credentials it holds (chmod 600 or 640)";
    return r;
  }
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.status = FileRead::Status::Refused;
      r.error = "cannot read " + path + ": " + std::strerror(errno);
      ::close(fd);
      return r;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > 1024 * 1024) {
      r.status = FileRead::Status::Refused;
      r.error = path + " is larger than 1 MiB";
      ::close(fd);
      return r;
    }
  }
  ::close(fd);
  r.status = FileRead::Status::Ok;
  r.text = std::move(text);
  return r;
}

} // namespace sitelink::vpn::cloud
