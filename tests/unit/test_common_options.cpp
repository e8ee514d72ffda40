// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "sitelink/options.hpp"
#include "sitelink/plugin.hpp"

using namespace sitelink;
namespace po = boost::program_options;

namespace {

// The UsageError message `f` throws, or "" when it throws nothing.
template <class F>
std::string usage_error(F f)
{
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

po::variables_map parse(std::vector<const char*> args, const po::options_description& desc)
{
  args.insert(args.begin(), "check_test");
  po::variables_map vm;
  po::store(po::parse_command_line(static_cast<int>(args.size()), args.data(), desc), vm);
  po::notify(vm);
  return vm;
}

po::options_description test_options()
{
  po::options_description d;
  d.add_options()("backend", po::value<std::string>())("port", po::value<std::string>())(
      "tunnel", po::value<std::vector<std::string>>())("insecure", po::bool_switch())("count", po::value<int>())(
      "warning,w", po::value<Range>());
  return d;
}

} // namespace

TEST_CASE("common::invalid_value")
{
  CHECK(usage_error([] { invalid_value("port", "x", "1 to 65535"); }) ==
        "invalid value 'x' for option '--port': expected 1 to 65535");
  SUBCASE("the value from the command line is sanitised and shortened")
  {
    auto m = usage_error([] { invalid_value("name", std::string(200, 'a') + "|\n", "a name"); });
    CHECK(m == "invalid value '" + std::string(80, 'a') + "...' for option '--name': expected a name");
  }
}

TEST_CASE("common::parse_seconds")
{
  CHECK(parse_seconds("stale", "2") == 2);
  CHECK(parse_seconds("stale", "0.5") == 0.5);
  for (const char* bad : {"0", "-1", "", "abc", "1s", "inf"}) {
    CAPTURE(std::string(bad));
    CHECK(usage_error([bad] { parse_seconds("stale", bad); }) ==
          "invalid value '" + std::string(bad) + "' for option '--stale': expected seconds above 0");
  }
}

TEST_CASE("common::parse_port")
{
  CHECK(parse_port("port", "1") == 1);
  CHECK(parse_port("port", "5432") == 5432);
  CHECK(parse_port("port", "65535") == 65535);
  for (const char* bad : {"0", "65536", "-1", "", "80x", " 80", "1e3", "99999999999999999999"}) {
    CAPTURE(std::string(bad));
    CHECK(usage_error([bad] { parse_port("port", bad); }) ==
          "invalid value '" + std::string(bad) + "' for option '--port': expected 1 to 65535");
  }
}

TEST_CASE("common::parse_integer")
{
  CHECK(parse_integer("packets", "5", 1, 20) == 5);
  CHECK(parse_integer("packets", "1", 1, 20) == 1);
  CHECK(parse_integer("packets", "20", 1, 20) == 20);
  CHECK(parse_integer("offset", "-3", -5, 5) == -3);
  CHECK(usage_error([] { parse_integer("packets", "21", 1, 20); }) ==
        "invalid value '21' for option '--packets': expected 1 to 20");
  CHECK(usage_error([] { parse_integer("packets", "2.5", 1, 20); }) ==
        "invalid value '2.5' for option '--packets': expected 1 to 20");
}

TEST_CASE("common::check_integer")
{
  CHECK(check_integer("min-alive", 3, 0, 3) == 3);
  CHECK(usage_error([] { check_integer("min-alive", 4, 0, 3); }) ==
        "invalid value '4' for option '--min-alive': expected 0 to 3");
}

TEST_CASE("common::one_of")
{
  CHECK(one_of("backend", "openvpn", {"strongswan", "openvpn", "wireguard"}) == "openvpn");
  CHECK(usage_error([] {
          one_of("backend", "ipsec", {"strongswan", "openvpn", "wireguard"});
        }) == "invalid value 'ipsec' for option '--backend': expected strongswan, openvpn or wireguard");
}

TEST_CASE("common::choice_list")
{
  CHECK(choice_list({"a"}) == "a");
  CHECK(choice_list({"a", "b"}) == "a or b");
  CHECK(choice_list(std::vector<std::string>{"a", "b", "c"}) == "a, b or c");
}

TEST_CASE("common::Options")
{
  const auto desc = test_options();
  const auto vm = parse({"--backend", "file", "--tunnel", "a", "--tunnel", "b", "--count", "3", "-w", "5"}, desc);
  const Options o(vm);
  CHECK(o.has("backend"));
  CHECK_FALSE(o.has("port"));
  SUBCASE("a switch counts only when set")
  {
    CHECK_FALSE(o.has("insecure"));
    CHECK_FALSE(o.flag("insecure"));
  }
  CHECK(o.text("backend") == "file");
  CHECK(o.text("port", "22") == "22");
  CHECK_FALSE(o.optional_text("port").has_value());
  CHECK(o.list("tunnel") == std::vector<std::string>{"a", "b"});
  CHECK(o.list("port").empty());
  CHECK(o.integer("count") == 3);
  REQUIRE(o.range("warning").has_value());
  CHECK(o.range("warning")->end == 5);
}

TEST_CASE("common::refuse_with_backend")
{
  const auto desc = test_options();
  const auto vm = parse({"--backend", "file", "--port", "5432"}, desc);
  const Options o(vm);
  CHECK(usage_error([&] {
          refuse_with_backend(o, "file", {"tunnel", "port"});
        }) == "option '--port' does not apply to --backend file");
  CHECK(usage_error([&] { refuse_with_backend(o, "file", {"tunnel"}); }).empty());
}

TEST_CASE("common::readable_file")
{
  char path[] = "/tmp/sitelink-options-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  CHECK(readable_file("file", path) == path);
  std::remove(path);
  CHECK(usage_error([&] { readable_file("file", path); }) ==
        "cannot read the file given to option '--file': " + std::string(path));
}
