// SPDX-License-Identifier: GPL-2.0-or-later
// Signs one request described as JSON on stdin with sitelink's SigV4 signer
// and prints the signature. The cloud test server runs it for every signed
// request it receives, so the signatures libcurl puts on the wire are
// checked against our own implementation (itself checked against AWS's test
// vectors in tests/unit/test_cloud_sigv4.cpp).
//
// Input: {"secret", "date", "region", "service", "amz_date", "method",
//         "path", "query", "headers": [[name, value], ...], "body"}
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "sitelink/sigv4.hpp"

int main()
{
  try {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto j = nlohmann::json::parse(input);
    sitelink::sigv4::Request r;
    r.method = j.at("method").get<std::string>();
    r.path = j.at("path").get<std::string>();
    r.query = j.at("query").get<std::string>();
    r.body = j.at("body").get<std::string>();
    for (const auto& h : j.at("headers"))
      r.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
    sitelink::sigv4::Scope scope{j.at("date").get<std::string>(), j.at("region").get<std::string>(),
                                 j.at("service").get<std::string>()};
    auto creq = sitelink::sigv4::canonical_request(r);
    auto sts = sitelink::sigv4::string_to_sign(j.at("amz_date").get<std::string>(), scope, creq);
    std::cout << sitelink::sigv4::signature(j.at("secret").get<std::string>(), scope, sts) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sigv4_tool: " << e.what() << "\n";
    return 2;
  }
}
