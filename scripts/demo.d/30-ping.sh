#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: check_cross_site_ping from site A's LAN host to site B's LAN
# through the IPsec tunnel. Breaking: 50% loss on the way to site B, +25 ms
# each way, then the tunnel cut (100% loss); a TCP probe to a closed port.
# Restoring: the faults removed, OK again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
eval "$("$LAB" env)"
plugin=$SITELINK_BIN/check_cross_site_ping
LAB_PING=$(dirname "$LAB")/lab-ping
export SITELINK_BUILD=${SITELINK_BUILD:-$(dirname "$SITELINK_BIN")}

ping_b() {
  show "$1" ip netns exec "$LAB_NS_A_LAN" "$plugin" -H "$LAB_LAN_B,$LAB_LAN6_B" "${@:2}" --runbook dr-vpn
}

case ${1:-checks} in
  checks)
    ping_b "Site B's LAN host, IPv4 and IPv6, through the tunnel" -n 10 -i 50ms
    show "TCP connect to a closed port: the host is alive" \
      ip netns exec "$LAB_NS_A_LAN" "$plugin" -H "$LAB_LAN_B" --tcp 8023 -n 3
    ;;
  break)
    "$LAB" loss ipsec 50 >/dev/null
    ping_b "50% of the pings toward site B dropped" -n 40 -i 20ms
    "$LAB" loss-clear >/dev/null
    if [ -x "$SITELINK_BUILD/bin/nfq_delay" ]; then
      "$LAB_PING" delay 25
      ping_b "+25 ms each way at site B's gateway" -n 10 -i 20ms -w 40ms,20% -c 100ms,60%
      "$LAB_PING" delay-clear
    fi
    "$LAB" cut ipsec >/dev/null
    ping_b "IPsec tunnel cut: every probe lost" -n 5 -i 50ms
    ;;
  restore)
    "$LAB" restore ipsec >/dev/null
    "$LAB_PING" clear >/dev/null 2>&1 || true
    ping_b "Tunnel restored" -n 10 -i 50ms
    ;;
esac
