// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once
// An in-memory HttpClient for the cloud backend unit tests: answers queued
// per URL prefix, and records what was asked.

#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "sitelink/http.hpp"

#include "fixture.hpp"

namespace cloudtest {

inline std::string fixture(const std::string& name)
{
  return sitelink::test::read_fixture("cloud/" + name);
}

class FakeHttp final : public sitelink::HttpClient {
public:
  // First matching prefix wins; each entry answers once, the last one forever.
  std::vector<std::pair<std::string, std::deque<sitelink::HttpResult>>> routes;
  std::vector<sitelink::HttpRequest> asked;

  void on(const std::string& prefix, sitelink::HttpResult r)
  {
    for (auto& [p, q] : routes)
      if (p == prefix) {
        q.push_back(std::move(r));
        return;
      }
    routes.push_back({prefix, {std::move(r)}});
  }
  sitelink::HttpResult send(const sitelink::HttpRequest& rq, const sitelink::Deadline&) override
  {
    asked.push_back(rq);
    for (auto& [p, q] : routes) {
      if (rq.url.rfind(p, 0) != 0 || q.empty()) continue;
      auto r = q.front();
      if (q.size() > 1) q.pop_front();
      return r;
    }
    return tl::unexpected(sitelink::HttpError{sitelink::HttpErrorKind::Connect, "connection refused"});
  }
};

inline sitelink::HttpResponse ok(std::string body, long status = 200, std::vector<sitelink::HttpHeader> h = {})
{
  sitelink::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(h);
  return r;
}

} // namespace cloudtest
