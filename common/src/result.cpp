// SPDX-License-Identifier: GPL-2.0-or-later
#include "sitelink/result.hpp"

namespace sitelink {

Result aggregate(const std::vector<SubResult>& parts)
{
  Result r;
  if (parts.empty()) {
    r.state = State::Unknown;
    r.summary = "no measurement was made";
    return r;
  }
  r.state = State::Ok;
  for (const auto& p : parts) r.state = worst(r.state, p.state);
  for (const auto& p : parts) {
    if (p.state == r.state) {
      if (!r.summary.empty()) r.summary += ", ";
      r.summary += p.text;
    }
    r.details.push_back(std::string(to_string(p.state)) + ": " + p.text);
    r.perfdata.insert(r.perfdata.end(), p.perfdata.begin(), p.perfdata.end());
  }
  return r;
}

Result Result::timed_out(std::string activity, std::vector<std::string> details)
{
  Result r;
  r.details = std::move(details);
  r.timed_out_while = std::move(activity);
  return r;
}

} // namespace sitelink
