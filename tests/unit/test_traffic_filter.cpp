// SPDX-License-Identifier: GPL-2.0-or-later
#include <doctest/doctest.h>

#include "check_tunnel_traffic/filter.hpp"

using namespace sitelink::traffic;

TEST_CASE("traffic::bpf_filter")
{
  ClassifyConfig all;
  CHECK(bpf_filter(all, {}) == "(udp port 500 or udp port 4500 or ip proto 50 or ip6 proto 50 or udp port 1194 or "
                               "tcp port 1194 or udp port 51820)");
  ClassifyConfig wg;
  wg.ipsec = wg.openvpn = false;
  wg.wireguard_port = 51000;
  CHECK(bpf_filter(wg, {*Address::parse("192.0.2.2"), *Address::parse("2001:db8::2")}) ==
        "(udp port 51000) and (host 192.0.2.2 or host 2001:db8::2)");
  ClassifyConfig ipsec;
  ipsec.openvpn = ipsec.wireguard = false;
  CHECK(bpf_filter(ipsec, {*Address::parse("192.0.2.2")}) ==
        "(udp port 500 or udp port 4500 or ip proto 50 or ip6 proto 50) and (host 192.0.2.2)");
}
