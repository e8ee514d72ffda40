// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/http.hpp"

#include <cctype>

namespace sitelink {

namespace {
bool iequal(std::string_view a, std::string_view b)
{
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}
} // namespace

std::string HttpResponse::header(std::string_view name) const
{
  for (const auto& h : headers)
    if (iequal(h.name, name)) return h.value;
  return {};
}

std::string url_encode(std::string_view text)
{
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0x0f]);
    }
  }
  return out;
}

std::string url_origin(std::string_view url)
{
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto path = url.find('/', scheme + 3);
  return std::string(url.substr(0, path));
}

} // namespace sitelink
