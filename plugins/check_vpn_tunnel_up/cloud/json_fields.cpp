// SPDX-License-Identifier: GPL-2.0-or-later
#include "json_fields.hpp"

#include <ctime>

#include <nlohmann/json.hpp>

#include "sitelink/output.hpp"

namespace sitelink::vpn::cloud {

using nlohmann::json;

std::string outside(std::string_view s, std::size_t max)
{
  return sanitize_quote(s, max);
}

std::string jstr(const json& j, const char* key)
{
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::optional<double> jnum(const json& j, const char* key)
{
  if (!j.is_object() || !j.contains(key)) return std::nullopt;
  const auto& v = j[key];
  if (v.is_number()) return v.get<double>();
  return std::nullopt;
}

std::string last_segment(const std::string& id)
{
  auto slash = id.find_last_of('/');
  return slash == std::string::npos ? id : id.substr(slash + 1);
}

double utc_seconds(int year, int month, int day, int hour, int minute, int second)
{
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<double>(timegm(&tm));
}

void add_missing(Reply& reply, const std::vector<std::string>& missing, const std::string& detail)
{
  for (const auto& m : missing) {
    Link l;
    l.name = m;
    l.state = LinkState::Missing;
    l.detail = detail;
    reply.expected.push_back(m);
    reply.links.push_back(std::move(l));
  }
}

} // namespace sitelink::vpn::cloud
