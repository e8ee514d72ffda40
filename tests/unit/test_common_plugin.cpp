// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sitelink/plugin.hpp"

using namespace sitelink;

namespace {

struct Outcome {
  int rc = -1;
  std::string out;
};

// Runs run_plugin in a child process (it installs signal handlers and arms
// the watchdog) and returns its exit code and stdout.
Outcome run_in_child(std::vector<const char*> args, const RunFunction& run)
{
  args.insert(args.begin(), "check_test");
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  // Nothing buffered in the parent may reach the child's stdout.
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    PluginInfo info{"check_test", "TEST", "--mode a|b [-x X | -y Y]", "A test plugin.", ""};
    po::options_description opts("Test options");
    opts.add_options()("mode", po::value<std::string>());
    ::_exit(run_plugin(static_cast<int>(args.size()), args.data(), info, opts, run));
  }
  ::close(fds[1]);
  Outcome o;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) o.out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

} // namespace

TEST_CASE("common::run_plugin")
{
  SUBCASE("a source that ran out of time gets the timeout line and the -t state from the runtime")
  {
    auto o = run_in_child({"-t", "7:critical"},
                          [](Context&) { return Result::timed_out("reading the status", {"peer did not answer"}); });
    CHECK(o.rc == 2);
    CHECK(o.out == "TEST CRITICAL - timed out after 7 s while reading the status\npeer did not answer\n");
  }
  SUBCASE("without -t the timeout state is UNKNOWN after 10 s")
  {
    auto o = run_in_child({}, [](Context&) { return Result::timed_out("connecting"); });
    CHECK(o.rc == 3);
    CHECK(o.out == "TEST UNKNOWN - timed out after 10 s while connecting\n");
  }
  SUBCASE("a UsageError from the plugin is a usage error with a short usage in words")
  {
    auto o = run_in_child({"--mode", "c"}, [](Context&) -> Result { throw UsageError("bad mode"); });
    CHECK(o.rc == 3);
    CHECK(o.out == "TEST UNKNOWN - bad mode\nUsage: check_test --mode a or b [-x X or -y Y]\n"
                   "Try 'check_test --help' for the full list of options.\n");
  }
  SUBCASE("--help keeps the synopsis notation")
  {
    auto o = run_in_child({"--help"}, [](Context&) { return Result{}; });
    CHECK(o.rc == 3);
    CHECK(o.out.find("Usage: check_test --mode a|b [-x X | -y Y]\n") != std::string::npos);
  }
  SUBCASE("the result is rendered with its exit code")
  {
    auto o = run_in_child({}, [](Context&) { return Result{State::Warning, "half", {"d"}, {}}; });
    CHECK(o.rc == 1);
    CHECK(o.out == "TEST WARNING - half\nd\n");
  }
}
