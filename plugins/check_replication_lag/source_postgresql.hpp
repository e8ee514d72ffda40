// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The interface between check_replication_lag and its database modules
// (sitelink_pgsql.so with libpq, sitelink_mysql.so with libmariadb), which
// are dlopen()ed only when their backend runs (see sitelink/module.hpp).
//
// A module runs the queries and fills an Observation; it never judges. Both
// sides are built from the same tree with the same compiler, and the table's
// ABI tag must equal sitelink::version, so the C++ types below may cross.

#include <functional>
#include <string>

#include "evaluate_mysql.hpp"
#include "evaluate_postgresql.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::replication {

struct ModuleHooks {
  const Deadline* deadline = nullptr;
  // Names what the module is doing, for the timeout message.
  std::function<void(const std::string&)> activity;
  std::function<void(int level, const std::string&)> debug;
};

struct PgRequest {
  ModuleHooks hooks;
  std::string dsn; // conninfo (checked for a password before)
  std::string host, port, dbname, user;
  bool standby_queries = true;   // decided from pg_is_in_recovery() by the module
  std::string heartbeat_sql_table; // quoted, or empty
};

struct MysqlRequest {
  ModuleHooks hooks;
  std::string host; // name, address, or a socket path starting with '/'
  unsigned port = 0;
  std::string user;
  std::string defaults_file; // already permission-checked
  std::string channel;       // validated
  std::string heartbeat_sql_table; // quoted, or empty
};

} // namespace sitelink::replication

extern "C" {

struct SitelinkPgModule {
  const char* abi_tag; // sitelink::version of the build
  void (*observe)(const sitelink::replication::PgRequest& request,
                  sitelink::replication::PgObservation& observation);
};

struct SitelinkMysqlModule {
  const char* abi_tag;
  void (*observe)(const sitelink::replication::MysqlRequest& request,
                  sitelink::replication::MysqlObservation& observation);
};

// The one symbol each module exports.
const SitelinkPgModule* sitelink_pgsql_module();
const SitelinkMysqlModule* sitelink_mysql_module();
}
