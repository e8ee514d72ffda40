// SPDX-License-Identifier: GPL-2.0-or-later
// check_vpn_tunnel_up --backend strongswan end to end over a fake charon:
// the VICI client (list-conns, list-sas streams), the SA interpretation,
// evaluate and render.
// Input: byte 0 picks the read chunk size and whether the peer closes or
// goes silent at the end; the rest is what "charon" sends.
#include "check_vpn_tunnel_up/evaluate.hpp"
#include "check_vpn_tunnel_up/source_strongswan.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) return 0;
  fuzz::ReplayStream s(fuzz::as_view(data + 1, size - 1), (data[0] & 0x7f) + 1u, (data[0] & 0x80) != 0);
  std::size_t traced = 0;
  vpn::Trace trace = [&](int, const std::string& line) { traced += line.size(); };
  vpn::Observation o = vpn::strongswan::query(s, "/fuzz/charon.vici", trace);
  vpn::Policy policy;
  fuzz::render_checked("VPN_TUNNEL", vpn::evaluate(o, policy));
  policy.expected = {"dr-primary", "dr-secondary"};
  policy.stale = 30;
  fuzz::render_checked("VPN_TUNNEL", vpn::evaluate(o, policy));
  return 0;
}
