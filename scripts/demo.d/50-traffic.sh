#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: check_tunnel_traffic capturing on site A's WAN interface. Healthy:
# IPsec with pings flowing, and every tunnel to site B found without naming it.
# Breaking: what the wire shows with the other parts' cuts in place, then, on
# healthy tunnels again, site B's answers on UDP 4500 lost (one-way out), IKE
# blocked both ways while site A retries (ike-unanswered) and WireGuard
# black-holed. Restoring: flowing again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
eval "$("$LAB" env)"
plugin=$SITELINK_BIN/check_tunnel_traffic
faults=$(dirname "$LAB")/lab-traffic

capture() { # capture TITLE ARGS... : 3 s on site A's wan1
  show "$1" ip netns exec "$LAB_NS_A" "$plugin" -i wan1 --duration 3 "${@:2}" --runbook dr-vpn
}
pings() { "$faults" ping "$1" >/dev/null; }

case ${1:-checks} in
  checks)
    pings 4
    capture "IPsec to site B with pings through the tunnel" --peer "$LAB_WAN_B" --protocol ipsec
    capture "every tunnel on wan1, peers found from the local addresses"
    ;;
  break)
    capture "what the wire shows while the links are cut at site A (inbound still arrives)" \
      --peer "$LAB_WAN_B"
    "$LAB" start-peer ipsec 60 >/dev/null 2>&1 || true
    "$LAB" restore all 60 >/dev/null 2>&1 || true
    "$faults" drop-return ipsec 2>/dev/null
    pings 4
    capture "site B's UDP 4500 answers lost on the way back" --peer "$LAB_WAN_B" --protocol ipsec
    "$faults" clear 2>/dev/null
    "$faults" blackhole ipsec 2>/dev/null
    "$faults" reinit 2>/dev/null
    capture "UDP 500/4500 blocked both ways while site A re-initiates" --peer "$LAB_WAN_B" --protocol ipsec
    "$faults" blackhole wireguard 2>/dev/null
    capture "WireGuard black-holed at site B" --peer "$LAB_WAN_B" --protocol wireguard
    ;;
  restore)
    "$faults" clear 2>/dev/null || true
    "$LAB" restore all 60 >/dev/null 2>&1 || true
    pings 4
    capture "IPsec after restore" --peer "$LAB_WAN_B" --protocol ipsec
    capture "WireGuard after restore" --peer "$LAB_WAN_B" --protocol wireguard
    ;;
esac
