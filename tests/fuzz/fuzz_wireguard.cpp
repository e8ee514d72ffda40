// SPDX-License-Identifier: GPL-2.0-or-later
// check_vpn_tunnel_up --backend wireguard: the UAPI "get=1" reply, parsed
// directly and through a fake UAPI socket, then evaluate and render.
// Input: byte 0 picks the read chunk size and whether the peer closes at
// the end; the rest is the UAPI reply.
#include "check_vpn_tunnel_up/evaluate.hpp"
#include "check_vpn_tunnel_up/source_wireguard.hpp"
#include "fuzz_support.hpp"
#include <cctype>

using namespace sitelink;

namespace {

// Values of private_key/preshared_key lines that are real keys (64 hex
// digits, the UAPI form; shorter made-up values can coincide with the
// plugin's own text, such as its perfdata labels) and occur nowhere else in the
// reply, even once control characters are dropped (sanitising other lines
// for the trace can join fragments of them): those must never be printed or
// traced.
std::vector<std::string> secrets_in(std::string_view reply)
{
  std::vector<std::string> secrets;
  std::string others;
  for (auto line : fuzz::split(reply, '\n', 100000)) {
    auto eq = line.find('=');
    std::string_view key = line.substr(0, eq);
    if (eq != std::string_view::npos && (key == "private_key" || key == "preshared_key")) {
      std::string_view value = line.substr(eq + 1);
      bool hex = value.size() == 64;
      for (char c : value) hex = hex && std::isxdigit(static_cast<unsigned char>(c)) != 0;
      if (hex) secrets.emplace_back(value);
    } else {
      others.append(line).push_back('\n');
    }
  }
  std::vector<std::string> out;
  for (auto& s : secrets)
    // The trace's own "key=(redacted)" marker is not a leak.
    if (others.find(s) == std::string::npos && sanitize(others).find(s) == std::string::npos &&
        s.find("redacted") == std::string::npos)
      out.push_back(std::move(s));
  return out;
}

void check(const vpn::Observation& o, const std::string& traced, const std::vector<std::string>& secrets)
{
  vpn::Policy policy;
  policy.handshake_limit = 150;
  std::string out = fuzz::render_checked("VPN_TUNNEL", vpn::evaluate(o, policy));
  for (const auto& s : secrets)
    if (out.find(s) != std::string::npos || traced.find(s) != std::string::npos)
      fuzz::fail("a WireGuard private or preshared key reached the output", s);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
  if (size < 1) return 0;
  std::string_view reply = fuzz::as_view(data + 1, size - 1);
  auto secrets = secrets_in(reply);
  std::map<std::string, std::string> aliases{{"uFmW/sycfx/G0lcqdu2hHVm8sgvo5UOxXOS9hajnWjM=", "site-b"}};
  std::string traced;
  vpn::Trace trace = [&](int, const std::string& line) { traced += line + "\n"; };
  if (auto o = vpn::wireguard::observe(reply, 1.7e9, aliases, trace)) check(*o, traced, secrets);
  traced.clear();
  fuzz::ReplayStream s(reply, (data[0] & 0x7f) + 1u, (data[0] & 0x80) != 0);
  check(vpn::wireguard::query(s, "/fuzz/wg0.sock", 1.7e9, aliases, trace), traced, secrets);
  return 0;
}
