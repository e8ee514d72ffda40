// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/module.hpp"

#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <unistd.h>
#include <vector>

#include "sitelink/version.hpp"

namespace sitelink {

namespace {
std::string exe_dir()
{
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string p(buf, static_cast<std::size_t>(n));
  auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string() : p.substr(0, slash);
}

// The distribution package that ships each module (packaging/debian/control,
// packaging/rpm/sitelink.spec): the packages are split by weight, so a
// backend whose client library was not wanted is simply not installed.
std::string package_of(std::string_view module)
{
  if (module == "sitelink_pgsql") return "sitelink-replication-postgresql";
  if (module == "sitelink_mysql") return "sitelink-replication-mysql";
  if (module == "sitelink_cloud") return "sitelink-vpn-cloud";
  return "sitelink";
}
} // namespace

tl::expected<void*, std::string> load_module_symbol(std::string_view name, std::string_view symbol)
{
  std::vector<std::string> dirs;
  if (const char* env = ::secure_getenv("SITELINK_MODULE_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
  if (auto d = exe_dir(); !d.empty()) {
    dirs.push_back(d + "/../modules");
    // Installed: <libdir>/nagios/plugins/<plugin> and <libdir>/sitelink/, in
    // both packages (lib64 in the .rpm), so one build serves both formats.
    dirs.push_back(d + "/../../sitelink");
  }
  dirs.emplace_back(module_dir);

  std::string errors;
  for (const auto& d : dirs) {
    std::string path = d + "/" + std::string(name) + ".so";
    if (::access(path.c_str(), R_OK) != 0) continue;
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = ::dlerror();
      return tl::unexpected("cannot load backend module " + path + ": " + (e ? e : "unknown error"));
    }
    void* sym = ::dlsym(h, std::string(symbol).c_str());
    if (sym == nullptr) return tl::unexpected("backend module " + path + " lacks symbol " + std::string(symbol));
    return sym;
  }
  return tl::unexpected("backend module " + std::string(name) + " is not installed (install the package " +
                        package_of(name) + ")");
}

} // namespace sitelink
