// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "sitelink/module.hpp"

TEST_CASE("common::module load_module_symbol names the package to install")
{
  // An empty override directory and no module of that name anywhere.
  ::setenv("SITELINK_MODULE_DIR", "/nonexistent/sitelink-unit", 1);
  auto r = sitelink::load_module_symbol("sitelink_unit_absent", "entry");
  ::unsetenv("SITELINK_MODULE_DIR");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == "backend module sitelink_unit_absent is not installed (install the package sitelink)");
}
