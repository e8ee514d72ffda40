// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend mysql (MySQL and MariaDB): the source is a module
// (sitelink_mysql.so, libmariadb), dlopen()ed only when this backend runs
// (see sitelink/module.hpp). It reads every channel (SHOW ALL REPLICAS
// STATUS on MariaDB, SHOW REPLICA STATUS on MySQL) and the heartbeat
// query and returns a MysqlObservation; it never judges.

#include <string>

#include "evaluate_mysql.hpp"
#include "sitelink/timeout.hpp"
#include "source_hooks.hpp"

namespace sitelink::replication {

struct MysqlRequest {
  std::string host; // name, address, or a socket path starting with '/'
  unsigned port = 0;
  std::string user;
  std::string defaults_file;       // already permission-checked
  std::string heartbeat_sql_table; // quoted, or empty
};

// The module's table; `abi` first, as sitelink::load_module requires.
struct MysqlModule {
  const char* abi;
  // Connects and queries within `deadline` (libmariadb's whole-second
  // timeouts from its io_slice()); running out of time is Status::Timeout.
  MysqlObservation (*observe)(const MysqlRequest& request, const Deadline& deadline, const SourceHooks& hooks);
};

inline constexpr const char* mysql_module_name = "sitelink_mysql";
inline constexpr const char* mysql_module_symbol = "sitelink_mysql_module";

} // namespace sitelink::replication
