// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "sitelink/runbook.hpp"

using namespace sitelink;

namespace {
const char* catalog = R"({"runbooks": {
  "dr-vpn": {"title": "t", "url": "https://r/x",
             "impact": {"warning": ["w1"], "critical": ["c1", "c2"]},
             "actions": ["a1", "a2"]},
  "flat": {"impact": ["i"]}
}})";
}

TEST_CASE("common::runbook_from_json")
{
  auto rb = runbook_from_json(catalog, "cat.json", "dr-vpn");
  REQUIRE(rb.has_value());
  CHECK(rb->block(State::Ok).empty());
  CHECK(rb->block(State::Critical) ==
        std::vector<std::string>{"Impact: c1", "Impact: c2", "Action: a1", "Action: a2", "Runbook: t <https://r/x>"});
  CHECK(rb->block(State::Warning) ==
        std::vector<std::string>{"Impact: w1", "Action: a1", "Action: a2", "Runbook: t <https://r/x>"});
  CHECK(rb->block(State::Unknown) == std::vector<std::string>{"Action: a1", "Action: a2", "Runbook: t <https://r/x>"});
  SUBCASE("the Runbook line shows the title with the URL, or whichever is set")
  {
    Runbook r;
    r.impact[State::Critical] = {"i"};
    r.url = "https://r/u";
    CHECK(r.block(State::Critical).back() == "Runbook: https://r/u");
    r.title = "DR link";
    CHECK(r.block(State::Critical).back() == "Runbook: DR link <https://r/u>");
    r.url.clear();
    CHECK(r.block(State::Critical).back() == "Runbook: DR link");
    CHECK(r.block(State::Ok).empty());
  }
  auto flat = runbook_from_json(catalog, "cat.json", "flat");
  REQUIRE(flat.has_value());
  CHECK(flat->block(State::Unknown) == std::vector<std::string>{"Impact: i"});

  SUBCASE("errors name the source, the ID and the problem")
  {
    auto missing = runbook_from_json(catalog, "cat.json", "nope");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().find("cat.json") != std::string::npos);
    CHECK(missing.error().find("'nope'") != std::string::npos);
    struct Bad {
      const char* doc;
      const char* expect;
    };
    const Bad bad[] = {
        {"{", "invalid JSON"},
        {"[]", "top level"},
        {R"({"runbooks": [], "x": 1})", "unknown key 'x'"},
        {R"({"runbooks": []})", "'runbooks' must be an object"},
        {R"({"runbooks": {"id": {"url": 3}}})", "url must be a string"},
        {R"({"runbooks": {"id": {"impact": "x"}}})", "must be a list or an object"},
        {R"({"runbooks": {"id": {"impact": {"fatal": ["x"]}}}})", "unknown key 'fatal'"},
        {R"({"runbooks": {"id": {"actions": [1]}}})", "only strings"},
        {R"({"runbooks": {"id": {"colour": "red"}}})", "unknown key 'colour'"},
        {R"({"runbooks": {"id": 5}})", "must be an object"},
    };
    for (const auto& b : bad) {
      CAPTURE(std::string(b.doc));
      auto r = runbook_from_json(b.doc, "f.json", "id");
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().find(b.expect) != std::string::npos);
      CHECK(r.error().find("f.json") != std::string::npos);
    }
  }
}

TEST_CASE("common::resolve_runbook")
{
  SUBCASE("inline only")
  {
    RunbookOptions o;
    o.impact = {"users cannot pay"};
    o.action = {"call the provider"};
    o.url = "https://r";
    auto rb = resolve_runbook(o, nullptr);
    REQUIRE(rb.has_value());
    CHECK(rb->block(State::Warning) ==
          std::vector<std::string>{"Impact: users cannot pay", "Action: call the provider", "Runbook: https://r"});
  }
  SUBCASE("no options, no block")
  {
    auto rb = resolve_runbook({}, "/nonexistent");
    REQUIRE(rb.has_value());
    CHECK(rb->block(State::Critical).empty());
  }
  SUBCASE("missing catalog file")
  {
    RunbookOptions o;
    o.id = "dr-vpn";
    auto rb = resolve_runbook(o, "/nonexistent/runbooks.json");
    REQUIRE_FALSE(rb.has_value());
    CHECK(rb.error().find("/nonexistent/runbooks.json") != std::string::npos);
    CHECK(rb.error().find("dr-vpn") != std::string::npos);
  }
  SUBCASE("the shipped example catalog is valid")
  {
    for (const char* id :
         {"dr-vpn", "payment-status-vpn", "migration-vpn", "region-vpn", "office-vpn", "monitoring-vpn"}) {
      CAPTURE(std::string(id));
      auto rb = load_runbook(std::string(SITELINK_FIXTURES) + "/../../packaging/runbooks.example.json", id);
      REQUIRE(rb.has_value());
      CHECK_FALSE(rb->block(State::Critical).empty());
      CHECK_FALSE(rb->url.empty());
    }
  }
}

// Inputs the fuzzers found (tests/fuzz/corpus/runbook/regress-*), guarded here
// too without a clang fuzzing build.
TEST_CASE("common::runbook_from_json: fuzz regressions")
{
  SUBCASE("runbook catalog with a number too large for a double is an error, not an exception")
  {
    auto rb = runbook_from_json(R"({"runbooks":{"x":{"title":1e999}}})", "cat.json", "x");
    REQUIRE_FALSE(rb);
    CHECK(rb.error().find("cat.json") != std::string::npos);
    CHECK(rb.error().find("invalid JSON") != std::string::npos);
  }
}
