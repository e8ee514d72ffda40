// SPDX-License-Identifier: GPL-2.0-or-later
// sitelink_mysql.so: the MySQL/MariaDB side of check_replication_lag. Runs
// SHOW REPLICA STATUS (and the heartbeat query) with libmariadb and fills a
// MysqlObservation; all judgement is in evaluate_mysql.cpp.
//
// libmariadb calls block; their connect/read/write timeouts (whole seconds)
// come from the deadline's io_slice(), and the plugin's watchdog ends the
// check on time if the library overruns them.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <errmsg.h>
#include <fmt/format.h>
#include <mysql.h>

#include "sitelink/module.hpp"
#include "sitelink/version.hpp"
#include "source_mysql.hpp"

namespace sitelink::replication {

namespace {

// A client error counts as a timeout when the call lasted its whole
// timeout: libmariadb's timers may end it this much early.
constexpr double timer_tolerance_seconds = 0.2;

struct MysqlDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct ResDeleter {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

// libmariadb's timeouts are whole seconds, at least 1.
unsigned whole_seconds(const Deadline& d)
{
  return static_cast<unsigned>(std::max<long long>(1, d.io_slice().count() / 1000));
}

bool client_timeout(unsigned code)
{
  return code == CR_SERVER_LOST || code == CR_CONN_HOST_ERROR || code == CR_CONNECTION_ERROR ||
         code == CR_SERVER_GONE_ERROR;
}

struct Rows {
  std::vector<std::string> names;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

class Session {
public:
  Session(const MysqlRequest& rq, const Deadline& deadline, const SourceHooks& hooks, MysqlObservation& obs)
      : rq_(rq), hooks_(hooks), obs_(obs), d_(deadline)
  {}

  bool connect()
  {
    m_.reset(mysql_init(nullptr));
    if (!m_) return fail_connect(CR_OUT_OF_MEMORY, "out of memory");
    unsigned t = whole_seconds(d_);
    mysql_options(m_.get(), MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_options(m_.get(), MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_options(m_.get(), MYSQL_OPT_WRITE_TIMEOUT, &t);
    if (!rq_.defaults_file.empty()) {
      mysql_options(m_.get(), MYSQL_READ_DEFAULT_FILE, rq_.defaults_file.c_str());
      mysql_options(m_.get(), MYSQL_READ_DEFAULT_GROUP, "check_replication_lag");
    }
    const bool socket = !rq_.host.empty() && rq_.host.front() == '/';
    const char* host = rq_.host.empty() || socket ? nullptr : rq_.host.c_str();
    const char* sock = socket ? rq_.host.c_str() : nullptr;
    const char* user = rq_.user.empty() ? nullptr : rq_.user.c_str();
    // With an option file the password comes from it; otherwise MYSQL_PWD.
    const char* pwd = rq_.defaults_file.empty() ? std::getenv("MYSQL_PWD") : nullptr;
    obs_.server = socket ? "socket " + rq_.host
                         : fmt::format("{}:{}", rq_.host.empty() ? "localhost" : rq_.host, rq_.port ? rq_.port : 3306);
    hooks_.set_activity(obs_.activity, "connecting to " + obs_.server);
    const double started = d_.elapsed();
    if (mysql_real_connect(m_.get(), host, user, pwd, nullptr, rq_.port, sock, 0) == nullptr) {
      unsigned code = mysql_errno(m_.get());
      if (client_timeout(code) && d_.elapsed() - started >= t - timer_tolerance_seconds) {
        obs_.status = MysqlObservation::Status::Timeout;
        return false;
      }
      return fail_connect(code, mysql_error(m_.get()));
    }
    const char* info = mysql_get_server_info(m_.get());
    obs_.mariadb = info != nullptr && std::string(info).find("MariaDB") != std::string::npos;
    hooks_.trace(1, fmt::format("connected to {} (server {})", obs_.server, info != nullptr ? info : "?"));
    return true;
  }

  // Runs a query; false with obs_ filled on failure (timeout included).
  bool query(const std::string& what, const std::string& sql, Rows& out, unsigned& code, std::string& error)
  {
    hooks_.set_activity(obs_.activity, fmt::format("{} on {}", what, obs_.server));
    hooks_.trace(3, "query: " + sql);
    const double started = d_.elapsed();
    const unsigned t = whole_seconds(d_);
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      code = mysql_errno(m_.get());
      error = mysql_error(m_.get());
      if (client_timeout(code) && d_.elapsed() - started >= t - timer_tolerance_seconds)
        obs_.status = MysqlObservation::Status::Timeout;
      return false;
    }
    std::unique_ptr<MYSQL_RES, ResDeleter> res(mysql_store_result(m_.get()));
    if (!res) {
      code = mysql_errno(m_.get());
      error = code != 0 ? mysql_error(m_.get()) : "the statement returned no result set";
      return false;
    }
    unsigned n = mysql_num_fields(res.get());
    MYSQL_FIELD* f = mysql_fetch_fields(res.get());
    for (unsigned i = 0; i < n; ++i) out.names.emplace_back(f[i].name);
    while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
      unsigned long* len = mysql_fetch_lengths(res.get());
      std::vector<std::optional<std::string>> v;
      for (unsigned i = 0; i < n; ++i) {
        if (row[i] == nullptr) v.emplace_back(std::nullopt);
        else v.emplace_back(std::string(row[i], len[i]));
      }
      out.rows.push_back(std::move(v));
    }
    return true;
  }

private:
  bool fail_connect(unsigned code, const std::string& msg)
  {
    obs_.status = MysqlObservation::Status::ConnectFailed;
    obs_.error_code = code;
    obs_.error = msg;
    return false;
  }

  const MysqlRequest& rq_;
  const SourceHooks& hooks_;
  MysqlObservation& obs_;
  const Deadline& d_;
  std::unique_ptr<MYSQL, MysqlDeleter> m_;
};

// The status statement in the server's dialect, every channel: MariaDB
// shows only the default connection without ALL; MySQL shows every
// channel's row.
std::string status_sql(bool mariadb, const char* word)
{
  return fmt::format(mariadb ? "SHOW ALL {}S STATUS" : "SHOW {} STATUS", word);
}

// SHOW REPLICA STATUS (SLAVE on older servers) into obs.rows; false with
// obs filled when it failed or timed out.
bool read_status(Session& s, MysqlObservation& obs)
{
  Rows st;
  unsigned code = 0;
  std::string err;
  bool ok = s.query("reading the replica status", status_sql(obs.mariadb, "REPLICA"), st, code, err);
  if (!ok && code == 1064) {
    // Servers older than MySQL 8.0.22 / MariaDB 10.5 only know SLAVE.
    st = Rows{};
    code = 0;
    ok = s.query("reading the replica status", status_sql(obs.mariadb, "SLAVE"), st, code, err);
  }
  if (!ok) {
    if (obs.status != MysqlObservation::Status::Timeout) {
      obs.status = MysqlObservation::Status::QueryFailed;
      obs.error_code = code;
      obs.error = err;
    }
    return false;
  }
  for (const auto& row : st.rows) obs.rows.push_back(map_replica_status(st.names, row));
  return true;
}

// One heartbeat age into `age` or the error; false when the query timed
// out. pt-heartbeat --utc writes ts as UTC text; the age is taken on the
// server so the monitoring host's clock does not matter. `server_id` picks
// the row of the channel's primary.
bool read_heartbeat_row(Session& s, const std::string& table, std::optional<long> server_id, MysqlObservation& obs,
                        std::optional<double>& age, unsigned& code, std::string& error)
{
  std::string where;
  if (server_id && *server_id > 0) where = fmt::format(" WHERE server_id = {}", *server_id);
  Rows hb;
  std::string q =
      fmt::format("SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1000000 FROM {}{}", table, where);
  if (!s.query("reading the heartbeat table", q, hb, code, error))
    return obs.status != MysqlObservation::Status::Timeout;
  if (!hb.rows.empty() && !hb.rows.front().empty() && hb.rows.front()[0]) {
    char* end = nullptr;
    const std::string& v = *hb.rows.front()[0];
    double a = std::strtod(v.c_str(), &end);
    if (end != v.c_str()) age = a;
  }
  if (!age) error = "no heartbeat row" + (where.empty() ? std::string() : " for" + where.substr(6));
  return true;
}

// The heartbeat: the observation's for one channel, each channel's own
// (its primary's server_id) for several. False when a query timed out.
bool read_heartbeat_table(Session& s, const std::string& table, MysqlObservation& obs)
{
  if (obs.rows.size() <= 1) {
    std::optional<long> id;
    if (!obs.rows.empty()) id = obs.rows.front().source_server_id;
    return read_heartbeat_row(s, table, id, obs, obs.heartbeat_age, obs.heartbeat_error_code, obs.heartbeat_error);
  }
  for (auto& r : obs.rows)
    if (!read_heartbeat_row(s, table, r.source_server_id, obs, r.heartbeat_age, r.heartbeat_error_code,
                            r.heartbeat_error))
      return false;
  return true;
}

void observe_impl(Session& s, const MysqlRequest& rq, MysqlObservation& obs)
{
  obs.user = rq.user;
  if (!s.connect()) return;
  Rows who;
  unsigned code = 0;
  std::string err;
  if (s.query("reading the current user", "SELECT CURRENT_USER()", who, code, err) && !who.rows.empty() &&
      who.rows.front().size() == 1 && who.rows.front()[0])
    obs.user = *who.rows.front()[0];
  else if (obs.status == MysqlObservation::Status::Timeout) return;
  if (!read_status(s, obs)) return;
  if (!rq.heartbeat_sql_table.empty() && !read_heartbeat_table(s, rq.heartbeat_sql_table, obs)) return;
  obs.status = MysqlObservation::Status::Ok;
}

MysqlObservation observe(const MysqlRequest& rq, const Deadline& deadline, const SourceHooks& hooks)
{
  MysqlObservation obs;
  try {
    Session s(rq, deadline, hooks, obs);
    observe_impl(s, rq, obs);
  } catch (const std::exception& e) {
    obs.status = MysqlObservation::Status::QueryFailed;
    obs.error = e.what();
  }
  return obs;
}

const MysqlModule table{sitelink::version, &observe};

} // namespace

} // namespace sitelink::replication

SITELINK_MODULE_ENTRY(sitelink_mysql_module, sitelink::replication::MysqlModule, sitelink::replication::table)
