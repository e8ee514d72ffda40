#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Demo part: a real Icinga 2 in site A's gateway namespace, loaded with
# icinga-conf/ (the CheckCommands and the example services and dependencies),
# checking the lab. Breaking: whatever the other parts broke is seen the way
# an operator sees it: the tunnel service pages, the services behind it are
# unreachable and stay silent. Restoring: everything green, Icinga stopped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
eval "$("$LAB" env)"
here=$(cd "$(dirname "$0")/../.." && pwd)
LAB_ICINGA=$here/tests/lab/lab-icinga
root=$LAB_STATE/demo-icinga
cn=icinga-demo
api_port=5665

api() { # METHOD PATH [JSON]
  local args=(-sS --max-time 20 -K "$root/curl.cfg" --cacert "$root/data/certs/ca.crt"
    --resolve "$cn:$api_port:127.0.0.1" -H 'Accept: application/json' -X "$1")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  ip netns exec "$LAB_NS_A" curl "${args[@]}" "https://$cn:$api_port/v1/$2"
}

# force HOST SERVICE: run the check now and wait for its result
force() {
  local t0 end
  t0=$(date +%s)
  api POST actions/reschedule-check "{\"type\":\"Service\",\"filter\":\"host.name==\\\"$1\\\" && service.name==\\\"$2\\\"\",\"force\":true}" >/dev/null
  end=$((t0 + 40))
  until api GET "objects/services/$1!$2" |
    python3 -c "import json,sys; a=json.load(sys.stdin)['results'][0]['attrs']; sys.exit(0 if (a.get('last_check_result') or {}).get('schedule_end',0) >= $t0 else 1)"; do
    [ "$(date +%s)" -ge "$end" ] && return 0
    sleep 0.5
  done
}

# Print the services as an operator sees them in Icinga Web.
table() {
  api GET objects/services | python3 -c '
import json, sys
states = ["OK", "WARNING", "CRITICAL", "UNKNOWN"]
for r in sorted(json.load(sys.stdin)["results"], key=lambda r: r["name"]):
    a = r["attrs"]
    cr = a.get("last_check_result") or {}
    out = (cr.get("output") or "(pending)").split("\n")
    kind = "HARD" if a["state_type"] == 1 else "SOFT"
    reach = "" if a["last_reachable"] else "  [UNREACHABLE: notifications suppressed]"
    name, state = r["name"], states[int(a["state"])]
    print(f"  {name:<28} {state:<8} {kind}{reach}")
    first = out[0].split(" | ")[0][:150].rstrip()
    print(f"      {first}")
    for line in out[1:]:
        if line.startswith("Impact:"):
            print(f"      {line[:150]}")
'
}

show_notifications() {
  printf '\n--- notifications Icinga sent (one line each: type service state)\n'
  if [ -s "$root/notifications.log" ]; then sed 's/^/  /' "$root/notifications.log"; else echo "  (none)"; fi
}

force_all() {
  force gw-a vpn-dr
  force gw-a vpn-dr # max_check_attempts 2: the second result is HARD
  force db-b ping-dr
  force db-b replication-dr
}

case ${1:-checks} in
  checks)
    rm -rf "$root"
    mkdir -p "$root"/{etc/sitelink,plugins,include}
    # PluginDir as on an installed system: our plugins next to monitoring-plugins.
    ln -sf /usr/lib/nagios/plugins/* "$SITELINK_BIN"/check_* "$root/plugins/"
    # The include directory as the package lays it out.
    for f in /usr/share/icinga2/include/*; do
      [ "$(basename "$f")" = plugins-contrib.d ] || ln -s "$f" "$root/include/"
    done
    mkdir "$root/include/plugins-contrib.d"
    ln -s /usr/share/icinga2/include/plugins-contrib.d/* "$root/include/plugins-contrib.d/"
    cp "$here/icinga-conf/sitelink.conf" "$root/include/plugins-contrib.d/"
    cp "$here"/icinga-conf/examples/single/{templates,services,dependencies}.conf "$root/etc/sitelink/"
    "$LAB_ICINGA" icinga-cli "$root" api setup --cn "$cn" >/dev/null
    password=$(openssl rand -hex 16)
    (umask 077 && printf 'user = "root:%s"\n' "$password" >"$root/curl.cfg")
    : >"$root/notifications.log"
    cat >"$root/etc/icinga2.conf" <<EOF
const PluginDir = "$root/plugins"
const PluginContribDir = "$root/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const NodeName = "$cn"
const ZoneName = "$cn"
include <itl>
include <plugins>
include <plugins-contrib>
object Endpoint NodeName { }
object Zone ZoneName { endpoints = [ NodeName ] }
object ApiListener "api" { bind_host = "127.0.0.1"; bind_port = $api_port }
object ApiUser "root" { password = "$password"; permissions = [ "*" ] }
object CheckerComponent "checker" { }
object NotificationComponent "notification" { }
object FileLogger "main-log" { severity = "information"; path = LogDir + "/icinga2.log" }
object User "oncall" { }
object NotificationCommand "append-to-file" {
	command = [ "/bin/sh", "-c", "echo \"\$\$T \$\$S \$\$X\" >> $root/notifications.log" ]
	env = { T = "\$notification.type\$"; S = "\$host.name\$!\$service.name\$"; X = "\$service.state\$" }
}
apply Notification "page" to Service { command = "append-to-file"; users = [ "oncall" ]; interval = 0; assign where true }
include "sitelink/*.conf"

object Host "gw-a" {
	import "sitelink-host"
	address = "$LAB_WAN_A"
	vars.sitelink_vpn["dr"] = {
		runbook = "dr-vpn"
		sitelink_vpn_tunnel_up_socket = "unix://$LAB_VICI_A"
		sitelink_vpn_tunnel_up_tunnel = [ "dr-primary" ]
		sitelink_vpn_tunnel_up_runbook_file = "$SITELINK_RUNBOOKS"
	}
}
object Host "db-b" {
	import "sitelink-host"
	address = "$LAB_LAN_B"
	check_command = "dummy"
	vars.sitelink_tunnel_host = "gw-a"
	vars.sitelink_tunnel_service = "vpn-dr"
	vars.sitelink_ping["dr"] = { runbook = "dr-vpn"; sitelink_cross_site_ping_runbook_file = "$SITELINK_RUNBOOKS" }
	vars.sitelink_replication["dr"] = {
		runbook = "dr-vpn"
		sitelink_replication_lag_backend = "file"
		sitelink_replication_lag_file = "$root/heartbeat"
		sitelink_replication_lag_warning = 5
		sitelink_replication_lag_critical = 10
		sitelink_replication_lag_runbook_file = "$SITELINK_RUNBOOKS"
	}
}
EOF
    "$LAB_ICINGA" sync-start "$root/heartbeat" 7079 2>/dev/null
    "$LAB_ICINGA" icinga-start demo a "$root" "127.0.0.1:$api_port" 2>/dev/null
    force_all
    printf '\n--- Icinga 2 (icinga-conf/ as shipped) in the healthy lab\n'
    table
    show_notifications
    ;;
  break)
    [ -s "$root/curl.cfg" ] || exit 0
    "$LAB" cut ipsec >/dev/null 2>&1
    sleep 11 # the heartbeat file goes stale past the critical threshold
    force_all
    force db-b ping-dr
    force db-b replication-dr
    sleep 6 # the notification component re-examines suppressed notifications
    printf '\n--- Icinga 2 with the links broken: one page (the tunnel); the rest is unreachable\n'
    table
    show_notifications
    ;;
  restore)
    [ -s "$root/curl.cfg" ] || exit 0
    "$LAB" restore ipsec 60 >/dev/null 2>&1 || true
    sleep 3
    force db-b replication-dr
    force db-b ping-dr
    force_all
    printf '\n--- Icinga 2 after the restore\n'
    table
    show_notifications
    "$LAB_ICINGA" icinga-stop demo 2>/dev/null || true
    "$LAB_ICINGA" sync-stop 2>/dev/null || true
    ;;
esac
