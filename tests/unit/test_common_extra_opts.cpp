// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <map>

#include "sitelink/extra_opts.hpp"

namespace po = boost::program_options;
using namespace sitelink::extra_opts;

namespace {

std::vector<std::string> tokens_of(const std::vector<Arg>& args)
{
  std::vector<std::string> out;
  for (const auto& a : args)
    for (auto& t : a.tokens()) out.push_back(t);
  return out;
}

po::options_description test_options()
{
  po::options_description d;
  // clang-format off
  d.add_options()
    ("backend", po::value<std::string>())
    ("port", po::value<int>())
    ("tunnel", po::value<std::vector<std::string>>())
    ("insecure", po::bool_switch())
    ("warning,w", po::value<std::string>())
    ("verbose,v", po::bool_switch())
    ("ipv4,4", po::bool_switch())
    ("extra-opts", po::value<std::string>());
  // clang-format on
  return d;
}

// The option values as the runtime would see them, in parse order.
std::vector<std::string> flat(const po::parsed_options& p)
{
  std::vector<std::string> out;
  for (const auto& o : p.options) {
    std::string s = o.string_key;
    for (const auto& v : o.value) s += "=" + v;
    out.push_back(s);
  }
  return out;
}

Arg file_arg(std::string key, std::optional<std::string> value, int line)
{
  return Arg{std::move(key), std::move(value), "/etc/x.ini", line};
}

std::string error_of(const std::vector<std::string>& cli, const std::vector<Arg>& files)
{
  auto d = test_options();
  try {
    expand(cli, files, d, {"verbose"});
  } catch (const po::error& e) {
    return e.what();
  }
  return "no error";
}

} // namespace

TEST_CASE("common::extra_opts parse_locator")
{
  SUBCASE("empty: the default section and the default file")
  {
    auto l = parse_locator("", "check_x");
    CHECK(l.section == "check_x");
    CHECK_FALSE(l.file.has_value());
  }
  SUBCASE("a section alone")
  {
    auto l = parse_locator("dr", "check_x");
    CHECK(l.section == "dr");
    CHECK_FALSE(l.file.has_value());
  }
  SUBCASE("@file alone keeps the default section")
  {
    auto l = parse_locator("@/etc/a.ini", "check_x");
    CHECK(l.section == "check_x");
    CHECK(l.file == "/etc/a.ini");
  }
  SUBCASE("both; only the first @ separates")
  {
    auto l = parse_locator("dr@/etc/a@b.ini", "check_x");
    CHECK(l.section == "dr");
    CHECK(l.file == "/etc/a@b.ini");
  }
}

TEST_CASE("common::extra_opts parse_ini")
{
  const std::string ini = "# comment\n"
                          "; comment too\n"
                          "[other]\n"
                          "backend = file\n"
                          "[ check_x ]\n"
                          "  backend =  vici  \n"
                          "insecure\n"
                          "tunnel=a\n"
                          "tunnel = b c\n"
                          "w = 2\n"
                          "v\n"
                          "empty =\n"
                          "\n"
                          "[other]\n"
                          "port = 1\n";
  SUBCASE("the section's lines, in order, with their line numbers")
  {
    auto r = parse_ini(ini, "/etc/x.ini", "check_x");
    REQUIRE(r.has_value());
    CHECK(tokens_of(*r) == std::vector<std::string>{"--backend=vici", "--insecure", "--tunnel=a", "--tunnel=b c", "-w",
                                                    "2", "-v", "--empty="});
    CHECK(r->front().where() == "/etc/x.ini:6");
    CHECK(r->back().line == 12);
  }
  SUBCASE("a section may appear twice")
  {
    auto r = parse_ini(ini, "f", "other");
    REQUIRE(r.has_value());
    CHECK(tokens_of(*r) == std::vector<std::string>{"--backend=file", "--port=1"});
  }
  SUBCASE("a section that exists but is empty is not an error")
  {
    auto r = parse_ini("[a]\n[b]\nx=1\n", "f", "a");
    REQUIRE(r.has_value());
    CHECK(r->empty());
  }
  SUBCASE("CRLF line ends")
  {
    auto r = parse_ini("[a]\r\nxy = 1\r\n", "f", "a");
    REQUIRE(r.has_value());
    CHECK(tokens_of(*r) == std::vector<std::string>{"--xy=1"});
  }
  SUBCASE("errors name the file and line")
  {
    CHECK(parse_ini(ini, "/etc/x.ini", "nope").error() == "/etc/x.ini: no section [nope]");
    CHECK(parse_ini("x=1\n[a]\n", "f", "a").error() == "f:1: option line before the first [section]");
    CHECK(parse_ini("[a]\n= 1\n", "f", "a").error() == "f:2: expected 'key', 'key = value' or '[section]'");
    CHECK(parse_ini("[a]\nmy key = 1\n", "f", "a").error() == "f:2: expected 'key', 'key = value' or '[section]'");
    CHECK(parse_ini("[a]\n--x = 1\n", "f", "a").error() == "f:2: expected 'key', 'key = value' or '[section]'");
    CHECK(parse_ini("[a\nx=1\n", "f", "a").error() == "f:1: section header without ']'");
    CHECK(parse_ini("[ ]\n", "f", "a").error() == "f:1: empty section name");
  }
  SUBCASE("a syntax error in another section is still an error")
  {
    CHECK(parse_ini("[a]\nx=1\n[b]\n=2\n", "f", "a").error() == "f:4: expected 'key', 'key = value' or '[section]'");
  }
  SUBCASE("a bad line's text is not quoted (it may be a secret)")
  {
    auto e = parse_ini("[a]\nhunter2 secret\n", "f", "a").error();
    CHECK(e.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("common::extra_opts find_default_file")
{
  std::map<std::string, std::string> env;
  std::vector<std::string> existing;
  auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto exists = [&](const std::string& p) { return std::find(existing.begin(), existing.end(), p) != existing.end(); };

  SUBCASE("nothing found lists where it looked")
  {
    auto r = find_default_file(getenv, exists);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().find("/usr/local/etc/monitoring-plugins/monitoring-plugins.ini") != std::string::npos);
  }
  SUBCASE("the standard paths in the Monitoring Plugins' order")
  {
    existing = {"/etc/nagios/plugins.ini", "/etc/monitoring-plugins.ini"};
    CHECK(find_default_file(getenv, exists).value() == "/etc/monitoring-plugins.ini");
    existing = {"/etc/opt/nagios-plugins.ini"};
    CHECK(find_default_file(getenv, exists).value() == "/etc/opt/nagios-plugins.ini");
  }
  SUBCASE("NAGIOS_CONFIG_PATH before the standard paths, its names in order")
  {
    existing = {"/etc/monitoring-plugins.ini", "/b/plugins.ini", "/b/nagios-plugins.ini", "/c/monitoring-plugins.ini"};
    env["NAGIOS_CONFIG_PATH"] = ":/a::/b:/c";
    CHECK(find_default_file(getenv, exists).value() == "/b/plugins.ini");
  }
  SUBCASE("MP_CONFIG_FILE first, even when it does not exist (then reading it fails)")
  {
    existing = {"/etc/monitoring-plugins.ini"};
    env["MP_CONFIG_FILE"] = "/x/mine.ini";
    CHECK(find_default_file(getenv, exists).value() == "/x/mine.ini");
  }
}

TEST_CASE("common::extra_opts split")
{
  const char* argv[] = {"check_x", "--extra-opts",  "-w", "1", "--extra-opts=dr@/f", "--extra-optsX",
                        "--",      "--extra-opts=z"};
  auto s = split(8, argv);
  CHECK(s.locators == std::vector<std::string>{"", "dr@/f"});
  CHECK(s.rest == std::vector<std::string>{"-w", "1", "--extra-optsX", "--", "--extra-opts=z"});
}

TEST_CASE("common::extra_opts expand")
{
  auto d = test_options();
  const std::set<std::string> counted{"verbose"};
  SUBCASE("the files' options come first, as typed before the command line")
  {
    auto p = expand({"--port", "5"}, {file_arg("backend", "vici", 2), file_arg("w", "3", 3)}, d, counted);
    CHECK(flat(p) == std::vector<std::string>{"backend=vici", "warning=3", "port=5"});
  }
  SUBCASE("the command line's value wins for a single-valued option")
  {
    auto p = expand({"--backend=file", "--insecure"}, {file_arg("backend", "vici", 2), file_arg("insecure", {}, 3)}, d,
                    counted);
    CHECK(flat(p) == std::vector<std::string>{"backend=file", "insecure"});
  }
  SUBCASE("repeatable options accumulate, the files' first")
  {
    auto p = expand({"--tunnel=c"}, {file_arg("tunnel", "a", 2), file_arg("tunnel", "b", 3)}, d, counted);
    CHECK(flat(p) == std::vector<std::string>{"tunnel=a", "tunnel=b", "tunnel=c"});
    po::variables_map vm;
    po::store(p, vm);
    CHECK(vm["tunnel"].as<std::vector<std::string>>() == std::vector<std::string>{"a", "b", "c"});
  }
  SUBCASE("counted options (-v) add up")
  {
    auto p = expand({"-v"}, {file_arg("v", {}, 2), file_arg("verbose", {}, 3)}, d, counted);
    CHECK(flat(p) == std::vector<std::string>{"verbose", "verbose", "verbose"});
  }
  SUBCASE("errors in a file name the file, the line and the key, not the value")
  {
    CHECK(error_of({}, {file_arg("password", "hunter2", 4)}) == "/etc/x.ini:4: unknown option 'password'");
    auto bad = error_of({}, {file_arg("port", "12x", 5)});
    CHECK(bad.rfind("/etc/x.ini:5: ", 0) == 0);
    CHECK(bad.find("port") != std::string::npos);
    INFO(bad);
    CHECK(error_of({}, {file_arg("backend", "a", 2), file_arg("backend", "b", 7)}) ==
          "/etc/x.ini:7: option 'backend' given again (it takes one value)");
    auto missing = error_of({}, {file_arg("backend", {}, 3)});
    CHECK(missing.rfind("/etc/x.ini:3: ", 0) == 0);
    CHECK(missing.find("'--backend'") != std::string::npos);
    CHECK(error_of({}, {file_arg("extra-opts", "x", 2)}) ==
          "/etc/x.ini:2: --extra-opts cannot be used inside an ini file");
    CHECK(error_of({}, {file_arg("insecure", "yes", 6)}) ==
          "/etc/x.ini:6: option '--insecure' does not take any arguments");
    CHECK(error_of({}, {file_arg("4", "yes", 8)}) == "/etc/x.ini:8: option '4': one option per line");
  }
  SUBCASE("a value is one token, whatever it contains")
  {
    auto p = expand({}, {file_arg("backend", "a --insecure", 2)}, d, counted);
    CHECK(flat(p) == std::vector<std::string>{"backend=a --insecure"});
  }
  SUBCASE("an abbreviated --extra-opts on the command line is refused, not ignored")
  {
    CHECK(error_of({"--extra=x"}, {}) == "write --extra-opts in full: --extra-opts=[SECTION][@FILE]");
  }
  SUBCASE("command-line errors are the parser's own")
  {
    CHECK(error_of({"--nope"}, {}).find("nope") != std::string::npos);
  }
}
