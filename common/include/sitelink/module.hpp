// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Backend modules: how heavy client libraries stay out of start-up.
//
// Linking libpq, libmariadb or libcurl into a plugin costs every run of it
// several milliseconds and megabytes at start-up (dynamic loading and
// relocation of the library and its TLS/crypto/LDAP/Kerberos dependencies),
// even when the selected backend never uses them. So a backend that needs
// such a library is built as a module (a shared object, `sitelink_add_module`
// in CMake) and opened with dlopen() only when `--backend` selects it. The
// plugin executable itself links only the runtime (Boost.Program_options,
// fmt) and the light backends.
//
// Why modules and not one executable per heavy backend: one command name per
// plugin keeps the Icinga/Nagios command definitions and the options uniform
// (`--backend` switches), the option declarations live once in the plugin,
// and the cost is paid only by the backend that needs it. A module exports one
// C symbol returning a table whose ABI tag must equal the plugin's version, so
// a stale module from another build is refused with a clear UNKNOWN instead of
// crashing.
//
// Search order: $SITELINK_MODULE_DIR (ignored for privileged executables, via
// secure_getenv), then `<executable dir>/../modules` (the build tree), then
// `<executable dir>/../../sitelink` (installed: `<libdir>/nagios/plugins` and
// `<libdir>/sitelink`), then the install directory compiled in. A module
// found nowhere is not installed: the error names its package.

#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include <tl/expected.hpp>

namespace sitelink {

// Opens module `name` (e.g. "sitelink_pgsql") and returns the address of
// `symbol`. The handle is kept open for the life of the process.
tl::expected<void*, std::string> load_module_symbol(std::string_view name, std::string_view symbol);

// The one loader every dlopen'd backend goes through. A module exports
// `extern "C" const Table* SYMBOL()` (write it with SITELINK_MODULE_ENTRY);
// `Table` starts with `const char* abi`, which must equal `abi`, so a module
// from another build is refused with a clear error instead of crashing.
template <class Table>
tl::expected<const Table*, std::string> load_module(std::string_view name, std::string_view symbol,
                                                    std::string_view abi)
{
  auto sym = load_module_symbol(name, symbol);
  if (!sym) return tl::make_unexpected(sym.error());
  const Table* (*entry)() = nullptr;
  static_assert(sizeof entry == sizeof(void*));
  std::memcpy(&entry, &*sym, sizeof entry);
  const Table* table = entry();
  if (table == nullptr || table->abi == nullptr || abi != table->abi)
    return tl::make_unexpected(fmt::format("backend module {} is from another build (ABI {}, expected {})", name,
                                           table != nullptr && table->abi != nullptr ? table->abi : "?", abi));
  return table;
}

} // namespace sitelink

// Defines a module's one exported entry point returning `&TABLE`.
#define SITELINK_MODULE_ENTRY(SYMBOL, TABLE_TYPE, TABLE)                                                               \
  extern "C" __attribute__((visibility("default"))) const TABLE_TYPE* SYMBOL() noexcept                                \
  {                                                                                                                    \
    return &(TABLE);                                                                                                   \
  }
