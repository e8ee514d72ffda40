// SPDX-License-Identifier: GPL-2.0-or-later
// Capability raise and drop, each in a forked child so the test process
// keeps what it started with. Needs no privilege: an unprivileged child
// drops nothing, and the checks still hold.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <linux/capability.h>
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sitelink/privilege.hpp"

namespace {

// The hex value of a capability line ("CapEff:") of /proc/self/status.
unsigned long long cap_line(const char* key)
{
  std::FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return ~0ULL;
  char line[256];
  unsigned long long v = ~0ULL;
  const std::size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, key, n) == 0) v = std::strtoull(line + n, nullptr, 16);
  std::fclose(f);
  return v;
}

// Runs `body` in a child; the child's exit status is the number of failed checks.
template <class F>
int in_child(F body)
{
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

} // namespace

TEST_CASE("common::drop_capabilities leaves no capability and sets no_new_privs")
{
  const int failed = in_child([] {
    int bad = 0;
    sitelink::raise_capability(CAP_NET_RAW);
    auto r = sitelink::drop_capabilities();
    if (!r) ++bad;
    if (!sitelink::capabilities_clear()) ++bad;
    if (cap_line("CapEff:") != 0 || cap_line("CapPrm:") != 0 || cap_line("CapInh:") != 0 || cap_line("CapAmb:") != 0)
      ++bad;
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) ++bad;
    // Once dropped, nothing can be raised again.
    sitelink::raise_capability(CAP_NET_RAW);
    if (cap_line("CapEff:") != 0) ++bad;
    return bad;
  });
  CHECK(failed == 0);
}

TEST_CASE("common::raise_capability makes a permitted capability effective, and only that one")
{
  if (cap_line("CapPrm:") == 0) {
    MESSAGE("skipped: the test runs without permitted capabilities (as root it checks raising)");
    return;
  }
  const int failed = in_child([] {
    int bad = 0;
    // Effective empty, permitted kept: the state of a `setcap cap_net_raw+p` binary.
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &h, d) != 0) return 50;
    for (auto& x : d) x.effective = 0;
    if (::syscall(SYS_capset, &h, d) != 0) return 51;
    if (cap_line("CapEff:") != 0) ++bad;
    sitelink::raise_capability(CAP_NET_RAW);
    if (cap_line("CapEff:") != (1ULL << CAP_NET_RAW)) ++bad;
    sitelink::raise_capability(-1);   // out of range: ignored
    sitelink::raise_capability(4096); // out of range: ignored
    if (cap_line("CapEff:") != (1ULL << CAP_NET_RAW)) ++bad;
    return bad;
  });
  CHECK(failed == 0);
}
