// SPDX-License-Identifier: GPL-2.0-or-later
// sitelink_pgsql.so: the PostgreSQL side of check_replication_lag. Runs the
// queries with libpq and fills a PgObservation; all judgement is in
// evaluate_postgresql.cpp.
//
// Everything is non-blocking, each wait bounded by the deadline's io_end():
// libpq's connect_timeout is whole seconds (at least 2) and does not cover a
// server that accepts and then never answers, and a query on a black-holed
// connection would otherwise wait for TCP retransmission timeouts.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "login_retry.hpp"
#include "sitelink/module.hpp"
#include "sitelink/version.hpp"
#include "source_postgresql.hpp"

namespace sitelink::replication {

namespace {

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

class TimedOut : public std::exception {};

struct Failure {
  std::string message;
  bool connecting = false;
};

// Waits until the socket is ready; false when the I/O budget ran out.
bool wait_socket(int fd, bool for_write, const Deadline& d)
{
  const auto end = d.io_end();
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - Deadline::clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true; // let libpq report the error
  }
}

// "host:port/db", a socket directory as "socket /dir:port/db".
std::string server_name(const char* host, const char* port, const char* db)
{
  std::string h = host != nullptr && *host != '\0' ? host : "localhost";
  if (h.front() == '/') h = "socket " + h;
  return fmt::format("{}:{}/{}", h, port != nullptr ? port : "", db != nullptr ? db : "");
}

std::string describe(PGconn* c)
{
  return server_name(PQhost(c), PQport(c), PQdb(c));
}

// Where libpq is about to connect, in describe()'s words, from the request
// alone: PQconnectStartParams already resolves the host name (synchronously)
// and opens the socket, so a slow resolver, the deadline or a signal inside
// it must name the server, not an earlier step. describe() gives libpq's own
// view once the call returns.
std::string planned(const std::vector<std::string>& keys, const std::vector<std::string>& vals)
{
  std::string host, port, db, user;
  auto take = [&](const std::string& key, const char* val) {
    if (val == nullptr || *val == '\0') return;
    if (key == "host") host = val;
    else if (key == "port") port = val;
    else if (key == "dbname") db = val;
    else if (key == "user") user = val;
  };
  for (std::size_t i = 0; i < keys.size(); ++i) {
    // The first dbname is a connection string when it looks like one
    // (libpq's expand_dbname); its own keys come first, later keys win.
    if (i == 0 && keys[i] == "dbname" &&
        (vals[i].find('=') != std::string::npos || vals[i].rfind("postgresql://", 0) == 0 ||
         vals[i].rfind("postgres://", 0) == 0)) {
      char* err = nullptr;
      PQconninfoOption* opts = PQconninfoParse(vals[i].c_str(), &err);
      PQfreemem(err);
      if (opts != nullptr) {
        for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) take(o->keyword, o->val);
        PQconninfoFree(opts);
      }
      continue;
    }
    take(keys[i], vals[i].c_str());
  }
  auto env = [](std::string& slot, const char* name) {
    const char* e = std::getenv(name);
    if (slot.empty() && e != nullptr) slot = e;
  };
  env(host, "PGHOST");
  env(port, "PGPORT");
  env(user, "PGUSER");
  env(db, "PGDATABASE");
  if (db.empty()) db = user;
  return server_name(host.c_str(), port.empty() ? "5432" : port.c_str(), db.c_str());
}

class Session {
public:
  Session(const PgRequest& rq, const Deadline& deadline, const SourceHooks& hooks, PgObservation& obs)
      : rq_(rq), hooks_(hooks), obs_(obs), d_(deadline)
  {}

  void connect()
  {
    std::vector<std::string> keys, vals;
    if (!rq_.dsn.empty()) add(keys, vals, "dbname", rq_.dsn);
    if (!rq_.host.empty()) add(keys, vals, "host", rq_.host);
    if (!rq_.port.empty()) add(keys, vals, "port", rq_.port);
    if (!rq_.dbname.empty()) add(keys, vals, "dbname", rq_.dbname);
    if (!rq_.user.empty()) add(keys, vals, "user", rq_.user);
    // connect_timeout is whole seconds and libpq treats 1 as 2; our poll()
    // deadline is the real limit, this only bounds libpq's own waits.
    const long left_ms = static_cast<long>(d_.io_slice().count());
    add(keys, vals, "connect_timeout", std::to_string(std::max(2L, left_ms / 1000)));
    // The server stops the statement itself if we stop waiting for it.
    add(keys, vals, "options", fmt::format("-c statement_timeout={}", std::max(100L, left_ms)));
    add(keys, vals, "fallback_application_name", "check_replication_lag");
    std::vector<const char*> k, v;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      k.push_back(keys[i].c_str());
      v.push_back(vals[i].c_str());
    }
    k.push_back(nullptr);
    v.push_back(nullptr);

    obs_.server = planned(keys, vals);
    login(k, v);
    if (PQsetnonblocking(conn_.get(), 1) != 0) throw Failure{PQerrorMessage(conn_.get()), true};
    const char* u = PQuser(conn_.get());
    obs_.user = u != nullptr ? u : "";
    hooks_.trace(1, fmt::format("connected to {} as {} (server version {})", obs_.server, obs_.user,
                                PQserverVersion(conn_.get())));
  }

  // Runs one query; throws TimedOut or Failure.
  ResultPtr query(const std::string& what, const std::string& sql)
  {
    hooks_.set_activity(obs_.activity, fmt::format("{} on {}", what, obs_.server));
    hooks_.trace(3, "query: " + sql);
    PGconn* c = conn_.get();
    if (PQsendQuery(c, sql.c_str()) == 0) throw Failure{PQerrorMessage(c)};
    int f;
    while ((f = PQflush(c)) == 1)
      if (!wait_socket(PQsocket(c), true, d_)) throw TimedOut{};
    if (f < 0) throw Failure{PQerrorMessage(c)};
    ResultPtr last;
    while (true) {
      while (PQisBusy(c) != 0) {
        if (!wait_socket(PQsocket(c), false, d_)) throw TimedOut{};
        if (PQconsumeInput(c) == 0) throw Failure{PQerrorMessage(c)};
      }
      PGresult* r = PQgetResult(c);
      if (r == nullptr) break;
      last.reset(r);
    }
    if (!last) throw Failure{PQerrorMessage(c)};
    if (PQresultStatus(last.get()) != PGRES_TUPLES_OK) throw Failure{PQresultErrorMessage(last.get())};
    return last;
  }

private:
  // Logs in; a server full of clients (a crowd of checks on a monitoring
  // host) is asked again, with growing random pauses (login_retry.hpp),
  // while the budget lasts; still full at the end, it is the finding
  // (tests/cli/test_drills_concurrency.py, tests/integration/test_drills_lab.py).
  void login(const std::vector<const char*>& k, const std::vector<const char*>& v)
  {
    LoginRetry retry(d_.io_slice());
    auto seed = static_cast<std::uint64_t>(::getpid()) << 32 ^
                static_cast<std::uint64_t>(Deadline::clock::now().time_since_epoch().count());
    while (true) {
      const auto began = Deadline::clock::now();
      try {
        attempt(k, v, retry.refusals());
        break;
      } catch (const Failure& f) {
        const auto took = std::chrono::duration_cast<LoginRetry::ms>(Deadline::clock::now() - began);
        if (!server_full(f.message.c_str())) throw;
        // The refused connection is closed now, not at the next attempt.
        conn_.reset();
        const auto pause = retry.next(d_.io_slice(), took, next_unit(seed));
        if (!pause) throw;
        hooks_.trace(2, fmt::format("{} is full, asking again in {} ms", obs_.server, pause->count()));
        std::this_thread::sleep_for(*pause);
      }
    }
  }

  // One login; `refusals` earlier ones found the server full (said in the
  // activity, so that running out of time in this one names it).
  void attempt(const std::vector<const char*>& k, const std::vector<const char*>& v, int refusals)
  {
    auto name = [&] {
      hooks_.set_activity(obs_.activity,
                          refusals == 0 ? fmt::format("connecting to {}", obs_.server)
                                        : fmt::format("connecting to {} again (full of clients at {} earlier login{})",
                                                      obs_.server, refusals, refusals == 1 ? "" : "s"));
    };
    name(); // obs_.server: planned() at first, libpq's view after a refused login
    conn_.reset(PQconnectStartParams(k.data(), v.data(), 1));
    if (!conn_) throw Failure{"out of memory", true};
    obs_.server = describe(conn_.get());
    name();
    if (PQstatus(conn_.get()) == CONNECTION_BAD) throw Failure{PQerrorMessage(conn_.get()), true};
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED) throw Failure{PQerrorMessage(conn_.get()), true};
      int fd = PQsocket(conn_.get());
      if (fd < 0) throw Failure{PQerrorMessage(conn_.get()), true};
      if (!wait_socket(fd, st == PGRES_POLLING_WRITING, d_)) throw TimedOut{};
      st = PQconnectPoll(conn_.get());
      obs_.server = describe(conn_.get());
    }
  }

  static void add(std::vector<std::string>& k, std::vector<std::string>& v, const char* key, std::string val)
  {
    k.emplace_back(key);
    v.push_back(std::move(val));
  }

  const PgRequest& rq_;
  const SourceHooks& hooks_;
  PgObservation& obs_;
  const Deadline& d_;
  ConnPtr conn_;
};

bool is_null(const PGresult* r, int row, int col)
{
  return PQgetisnull(r, row, col) != 0;
}

std::string text(const PGresult* r, int row, int col)
{
  return is_null(r, row, col) ? std::string() : std::string(PQgetvalue(r, row, col));
}

std::optional<double> number(const PGresult* r, int row, int col)
{
  if (is_null(r, row, col)) return std::nullopt;
  char* end = nullptr;
  const char* s = PQgetvalue(r, row, col);
  double v = std::strtod(s, &end); // float8 output is locale-free ("C" is set by the runtime)
  if (end == s) return std::nullopt;
  return v;
}

bool boolean(const PGresult* r, int row, int col)
{
  return !is_null(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

const char* const q_server = R"SQL(
SELECT pg_is_in_recovery(), current_user,
       pg_has_role(current_user, 'pg_monitor', 'USAGE')
         OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
       (SELECT setting FROM pg_settings WHERE name = 'wal_receiver_status_interval'),
       (SELECT unit FROM pg_settings WHERE name = 'wal_receiver_status_interval'),
       (SELECT setting FROM pg_settings WHERE name = 'wal_receiver_timeout'),
       (SELECT unit FROM pg_settings WHERE name = 'wal_receiver_timeout'),
       (SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout'),
       (SELECT unit FROM pg_settings WHERE name = 'wal_sender_timeout'),
       current_setting('server_version_num')::int,
       (SELECT setting FROM pg_settings WHERE name = 'recovery_min_apply_delay'),
       (SELECT unit FROM pg_settings WHERE name = 'recovery_min_apply_delay')
)SQL";

const char* const q_standby = R"SQL(
SELECT r.pid IS NOT NULL, r.status,
       EXTRACT(epoch FROM now() - r.last_msg_receipt_time)::float8,
       (pg_last_wal_receive_lsn() - pg_last_wal_replay_lsn())::float8,
       pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text,
       EXTRACT(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
       pg_get_wal_replay_pause_state(),
       r.sender_host || ':' || r.sender_port,
       coalesce((SELECT bool_or(wait_event = 'RecoveryApplyDelay') FROM pg_stat_activity
                 WHERE backend_type = 'startup'), false)
FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true
)SQL";

const char* const q_replicas = R"SQL(
SELECT application_name, coalesce(host(client_addr), ''), state, sync_state,
       EXTRACT(epoch FROM now() - reply_time)::float8,
       EXTRACT(epoch FROM replay_lag)::float8,
       (CASE WHEN pg_is_in_recovery()
             THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
             ELSE pg_current_wal_lsn() END - replay_lsn)::float8,
       EXTRACT(epoch FROM reply_time)::float8
FROM pg_stat_replication ORDER BY application_name
)SQL";

const char* const q_slots = R"SQL(
SELECT slot_name, active,
       (CASE WHEN pg_is_in_recovery()
             THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
             ELSE pg_current_wal_lsn() END - restart_lsn)::float8,
       coalesce(wal_status, ''), slot_type
FROM pg_replication_slots ORDER BY slot_name
)SQL";

// Every subscription with its apply worker (relid IS NULL: not a table
// synchronisation worker); pg_subscription's name and enabled columns and
// pg_stat_subscription are readable by every role.
const char* const q_subscriptions = R"SQL(
SELECT s.subname, s.subenabled, bool_or(w.pid IS NOT NULL),
       min(EXTRACT(epoch FROM now() - w.last_msg_receipt_time))::float8,
       min(EXTRACT(epoch FROM now() - w.latest_end_time))::float8,
       coalesce(max(w.received_lsn)::text, ''), coalesce(max(w.latest_end_lsn)::text, '')
FROM pg_subscription AS s LEFT JOIN pg_stat_subscription AS w ON w.subid = s.oid AND w.relid IS NULL
GROUP BY s.subname, s.subenabled ORDER BY s.subname
)SQL";

void read_role(Session& s, PgObservation& obs)
{
  auto r = s.query("reading the server's role", q_server);
  if (PQntuples(r.get()) != 1) throw Failure{"unexpected answer to the role query"};
  obs.in_recovery = boolean(r.get(), 0, 0);
  obs.user = text(r.get(), 0, 1);
  obs.monitor = boolean(r.get(), 0, 2);
  obs.settings.wal_receiver_status_interval = pg_setting_seconds(text(r.get(), 0, 3), text(r.get(), 0, 4));
  obs.settings.wal_receiver_timeout = pg_setting_seconds(text(r.get(), 0, 5), text(r.get(), 0, 6));
  obs.settings.wal_sender_timeout = pg_setting_seconds(text(r.get(), 0, 7), text(r.get(), 0, 8));
  obs.server_version = static_cast<int>(number(r.get(), 0, 9).value_or(0));
  obs.settings.recovery_min_apply_delay = pg_setting_seconds(text(r.get(), 0, 10), text(r.get(), 0, 11));
}

// The heartbeat table's age; a failed read is data for the judgement.
void read_heartbeat_table(Session& s, const std::string& table, PgObservation& obs)
{
  try {
    auto h = s.query("reading the heartbeat table",
                     fmt::format("SELECT EXTRACT(epoch FROM now() - max(ts))::float8 FROM {}", table));
    if (PQntuples(h.get()) == 1) obs.heartbeat_age = number(h.get(), 0, 0);
    if (!obs.heartbeat_age) obs.heartbeat_error = "the table has no row";
  } catch (const Failure& f) {
    obs.heartbeat_error = f.message;
  }
}

void read_standby(Session& s, const PgRequest& rq, PgObservation& obs)
{
  auto w = s.query("reading the WAL receiver", q_standby);
  if (PQntuples(w.get()) < 1) throw Failure{"unexpected answer to the WAL receiver query"};
  const PGresult* x = w.get();
  auto& sb = obs.standby;
  sb.receiver = boolean(x, 0, 0);
  sb.receiver_status = text(x, 0, 1);
  sb.receipt_age = number(x, 0, 2);
  sb.bytes = number(x, 0, 3);
  sb.receive_lsn = text(x, 0, 4);
  sb.replay_lsn = text(x, 0, 5);
  sb.replay_age = number(x, 0, 6);
  sb.pause_state = text(x, 0, 7);
  sb.sender = text(x, 0, 8);
  sb.waiting_on_delay = boolean(x, 0, 9);
  if (!rq.heartbeat_sql_table.empty()) read_heartbeat_table(s, rq.heartbeat_sql_table, obs);
}

std::vector<PgReplica> read_replicas(Session& s, const char* what)
{
  std::vector<PgReplica> rows;
  auto rr = s.query(what, q_replicas);
  for (int i = 0; i < PQntuples(rr.get()); ++i) {
    const PGresult* x = rr.get();
    PgReplica rep;
    rep.application_name = text(x, i, 0);
    rep.client_addr = text(x, i, 1);
    rep.state = text(x, i, 2);
    rep.sync_state = text(x, i, 3);
    rep.reply_age = number(x, i, 4);
    rep.replay_lag = number(x, i, 5);
    rep.bytes = number(x, i, 6);
    rep.reply_time = number(x, i, 7);
    rows.push_back(std::move(rep));
  }
  return rows;
}

// The second read (see pg_second_read_plan): pg_stat_replication again every
// 250 ms until each borderline standby's reply_time advanced (or its row is
// gone) or the plan's wait is over, cut to the I/O budget less one query's
// worth (500 ms). Its failure or running out of time is data: the first read
// is then judged alone.
void read_again(Session& s, const PgSecondReadPlan& plan, Deadline::clock::time_point first, const Deadline& d,
                PgObservation& obs)
{
  using namespace std::chrono;
  auto& sr = obs.second_read;
  const auto until =
      std::min(first + duration_cast<Deadline::clock::duration>(duration<double>(plan.wait)), d.io_end() - 500ms);
  sr.status = PgSecondRead::Status::TimedOut;
  while (Deadline::clock::now() + 250ms <= until) {
    std::this_thread::sleep_for(250ms);
    try {
      sr.replicas = read_replicas(s, "reading pg_stat_replication again");
    } catch (const TimedOut&) {
      sr.status = PgSecondRead::Status::TimedOut;
      return;
    } catch (const Failure& f) {
      sr.status = PgSecondRead::Status::Failed;
      sr.error = f.message;
      return;
    }
    sr.status = PgSecondRead::Status::Ok;
    sr.after = duration<double>(Deadline::clock::now() - first).count();
    // Done once each has replied or is gone (dropped by its walsender).
    auto settled = [&](const PgReplica& r) {
      return pg_reply_advanced(r, sr.replicas) ||
             std::none_of(sr.replicas.begin(), sr.replicas.end(), [&](const PgReplica& x) {
               return x.application_name == r.application_name && x.client_addr == r.client_addr;
             });
    };
    if (std::all_of(plan.replicas.begin(), plan.replicas.end(), settled)) return;
  }
}

// The sending side: on a primary, or on a cascading standby feeding its own
// standbys (LSNs then from what it has received).
void read_senders(Session& s, const PgRequest& rq, const Deadline& d, PgObservation& obs)
{
  obs.replicas = read_replicas(s, "reading pg_stat_replication");
  const auto first = Deadline::clock::now();
  auto sl = s.query("reading pg_replication_slots", q_slots);
  for (int i = 0; i < PQntuples(sl.get()); ++i) {
    const PGresult* x = sl.get();
    obs.slots.push_back(PgSlot{text(x, i, 0), boolean(x, i, 1), number(x, i, 2), text(x, i, 3), text(x, i, 4)});
  }
  if (!rq.second_read_plan) return;
  const PgSecondReadPlan plan = rq.second_read_plan(obs);
  if (plan.wait > 0) read_again(s, plan, first, d, obs);
}

void read_subscriptions(Session& s, PgObservation& obs)
{
  auto r = s.query("reading pg_stat_subscription", q_subscriptions);
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const PGresult* x = r.get();
    PgSubscription sub;
    sub.name = text(x, i, 0);
    sub.enabled = boolean(x, i, 1);
    sub.worker = boolean(x, i, 2);
    sub.receipt_age = number(x, i, 3);
    sub.report_age = number(x, i, 4);
    sub.received_lsn = text(x, i, 5);
    sub.latest_end_lsn = text(x, i, 6);
    obs.subscriptions.push_back(std::move(sub));
  }
}

void observe_impl(Session& s, const PgRequest& rq, const Deadline& d, PgObservation& obs)
{
  s.connect();
  read_role(s, obs);
  // An older server lacks the views: the judgement names the version needed.
  if (obs.monitor && obs.server_version >= pg_minimum_version) {
    if (obs.in_recovery) read_standby(s, rq, obs);
    else read_subscriptions(s, obs);
    read_senders(s, rq, d, obs);
  }
  obs.status = PgObservation::Status::Ok;
}

PgObservation observe(const PgRequest& rq, const Deadline& deadline, const SourceHooks& hooks)
{
  PgObservation obs;
  try {
    Session s(rq, deadline, hooks, obs);
    observe_impl(s, rq, deadline, obs);
  } catch (const TimedOut&) {
    obs.status = PgObservation::Status::Timeout;
  } catch (const Failure& f) {
    obs.status = f.connecting ? PgObservation::Status::ConnectFailed : PgObservation::Status::QueryFailed;
    obs.error = f.message;
  } catch (const std::exception& e) {
    obs.status = PgObservation::Status::QueryFailed;
    obs.error = e.what();
  }
  return obs;
}

const PostgresqlModule table{sitelink::version, &observe};

} // namespace

} // namespace sitelink::replication

SITELINK_MODULE_ENTRY(sitelink_pgsql_module, sitelink::replication::PostgresqlModule, sitelink::replication::table)
