// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The shared runtime every plugin's main() hands over to:
//   options -> run(Context) -> Result -> render (+ runbook block) -> exit code
// Plugins never print or exit themselves.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/any.hpp>
#include <boost/program_options.hpp>

#include "sitelink/clock.hpp"
#include "sitelink/options.hpp"
#include "sitelink/range.hpp"
#include "sitelink/result.hpp"
#include "sitelink/runbook.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink {

namespace po = boost::program_options;

struct PluginInfo {
  std::string name;        // check_replication_lag
  std::string service;     // REPLICATION_LAG
  std::string synopsis;    // one usage line, without the program name
  std::string description; // one paragraph for --help
  std::string notes;       // extra --help text (examples, defaults)
};

class Context {
public:
  Context(const po::variables_map& vm, int verbosity, const Deadline& deadline, const Clock& clock, TimeoutSpec timeout)
      : vm_(vm), verbosity_(verbosity), deadline_(deadline), clock_(clock), timeout_(timeout)
  {}
  const po::variables_map& vm() const noexcept { return vm_; }
  // The parsed options, for the plugin's make_config() only.
  Options options() const { return Options(vm_); }
  int verbosity() const noexcept { return verbosity_; }
  const Deadline& deadline() const noexcept { return deadline_; }
  const Clock& clock() const noexcept { return clock_; }
  TimeoutSpec timeout() const noexcept { return timeout_; }

  // Verbose lines (-v, -vv, -vvv) go to stdout after the long output.
  void debug(int level, std::string line);
  const std::vector<std::string>& debug_lines() const noexcept { return debug_; }

  template <class T>
  T get(const char* name, T fallback) const
  {
    auto it = vm_.find(name);
    return it == vm_.end() || it->second.empty() ? fallback : it->second.as<T>();
  }
  bool has(const char* name) const { return vm_.count(name) > 0 && !vm_[name].empty(); }

private:
  const po::variables_map& vm_;
  int verbosity_;
  const Deadline& deadline_;
  const Clock& clock_;
  TimeoutSpec timeout_;
  std::vector<std::string> debug_;
};

using RunFunction = std::function<Result(Context&)>;

// Parses the standard options plus `plugin_options`, runs the check under the
// watchdog, renders the result and returns the exit code. Catches everything.
int run_plugin(int argc, const char* const* argv, const PluginInfo& info, const po::options_description& plugin_options,
               const RunFunction& run);

// The plugin skeleton's entry: the runtime parses the options, the plugin's
// `make_config` turns them into its typed Config (throwing UsageError on bad
// input), and `run` does config -> source -> evaluate -> Result.
template <class Config>
int run_plugin(int argc, const char* const* argv, const PluginInfo& info, const po::options_description& plugin_options,
               Config (*make_config)(const Options&), Result (*run)(const Config&, Context&))
{
  return run_plugin(argc, argv, info, plugin_options,
                    [make_config, run](Context& ctx) { return run(make_config(ctx.options()), ctx); });
}

// Boost.Program_options validator for Range values (found by ADL): a bad
// range is a usage error naming the option.
void validate(boost::any& v, const std::vector<std::string>& values, Range*, int);

} // namespace sitelink
