// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The options step: each plugin turns the parsed command line into its typed
// `Config` in one function (`make_config(const Options&)`); nothing else reads
// the option map. The checks every plugin needs live here, with one wording
// for a bad value: "invalid value 'V' for option '--NAME': expected ...".
// Every check throws UsageError (exit 3 with a short usage) on bad input.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options.hpp>

#include "sitelink/range.hpp"

namespace sitelink {

// A bad command line: exit 3 with the message and a short usage.
class UsageError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// Read-only view of the parsed options, by long name.
class Options {
public:
  explicit Options(const boost::program_options::variables_map& vm) : vm_(vm) {}

  // Whether the option was given (a bool_switch counts only when set).
  bool has(std::string_view name) const;
  // A switch (po::bool_switch): false when absent.
  bool flag(std::string_view name) const;
  // A string option, or `fallback` when absent.
  std::string text(std::string_view name, std::string fallback = {}) const;
  std::optional<std::string> optional_text(std::string_view name) const;
  // A repeatable string option, in command-line order; empty when absent.
  std::vector<std::string> list(std::string_view name) const;
  // A Range option (parsed by the Range validator at parse time).
  std::optional<Range> range(std::string_view name) const;
  // An integer option declared as po::value<int>.
  std::optional<int> integer(std::string_view name) const;

  // The raw map, for the runtime only.
  const boost::program_options::variables_map& map() const noexcept { return vm_; }

private:
  const boost::program_options::variables_map& vm_;
};

// The message of an exception, safe for Boost.Program_options errors: their
// what() fills placeholders (%value%, %option%, ...) by replacing each until
// none is left, so a value that contains one (`-n '%value%'`) never ends.
// The '%' signs of the substituted values are dropped first.
std::string error_text(const std::exception& e);

// Throws UsageError "invalid value 'VALUE' for option '--OPTION': expected EXPECTED".
// VALUE is sanitised and shortened (it came from the command line).
[[noreturn]] void invalid_value(std::string_view option, std::string_view value, std::string_view expected);

// Seconds above zero ("2", "0.5"): "expected seconds above 0".
double parse_seconds(std::string_view option, std::string_view text);

// A TCP/UDP port: "expected 1 to 65535".
std::uint16_t parse_port(std::string_view option, std::string_view text);

// An integer within [min, max], the whole string consumed: "expected MIN to MAX".
long long parse_integer(std::string_view option, std::string_view text, long long min, long long max);

// Checks an integer already parsed (po::value<int>) against [min, max].
long long check_integer(std::string_view option, long long value, long long min, long long max);

// One of a fixed set of words: "expected a, b or c". Returns the value.
std::string one_of(std::string_view option, std::string_view text, std::initializer_list<std::string_view> choices);

// "a, b or c" (for messages listing choices).
std::string choice_list(std::initializer_list<std::string_view> choices);
std::string choice_list(const std::vector<std::string>& choices);

// Options that do not apply to the selected backend: the first one given is a
// usage error "option '--NAME' does not apply to --backend BACKEND".
void refuse_with_backend(const Options& options, std::string_view backend,
                         std::initializer_list<std::string_view> names);

// A file the plugin must read: "cannot read the file given to option '--NAME': PATH".
// Returns the path.
std::string readable_file(std::string_view option, const std::string& path);

} // namespace sitelink
