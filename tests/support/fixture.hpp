// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The one reader of recorded fixtures (tests/fixtures/, SITELINK_FIXTURES set
// by tests/unit/CMakeLists.txt) for unit tests and fuzzer tooling alike.

#include <fstream>
#include <iterator>
#include <string>

namespace sitelink::test {

// The path of fixture `name` ("vpn/wireguard-uapi-get.txt").
inline std::string fixture_path(const std::string& name)
{
  return std::string(SITELINK_FIXTURES) + "/" + name;
}

// The bytes of fixture `name`; empty when it cannot be read (the test's
// assertions on the content then fail, naming the fixture).
inline std::string read_fixture(const std::string& name)
{
  std::ifstream in(fixture_path(name), std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace sitelink::test
