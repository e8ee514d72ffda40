// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

namespace sitelink {

// A perfdata label (or label prefix) built from an address or host name:
// every character that is not an ASCII letter or digit becomes '_'
// (192.0.2.2 -> 192_0_2_2, 2001:db8::2 -> 2001_db8__2, db.dr.example ->
// db_dr_example). It needs no quotes, and Icinga's Graphite writer, which
// keeps dots as path separators, stores it as one level (README.md,
// "Conventions every plugin follows"). Defined in perfdata.cpp.
std::string address_label(std::string_view address);

} // namespace sitelink
