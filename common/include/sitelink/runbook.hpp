// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sitelink/state.hpp"

namespace sitelink {

// What a failure means for users and what to do, per non-OK state.
struct Runbook {
  std::string id;
  std::string title;
  std::string url;
  std::map<State, std::vector<std::string>> impact;
  std::map<State, std::vector<std::string>> actions;

  bool empty() const noexcept { return title.empty() && url.empty() && impact.empty() && actions.empty(); }

  // "Impact: ..." lines, then "Action: ..." lines, then "Runbook: TITLE <URL>"
  // ("Runbook: URL" without a title, "Runbook: TITLE" without a URL); empty for OK.
  std::vector<std::string> block(State state) const;
};

// The default catalog path, the SITELINK_RUNBOOKS override and --runbook-file.
constexpr std::string_view default_catalog_path = "/etc/sitelink/runbooks.json";

// Parses a catalog document and picks entry `id`. Errors name the source,
// the ID and the problem.
tl::expected<Runbook, std::string> runbook_from_json(std::string_view json, std::string_view source,
                                                     std::string_view id);

// Reads the catalog file (capped at 1 MiB) and picks entry `id`.
tl::expected<Runbook, std::string> load_runbook(const std::string& path, std::string_view id);

// The runbook options as given on the command line.
struct RunbookOptions {
  std::optional<std::string> id;
  std::optional<std::string> file; // --runbook-file
  std::vector<std::string> impact; // --impact, replaces the entry's impact
  std::vector<std::string> action; // --action, replaces the entry's actions
  std::optional<std::string> url;  // --runbook-url, replaces the entry's url
};

// Resolves options (+ SITELINK_RUNBOOKS from `env_catalog`) into a runbook.
tl::expected<Runbook, std::string> resolve_runbook(const RunbookOptions& opts, const char* env_catalog);

} // namespace sitelink
