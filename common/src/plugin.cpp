// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/plugin.hpp"

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "sitelink/extra_opts.hpp"
#include "sitelink/number.hpp"
#include "sitelink/output.hpp"
#include "sitelink/version.hpp"

namespace sitelink {

void Context::debug(int level, std::string line)
{
  if (verbosity_ >= level) debug_.push_back("debug: " + std::move(line));
}

void validate(boost::any& v, const std::vector<std::string>& values, Range*, int)
{
  po::validators::check_first_occurrence(v);
  const std::string& s = po::validators::get_single_string(values);
  auto r = Range::parse(s);
  if (!r) throw po::error_with_option_name(r.error() + " for option '%canonical_option%'");
  v = boost::any(*r);
}

namespace {

std::string wrap(const std::string& text, std::size_t width, const std::string& indent)
{
  std::istringstream in(text);
  std::string word, line, out;
  while (in >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = indent;
    }
    if (!line.empty() && line != indent) line += ' ';
    line += word;
  }
  if (!line.empty()) out += line + "\n";
  return out;
}

po::options_description standard_options()
{
  po::options_description std_opts("Standard options");
  // clang-format off
  std_opts.add_options()
    ("help,h", "Print this help and exit (exit code 3)")
    ("version,V", "Print the version and exit (exit code 3)")
    ("verbose,v", po::bool_switch(), "More detail; repeat up to 3 times")
    ("extra-opts", po::value<std::string>()->value_name("[SECTION][@FILE]"),
       "Written --extra-opts=[SECTION][@FILE]: read options from SECTION "
       "(default: the plugin's name) of an ini FILE (default: the Monitoring "
       "Plugins' search path, $MP_CONFIG_FILE first); the command line wins")
    ("timeout,t", po::value<std::string>()->value_name("SECONDS[:STATE]"),
       "Budget for the whole check (default 10); STATE on expiry is ok, "
       "warning, critical or unknown (default unknown)");
  // clang-format on
  return std_opts;
}

po::options_description runbook_options()
{
  po::options_description rb("Runbook options (printed with every non-OK result)");
  // clang-format off
  rb.add_options()
    ("runbook", po::value<std::string>()->value_name("ID"), "Runbook catalog entry to print with alerts")
    ("runbook-file", po::value<std::string>()->value_name("PATH"),
       "Runbook catalog (default $SITELINK_RUNBOOKS, else /etc/sitelink/runbooks.json)")
    ("impact", po::value<std::vector<std::string>>()->value_name("TEXT"),
       "Impact statement (repeatable); replaces the catalog entry's")
    ("action", po::value<std::vector<std::string>>()->value_name("TEXT"),
       "Recommended action (repeatable); replaces the catalog entry's")
    ("runbook-url", po::value<std::string>()->value_name("URL"), "Runbook URL; replaces the catalog entry's");
  // clang-format on
  return rb;
}

std::string version_text(const PluginInfo& info)
{
  return fmt::format("{} {} (sitelink)\n", info.name, version);
}

// The synopsis with its alternatives in words, for the short usage after a
// usage error: Nagios reads everything after a '|' as perfdata. "a|b|c"
// becomes "a, b or c" and a lone "|" between two words "or".
std::string spell_alternatives(const std::string& synopsis)
{
  std::istringstream in(synopsis);
  std::string word, out;
  while (in >> word) {
    if (!out.empty()) out += ' ';
    std::vector<std::string> parts;
    std::size_t from = 0;
    for (auto bar = word.find('|'); bar != std::string::npos; from = bar + 1, bar = word.find('|', from))
      parts.push_back(word.substr(from, bar - from));
    parts.push_back(word.substr(from));
    if (word == "|") out += "or";
    else out += choice_list(parts);
  }
  return out;
}

std::string short_usage(const PluginInfo& info)
{
  std::string out = wrap("Usage: " + info.name + " " + spell_alternatives(info.synopsis), 78, "         ");
  out += "Try '" + info.name + " --help' for the full list of options.\n";
  return out;
}

std::string full_help(const PluginInfo& info, const po::options_description& all)
{
  std::ostringstream os;
  os << info.name << " " << version << " (sitelink)\n\n";
  os << wrap(info.description, 78, "");
  os << "\n" << wrap("Usage: " + info.name + " " + info.synopsis, 78, "         ") << "\n";
  os << all;
  if (!info.notes.empty()) os << "\n" << info.notes;
  os << "\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n";
  return os.str();
}

void emit(const std::string& text)
{
  watchdog::hold();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int usage_error(const PluginInfo& info, const std::string& message)
{
  emit(fmt::format("{} UNKNOWN - {}\n", info.service, sanitize(message)) + short_usage(info));
  return 3;
}

std::string join_lines(const std::vector<std::string>& lines)
{
  std::string out;
  for (const auto& l : lines) out += sanitize(l) + "\n";
  return out;
}

// -h/--help or -V/--version anywhere on the command line wins over every
// other option, even a bad one: the text to print, or nullopt.
std::optional<std::string> help_or_version(int argc, const char* const* argv, const PluginInfo& info,
                                           const po::options_description& all)
{
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") return full_help(info, all);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-V" || a == "--version") return version_text(info);
  }
  return std::nullopt;
}

struct CommandLine {
  po::variables_map vm;
  int verbosity = 0; // number of -v, at most 3
};

// Parses and stores the command line with the options of its --extra-opts
// files (the command line wins; extra_opts.hpp); throws po::error on a bad
// one, naming the file and line for an option that came from a file.
CommandLine parse_command_line(int argc, const char* const* argv, const PluginInfo& info,
                               const po::options_description& all)
{
  CommandLine cl;
  auto parsed = extra_opts::parse_arguments(argc, argv, all, info.name, {"verbose"});
  // Boost 1.74 refuses a repeated bool_switch; count -v ourselves.
  std::vector<po::option> kept;
  for (auto& o : parsed.options) {
    if (o.string_key == "verbose") ++cl.verbosity;
    else kept.push_back(o);
  }
  parsed.options = kept;
  po::store(parsed, cl.vm);
  po::notify(cl.vm);
  if (cl.verbosity > 3) cl.verbosity = 3;
  return cl;
}

// The runbook options, resolved against the catalog (an error is reported
// with the result, see add_runbook_error).
tl::expected<Runbook, std::string> runbook_from_options(const po::variables_map& vm)
{
  RunbookOptions rbo;
  if (vm.count("runbook")) rbo.id = vm["runbook"].as<std::string>();
  if (vm.count("runbook-file")) rbo.file = vm["runbook-file"].as<std::string>();
  if (vm.count("impact")) rbo.impact = vm["impact"].as<std::vector<std::string>>();
  if (vm.count("action")) rbo.action = vm["action"].as<std::vector<std::string>>();
  if (vm.count("runbook-url")) rbo.url = vm["runbook-url"].as<std::string>();
  return resolve_runbook(rbo, std::getenv("SITELINK_RUNBOOKS"));
}

// Only the runtime writes the timeout line, with the -t state.
void apply_timeout(Result& result, const TimeoutSpec& timeout)
{
  if (!result.timed_out_while) return;
  result.state = timeout.state;
  result.summary =
      fmt::format("timed out after {} s while {}", format_number(timeout.seconds), *result.timed_out_while);
}

// A broken runbook configuration must not pass silently, but it must not
// hide a real CRITICAL either.
void add_runbook_error(Result& result, const std::string& error)
{
  if (result.state == State::Ok) {
    result.details.insert(result.details.begin(), "check result: " + result.summary);
    result.summary = error;
  } else {
    result.details.insert(result.details.begin(), error);
  }
  result.state = worst(result.state, State::Unknown);
}

// Runs the check under the watchdog: the exit code, after printing.
int run_check(const PluginInfo& info, const CommandLine& cl, const TimeoutSpec& timeout, const RunFunction& run)
{
  auto rb = runbook_from_options(cl.vm);
  Runbook runbook = rb ? *rb : Runbook{};

  // The budget counts from the process's start, as the monitoring core's
  // own timeout does: start-up on a busy machine is not free.
  const double started = seconds_since_process_start();
  Deadline deadline(timeout.seconds, started);
  watchdog::arm(timeout.seconds, timeout.state, join_lines(runbook.block(timeout.state)),
                join_lines(runbook.block(State::Unknown)), started);
  watchdog::set_activity("starting");

  SystemClock clock;
  Context ctx(cl.vm, cl.verbosity, deadline, clock, timeout);
  Result result;
  try {
    result = run(ctx);
  } catch (const UsageError& e) {
    watchdog::disarm();
    return usage_error(info, error_text(e));
  } catch (const std::exception& e) {
    result = Result{State::Unknown, error_text(e), {}, {}};
  }
  watchdog::disarm();
  apply_timeout(result, timeout);
  if (!rb) add_runbook_error(result, rb.error());
  for (const auto& d : ctx.debug_lines()) result.details.push_back(d);
  emit(render(info.service, result, runbook.block(result.state)));
  return exit_code(result.state);
}

// Everything between the command line and the exit code; may throw.
int parse_and_run(int argc, const char* const* argv, const PluginInfo& info,
                  const po::options_description& plugin_options, const RunFunction& run)
{
  watchdog::install_signal_handlers(info.service);
  po::options_description all;
  all.add(plugin_options).add(standard_options()).add(runbook_options());
  if (auto text = help_or_version(argc, argv, info, all)) {
    emit(*text);
    return 3;
  }
  CommandLine cl;
  try {
    cl = parse_command_line(argc, argv, info, all);
  } catch (const po::error& e) {
    return usage_error(info, error_text(e));
  }
  TimeoutSpec timeout;
  if (cl.vm.count("timeout")) {
    auto t = parse_timeout(cl.vm["timeout"].as<std::string>());
    if (!t) return usage_error(info, t.error());
    timeout = *t;
  }
  return run_check(info, cl, timeout, run);
}

} // namespace

int run_plugin(int argc, const char* const* argv, const PluginInfo& info, const po::options_description& plugin_options,
               const RunFunction& run)
{
  // Numbers are formatted locale-free, but libraries (libpq, boost) may consult
  // the locale; pin everything to C.
  std::setlocale(LC_ALL, "C");
  try {
    return parse_and_run(argc, argv, info, plugin_options, run);
  } catch (const std::exception& e) {
    emit(fmt::format("{} UNKNOWN - internal error: {}\n", info.service, sanitize(error_text(e))));
    return 3;
  } catch (...) {
    emit(fmt::format("{} UNKNOWN - internal error\n", info.service));
    return 3;
  }
}

} // namespace sitelink
