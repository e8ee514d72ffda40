#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: check_vpn_tunnel_up --backend aws, aws-route, openstack and vcd
# (a provider's Cloud Director edge gateway) against the local cloud API stand-in (tests/tools/cloud_server.py on
# loopback; there is no cloud to call). Its fixtures hold healthy and broken
# connections side by side, so "break" shows the broken ones and a hung API.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
. "$here/scripts/demo.d/lib.sh"
state=${LAB_STATE:-/tmp/sitelink-lab}/cloud-demo
mkdir -p "$state"
P=$SITELINK_BIN/check_vpn_tunnel_up
signer=$SITELINK_BIN/../tests/tools/sigv4_tool

start_server() {
  [ -s "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null && return
  python3 "$here/tests/tools/cloud_server.py" --signer "$signer" > "$state/port" 2>/dev/null &
  echo $! > "$state/pid"
  for _ in $(seq 50); do grep -q PORT "$state/port" && break; sleep 0.1; done
}
stop_server() {
  [ -s "$state/pid" ] && kill "$(cat "$state/pid")" 2>/dev/null || true
  rm -f "$state/pid"
}
control() { curl -s -X POST -d "$1" "http://127.0.0.1:$port/_control" >/dev/null; }

start_server
port=$(awk '/PORT/ {print $2}' "$state/port")
url=http://127.0.0.1:$port
aws() {
  env -i PATH="$PATH" HOME="$state" AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=AKIAENVEXAMPLE000001 \
    AWS_SECRET_ACCESS_KEY=env-secret-0001 "$P" --region eu-west-1 --endpoint-url "$url" "$@"
}
os() {
  env -i PATH="$PATH" HOME="$state" OS_AUTH_URL="$url/identity/v3" OS_USERNAME=monitor \
    OS_PASSWORD=os-password-0010 OS_PROJECT_NAME=dr "$P" --backend openstack "$@"
}
vcd() {
  env -i PATH="$PATH" HOME="$state" VCD_URL="$url/api" VCD_ORG=live VCD_API_TOKEN=vcd-refresh-token-0021 \
    SITELINK_RUNBOOKS="$SITELINK_RUNBOOKS" "$P" --backend vcd --edge-gateway edge-live "$@"
}
imp=(--impact "DR site reachable through one tunnel only" --action "Check the tunnel in the AWS console")

case ${1:-checks} in
checks)
  control '{}'
  show "AWS Site-to-Site VPN, both tunnels up" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60001
  show "AWS route to site A active on the primary instance" aws --backend aws-route \
    --route-table-id rtb-0123456789abcdef0 --destination 10.101.0.0/16 --expect-target i-0aaaaaaaaaaaaaaa1
  show "OpenStack VPNaaS connection ACTIVE" os --tunnel site-a
  show "Provider edge gateway (Cloud Director): the tunnel to the DR site UP" vcd --tunnel live-to-dr
  ;;
break)
  show "AWS: one tunnel down" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60002 "${imp[@]}"
  show "AWS: both tunnels down" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60003 "${imp[@]}"
  show "AWS: BGP up but no routes" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60004
  show "AWS route failed over" aws --backend aws-route --route-table-id rtb-0123456789abcdef0 \
    --destination 10.102.0.0/16 --expect-target i-0aaaaaaaaaaaaaaa1
  show "AWS route blackhole" aws --backend aws-route --route-table-id rtb-0123456789abcdef0 \
    --destination 10.103.0.0/16
  show "OpenStack connection never came up" os --tunnel site-c
  show "Provider edge gateway: the licensing tunnel DOWN (IKE authentication failed), with its runbook" \
    vcd --tunnel licensing --impact "Applications cannot check out licences: new sessions fail to start" \
    --action "Compare the pre-shared key and remote ID with the licensing provider (see the checklist above)" \
    --runbook-url https://runbooks.example.org/links/licensing-vpn
  control '{"fault": "hang", "target": "ec2"}'
  show "AWS API accepts and never answers (-t 3)" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60001 -t 3
  ;;
restore)
  control '{}'
  show "AWS API answers again" aws --backend aws --vpn-connection-id vpn-0a1b2c3d4e5f60001
  stop_server
  ;;
esac
