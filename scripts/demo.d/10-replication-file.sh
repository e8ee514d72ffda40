#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: the heartbeat-file replication check. The "live site" writes a
# heartbeat, the "sync" copies it to the DR side; breaking the sync leaves the
# DR copy stale.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dir=${LAB_STATE:-/tmp/sitelink-demo}/demo-heartbeat
mkdir -p "$dir"
dr=$dir/dr-heartbeat
check() {
  show "$1" "$SITELINK_BIN/check_replication_lag" --backend file --file "$dr" -w 300 -c 900 --runbook dr-vpn
}
case ${1:-checks} in
  checks)
    date +%s > "$dr"
    check "DR heartbeat copy, sync healthy"
    ;;
  break)
    # The sync stopped 21 minutes ago: the DR copy still has that heartbeat.
    echo $(( $(date +%s) - 1260 )) > "$dr"
    check "DR heartbeat copy, sync stopped 21 minutes ago"
    rm -f "$dr"
    check "DR heartbeat copy never delivered"
    ;;
  restore)
    date +%s > "$dr"
    check "DR heartbeat copy, sync resumed"
    ;;
esac
