// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --extra-opts=[SECTION][@FILE], as the Monitoring Plugins read it: options
// from a section of an ini file, so long option sets live in one root-owned
// file and NRPE commands stay argument-free.
//
//   [check_vpn_tunnel_up]        ; default section: the plugin's name
//   backend = vici               ; becomes --backend=vici
//   insecure                     ; becomes --insecure
//   tunnel = a                   ; repeated keys are repeated options
//   tunnel = b
//   w = 2                        ; a one-letter key is the short option: -w 2
//
// Lines: `key`, `key = value` (spaces around both trimmed), `[section]`,
// comments starting with `#` or `;`, blank lines. A key of one letter is the
// short option (`-w`), as with the Monitoring Plugins. Without @FILE, the
// file is the first that exists of $MP_CONFIG_FILE, each directory of
// $NAGIOS_CONFIG_PATH with monitoring-plugins.ini, plugins.ini or
// nagios-plugins.ini, then the standard paths (default_search_path()).
//
// This unit only reads the file and turns it into arguments, each with its
// file and line; the runtime (plugin.cpp) parses them with the plugin's
// options, lets the command line win and reports errors with the line.

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>
#include <tl/expected.hpp>

namespace sitelink::extra_opts {

// One option that came from a file, and where.
struct Arg {
  std::string key;                  // "backend", "w", "insecure"
  std::optional<std::string> value; // absent for a bare `key` line
  std::string file;
  int line = 0;
  // As typed on a command line: {"--backend=vici"}, {"-w", "2"}, {"--insecure"}.
  std::vector<std::string> tokens() const;
  std::string where() const { return file + ":" + std::to_string(line); }
};

struct Locator {
  std::string section;
  std::optional<std::string> file; // empty: search the default paths
};

// "[section][@file]"; an empty section is `default_section`.
Locator parse_locator(std::string_view spec, std::string_view default_section);

// The arguments in `section` of ini `text` read from `file` (for messages).
// Errors name the file and line: a line outside any section, a line that
// is neither a key nor a section header, an empty key, a section that does
// not exist.
tl::expected<std::vector<Arg>, std::string> parse_ini(std::string_view text, std::string_view file,
                                                      std::string_view section);

// The files looked for when no @FILE is given, in order (without the
// environment's).
const std::vector<std::string>& default_search_path();

// The default file: the first that `exists` of $MP_CONFIG_FILE, the
// $NAGIOS_CONFIG_PATH directories and default_search_path(); `env` reads
// the environment. Nothing found is an error listing where it looked.
tl::expected<std::string, std::string> find_default_file(const std::function<const char*(const char*)>& env,
                                                         const std::function<bool(const std::string&)>& exists);

// Splits argv[1..] into the --extra-opts locators (`--extra-opts` alone is
// "" and means the default section and file) and everything else, in order.
struct SplitArgs {
  std::vector<std::string> locators;
  std::vector<std::string> rest;
};
SplitArgs split(int argc, const char* const* argv);

// Reads the file of one locator (I/O: the only function here that touches
// the file system) and returns its section's arguments.
tl::expected<std::vector<Arg>, std::string> load(std::string_view spec, std::string_view plugin_name);

// Parses `command_line` (argv without the program name and without
// --extra-opts) and `from_files` with `options`, as one command line with the
// files' options first:
// - an option given on the command line replaces the files' value when it
//   takes one value; repeatable options accumulate, the files' first;
// - an error in a file's option (unknown, bad value, a single-valued option
//   twice in the files) throws po::error naming the file, the line and the
//   option (an unknown option by its key alone: the value may be a secret
//   written under the wrong name);
// - options in `counted` (-v) may repeat freely: the caller counts them.
// Throws po::error as po::command_line_parser does for the command line.
boost::program_options::parsed_options expand(const std::vector<std::string>& command_line,
                                              const std::vector<Arg>& from_files,
                                              const boost::program_options::options_description& options,
                                              const std::set<std::string>& counted);

// The runtime's one call: split(), load() each locator in order, expand().
// A locator that cannot be loaded throws po::error with load()'s message.
boost::program_options::parsed_options parse_arguments(int argc, const char* const* argv,
                                                       const boost::program_options::options_description& options,
                                                       std::string_view plugin_name,
                                                       const std::set<std::string>& counted);

} // namespace sitelink::extra_opts
