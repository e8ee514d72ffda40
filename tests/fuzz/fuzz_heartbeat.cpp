// SPDX-License-Identifier: GPL-2.0-or-later
// The heartbeat file of check_replication_lag --backend file: a Unix epoch
// or an RFC 3339 timestamp on the first line.
// Input: the file's content.
#include <cmath>

#include "check_replication_lag/heartbeat.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  std::string_view text = fuzz::as_view(data, size);
  if (auto t = replication::parse_heartbeat(text)) {
    if (!std::isfinite(*t)) fuzz::fail("non-finite heartbeat accepted", text);
  }
  if (auto t = replication::parse_rfc3339(text)) {
    if (!std::isfinite(*t)) fuzz::fail("non-finite timestamp accepted", text);
    // Every accepted timestamp is a date between years 0 and 9999 with an
    // offset under a day.
    if (*t < -62167219200.0 - 86400 || *t > 253402300800.0 + 86400) fuzz::fail("timestamp out of range", text);
  }
  return 0;
}
