// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sitelink/http.hpp"

namespace sitelink::sigv4 {

namespace {

int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decode first so that an already-encoded request and a raw one give the
// same canonical form.
std::string percent_decode(std::string_view s)
{
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hexval(s[i + 1]);
      int lo = hexval(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string lower(std::string_view s)
{
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trim, and fold runs of spaces into one (outside quotes too, as AWS does).
std::string header_value(std::string_view v)
{
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

} // namespace

std::string hex(std::string_view bytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 0x0f]);
  }
  return out;
}

std::string sha256_hex(std::string_view data)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string canonical_uri(std::string_view path)
{
  if (path.empty()) return "/";
  std::string out;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    out += url_encode(percent_decode(seg));
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

std::string canonical_query(std::string_view query)
{
  std::vector<std::pair<std::string, std::string>> params;
  std::size_t start = 0;
  while (start < query.size()) {
    auto amp = query.find('&', start);
    auto part = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string k = url_encode(percent_decode(part.substr(0, eq)));
      std::string v = eq == std::string_view::npos ? std::string() : url_encode(percent_decode(part.substr(eq + 1)));
      params.emplace_back(std::move(k), std::move(v));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k + "=" + v;
  }
  return out;
}

std::string canonical_request(const Request& request, std::string* signed_headers)
{
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    auto& slot = headers[lower(name)];
    if (!slot.empty()) slot.push_back(',');
    slot += header_value(value);
  }
  std::string canon_headers;
  std::string names;
  for (const auto& [name, value] : headers) {
    canon_headers += name + ":" + value + "\n";
    if (!names.empty()) names.push_back(';');
    names += name;
  }
  if (signed_headers != nullptr) *signed_headers = names;
  return request.method + "\n" + canonical_uri(request.path) + "\n" + canonical_query(request.query) + "\n" +
         canon_headers + "\n" + names + "\n" + sha256_hex(request.body);
}

std::string string_to_sign(std::string_view amz_date, const Scope& scope, std::string_view canonical_request)
{
  return "AWS4-HMAC-SHA256\n" + std::string(amz_date) + "\n" + scope.str() + "\n" + sha256_hex(canonical_request);
}

std::string signature(std::string_view secret_key, const Scope& scope, std::string_view string_to_sign)
{
  std::string k = hmac_sha256("AWS4" + std::string(secret_key), scope.date);
  k = hmac_sha256(k, scope.region);
  k = hmac_sha256(k, scope.service);
  k = hmac_sha256(k, "aws4_request");
  return hex(hmac_sha256(k, string_to_sign));
}

std::string authorization(std::string_view access_key, std::string_view secret_key, const Scope& scope,
                          std::string_view amz_date, const Request& request)
{
  std::string names;
  auto creq = canonical_request(request, &names);
  auto sig = signature(secret_key, scope, string_to_sign(amz_date, scope, creq));
  return "AWS4-HMAC-SHA256 Credential=" + std::string(access_key) + "/" + scope.str() + ", SignedHeaders=" + names +
         ", Signature=" + sig;
}

} // namespace sitelink::sigv4
