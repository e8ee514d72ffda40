#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: hardening. A password on the command line is refused without
# being echoed; a control socket that accepts and never answers ends the
# check on time, naming what it was waiting for.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dir=${LAB_STATE:-/tmp/sitelink-demo}/demo-hardening
mkdir -p "$dir"
case ${1:-checks} in
  checks)
    show "a password in --dsn is refused, and not printed" \
      "$SITELINK_BIN/check_replication_lag" --backend postgresql --dsn "host=db.example password=demo-Secret-1"
    ;;
  break)
    sock=$dir/silent.vici
    rm -f "$sock"
    # A "charon" that accepts connections and never says a word.
    python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
c=[s.accept()[0] for _ in range(1)]; time.sleep(30)' "$sock" &
    pid=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$sock" ] && break; sleep 0.1; done
    show "strongSwan socket that never answers, -t 2" \
      "$SITELINK_BIN/check_vpn_tunnel_up" --backend strongswan --socket "$sock" --tunnel dr-primary -t 2
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$sock"
    ;;
  restore)
    echo "(hardening: nothing to restore)"
    ;;
esac
