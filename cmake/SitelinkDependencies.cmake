# SPDX-License-Identifier: GPL-2.0-or-later
# Every dependency of the tree, found once (included by the top-level
# CMakeLists.txt before any subdirectory). The rest of the tree only links the
# imported targets named here; no other file calls find_package,
# pkg_check_modules or find_program.
#
#   Boost::program_options   the option parser (static with SITELINK_STATIC_RUNTIME)
#   fmt::fmt-header-only     formatting (fmt::fmt without SITELINK_STATIC_RUNTIME)
#   nlohmann_json::nlohmann_json  JSON (runbooks, cloud backends, tests)
#   tl::expected             errors as values at every I/O edge
#   CURL::libcurl OpenSSL::Crypto  the HTTP client and SigV4 signer (common/http)
#   pugixml::pugixml yaml-cpp      the cloud backends of check_vpn_tunnel_up
#   PkgConfig::PCAP          libpcap, check_tunnel_traffic (required)
#   PkgConfig::LIBPQ         libpq, the postgresql module (optional)
#   PkgConfig::LIBMARIADB    libmariadb, the mysql module (optional)
#   PkgConfig::NFQ           libnetfilter_queue, the lab's delay helper (optional)
#   doctest::doctest, PYTEST the unit and CLI/lab test runners (with tests)
#   HELP2MAN                 man pages (packaging/, see SITELINK_MAN_PAGES)
include_guard(GLOBAL)

# Start-up cost: Boost.Program_options linked statically (see the top-level
# CMakeLists.txt and bench/startup).
if(SITELINK_STATIC_RUNTIME)
  set(Boost_USE_STATIC_LIBS ON)
endif()
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
# Debian's libexpected-dev ships the CMake package tl-expected (target tl::expected).
find_package(tl-expected REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(pugixml REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)

# libpcap is check_tunnel_traffic's core (every run captures or reads a capture).
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)

# The database backends are modules, so their client libraries are optional:
# without one the plugin reports the missing module at run time.
pkg_check_modules(LIBPQ IMPORTED_TARGET libpq)
if(NOT LIBPQ_FOUND)
  message(WARNING "libpq not found (libpq-dev): --backend postgresql will report a missing module")
endif()
pkg_check_modules(LIBMARIADB IMPORTED_TARGET libmariadb)
if(NOT LIBMARIADB_FOUND)
  message(WARNING "libmariadb not found (libmariadb-dev): --backend mysql will report a missing module")
endif()

if(SITELINK_BUILD_TESTS)
  find_package(doctest REQUIRED)
  find_program(PYTEST NAMES pytest-3 pytest REQUIRED)
  # nfq_delay (tests/tools): NFQUEUE latency injector for the lab, built when found.
  pkg_check_modules(NFQ IMPORTED_TARGET libnetfilter_queue)
endif()

# Man pages come from each plugin's --help (packaging/CMakeLists.txt).
set(SITELINK_MAN_PAGES AUTO CACHE STRING "Generate man pages with help2man (AUTO, ON, OFF)")
set_property(CACHE SITELINK_MAN_PAGES PROPERTY STRINGS AUTO ON OFF)
if(NOT SITELINK_MAN_PAGES STREQUAL "OFF")
  find_program(HELP2MAN help2man)
  if(NOT HELP2MAN AND SITELINK_MAN_PAGES STREQUAL "ON")
    message(FATAL_ERROR "SITELINK_MAN_PAGES=ON but help2man was not found")
  endif()
endif()
