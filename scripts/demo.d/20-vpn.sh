#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: check_vpn_tunnel_up against site A's strongSwan, OpenVPN and
# WireGuard. Breaking: a silent WAN cut caught by --stale before dead-peer
# detection, then by DPD; the strongSwan peer stopped; OpenVPN and WireGuard
# cut. Restoring: everything back to OK.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
eval "$("$LAB" env)"
plugin=$SITELINK_BIN/check_vpn_tunnel_up
pinger_pids=()
start_traffic() { # steady pings through both IPsec tunnels, as --stale expects
  ip netns exec "$LAB_NS_A_LAN" ping -q -i 0.2 "$LAB_LAN_B" >/dev/null 2>&1 &
  pinger_pids+=($!)
  ip netns exec "$LAB_NS_A_LAN" ping -q -i 0.2 -I "$LAB_LAN2_A" "$LAB_LAN2_B" >/dev/null 2>&1 &
  pinger_pids+=($!)
}
stop_traffic() {
  local p
  for p in "${pinger_pids[@]}"; do
    kill -INT "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  pinger_pids=()
}
trap stop_traffic EXIT

swan() {
  show "$1" "$plugin" --backend strongswan --socket "unix://$LAB_VICI_A" \
    --tunnel dr-primary --tunnel dr-secondary "${@:2}" --runbook dr-vpn-redundancy
}
ovpn() {
  show "$1" "$plugin" --backend openvpn --management "$LAB_OVPN_MGMT_A" --tunnel dr-ovpn --runbook dr-vpn
}
wg() {
  show "$1" "$plugin" --backend wireguard --interface "$LAB_WG_IFACE" --socket "$LAB_WG_SOCK_A" \
    --peer-alias "site-b=$LAB_WG_PUB_B" --tunnel site-b "${@:2}" --runbook dr-vpn
}
# wait_state SECS RC CMD...: rerun CMD (quietly) until it exits RC
wait_state() {
  local secs=$1 want=$2 end
  shift 2
  end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; [ $? -eq "$want" ]; do
    [ "$(date +%s)" -ge "$end" ] && return 0
    sleep 0.5
  done
}
swan_rc() { "$plugin" --backend strongswan --socket "unix://$LAB_VICI_A" --tunnel dr-primary "$@"; }

case ${1:-checks} in
  checks)
    swan "IPsec pair dr-primary + dr-secondary (redundant)"
    swan "IPsec pair run active/passive (-w 1:1 -c 1:): both up is unexpected" -w 1:1 -c 1:
    ovpn "OpenVPN point-to-point"
    wg "WireGuard peer site B"
    ;;
  break)
    start_traffic
    sleep 2
    "$LAB" cut ipsec
    sleep 4
    swan "4 s after a silent WAN cut, with --stale 3 (charon still says ESTABLISHED)" --stale 3
    swan "the same moment without --stale: dead-peer detection has not fired yet"
    wait_state 30 2 swan_rc
    swan "after dead-peer detection cleared the SA"
    stop_traffic
    "$LAB" restore ipsec 60 >/dev/null 2>&1
    "$LAB" stop-peer ipsec TERM >/dev/null 2>&1
    swan "site B's charon stopped (SIGTERM sends an IKE DELETE)"
    show "site B's own check: its charon is not running" "$plugin" --backend strongswan \
      --socket "unix://$LAB_VICI_B" --tunnel dr-primary --tunnel dr-secondary --runbook dr-vpn
    "$LAB" cut openvpn
    wait_state 30 2 "$plugin" --backend openvpn --management "$LAB_OVPN_MGMT_A"
    ovpn "OpenVPN after its WAN was cut (ping-restart)"
    "$LAB" cut wireguard
    wg "WireGuard right after the cut: no session state, the last handshake is still recent"
    wg "WireGuard peer that never completed a handshake" --peer-alias "never=$LAB_WG_PUB_NEVER" --tunnel never
    ;;
  restore)
    # restore also restarts site B's charon, stopped in "break".
    "$LAB" restore all 90 >/dev/null 2>&1 || true
    swan "IPsec pair after restore"
    ovpn "OpenVPN after restore"
    wg "WireGuard after restore"
    ;;
esac
