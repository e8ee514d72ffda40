// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// AWS Signature Version 4, step by step (canonical request, string to sign,
// signature), so that each step is tested against AWS's published test
// vectors. The cloud test server verifies the signatures libcurl puts on the
// wire with these functions, which is how we know the wire signing is right.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sitelink::sigv4 {

struct Request {
  std::string method;
  std::string path;                                         // as sent, e.g. "/"
  std::string query;                                        // as sent, without '?'
  std::vector<std::pair<std::string, std::string>> headers; // the signed ones
  std::string body;
};

struct Scope {
  std::string date; // YYYYMMDD
  std::string region;
  std::string service;
  std::string str() const { return date + "/" + region + "/" + service + "/aws4_request"; }
};

std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data); // raw bytes
std::string hex(std::string_view bytes);

// Canonical forms. canonical_request() also gives the SignedHeaders value.
std::string canonical_uri(std::string_view path);
std::string canonical_query(std::string_view query);
std::string canonical_request(const Request& request, std::string* signed_headers = nullptr);

std::string string_to_sign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request);
std::string signature(std::string_view secret_key, const Scope& scope, std::string_view string_to_sign);

// The whole Authorization header value for `request` (whose headers must
// already include host and x-amz-date).
std::string authorization(std::string_view access_key, std::string_view secret_key, const Scope& scope,
                          std::string_view amz_date, const Request& request);

} // namespace sitelink::sigv4
