// SPDX-License-Identifier: GPL-2.0-or-later
// The runbook catalog (JSON).
// Input: the runbook ID on the first line, the catalog document after it.
#include "fuzz_support.hpp"
#include "sitelink/runbook.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  auto parts = fuzz::split(fuzz::as_view(data, size), '\n', 2);
  if (parts.size() < 2) return 0;
  auto rb = runbook_from_json(parts[1], "fuzz.json", parts[0]);
  if (!rb) return 0;
  if (rb->id != parts[0]) fuzz::fail("runbook ID differs from the one asked for");
  if (!rb->block(State::Ok).empty()) fuzz::fail("runbook block for OK");
  for (State s : {State::Warning, State::Critical, State::Unknown}) {
    Result r;
    r.state = s;
    r.summary = "fuzz";
    r.details = {"detail"};
    fuzz::render_checked("FUZZ", r, rb->block(s));
  }
  return 0;
}
