// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/utf8.hpp"

namespace sitelink {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";

struct LeadByte {
  std::size_t length; // 0: never starts a sequence
  unsigned char second_min;
  unsigned char second_max;
};

// The well-formed byte sequences of Unicode's table 3-7: the lead byte fixes
// the length and the range of the second byte; later bytes are 80..BF.
LeadByte lead(unsigned char b) noexcept
{
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes from `at` form a valid sequence (0: none); `taken` is the
// length of the maximal subpart to replace when it is not valid.
std::size_t valid_length(std::string_view text, std::size_t at, std::size_t& taken) noexcept
{
  const LeadByte l = lead(static_cast<unsigned char>(text[at]));
  taken = 1;
  if (l.length <= 1) return l.length;
  for (std::size_t i = 1; i < l.length; ++i) {
    if (at + i >= text.size()) return 0;
    const auto b = static_cast<unsigned char>(text[at + i]);
    const unsigned char lo = i == 1 ? l.second_min : 0x80;
    const unsigned char hi = i == 1 ? l.second_max : 0xBF;
    if (b < lo || b > hi) return 0;
    taken = i + 1;
  }
  return l.length;
}

} // namespace

std::string valid_utf8(std::string_view text)
{
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t taken = 1;
    const std::size_t n = valid_length(text, at, taken);
    if (n > 0) {
      out.append(text.substr(at, n));
      at += n;
    } else {
      out.append(replacement);
      at += taken;
    }
  }
  return out;
}

} // namespace sitelink
