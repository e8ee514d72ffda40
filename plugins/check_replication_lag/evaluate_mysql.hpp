// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend mysql (MySQL and MariaDB): the module (sitelink_mysql.so,
// libmariadb) runs SHOW REPLICA STATUS and the heartbeat query and fills a
// MysqlObservation; evaluate_mysql() decides.
//
// Seconds_Behind_Master reads 0 for the first seconds of a dead link and
// then NULL, so it is never taken as "no lag" when NULL, and a
// pt-heartbeat-compatible table (a row the primary rewrites every second)
// gives the real staleness when configured.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/range.hpp"
#include "sitelink/result.hpp"
#include "sitelink/state.hpp"

namespace sitelink::replication {

// One row of SHOW REPLICA STATUS, columns picked by name in either spelling
// (Replica_/Source_ in MySQL 8.0.22+, Slave_/Master_ in MariaDB and older).
struct MysqlReplicaStatus {
  std::string channel;
  std::string io_running;               // Yes, No, Connecting
  std::string sql_running;              // Yes, No
  std::optional<double> seconds_behind; // nullopt: NULL
  std::string last_io_error;
  std::string last_sql_error;
  std::string last_io_errno;
  std::string last_sql_errno;
  std::string source_host;
  std::string source_port;
  std::string io_state;
  std::string sql_state;
  std::optional<long> source_server_id;
  std::optional<double> sql_delay; // SQL_Delay (MASTER_DELAY), seconds
  // The heartbeat of this channel's primary, when several channels are
  // read (a single row keeps it in MysqlObservation).
  std::optional<double> heartbeat_age;
  unsigned heartbeat_error_code = 0;
  std::string heartbeat_error;
};

MysqlReplicaStatus map_replica_status(const std::vector<std::string>& names,
                                      const std::vector<std::optional<std::string>>& values);

struct MysqlObservation {
  enum class Status { Ok, ConnectFailed, Timeout, QueryFailed };
  Status status = Status::QueryFailed;
  unsigned error_code = 0; // server or client error number
  std::string error;
  std::string activity; // what the source was doing when it ran out of time
  std::string server;   // where we connected
  std::string user;
  bool mariadb = false;
  std::vector<MysqlReplicaStatus> rows;
  std::optional<double> heartbeat_age; // --heartbeat-table, measured by the server
  unsigned heartbeat_error_code = 0;
  std::string heartbeat_error;
};

struct MysqlPolicy {
  Range warn;
  Range crit;
  std::optional<double> link_timeout; // heartbeat age that means the link is down
  std::string heartbeat_table;
  // --channel (repeatable): only these, and each must exist. Empty: every
  // channel the server reports is judged.
  std::vector<std::string> channels;
  // --expected-delay: the intended apply delay, instead of SQL_Delay.
  std::optional<double> expected_delay;
};

// Default heartbeat age that counts as a dead link: pt-heartbeat writes
// every second by default.
constexpr double mysql_default_link_timeout = 10;

// Connection errors: refused credentials or unknown database are UNKNOWN,
// an unreachable server is CRITICAL.
State classify_mysql_connect_error(unsigned code);

// DB.TABLE or TABLE, each [A-Za-z0-9_$]+; backtick-quoted, or nullopt.
std::optional<std::string> quote_mysql_table(std::string_view name);

// Channel / connection names we accept: [A-Za-z0-9_.-]{1,64}.
bool valid_channel_name(std::string_view name);

// An option file we read a password from must not be readable by others.
// Returns an error text, or empty when acceptable.
std::string check_option_file_mode(unsigned mode, unsigned owner_uid, unsigned our_uid);

// Perfdata label prefix of a channel: lower case, [a-z0-9_], "default" for
// the unnamed one.
std::string channel_label(std::string_view channel);

// Pure judgement. Every channel (or each named one) is a group of its own;
// the worst decides. Status::Timeout becomes Result::timed_out (the runtime
// writes the timeout line with the -t state), with the no-measurement perfdata.
Result evaluate_mysql(const MysqlObservation& obs, const MysqlPolicy& policy);

} // namespace sitelink::replication
