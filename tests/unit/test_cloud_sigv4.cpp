// SPDX-License-Identifier: GPL-2.0-or-later
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "sitelink/sigv4.hpp"

#include "fixture.hpp"

using namespace sitelink::sigv4;

namespace {

nlohmann::json vectors()
{
  const std::string text = sitelink::test::read_fixture("cloud/sigv4_vectors.json");
  REQUIRE_FALSE(text.empty());
  return nlohmann::json::parse(text);
}

Request request_of(const nlohmann::json& v)
{
  Request r;
  r.method = v["method"];
  r.path = v["path"];
  r.query = v["query"];
  r.body = v["body"];
  for (const auto& h : v["headers"]) r.headers.emplace_back(h[0], h[1]);
  return r;
}

Scope scope_of(const nlohmann::json& all)
{
  return Scope{all["date"], all["region"], all["service"]};
}

} // namespace

TEST_CASE("cloud::sigv4::sha256_hex")
{
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("Param1=value1") == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
}

TEST_CASE("cloud::sigv4::canonical_query")
{
  SUBCASE("sorted by key, then value")
  {
    CHECK(canonical_query("b=2&a=1&a=0") == "a=0&a=1&b=2");
  }
  SUBCASE("encoded once, whether or not the input was")
  {
    CHECK(canonical_query("k=a b") == "k=a%20b");
    CHECK(canonical_query("k=a%20b") == "k=a%20b");
    CHECK(canonical_query("k=a/b~") == "k=a%2Fb~");
  }
  SUBCASE("key without value")
  {
    CHECK(canonical_query("Param1") == "Param1=");
  }
  SUBCASE("empty")
  {
    CHECK(canonical_query("") == "");
  }
}

TEST_CASE("cloud::sigv4::canonical_uri")
{
  CHECK(canonical_uri("") == "/");
  CHECK(canonical_uri("/") == "/");
  CHECK(canonical_uri("/a b/c") == "/a%20b/c");
}

TEST_CASE("cloud::sigv4::canonical_request")
{
  auto all = vectors();
  for (const auto& v : all["vectors"]) {
    if (!v.contains("creq")) continue;
    CAPTURE(v["name"].get<std::string>());
    std::string names;
    CHECK(canonical_request(request_of(v), &names) == v["creq"].get<std::string>());
    CHECK_FALSE(names.empty());
  }
  SUBCASE("duplicate headers are joined with commas")
  {
    Request r{"GET", "/", "", {{"My-Header1", "value2"}, {"my-header1", "value1"}, {"Host", "h"}}, ""};
    std::string names;
    auto c = canonical_request(r, &names);
    CHECK(c.find("my-header1:value2,value1\n") != std::string::npos);
    CHECK(names == "host;my-header1");
  }
}

TEST_CASE("cloud::sigv4::string_to_sign")
{
  auto all = vectors();
  for (const auto& v : all["vectors"]) {
    if (!v.contains("sts")) continue;
    CAPTURE(v["name"].get<std::string>());
    CHECK(string_to_sign(all["amz_date"].get<std::string>(), scope_of(all), canonical_request(request_of(v))) ==
          v["sts"].get<std::string>());
  }
}

TEST_CASE("cloud::sigv4::signature")
{
  auto all = vectors();
  SUBCASE("a wrong secret gives another signature")
  {
    const auto& v = all["vectors"][0];
    auto sts = string_to_sign(all["amz_date"].get<std::string>(), scope_of(all), canonical_request(request_of(v)));
    CHECK(signature("wrong", scope_of(all), sts) !=
          signature(all["secret_key"].get<std::string>(), scope_of(all), sts));
  }
}

TEST_CASE("cloud::sigv4::authorization")
{
  auto all = vectors();
  int n = 0;
  for (const auto& v : all["vectors"]) {
    CAPTURE(v["name"].get<std::string>());
    CHECK(authorization(all["access_key"].get<std::string>(), all["secret_key"].get<std::string>(), scope_of(all),
                        all["amz_date"].get<std::string>(), request_of(v)) == v["authz"].get<std::string>());
    ++n;
  }
  CHECK(n == 8);
}
