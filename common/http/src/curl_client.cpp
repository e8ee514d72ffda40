// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <mutex>

#include <curl/curl.h>

#include "sitelink/http.hpp"

namespace sitelink {

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

struct Sink {
  std::string* body;
  std::size_t cap;
  bool overflow = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* sink = static_cast<Sink*>(user);
  std::size_t n = size * count;
  if (sink->body->size() + n > sink->cap) {
    sink->overflow = true;
    return 0; // makes libcurl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user)
{
  auto* headers = static_cast<std::vector<HttpHeader>*>(user);
  std::size_t n = size * count;
  std::string_view line(data, n);
  // A new status line (after a 100 Continue) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || headers->size() > 200) return n;
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  headers->push_back({std::string(line.substr(0, colon)), std::string(value)});
  return n;
}

HttpErrorKind classify(CURLcode code, bool overflow)
{
  if (overflow) return HttpErrorKind::TooLarge;
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT: return HttpErrorKind::Timeout;
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return HttpErrorKind::Connect;
  case CURLE_FILESIZE_EXCEEDED: return HttpErrorKind::TooLarge;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH: return HttpErrorKind::Tls;
  default: return HttpErrorKind::Other;
  }
}

class CurlClient final : public HttpClient {
public:
  explicit CurlClient(HttpClientOptions options) : options_(std::move(options))
  {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  }

  HttpResult send(const HttpRequest& request, const Deadline& deadline) override
  {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return tl::unexpected(HttpError{HttpErrorKind::Other, "cannot initialise libcurl"});
    CURL* c = curl.get();

    auto budget = deadline.io_slice();
    if (request.max_time) budget = std::min(budget, *request.max_time);
    if (deadline.expired())
      return tl::unexpected(HttpError{HttpErrorKind::Timeout, "no time left in the check's budget"});

    HttpResponse response;
    Sink sink{&response.body, options_.max_body};
    char errbuf[CURL_ERROR_SIZE] = {0};

    std::unique_ptr<curl_slist, SlistDeleter> headers;
    auto add_header = [&headers](const std::string& line) {
      curl_slist* l = curl_slist_append(headers.get(), line.c_str());
      if (l != nullptr) {
        (void)headers.release();
        headers.reset(l);
      }
    };
    // No "Expect:" suppression header here: libcurl 7.88 would put it in
    // the SigV4 signed headers without sending it. The bodies we send are far
    // below libcurl's 1 MiB threshold for Expect: 100-continue anyway.
    for (const auto& h : request.headers) add_header(h.name + ": " + h.value);

    std::string sigv4;
    if (request.aws) {
      sigv4 = "aws:amz:" + request.aws->region + ":" + request.aws->service;
      curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
      curl_easy_setopt(c, CURLOPT_USERNAME, request.aws->access_key.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, request.aws->secret_key.c_str());
      if (!request.aws->session_token.empty()) add_header("X-Amz-Security-Token: " + request.aws->session_token);
    }

    set_transfer_options(c, request, budget, errbuf, sink, response);
    if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) return tl::unexpected(transfer_error(rc, sink, budget, errbuf));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

private:
  // Everything of one transfer except the headers: URL, protocols, time
  // budget, size limit, callbacks, TLS options and the method with its body.
  void set_transfer_options(CURL* c, const HttpRequest& request, std::chrono::milliseconds budget, char* errbuf,
                            Sink& sink, HttpResponse& response) const
  {
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(budget.count()));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sitelink-check");
    if (!options_.cacert.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.cacert.c_str());
    if (options_.insecure) {
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (request.method == "POST") {
      curl_easy_setopt(c, CURLOPT_POST, 1L);
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
    } else if (request.method != "GET") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (!request.body.empty()) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.c_str());
      }
    }
  }

  // A failed transfer as an HttpError with a message for line 1.
  HttpError transfer_error(CURLcode rc, const Sink& sink, std::chrono::milliseconds budget, const char* errbuf) const
  {
    HttpError e;
    e.kind = classify(rc, sink.overflow);
    if (e.kind == HttpErrorKind::TooLarge)
      e.message = "response larger than " + std::to_string(options_.max_body / 1024) + " KiB";
    else if (e.kind == HttpErrorKind::Timeout) e.message = "no answer within " + std::to_string(budget.count()) + " ms";
    else e.message = errbuf[0] != '\0' ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    return e;
  }

  HttpClientOptions options_;
};

} // namespace

std::unique_ptr<HttpClient> make_curl_client(const HttpClientOptions& options)
{
  return std::make_unique<CurlClient>(options);
}

} // namespace sitelink
