// SPDX-License-Identifier: GPL-2.0-or-later
// sitelink_mysql.so: the MySQL/MariaDB side of check_replication_lag. Runs
// SHOW REPLICA STATUS (and the heartbeat query) with libmariadb and fills a
// MysqlObservation; all judgement is in mysql_backend.cpp.
//
// libmariadb calls block; their connect/read/write timeouts (whole seconds)
// come from the remaining budget, and the plugin's watchdog ends the check on
// time if the library overruns them.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <mysql.h>
#include <errmsg.h>

#include "source_postgresql.hpp"
#include "sitelink/version.hpp"

namespace sitelink::replication {

namespace {

constexpr double margin_seconds = 0.3;

struct MysqlDeleter {
  void operator()(MYSQL* m) const { mysql_close(m); }
};
struct ResDeleter {
  void operator()(MYSQL_RES* r) const { mysql_free_result(r); }
};

unsigned whole_seconds(const Deadline& d)
{
  double left = d.remaining() - margin_seconds;
  return static_cast<unsigned>(std::max(1.0, std::floor(left)));
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
  Session(const MysqlRequest& rq, MysqlObservation& obs) : rq_(rq), obs_(obs), d_(*rq.hooks.deadline) {}

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
    activity("connecting to " + obs_.server);
    const double started = d_.elapsed();
    if (mysql_real_connect(m_.get(), host, user, pwd, nullptr, rq_.port, sock, 0) == nullptr) {
      unsigned code = mysql_errno(m_.get());
      if (client_timeout(code) && d_.elapsed() - started >= t - 0.2) {
        obs_.status = MysqlObservation::Status::Timeout;
        return false;
      }
      return fail_connect(code, mysql_error(m_.get()));
    }
    const char* info = mysql_get_server_info(m_.get());
    obs_.mariadb = info != nullptr && std::string(info).find("MariaDB") != std::string::npos;
    debug(1, fmt::format("connected to {} (server {})", obs_.server, info != nullptr ? info : "?"));
    return true;
  }

  // Runs a query; false with obs_ filled on failure (timeout included).
  bool query(const std::string& what, const std::string& sql, Rows& out, unsigned& code, std::string& error)
  {
    activity(fmt::format("{} on {}", what, obs_.server));
    debug(3, "query: " + sql);
    const double started = d_.elapsed();
    const unsigned t = whole_seconds(d_);
    if (mysql_real_query(m_.get(), sql.data(), sql.size()) != 0) {
      code = mysql_errno(m_.get());
      error = mysql_error(m_.get());
      if (client_timeout(code) && d_.elapsed() - started >= t - 0.2) obs_.status = MysqlObservation::Status::Timeout;
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

  void activity(const std::string& a)
  {
    obs_.activity = a;
    if (rq_.hooks.activity) rq_.hooks.activity(a);
  }
  void debug(int level, const std::string& line)
  {
    if (rq_.hooks.debug) rq_.hooks.debug(level, line);
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
  MysqlObservation& obs_;
  const Deadline& d_;
  std::unique_ptr<MYSQL, MysqlDeleter> m_;
};

void observe_impl(const MysqlRequest& rq, MysqlObservation& obs)
{
  Session s(rq, obs);
  obs.user = rq.user;
  if (!s.connect()) return;
  Rows who;
  unsigned code = 0;
  std::string err;
  if (s.query("reading the current user", "SELECT CURRENT_USER()", who, code, err) && !who.rows.empty() &&
      who.rows.front().size() == 1 && who.rows.front()[0])
    obs.user = *who.rows.front()[0];
  else if (obs.status == MysqlObservation::Status::Timeout)
    return;

  std::string sql;
  if (rq.channel.empty()) sql = "SHOW REPLICA STATUS";
  else if (obs.mariadb) sql = fmt::format("SHOW REPLICA '{}' STATUS", rq.channel);
  else sql = fmt::format("SHOW REPLICA STATUS FOR CHANNEL '{}'", rq.channel);
  Rows st;
  code = 0;
  bool ok = s.query("reading the replica status", sql, st, code, err);
  if (!ok && code == 1064) {
    // Servers older than MySQL 8.0.22 / MariaDB 10.5 only know SLAVE.
    st = Rows{};
    code = 0;
    std::string old = rq.channel.empty() ? "SHOW SLAVE STATUS"
                      : obs.mariadb      ? fmt::format("SHOW SLAVE '{}' STATUS", rq.channel)
                                         : fmt::format("SHOW SLAVE STATUS FOR CHANNEL '{}'", rq.channel);
    ok = s.query("reading the replica status", old, st, code, err);
  }
  if (!ok) {
    if (obs.status != MysqlObservation::Status::Timeout) {
      obs.status = MysqlObservation::Status::QueryFailed;
      obs.error_code = code;
      obs.error = err;
    }
    return;
  }
  for (const auto& row : st.rows) obs.rows.push_back(map_replica_status(st.names, row));

  if (!rq.heartbeat_sql_table.empty()) {
    // pt-heartbeat --utc writes ts as UTC text; the age is taken on the
    // server so the monitoring host's clock does not matter.
    std::string where;
    if (!obs.rows.empty() && obs.rows.front().source_server_id && *obs.rows.front().source_server_id > 0)
      where = fmt::format(" WHERE server_id = {}", *obs.rows.front().source_server_id);
    Rows hb;
    std::string q = fmt::format(
        "SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) / 1000000 FROM {}{}", rq.heartbeat_sql_table,
        where);
    unsigned hcode = 0;
    std::string herr;
    if (s.query("reading the heartbeat table", q, hb, hcode, herr)) {
      if (!hb.rows.empty() && !hb.rows.front().empty() && hb.rows.front()[0]) {
        char* end = nullptr;
        const std::string& v = *hb.rows.front()[0];
        double age = std::strtod(v.c_str(), &end);
        if (end != v.c_str()) obs.heartbeat_age = age;
      }
      if (!obs.heartbeat_age) obs.heartbeat_error = "no heartbeat row" + (where.empty() ? std::string() : " for" + where.substr(6));
    } else {
      if (obs.status == MysqlObservation::Status::Timeout) return;
      obs.heartbeat_error_code = hcode;
      obs.heartbeat_error = herr;
    }
  }
  obs.status = MysqlObservation::Status::Ok;
}

void observe(const MysqlRequest& rq, MysqlObservation& obs)
{
  try {
    observe_impl(rq, obs);
  } catch (const std::exception& e) {
    obs.status = MysqlObservation::Status::QueryFailed;
    obs.error = e.what();
  }
}

const SitelinkMysqlModule table{sitelink::version, &observe};

} // namespace

} // namespace sitelink::replication

extern "C" __attribute__((visibility("default"))) const SitelinkMysqlModule* sitelink_mysql_module()
{
  return &sitelink::replication::table;
}
