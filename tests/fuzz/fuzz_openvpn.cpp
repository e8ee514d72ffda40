// SPDX-License-Identifier: GPL-2.0-or-later
// check_vpn_tunnel_up --backend openvpn over a fake management interface:
// greeting and password prompt, the replies to "state" and "status 2",
// evaluate and render.
// Input: byte 0 picks the read chunk size, whether the peer closes at the
// end and whether a management password is configured; the rest is what the
// management interface sends.
#include "check_vpn_tunnel_up/evaluate.hpp"
#include "check_vpn_tunnel_up/source_openvpn.hpp"
#include "fuzz_support.hpp"

using namespace sitelink;

namespace {
constexpr std::string_view password = "mgmt-Pw-9d1fe3c7";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) return 0;
  std::string_view reply = fuzz::as_view(data + 1, size - 1);
  fuzz::ReplayStream s(reply, (data[0] & 0x3f) + 1u, (data[0] & 0x80) != 0);
  std::optional<std::string> pw;
  if ((data[0] & 0x40) != 0) pw = std::string(password);
  std::string traced;
  vpn::Trace trace = [&](int, const std::string& line) { traced += line + "\n"; };
  vpn::Observation o = vpn::openvpn::query(s, "/fuzz/openvpn.mgmt", pw, "site-b", 1.7e9, trace);
  vpn::Policy policy;
  std::string out = fuzz::render_checked("VPN_TUNNEL", vpn::evaluate(o, policy));
  policy.expected = {"site-b", "client1"};
  policy.stale = 60;
  out += fuzz::render_checked("VPN_TUNNEL", vpn::evaluate(o, policy));
  // The password goes to the daemon and nowhere else (unless the peer itself
  // sent it, perhaps split by control characters that sanitising removes, in
  // which case it may be echoed in a trace of what was received).
  if (reply.find(password) == std::string_view::npos && sanitize(reply).find(password) == std::string::npos &&
      (traced.find(password) != std::string::npos || out.find(password) != std::string::npos))
    fuzz::fail("management password in the output or trace");
  return 0;
}
