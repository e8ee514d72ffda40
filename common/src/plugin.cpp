// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/plugin.hpp"

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <iostream>
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

std::string short_usage(const PluginInfo& info)
{
  std::string out = wrap("Usage: " + info.name + " " + info.synopsis, 78, "         ");
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

} // namespace

int run_plugin(int argc, const char* const* argv, const PluginInfo& info,
               const po::options_description& plugin_options, const RunFunction& run)
{
  // Numbers are formatted locale-free, but libraries (libpq, boost) may consult
  // the locale; pin everything to C.
  std::setlocale(LC_ALL, "C");
  try {
    watchdog::install_signal_handlers(info.service);

    po::options_description all;
    all.add(plugin_options).add(standard_options()).add(runbook_options());

    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help") {
        emit(full_help(info, all));
        return 3;
      }
    }
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-V" || a == "--version") {
        emit(version_text(info));
        return 3;
      }
    }

    po::variables_map vm;
    int verbosity = 0;
    try {
      auto parsed = extra_opts::parse_arguments(argc, argv, all, info.name, {"verbose"});
      // Boost 1.74 refuses a repeated bool_switch; count -v ourselves.
      std::vector<po::option> kept;
      for (auto& o : parsed.options) {
        if (o.string_key == "verbose") ++verbosity;
        else kept.push_back(o);
      }
      parsed.options = kept;
      po::store(parsed, vm);
      po::notify(vm);
    } catch (const po::error& e) {
      return usage_error(info, e.what());
    }
    if (verbosity > 3) verbosity = 3;

    TimeoutSpec timeout;
    if (vm.count("timeout")) {
      auto t = parse_timeout(vm["timeout"].as<std::string>());
      if (!t) return usage_error(info, t.error());
      timeout = *t;
    }

    RunbookOptions rbo;
    if (vm.count("runbook")) rbo.id = vm["runbook"].as<std::string>();
    if (vm.count("runbook-file")) rbo.file = vm["runbook-file"].as<std::string>();
    if (vm.count("impact")) rbo.impact = vm["impact"].as<std::vector<std::string>>();
    if (vm.count("action")) rbo.action = vm["action"].as<std::vector<std::string>>();
    if (vm.count("runbook-url")) rbo.url = vm["runbook-url"].as<std::string>();
    auto rb = resolve_runbook(rbo, std::getenv("SITELINK_RUNBOOKS"));
    Runbook runbook = rb ? *rb : Runbook{};

    Deadline deadline(timeout.seconds);
    watchdog::arm(timeout.seconds, timeout.state, join_lines(runbook.block(timeout.state)),
                  join_lines(runbook.block(State::Unknown)));
    watchdog::set_activity("starting");

    SystemClock clock;
    Context ctx(vm, verbosity, deadline, clock, timeout);
    Result result;
    try {
      result = run(ctx);
    } catch (const UsageError& e) {
      watchdog::disarm();
      return usage_error(info, e.what());
    } catch (const std::exception& e) {
      result = Result{State::Unknown, e.what(), {}, {}};
    }
    watchdog::disarm();
    if (result.timed_out_while) {
      result.state = timeout.state;
      result.summary =
          fmt::format("timed out after {} s while {}", format_number(timeout.seconds), *result.timed_out_while);
    }

    // A broken runbook configuration must not pass silently, but it must not
    // hide a real CRITICAL either.
    if (!rb) {
      if (result.state == State::Ok) {
        result.details.insert(result.details.begin(), "check result: " + result.summary);
        result.summary = rb.error();
      } else {
        result.details.insert(result.details.begin(), rb.error());
      }
      result.state = worst(result.state, State::Unknown);
    }
    for (const auto& d : ctx.debug_lines()) result.details.push_back(d);
    emit(render(info.service, result, runbook.block(result.state)));
    return exit_code(result.state);
  } catch (const std::exception& e) {
    emit(fmt::format("{} UNKNOWN - internal error: {}\n", info.service, sanitize(e.what())));
    return 3;
  } catch (...) {
    emit(fmt::format("{} UNKNOWN - internal error\n", info.service));
    return 3;
  }
}

} // namespace sitelink
