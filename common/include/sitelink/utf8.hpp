// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

namespace sitelink {

// `text` as valid UTF-8: every ill-formed sequence becomes U+FFFD, one per
// maximal subpart (the Unicode recommendation, as browsers do): an overlong
// form, a surrogate or a code point above U+10FFFF is replaced byte by byte;
// a truncated sequence is one replacement. Valid text comes back unchanged.
std::string valid_utf8(std::string_view text);

} // namespace sitelink
