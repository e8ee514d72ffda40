#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: database replication across the DR tunnel (check_replication_lag
# --backend postgresql / mysql). Starts the lab's databases (tests/lab/lab-db)
# in "checks", cuts the IPsec tunnel in "break", restores it in "restore".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
LABDB=$(cd "$here/../.." && pwd)/tests/lab/lab-db
P=$SITELINK_BIN/check_replication_lag

dbenv() { eval "$("$LABDB" env)"; export PGPASSFILE=$LAB_PG_PASSFILE; }

checks_all() {
    show "PostgreSQL standby (site B): link freshness, idle-aware lag" \
        "$P" --backend postgresql -H "$LAB_PG_SOCK_B" -U monitor -d postgres --role standby --runbook dr-vpn
    show "PostgreSQL primary (site A): replica dr1 must be streaming" \
        "$P" --backend postgresql -H "$LAB_PG_SOCK_A" -U monitor -d postgres --replica dr1 --runbook dr-vpn
    show "MariaDB replica (site B) with a pt-heartbeat table" \
        "$P" --backend mysql -H "$LAB_MY_SOCK_B" --defaults-file "$LAB_MY_DEFAULTS" \
        --heartbeat-table "$LAB_MY_HEARTBEAT" --runbook dr-vpn
}

case ${1:-} in
    checks)
        "$LABDB" up all >/dev/null
        dbenv
        checks_all
        ;;
    break)
        dbenv
        "$LAB" cut ipsec
        echo "  (tunnel cut; waiting 11 s: the servers' own timeouts are 10 s, ours fire earlier)"
        sleep 11
        checks_all
        ;;
    restore)
        dbenv
        "$LAB" restore ipsec
        "$LABDB" wait pg 90 && "$LABDB" wait mysql 90
        sleep 3
        checks_all
        ;;
    *)
        echo "usage: $0 checks|break|restore" >&2
        exit 2
        ;;
esac
