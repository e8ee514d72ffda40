// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// --backend postgresql: what the module observes (plain data) and the pure
// judgement of it. The module (sitelink_pgsql.so, libpq) fills a
// PgObservation; evaluate_pg() decides, so every rule here is unit-tested
// without a database.
//
// The signal that follows a dead link from its first second is link
// freshness, measured by the server itself (now() - timestamp, so the
// monitoring host's clock does not matter):
//   standby: now() - pg_stat_wal_receiver.last_msg_receipt_time
//   primary: now() - pg_stat_replication.reply_time
// The "lag" columns and replay timestamps read 0 or grow on an idle pair, so
// seconds lag is made idle-aware with it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sitelink/range.hpp"
#include "sitelink/result.hpp"
#include "sitelink/state.hpp"

namespace sitelink::replication {

enum class PgRole { Auto, Standby, Primary, Subscriber };

// Settings as pg_settings reports them, converted to seconds. 0 = disabled.
struct PgSettings {
  std::optional<double> wal_receiver_status_interval;
  std::optional<double> wal_receiver_timeout;
  std::optional<double> wal_sender_timeout;
  std::optional<double> recovery_min_apply_delay; // a delayed standby's intended delay
};

struct PgStandby {
  bool receiver = false;             // a pg_stat_wal_receiver row exists
  std::string receiver_status;       // streaming, waiting, stopping, ...
  std::optional<double> receipt_age; // now() - last_msg_receipt_time
  std::optional<double> bytes;       // receive LSN - replay LSN
  std::string receive_lsn;
  std::string replay_lsn;
  std::optional<double> replay_age; // now() - pg_last_xact_replay_timestamp()
  std::string pause_state;          // not paused, pause requested, paused
  std::string sender;               // sender_host:sender_port
  // The startup process waits on recovery_min_apply_delay (wait_event
  // RecoveryApplyDelay): replay is behind on purpose, not stalled.
  bool waiting_on_delay = false;
};

struct PgReplica {
  std::string application_name;
  std::string client_addr;
  std::string state; // streaming, catchup, startup, backup, stopping
  std::string sync_state;
  std::optional<double> reply_age;  // now() - reply_time
  std::optional<double> replay_lag; // seconds; NULL when idle
  std::optional<double> bytes;      // current LSN - replay_lsn
  std::optional<double> reply_time; // reply_time in seconds since the epoch (the standby's clock)
};

// A second read of pg_stat_replication within the run, taken when the first
// one is borderline (see pg_second_read_plan): a reply_time that advanced
// between the two reads is a live link whatever the two clocks say; one
// that did not for a whole reply interval is a dead link, also where the
// skew would hide it.
struct PgSecondRead {
  enum class Status { NotTaken, Ok, Failed, TimedOut };
  Status status = Status::NotTaken;
  double after = 0;                // seconds between the two reads
  std::vector<PgReplica> replicas; // the last read's rows
  std::string error;
};

struct PgSlot {
  std::string name;
  bool active = false;
  std::optional<double> retained_bytes; // current LSN - restart_lsn
  std::string wal_status;               // reserved, extended, unreserved, lost
  std::string type = "physical";        // physical, logical
};

// A logical replication subscription on the subscriber (pg_subscription
// joined with its apply worker in pg_stat_subscription).
struct PgSubscription {
  std::string name;
  bool enabled = false;
  bool worker = false;               // the apply worker runs
  std::optional<double> receipt_age; // now() - last_msg_receipt_time
  std::optional<double> report_age;  // now() - latest_end_time
  std::string received_lsn;
  std::string latest_end_lsn;
};

struct PgObservation {
  enum class Status { Ok, ConnectFailed, Timeout, QueryFailed };
  Status status = Status::QueryFailed;
  std::string error;    // libpq/server message
  std::string activity; // what the source was doing when it ran out of time
  std::string server;   // where we connected, without secrets
  std::string user;
  int server_version = 0; // server_version_num; 0: not read
  bool monitor = false;   // member of pg_monitor (or superuser)
  bool in_recovery = false;
  PgSettings settings;
  PgStandby standby;
  std::vector<PgReplica> replicas;
  std::vector<PgSlot> slots;
  std::vector<PgSubscription> subscriptions;
  std::optional<double> heartbeat_age; // --heartbeat-table: now() - max(ts)
  std::string heartbeat_error;
  PgSecondRead second_read;
};

struct PgPolicy {
  PgRole role = PgRole::Auto;
  std::vector<std::string> replicas; // --replica (application_name or client address)
  Range warn;
  Range crit;
  std::optional<Range> warn_bytes;
  std::optional<Range> crit_bytes;
  std::optional<double> link_timeout; // --link-timeout, else derived from the settings
  std::string heartbeat_table;        // empty: none
  // --slots: judge replication slots; inactive ones against the byte
  // ranges, and any inactive one with --slot-inactive-state.
  bool slots = false;
  std::optional<Range> slot_warn_bytes;
  std::optional<Range> slot_crit_bytes;
  std::optional<State> slot_inactive_state;
  std::optional<double> expected_delay;   // --expected-delay, else recovery_min_apply_delay
  std::vector<std::string> subscriptions; // --subscription; empty: every one
};

// The oldest server whose views the queries use (pg_stat_wal_receiver's
// sender_host, pg_stat_replication's reply_time, pg_replication_slots'
// wal_status, pg_get_wal_replay_pause_state()).
constexpr int pg_minimum_version = 140000;

// pg_settings' setting and unit ("10", "s"; "60000", "ms"; "0", "ms") in
// seconds; nullopt when not understood.
std::optional<double> pg_setting_seconds(std::string_view setting, std::string_view unit);

// Default link timeouts from the server's own settings (see evaluate_postgresql.cpp).
double pg_default_standby_link_timeout(const PgSettings& s);
double pg_default_primary_link_timeout(const PgSettings& s);

// True when a libpq conninfo (key=value or URI form) carries a password.
bool dsn_has_password(std::string_view dsn);

// A table name for --heartbeat-table: identifier or schema.identifier, each
// [A-Za-z_][A-Za-z0-9_$]*. Returns the quoted form, or nullopt.
std::optional<std::string> quote_table_name(std::string_view name);

// Connection failures: the server refusing us (bad password, no such
// database or role, pg_hba) is UNKNOWN; a server that cannot be reached or
// is not accepting connections is CRITICAL.
State classify_pg_connect_error(std::string_view message);

// Which standbys a second read of pg_stat_replication is for, and how long it
// may wait for their reply_time to advance (0 and none: no second read). A
// streaming standby is borderline when its reply reads older than the link
// timeout or lies in the future (clock skew either way); a live one replies
// at least every min(wal_receiver_status_interval, wal_sender_timeout / 2),
// so waiting that long (plus slack) is enough to see it advance. Called by
// the source on its first read (status not yet set).
struct PgSecondReadPlan {
  double wait = 0;
  std::vector<PgReplica> replicas; // the borderline standbys as the first read saw them
};
PgSecondReadPlan pg_second_read_plan(const PgObservation& obs, const PgPolicy& policy);

// Whether a standby's reply_time advanced between two reads: the same
// standby (application_name and client address) with a later reply_time.
bool pg_reply_advanced(const PgReplica& first, const std::vector<PgReplica>& second);

// Pure judgement. Status::Timeout becomes Result::timed_out (the runtime
// writes the timeout line with the -t state), with the no-measurement perfdata.
Result evaluate_pg(const PgObservation& obs, const PgPolicy& policy);

} // namespace sitelink::replication
