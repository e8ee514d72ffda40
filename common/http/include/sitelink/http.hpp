// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// A small HTTP client interface for the cloud API backends. Backends talk to
// an HttpClient, so they are unit-tested with an in-memory fake; the libcurl
// implementation lives behind make_curl_client() in the same library, which
// only backend modules link (see module.hpp for why).
//
// Every request is bound to the check's Deadline: connect and total timeouts
// come from the remaining budget, so a peer that accepts and never answers
// ends the request before the watchdog fires.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sitelink/timeout.hpp"

namespace sitelink {

struct HttpHeader {
  std::string name;
  std::string value;
};

// Credentials for AWS Signature Version 4 on the wire. Only POST requests
// with a form-encoded body are signed this way (libcurl 7.88 signs GET query
// strings wrongly).
struct AwsSigning {
  std::string region;
  std::string service;
  std::string access_key;
  std::string secret_key;
  std::string session_token; // sent as X-Amz-Security-Token when set
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;
  std::optional<AwsSigning> aws;
  // A cap below the check's budget (IMDS answers in milliseconds or not at
  // all, so it gets a short one).
  std::optional<std::chrono::milliseconds> max_time;
};

struct HttpResponse {
  long status = 0;
  std::vector<HttpHeader> headers;
  std::string body;
  // First header of that name, compared case-insensitively; "" if absent.
  std::string header(std::string_view name) const;
};

enum class HttpErrorKind {
  Timeout,  // connect or total timeout from the budget
  Connect,  // refused, unreachable, name did not resolve
  Tls,      // certificate or handshake failure
  TooLarge, // body over the size cap
  Other,
};

struct HttpError {
  HttpErrorKind kind = HttpErrorKind::Other;
  std::string message;
};

using HttpResult = tl::expected<HttpResponse, HttpError>;

class HttpClient {
public:
  virtual ~HttpClient() = default;
  virtual HttpResult send(const HttpRequest& request, const Deadline& deadline) = 0;
};

struct HttpClientOptions {
  std::string cacert;    // PEM bundle replacing the system store
  bool insecure = false; // --insecure: no peer or host verification
  std::size_t max_body = 4 * 1024 * 1024;
};

// The libcurl client. Redirects are never followed (a 3xx is returned as
// is), so credentials are never sent to another host.
std::unique_ptr<HttpClient> make_curl_client(const HttpClientOptions& options);

// Percent-encoding for form bodies and query strings (RFC 3986 unreserved
// characters stay as they are, as AWS and OpenStack expect).
std::string url_encode(std::string_view text);

// Scheme, host and port of a URL ("https://h:1/x" -> "https://h:1").
std::string url_origin(std::string_view url);

} // namespace sitelink
