// SPDX-License-Identifier: GPL-2.0-or-later
#include "heartbeat.hpp"

#include <cctype>
#include <cstdint>

#include "sitelink/number.hpp"

namespace sitelink::replication {

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
// algorithm), so no timegm()/TZ dependence.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out)
{
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

} // namespace

tl::expected<double, std::string> parse_rfc3339(std::string_view s)
{
  auto bad = [&](const char* why) { return tl::unexpected(std::string("not an RFC 3339 timestamp (") + why + ")"); };
  int Y, M, D, h, m, sec;
  if (!digits(s, 0, 4, Y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, M) || s[7] != '-' || !digits(s, 8, 2, D))
    return bad("bad date");
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return bad("bad date/time separator");
  if (!digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, m) || s[16] != ':' || !digits(s, 17, 2, sec))
    return bad("bad time");
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12) return bad("month out of range");
  int maxd = mdays[M - 1] + (M == 2 && leap(Y) ? 1 : 0);
  if (D < 1 || D > maxd) return bad("day out of range");
  if (h > 23 || m > 59 || sec > 60) return bad("time out of range");
  std::size_t pos = 19;
  double frac = 0;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    double scale = 0.1;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      frac += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad("empty fraction");
  }
  if (pos >= s.size()) return bad("missing time zone");
  int offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return bad("bad zone offset");
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("missing time zone");
  }
  if (pos != s.size()) return bad("trailing characters");
  std::int64_t days = days_from_civil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  double t = static_cast<double>(days * 86400 + h * 3600 + m * 60 + sec - offset);
  return t + frac;
}

tl::expected<double, std::string> parse_heartbeat(std::string_view content)
{
  auto nl = content.find('\n');
  std::string_view line = content.substr(0, nl);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
  if (line.empty()) return tl::unexpected(std::string("empty heartbeat"));
  bool epochish = true;
  for (char c : line)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') epochish = false;
  if (epochish) {
    auto v = parse_number(line);
    if (!v) return tl::unexpected(std::string("not a Unix epoch"));
    return *v;
  }
  return parse_rfc3339(line);
}

} // namespace sitelink::replication
