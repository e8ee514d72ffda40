// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend postgresql: the source is a module (sitelink_pgsql.so, libpq),
// dlopen()ed only when this backend runs (see sitelink/module.hpp). It runs
// the queries and returns a PgObservation; it never judges. Both sides are
// built from the same tree with the same compiler, and the table's ABI tag
// must equal sitelink::version, so the C++ types below may cross.

#include <functional>
#include <string>

#include "evaluate_postgresql.hpp"
#include "sitelink/timeout.hpp"
#include "source_hooks.hpp"

namespace sitelink::replication {

struct PgRequest {
  std::string dsn; // conninfo (checked for a password before)
  std::string host, port, dbname, user;
  std::string heartbeat_sql_table; // quoted, or empty
  // Asked after the first read of pg_stat_replication: which standbys a
  // second read is for and how long it may wait (pure, in evaluate_postgresql).
  std::function<PgSecondReadPlan(const PgObservation&)> second_read_plan;
};

// The module's table; `abi` first, as sitelink::load_module requires.
struct PostgresqlModule {
  const char* abi;
  // Connects and queries within `deadline` (per-call timeouts from its
  // io_slice()); running out of time is Status::Timeout with the activity.
  PgObservation (*observe)(const PgRequest& request, const Deadline& deadline, const SourceHooks& hooks);
};

inline constexpr const char* postgresql_module_name = "sitelink_pgsql";
inline constexpr const char* postgresql_module_symbol = "sitelink_pgsql_module";

} // namespace sitelink::replication
