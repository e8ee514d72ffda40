// SPDX-License-Identifier: GPL-2.0-or-later
#include "rest.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

namespace sitelink::vpn::cloud::rest {

double retry_after_seconds(std::string_view header)
{
  if (header.empty() || header.size() > 6) return 1.0;
  double v = 0;
  for (char c : header) {
    if (c < '0' || c > '9') return 1.0;
    v = v * 10 + (c - '0');
  }
  return std::min(v, 60.0);
}

std::string throttle_note(long status, int attempts)
{
  if (status != 429) return {};
  return attempts > 1 ? " (throttled, after one retry)" : " (throttled; no time left to retry)";
}

tl::expected<HttpResponse, Failure> send(const Session& s, const HttpRequest& rq, const std::string& what,
                                         const std::string& tag)
{
  for (int attempt = 1;; ++attempt) {
    s.debug(1, fmt::format("{}: {} {} (attempt {})", tag, rq.method, rq.url, attempt));
    const double t0 = s.deadline.elapsed();
    auto rs = s.http.send(rq, s.deadline);
    const double took = s.deadline.elapsed() - t0;
    if (!rs)
      return tl::unexpected(Failure{rs.error().kind == HttpErrorKind::Timeout,
                                    what + " at " + url_origin(rq.url) + ": " + rs.error().message});
    s.debug(2, fmt::format("{}: HTTP {}, {} bytes in {} ms", tag, rs->status, rs->body.size(),
                           static_cast<long>(took * 1000)));
    const bool throttled = rs->status == 429 || (rs->status == 503 && !rs->header("Retry-After").empty());
    if (!throttled || attempt > 1) {
      if (throttled) rs->headers.push_back({"X-Sitelink-Attempts", "2"});
      return std::move(*rs);
    }
    const double wait = retry_after_seconds(rs->header("Retry-After"));
    if (s.deadline.remaining() < wait + took + 0.5) {
      s.debug(1, fmt::format("{}: throttled (Retry-After {} s), no time left to retry", tag, wait));
      return std::move(*rs);
    }
    s.debug(1, fmt::format("{}: throttled, retrying once after {} s", tag, wait));
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
}

Reply& fail(const Session& s, const Failure& f)
{
  s.fail(f.text);
  if (f.timed_out) s.reply.status = Reply::Status::TimedOut;
  return s.reply;
}

} // namespace sitelink::vpn::cloud::rest
