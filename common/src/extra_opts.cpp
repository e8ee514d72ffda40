// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/extra_opts.hpp"

#include "sitelink/options.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace sitelink::extra_opts {

namespace {

constexpr std::string_view blanks = " \t\r\f\v";

std::string_view trim(std::string_view s)
{
  auto b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(blanks);
  return s.substr(b, e - b + 1);
}

// A key is what may follow "--": letters, digits, '-' and '_', not starting
// with '-' (so "-x = 1" or "--x" cannot smuggle a different token shape).
bool valid_key(std::string_view k)
{
  if (k.empty() || k.front() == '-') return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string at(std::string_view file, int line)
{
  return std::string(file) + ":" + std::to_string(line) + ": ";
}

} // namespace

std::vector<std::string> Arg::tokens() const
{
  if (key.size() == 1) {
    if (!value) return {"-" + key};
    return {"-" + key, *value};
  }
  return {"--" + key + (value ? "=" + *value : std::string())};
}

Locator parse_locator(std::string_view spec, std::string_view default_section)
{
  Locator l;
  auto atsign = spec.find('@');
  std::string_view section = spec.substr(0, atsign);
  l.section = section.empty() ? std::string(default_section) : std::string(section);
  if (atsign != std::string_view::npos) l.file = std::string(spec.substr(atsign + 1));
  return l;
}

tl::expected<std::vector<Arg>, std::string> parse_ini(std::string_view text, std::string_view file,
                                                      std::string_view section)
{
  std::vector<Arg> args;
  bool in_any = false, in_ours = false, found = false;
  int lineno = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineno;
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return tl::unexpected(at(file, lineno) + "section header without ']'");
      std::string_view name = trim(line.substr(1, line.size() - 2));
      if (name.empty()) return tl::unexpected(at(file, lineno) + "empty section name");
      in_any = true;
      in_ours = name == section;
      found = found || in_ours;
      continue;
    }
    if (!in_any) return tl::unexpected(at(file, lineno) + "option line before the first [section]");
    auto eq = line.find('=');
    std::string_view key = trim(line.substr(0, eq));
    if (!valid_key(key))
      // The line itself is not quoted: it may hold a secret put there by mistake.
      return tl::unexpected(at(file, lineno) + "expected 'key', 'key = value' or '[section]'");
    if (!in_ours) continue;
    Arg a{std::string(key), std::nullopt, std::string(file), lineno};
    if (eq != std::string_view::npos) a.value = std::string(trim(line.substr(eq + 1)));
    args.push_back(std::move(a));
  }
  if (!found) return tl::unexpected(std::string(file) + ": no section [" + std::string(section) + "]");
  return args;
}

const std::vector<std::string>& default_search_path()
{
  // The Monitoring Plugins' list (lib/parse_ini.c), newest names first.
  static const std::vector<std::string> paths = {
      "/usr/local/etc/monitoring-plugins/monitoring-plugins.ini",
      "/usr/local/etc/monitoring-plugins.ini",
      "/etc/monitoring-plugins/monitoring-plugins.ini",
      "/etc/monitoring-plugins.ini",
      "/etc/nagios/plugins.ini",
      "/usr/local/nagios/etc/plugins.ini",
      "/usr/local/etc/nagios/plugins.ini",
      "/etc/opt/nagios/plugins.ini",
      "/etc/nagios-plugins.ini",
      "/usr/local/etc/nagios-plugins.ini",
      "/etc/opt/nagios-plugins.ini",
  };
  return paths;
}

tl::expected<std::string, std::string> find_default_file(const std::function<const char*(const char*)>& env,
                                                         const std::function<bool(const std::string&)>& exists)
{
  if (const char* f = env("MP_CONFIG_FILE"); f != nullptr && *f != '\0') return std::string(f);
  if (const char* p = env("NAGIOS_CONFIG_PATH"); p != nullptr) {
    std::string_view dirs = p;
    while (!dirs.empty()) {
      auto colon = dirs.find(':');
      std::string_view dir = dirs.substr(0, colon);
      dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
      if (dir.empty()) continue;
      for (const char* name : {"monitoring-plugins.ini", "plugins.ini", "nagios-plugins.ini"}) {
        std::string candidate = std::string(dir) + "/" + name;
        if (exists(candidate)) return candidate;
      }
    }
  }
  for (const auto& candidate : default_search_path())
    if (exists(candidate)) return candidate;
  return tl::unexpected(std::string("no ini file for --extra-opts: none of $MP_CONFIG_FILE, "
                                    "$NAGIOS_CONFIG_PATH, ") +
                        default_search_path().front() + " and the other standard paths exists");
}

SplitArgs split(int argc, const char* const* argv)
{
  SplitArgs out;
  constexpr std::string_view opt = "--extra-opts";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") { // everything after "--" is an operand, as for the parser
      for (; i < argc; ++i) out.rest.emplace_back(argv[i]);
      break;
    }
    if (a == opt) out.locators.emplace_back();
    else if (a.substr(0, opt.size() + 1) == "--extra-opts=") out.locators.emplace_back(a.substr(opt.size() + 1));
    else out.rest.emplace_back(a);
  }
  return out;
}

tl::expected<std::vector<Arg>, std::string> load(std::string_view spec, std::string_view plugin_name)
{
  Locator l = parse_locator(spec, plugin_name);
  std::string file;
  if (l.file) {
    file = *l.file;
  } else {
    auto found = find_default_file([](const char* n) { return ::secure_getenv(n); },
                                   [](const std::string& p) { return ::access(p.c_str(), F_OK) == 0; });
    if (!found) return tl::unexpected(found.error());
    file = *found;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return tl::unexpected("cannot read " + file + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return tl::unexpected("cannot read " + file + ": " + std::strerror(errno));
  return parse_ini(text.str(), file, l.section);
}

} // namespace sitelink::extra_opts

namespace sitelink::extra_opts {

namespace po = boost::program_options;

namespace {

// Stores `opts` into a scratch map: throws what po::store would for them
// (a single-valued option twice, a bad value).
void try_store(const std::vector<po::option>& opts, const po::options_description& options,
               const std::set<std::string>& counted)
{
  po::parsed_options p(&options, static_cast<int>(po::command_line_style::allow_long)); // "--name" in messages
  for (const auto& o : opts)
    if (counted.count(o.string_key) == 0) p.options.push_back(o);
  po::variables_map scratch;
  po::store(p, scratch);
}

// One file option parsed and checked against the ones before it.
std::vector<po::option> parse_one(const Arg& a, const std::vector<po::option>& before,
                                  const po::options_description& options, const std::set<std::string>& counted)
{
  if (a.key == "extra-opts") throw po::error(a.where() + ": --extra-opts cannot be used inside an ini file");
  std::vector<po::option> parsed;
  try {
    parsed = po::command_line_parser(a.tokens()).options(options).run().options;
  } catch (const po::unknown_option&) {
    throw po::error(a.where() + ": unknown option '" + a.key + "'");
  } catch (const po::error& e) {
    throw po::error(a.where() + ": " + error_text(e)); // the parser's message names the option
  }
  for (const auto& o : parsed) {
    // Only whole options: a value that parsed as a second option or operand
    // ("w = 1 -c 2") is not what the line says.
    if (o.position_key >= 0 || o.unregistered || parsed.size() != 1)
      throw po::error(a.where() + ": option '" + a.key + "': one option per line");
  }
  std::vector<po::option> trial = before;
  trial.insert(trial.end(), parsed.begin(), parsed.end());
  try {
    try_store(trial, options, counted);
  } catch (const po::multiple_occurrences&) {
    throw po::error(a.where() + ": option '" + a.key + "' given again (it takes one value)");
  } catch (const po::error& e) {
    throw po::error(a.where() + ": " + error_text(e));
  }
  return parsed;
}

} // namespace

po::parsed_options expand(const std::vector<std::string>& command_line, const std::vector<Arg>& from_files,
                          const po::options_description& options, const std::set<std::string>& counted)
{
  po::parsed_options cli = po::command_line_parser(command_line).options(options).run();
  for (const auto& o : cli.options)
    if (o.string_key == "extra-opts") throw po::error("write --extra-opts in full: --extra-opts=[SECTION][@FILE]");

  std::vector<po::option> files;
  for (const auto& a : from_files) {
    auto one = parse_one(a, files, options, counted);
    files.insert(files.end(), one.begin(), one.end());
  }

  // The parser's option style, so that errors raised while storing name the
  // option as typed ("--critical", not "critical").
  po::parsed_options merged(&options, cli.m_options_prefix);
  for (const auto& f : files) {
    bool replaced = false;
    if (counted.count(f.string_key) == 0) {
      for (const auto& c : cli.options) {
        if (c.string_key != f.string_key) continue;
        try {
          try_store({f, c}, options, counted);
        } catch (const po::error&) {
          replaced = true; // single-valued: the command line's value wins
        }
        break;
      }
    }
    if (!replaced) merged.options.push_back(f);
  }
  merged.options.insert(merged.options.end(), cli.options.begin(), cli.options.end());
  return merged;
}

po::parsed_options parse_arguments(int argc, const char* const* argv, const po::options_description& options,
                                   std::string_view plugin_name, const std::set<std::string>& counted)
{
  SplitArgs args = split(argc, argv);
  std::vector<Arg> from_files;
  for (const auto& spec : args.locators) {
    auto loaded = load(spec, plugin_name);
    if (!loaded) throw po::error(loaded.error());
    from_files.insert(from_files.end(), loaded->begin(), loaded->end());
  }
  return expand(args.rest, from_files, options, counted);
}

} // namespace sitelink::extra_opts
