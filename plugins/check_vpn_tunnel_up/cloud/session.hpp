// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What one backend run carries around: the request, the HTTP client, the
// deadline, and the reply being built (debug lines, activity).

#include <string>
#include <thread>

#include "cloud_api.hpp"
#include "sitelink/http.hpp"
#include "sitelink/timeout.hpp"

namespace sitelink::vpn::cloud {

struct Session {
  const Request& req;
  HttpClient& http;
  const Deadline& deadline;
  Reply& reply;

  void debug(int level, const std::string& line) const
  {
    if (level <= req.verbosity) reply.debug.emplace_back(level, line);
  }
  // Names the step for the plugin's watchdog and, as data, for a reply that
  // ran out of time.
  void activity(const std::string& what) const
  {
    reply.activity = what;
    if (req.set_activity != nullptr) req.set_activity(what.c_str());
  }
  Reply& fail(const std::string& error) const
  {
    reply.status = Reply::Status::Failed;
    reply.error = error;
    return reply;
  }
  Reply& fail(const HttpError& e, const std::string& what) const
  {
    reply.status = e.kind == HttpErrorKind::Timeout ? Reply::Status::TimedOut : Reply::Status::Failed;
    reply.error = what + ": " + e.message;
    return reply;
  }
  // One retry is worth it only when a second full attempt still fits.
  bool can_retry(double first_attempt_seconds) const { return deadline.remaining() > first_attempt_seconds + 0.5; }
  void backoff() const { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }
};

} // namespace sitelink::vpn::cloud
