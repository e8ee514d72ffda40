// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/options.hpp"

#include <algorithm>

#include <charconv>
#include <fstream>

#include <fmt/format.h>

#include "sitelink/number.hpp"
#include "sitelink/output.hpp"

namespace sitelink {

namespace {

const boost::program_options::variable_value* find(const boost::program_options::variables_map& vm,
                                                   std::string_view name)
{
  auto it = vm.find(std::string(name));
  if (it == vm.end() || it->second.empty()) return nullptr;
  return &it->second;
}

} // namespace

bool Options::has(std::string_view name) const
{
  const auto* v = find(vm_, name);
  if (!v) return false;
  if (const bool* b = boost::any_cast<bool>(&v->value())) return *b;
  return true;
}

bool Options::flag(std::string_view name) const
{
  const auto* v = find(vm_, name);
  return v && v->as<bool>();
}

std::string Options::text(std::string_view name, std::string fallback) const
{
  const auto* v = find(vm_, name);
  return v ? v->as<std::string>() : fallback;
}

std::optional<std::string> Options::optional_text(std::string_view name) const
{
  const auto* v = find(vm_, name);
  if (!v) return std::nullopt;
  return v->as<std::string>();
}

std::vector<std::string> Options::list(std::string_view name) const
{
  const auto* v = find(vm_, name);
  return v ? v->as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::optional<Range> Options::range(std::string_view name) const
{
  const auto* v = find(vm_, name);
  if (!v) return std::nullopt;
  return v->as<Range>();
}

std::optional<int> Options::integer(std::string_view name) const
{
  const auto* v = find(vm_, name);
  if (!v) return std::nullopt;
  return v->as<int>();
}

void invalid_value(std::string_view option, std::string_view value, std::string_view expected)
{
  throw UsageError(
      fmt::format("invalid value '{}' for option '--{}': expected {}", sanitize_quote(value, 80), option, expected));
}

double parse_seconds(std::string_view option, std::string_view text)
{
  auto v = parse_number(text);
  if (!v || *v <= 0) invalid_value(option, text, "seconds above 0");
  return *v;
}

long long parse_integer(std::string_view option, std::string_view text, long long min, long long max)
{
  long long v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end || v < min || v > max)
    invalid_value(option, text, fmt::format("{} to {}", min, max));
  return v;
}

long long check_integer(std::string_view option, long long value, long long min, long long max)
{
  if (value < min || value > max) invalid_value(option, std::to_string(value), fmt::format("{} to {}", min, max));
  return value;
}

std::uint16_t parse_port(std::string_view option, std::string_view text)
{
  return static_cast<std::uint16_t>(parse_integer(option, text, 1, 65535));
}

std::string choice_list(const std::vector<std::string>& choices)
{
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += (i + 1 == choices.size()) ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

std::string choice_list(std::initializer_list<std::string_view> choices)
{
  return choice_list(std::vector<std::string>(choices.begin(), choices.end()));
}

std::string one_of(std::string_view option, std::string_view text, std::initializer_list<std::string_view> choices)
{
  for (auto c : choices)
    if (c == text) return std::string(text);
  invalid_value(option, text, choice_list(choices));
}

void refuse_with_backend(const Options& options, std::string_view backend,
                         std::initializer_list<std::string_view> names)
{
  for (auto n : names)
    if (options.has(n))
      throw UsageError(
          fmt::format("option '{}{}' does not apply to --backend {}", n.substr(0, 1) == "-" ? "" : "--", n, backend));
}

std::string readable_file(std::string_view option, const std::string& path)
{
  std::ifstream in(path);
  if (!in)
    throw UsageError(fmt::format("cannot read the file given to option '--{}': {}", option, sanitize_quote(path, 120)));
  return path;
}

namespace {

// Copies the error to reach its protected substitutions.
struct SafeOptionError : boost::program_options::error_with_option_name {
  explicit SafeOptionError(const boost::program_options::error_with_option_name& e)
      : boost::program_options::error_with_option_name(e)
  {
    for (auto& kv : m_substitutions)
      kv.second.erase(std::remove(kv.second.begin(), kv.second.end(), '%'), kv.second.end());
  }
};

} // namespace

std::string error_text(const std::exception& e)
{
  if (const auto* named = dynamic_cast<const boost::program_options::error_with_option_name*>(&e))
    return SafeOptionError(*named).what();
  return e.what();
}

} // namespace sitelink
