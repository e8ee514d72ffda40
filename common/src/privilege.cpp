// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/privilege.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <linux/capability.h>
#include <string_view>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/output.hpp"

namespace sitelink {
namespace {

// Version 3 carries two 32-bit words per set (capabilities 0-63).
struct CapState {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

bool get_caps(CapState& s) noexcept
{
  return ::syscall(SYS_capget, &s.header, s.data) == 0;
}

bool set_caps(CapState& s) noexcept
{
  s.header.version = _LINUX_CAPABILITY_VERSION_3;
  s.header.pid = 0;
  return ::syscall(SYS_capset, &s.header, s.data) == 0;
}

} // namespace

void raise_capability(int cap) noexcept
{
  if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3) return;
  CapState s;
  if (!get_caps(s)) return;
  const unsigned word = static_cast<unsigned>(cap) / 32;
  const __u32 bit = __u32{1} << (static_cast<unsigned>(cap) % 32);
  if ((s.data[word].permitted & bit) == 0 || (s.data[word].effective & bit) != 0) return;
  s.data[word].effective |= bit;
  (void)set_caps(s);
}

bool capabilities_clear() noexcept
{
  CapState s;
  if (!get_caps(s)) return false;
  for (const auto& d : s.data)
    if (d.effective != 0 || d.permitted != 0 || d.inheritable != 0) return false;
  return true;
}

std::string capability_status()
{
  std::FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return "capabilities: /proc/self/status unreadable";
  std::string out = "capabilities:";
  char line[256];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string_view l(line);
    if (l.rfind("CapEff:", 0) == 0 || l.rfind("CapPrm:", 0) == 0) {
      while (!l.empty() && (l.back() == '\n' || l.back() == ' ')) l.remove_suffix(1);
      out += " " + sanitize(l);
    }
  }
  std::fclose(f);
  return out;
}

tl::expected<void, std::string> drop_capabilities()
{
  CapState none; // every flag of every capability clear
  if (!set_caps(none)) return tl::make_unexpected(fmt::format("cannot drop capabilities: {}", std::strerror(errno)));
  // Ambient capabilities would survive in children; none are started, but a
  // failure here must not go unnoticed (EINVAL: a kernel without them).
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return tl::make_unexpected(fmt::format("cannot clear ambient capabilities: {}", std::strerror(errno)));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return tl::make_unexpected(fmt::format("cannot set no_new_privs: {}", std::strerror(errno)));
  if (!capabilities_clear()) return tl::make_unexpected(std::string("capabilities are still set after dropping them"));
  return {};
}

} // namespace sitelink
