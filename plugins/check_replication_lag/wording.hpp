// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Number wording shared by the database backends' summaries.

#include <string>

namespace sitelink::replication {

// 0.4, 12.3, 214 (one decimal below 100 s, whole seconds above).
std::string seconds_text(double seconds);

// 512 B, 1.5 KiB, 16 MiB, 2.3 GiB.
std::string bytes_text(double bytes);

// Rounded to milliseconds, for perfdata.
double round_ms(double seconds);

} // namespace sitelink::replication
