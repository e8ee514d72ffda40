// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/runbook.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sitelink {

namespace {

using json = nlohmann::json;
constexpr std::size_t max_catalog_size = 1024 * 1024;
const State non_ok_states[] = {State::Warning, State::Critical, State::Unknown};

tl::expected<std::vector<std::string>, std::string> string_list(const json& j, const std::string& where)
{
  if (!j.is_array()) return tl::unexpected(where + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& item : j) {
    if (!item.is_string()) return tl::unexpected(where + " must contain only strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

// A list applies to every non-OK state; an object is keyed by state.
tl::expected<std::map<State, std::vector<std::string>>, std::string> per_state(const json& j, const std::string& where)
{
  std::map<State, std::vector<std::string>> out;
  if (j.is_array()) {
    auto list = string_list(j, where);
    if (!list) return tl::unexpected(list.error());
    for (State s : non_ok_states) out[s] = *list;
    return out;
  }
  if (!j.is_object()) return tl::unexpected(where + " must be a list or an object keyed by warning/critical/unknown");
  for (const auto& [key, value] : j.items()) {
    State s;
    if (key == "warning") s = State::Warning;
    else if (key == "critical") s = State::Critical;
    else if (key == "unknown") s = State::Unknown;
    else return tl::unexpected(where + " has unknown key '" + key + "' (expected warning, critical, unknown)");
    auto list = string_list(value, where + "." + key);
    if (!list) return tl::unexpected(list.error());
    out[s] = *list;
  }
  return out;
}

} // namespace

std::vector<std::string> Runbook::block(State state) const
{
  std::vector<std::string> lines;
  if (state == State::Ok) return lines;
  if (auto it = impact.find(state); it != impact.end())
    for (const auto& l : it->second) lines.push_back("Impact: " + l);
  if (auto it = actions.find(state); it != actions.end())
    for (const auto& l : it->second) lines.push_back("Action: " + l);
  // One line naming the runbook, so a reader of the alert sees which page
  // the URL opens: "Runbook: TITLE <URL>", or whichever of the two is set.
  if (!title.empty() && !url.empty()) lines.push_back("Runbook: " + title + " <" + url + ">");
  else if (!url.empty()) lines.push_back("Runbook: " + url);
  else if (!title.empty()) lines.push_back("Runbook: " + title);
  return lines;
}

tl::expected<Runbook, std::string> runbook_from_json(std::string_view text, std::string_view source,
                                                     std::string_view id)
{
  const std::string prefix = "runbook catalog " + std::string(source) + ": ";
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return tl::unexpected(prefix + "invalid JSON at byte " + std::to_string(e.byte));
  } catch (const json::exception& e) {
    // Not only syntax errors throw: a number too large for a double is
    // out_of_range (406).
    return tl::unexpected(prefix + "invalid JSON (" + e.what() + ")");
  }
  if (!doc.is_object()) return tl::unexpected(prefix + "top level must be an object");
  for (const auto& [key, value] : doc.items())
    if (key != "runbooks") return tl::unexpected(prefix + "unknown key '" + key + "'");
  auto rbs = doc.find("runbooks");
  if (rbs == doc.end() || !rbs->is_object()) return tl::unexpected(prefix + "'runbooks' must be an object");
  auto entry = rbs->find(std::string(id));
  if (entry == rbs->end()) return tl::unexpected(prefix + "no runbook with ID '" + std::string(id) + "'");
  const std::string where = "runbooks." + std::string(id);
  if (!entry->is_object()) return tl::unexpected(prefix + where + " must be an object");
  Runbook rb;
  rb.id = std::string(id);
  for (const auto& [key, value] : entry->items()) {
    if (key == "title" || key == "url") {
      if (!value.is_string()) return tl::unexpected(prefix + where + "." + key + " must be a string");
      (key == "title" ? rb.title : rb.url) = value.get<std::string>();
    } else if (key == "impact" || key == "actions") {
      auto m = per_state(value, where + "." + key);
      if (!m) return tl::unexpected(prefix + m.error());
      (key == "impact" ? rb.impact : rb.actions) = std::move(*m);
    } else {
      return tl::unexpected(prefix + where + " has unknown key '" + key + "'");
    }
  }
  return rb;
}

tl::expected<Runbook, std::string> load_runbook(const std::string& path, std::string_view id)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return tl::unexpected("runbook catalog " + path + ": cannot read (" + std::strerror(errno) +
                          ") while looking up ID '" + std::string(id) + "'");
  std::string text;
  text.resize(max_catalog_size + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_catalog_size) return tl::unexpected("runbook catalog " + path + ": larger than 1 MiB");
  return runbook_from_json(text, path, id);
}

tl::expected<Runbook, std::string> resolve_runbook(const RunbookOptions& opts, const char* env_catalog)
{
  Runbook rb;
  if (opts.id) {
    std::string path(default_catalog_path);
    if (env_catalog != nullptr && *env_catalog != '\0') path = env_catalog;
    if (opts.file) path = *opts.file;
    auto loaded = load_runbook(path, *opts.id);
    if (!loaded) return loaded;
    rb = std::move(*loaded);
  } else if (opts.file) {
    return tl::unexpected(std::string("--runbook-file given without --runbook ID"));
  }
  if (!opts.impact.empty())
    for (State s : non_ok_states) rb.impact[s] = opts.impact;
  if (!opts.action.empty())
    for (State s : non_ok_states) rb.actions[s] = opts.action;
  if (opts.url) rb.url = *opts.url;
  return rb;
}

} // namespace sitelink
