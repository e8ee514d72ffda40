# SPDX-License-Identifier: GPL-2.0-or-later
"""A real Icinga 2 in site A's gateway namespace runs the shipped
CheckCommands, example services and Dependency rules against the lab: the
tunnel through charon's VICI socket, a ping across the IPsec tunnel, the
PostgreSQL standby at site B (tests/lab/lab-db), a heartbeat file carried
through the tunnel to site B (file backend) and the packets on the WAN. Then the tunnel is cut: the tunnel service pages,
the services behind it become unreachable and stay silent."""
import os
import re
import secrets
import shutil
import subprocess
import time

import pytest

from conftest import lab_cmd
from sitelink_icinga import SINGLE, Icinga, IcingaApi, lab_icinga, result_perf
from sitelink_test import BUILD, SOURCE

CN = "icinga-a"
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")
DEPENDENTS = ("ping-dr", "replication-dr", "replication-pg")
LAB_DB = os.path.join(SOURCE, "tests", "lab", "lab-db")


def lab_db(*args, timeout=300):
    p = subprocess.run([LAB_DB] + list(args), capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"lab-db {' '.join(args)}: {p.stdout}\n{p.stderr}"
    return p.stdout


# What every dictionary of the DR link carries (as in examples/single/hosts.conf).
DR_LINK = """
		runbook = "dr-vpn"
		notes = "Replication and file sync to the DR site are paused: a failover now would lose every change since the cut."
		notes_url = "https://runbooks.example.org/links/dr-vpn"
"""


def hosts_conf(lab, heartbeat, db):
    # db-b's own host check is a dummy that stays UP: a DOWN host would make
    # its services unreachable by itself (Icinga's implicit host dependency)
    # and hide whether the service Dependency rules work.
    return f"""
object Host "gw-a" {{
	import "sitelink-host"
	address = "{lab['LAB_WAN_A']}"
	vars.sitelink_vpn["dr"] = {{
{DR_LINK}		sitelink_vpn_tunnel_up_socket = "unix://{lab['LAB_VICI_A']}"
		sitelink_vpn_tunnel_up_tunnel = [ "{lab['LAB_IPSEC_CONN_PRIMARY']}" ]
		sitelink_vpn_tunnel_up_stale = 5
		sitelink_vpn_tunnel_up_runbook_file = "{CATALOG}"
	}}
	vars.sitelink_traffic["dr"] = {{
{DR_LINK}		sitelink_tunnel_traffic_interface = "wan1"
		sitelink_tunnel_traffic_address = [ "{lab['LAB_WAN_B']}" ]
		sitelink_tunnel_traffic_protocol = "ipsec"
		sitelink_tunnel_traffic_duration = 3
		sitelink_tunnel_traffic_runbook_file = "{CATALOG}"
	}}
}}

object Host "db-b" {{
	import "sitelink-host"
	address = "{lab['LAB_LAN_B']}"
	check_command = "dummy"
	vars.sitelink_tunnel_host = "gw-a"
	vars.sitelink_tunnel_service = "vpn-dr"
	vars.sitelink_ping["dr"] = {{
{DR_LINK}		sitelink_cross_site_ping_packets = 5
		sitelink_cross_site_ping_interval = "100ms"
		sitelink_cross_site_ping_runbook_file = "{CATALOG}"
	}}
	vars.sitelink_replication["dr"] = {{
{DR_LINK}		sitelink_replication_lag_backend = "file"
		sitelink_replication_lag_file = "{heartbeat}"
		sitelink_replication_lag_warning = 5
		sitelink_replication_lag_critical = 10
		sitelink_replication_lag_runbook_file = "{CATALOG}"
	}}
	/* The standby's own view, through its socket; the password comes from
	 * the pgpass file handed over in the environment. */
	vars.sitelink_replication["pg"] = {{
{DR_LINK}		sitelink_replication_lag_backend = "postgresql"
		sitelink_replication_lag_address = "{db['LAB_PG_SOCK_B']}"
		sitelink_replication_lag_user = "{db['LAB_PG_USER']}"
		sitelink_replication_lag_database = "postgres"
		sitelink_replication_lag_role = "standby"
		sitelink_replication_lag_pgpassfile = "{db['LAB_PG_PASSFILE']}"
		sitelink_replication_lag_runbook_file = "{CATALOG}"
	}}
}}
"""


def main_conf(password, notify_file, plugins):
    return f"""
const PluginDir = "{plugins}"
const PluginContribDir = "{plugins}"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const NodeName = "{CN}"
const ZoneName = "{CN}"

include <itl>
include <plugins>
include <plugins-contrib>

object Endpoint NodeName {{ }}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
object ApiListener "api" {{ bind_host = "127.0.0.1" }}
object ApiUser "root" {{ password = "{password}"; permissions = [ "*" ] }}
object CheckerComponent "checker" {{ }}
object NotificationComponent "notification" {{ }}
object FileLogger "main-log" {{ severity = "information"; path = LogDir + "/icinga2.log" }}
object GraphiteWriter "graphite" {{ host = "127.0.0.1"; port = 2003; enable_send_thresholds = true }}

object User "oncall" {{ }}
object NotificationCommand "append-to-file" {{
	/* $$ is a literal $ for Icinga: the shell expands these, not Icinga. */
	command = [ "/bin/sh", "-c", "printf '%s %s!%s %s\\\\n' \\"$$N_TYPE\\" \\"$$N_HOST\\" \\"$$N_SERVICE\\" \\"$$N_STATE\\" >> {notify_file}" ]
	env = {{
		N_TYPE = "$notification.type$"
		N_HOST = "$host.name$"
		N_SERVICE = "$service.name$"
		N_STATE = "$service.state$"
	}}
}}
apply Notification "page" to Service {{
	command = "append-to-file"
	users = [ "oncall" ]
	interval = 0
	assign where true
}}

include "sitelink/*.conf"
include "lab.conf"
"""


@pytest.fixture(scope="module")
def icinga(lab):
    root = os.path.join(lab["LAB_STATE"], "conf-icinga")
    shutil.rmtree(root, ignore_errors=True)
    ic = Icinga(root)
    heartbeat = os.path.join(lab["LAB_STATE"], "conf-dr", "heartbeat")
    notify_file = ic.path("notifications.log")
    graphite_file = ic.path("graphite.txt")
    open(notify_file, "w").close()
    lab_icinga("icinga-cli", root, "api", "setup", "--cn", CN)
    password = secrets.token_hex(16)
    ic.write("icinga2.conf", main_conf(password, notify_file, ic.plugin_dir()))
    os.makedirs(os.path.join(ic.etc, "sitelink"), exist_ok=True)
    for f in ("templates.conf", "services.conf", "dependencies.conf"):
        shutil.copy(os.path.join(SINGLE, f), os.path.join(ic.etc, "sitelink", f))
    try:
        lab_db("up", "pg")
        db = dict(line.split("=", 1) for line in lab_db("env").splitlines() if "=" in line)
        ic.write("lab.conf", hosts_conf(lab, heartbeat, db))
        lab_icinga("sync-start", heartbeat)
        lab_icinga("sink-start", "graphite", "a", "127.0.0.1:2003", graphite_file)
        lab_icinga("icinga-start", "single", "a", root, "127.0.0.1:5665")
        api = IcingaApi(lab["LAB_NS_A"], ic, CN, password)
        # Results that come in before the Graphite writer has connected are
        # not buffered; wait for it so that every result below is written.
        deadline = time.monotonic() + 30
        while "Finished reconnecting to Graphite" not in open(ic.path("log", "icinga2.log")).read():
            assert time.monotonic() < deadline, "Icinga's Graphite writer did not connect"
            time.sleep(0.5)
        api.notify_file = notify_file
        api.graphite_file = graphite_file
        api.heartbeat = heartbeat
        api.ic = ic
        yield api
    finally:
        subprocess.run([os.environ.get("LAB", "lab"), "restore", "ipsec"], capture_output=True, timeout=120)
        for args in (("icinga-stop", "single"), ("sink-stop", "graphite"), ("sync-stop",)):
            try:
                lab_icinga(*args)
            except AssertionError as e:
                print(e)
        subprocess.run([LAB_DB, "down"], capture_output=True, timeout=120)


def first_line(attrs):
    return attrs["last_check_result"]["output"].split("\n")[0]


def notifications(api):
    with open(api.notify_file) as fh:
        return [line.split() for line in fh.read().splitlines() if line.strip()]


def force_until(api, host, svc, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        a = api.force(host, svc)
        if pred(a):
            return a
        assert time.monotonic() < deadline, f"{host}!{svc}: {a['state']} {first_line(a)}"
        time.sleep(1)


def test_healthy(icinga, lab):
    vpn = icinga.force("gw-a", "vpn-dr")
    assert vpn["state"] == 0, vpn["last_check_result"]
    assert first_line(vpn).startswith("VPN_TUNNEL OK - ")
    perf = result_perf(vpn)
    conn = lab["LAB_IPSEC_CONN_PRIMARY"]
    assert perf["tunnels_up"].value == 1 and perf["tunnels_expected"].value == 1
    assert perf[f"{conn}_up"].value == 1
    # The arguments the CheckCommand rendered: what the host config asked for.
    cmd = vpn["last_check_result"]["command"]
    assert os.path.realpath(cmd[0]) == os.path.realpath(f"{BUILD}/bin/check_vpn_tunnel_up")
    assert cmd[cmd.index("--backend") + 1] == "strongswan"
    assert cmd[cmd.index("--socket") + 1] == f"unix://{lab['LAB_VICI_A']}"
    assert cmd[cmd.index("--runbook") + 1] == "dr-vpn"
    assert vpn["notes"].startswith("Replication and file sync to the DR site are paused")
    assert vpn["notes_url"] == "https://runbooks.example.org/links/dr-vpn"

    ping = icinga.force("db-b", "ping-dr")
    assert ping["state"] == 0, ping["last_check_result"]
    assert first_line(ping).startswith("CROSS_SITE_PING OK - ")
    perf = result_perf(ping)
    assert perf["pl"].value == 0 and 0 < perf["rta"].value < 100
    cmd = ping["last_check_result"]["command"]
    assert cmd[cmd.index("-H") + 1] == lab["LAB_LAN_B"]  # $address$ default
    assert cmd[cmd.index("-w") + 1] == "200,20%" and cmd[cmd.index("-c") + 1] == "500,60%"

    repl = icinga.force("db-b", "replication-dr")
    assert repl["state"] == 0, repl["last_check_result"]
    assert first_line(repl).startswith("REPLICATION_LAG OK - ")
    assert 0 <= result_perf(repl)["age"].value < 5
    cmd = repl["last_check_result"]["command"]
    assert "-H" not in cmd  # no host for the file backend despite the $address$ default

    pg = icinga.force("db-b", "replication-pg")
    assert pg["state"] == 0, pg["last_check_result"]
    assert first_line(pg).startswith("REPLICATION_LAG OK - standby streaming")
    assert result_perf(pg)["lag_bytes"].value is not None and result_perf(pg)["lag_bytes"].value >= 0
    assert 0 <= result_perf(pg)["link_age"].value < 10
    cmd = pg["last_check_result"]["command"]
    assert cmd[cmd.index("-H") + 1] == pg["vars"]["sitelink_replication_lag_address"]
    assert not any("pgpass" in c for c in cmd)  # the password file goes through env only

    traffic = icinga.force("gw-a", "traffic-dr")
    assert traffic["state"] == 0, traffic["last_check_result"]
    assert first_line(traffic).startswith("TUNNEL_TRAFFIC OK - ")
    assert notifications(icinga) == []


ICINGA_UNIT_SCALE = {"us": 1e-6, "ms": 1e-3, "kb": 1024, "mb": 1024 ** 2, "gb": 1024 ** 3,
                     "tb": 1024 ** 4}


def graphite_key(host, svc, cmd, label):
    # GraphiteWriter's escaping of metric path parts; a perfdata label keeps
    # its dots (they become Graphite path levels)
    esc = lambda t: re.sub(r"[ .\\/]", "_", t)
    lbl = re.sub(r"[ \\/]", "_", label)
    return f"icinga2.{esc(host)}.services.{esc(svc)}.{esc(cmd)}.perfdata.{lbl}.value"


def test_perfdata_parsed_by_icinga(icinga):
    """Icinga's own perfdata parser (the Graphite writer) accepted every item
    of every service: each value arrives as a metric and the log has no
    perfdata warning."""
    expected = {}
    for host, svc in (("gw-a", "vpn-dr"), ("db-b", "ping-dr"), ("db-b", "replication-dr"),
                      ("db-b", "replication-pg"), ("gw-a", "traffic-dr")):
        a = icinga.service(host, svc)
        perf = result_perf(a)
        assert perf, f"{host}!{svc} has no perfdata"
        for label, item in perf.items():
            # Icinga normalises units: time to seconds, sizes to bytes
            scale = ICINGA_UNIT_SCALE.get(item.uom.lower(), 1)
            value = None if item.value is None else item.value * scale
            expected[graphite_key(host, svc, a["check_command"], label)] = value
    deadline = time.monotonic() + 30
    while True:
        written = {}
        with open(icinga.graphite_file) as fh:
            for line in fh.read().splitlines():
                parts = line.split()
                if len(parts) == 3:
                    written.setdefault(parts[0], []).append(float(parts[1]))
        missing = [k for k, v in expected.items() if v is not None and k not in written]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not missing, f"metrics not written: {missing[:5]}; written: {sorted(written)[:10]}"
    for k, v in expected.items():
        if v is not None:
            # Graphite gets the value with six decimals
            assert any(abs(w - v) <= 1e-6 * max(1.0, abs(v)) for w in written[k]), (k, v, written[k])
    assert any(k.endswith(".rta.value") for k in expected)  # a unit really was converted
    # Every label is one level of Graphite's tree: no dot in any label (the
    # traffic labels are built from the peer's address: 192_0_2_2_in_pps).
    deep = [k for k in expected if k.count(".") != 7]
    assert not deep, deep
    assert any(re.search(r"\.perfdata\.\d+_\d+_\d+_\d+_in_pps\.value$", k) for k in expected), sorted(expected)
    log = open(icinga.ic.path("log", "icinga2.log")).read()
    assert "Ignoring invalid perfdata" not in log
    assert not re.search(r"warning/(GraphiteWriter|PerfdataValue|PluginUtility)", log), log[-3000:]


def test_cut_suppresses_dependents(icinga, lab):
    conn = lab["LAB_IPSEC_CONN_PRIMARY"]
    assert notifications(icinga) == []
    lab_cmd("cut", "ipsec")
    try:
        # The tunnel service pages once it is HARD CRITICAL (2 attempts).
        vpn = force_until(icinga, "gw-a", "vpn-dr", lambda a: a["state"] == 2 and a["state_type"] == 1)
        assert first_line(vpn).startswith("VPN_TUNNEL CRITICAL - ") and conn in first_line(vpn)
        assert "Impact: " in vpn["last_check_result"]["output"]
        perf = result_perf(vpn)
        assert perf["tunnels_up"].value == 0 and perf[f"{conn}_up"].value == 0

        deadline = time.monotonic() + 20
        while not any(n[1] == "gw-a!vpn-dr" and n[0] == "PROBLEM" for n in notifications(icinga)):
            assert time.monotonic() < deadline, f"no notification for the tunnel: {notifications(icinga)}"
            time.sleep(0.5)

        # The dependents fail too, but are unreachable: no pages.
        ping = force_until(icinga, "db-b", "ping-dr", lambda a: a["state"] == 2 and a["state_type"] == 1)
        assert first_line(ping).startswith("CROSS_SITE_PING CRITICAL - ")
        # Once dead-peer detection has removed the tunnel's route, probes
        # cannot even be sent and the loss is not measured (U).
        perf = result_perf(ping)
        assert perf["rta"].value is None and (perf["pl"].value == 100 or "cannot send" in first_line(ping)), \
            (ping["last_check_result"]["output"], ping["last_check_result"]["performance_data"])
        repl = force_until(icinga, "db-b", "replication-dr",
                           lambda a: a["state"] == 2 and a["state_type"] == 1, timeout=90)
        assert first_line(repl).startswith("REPLICATION_LAG CRITICAL - ")
        assert result_perf(repl)["age"].value >= 10
        pg = force_until(icinga, "db-b", "replication-pg",
                         lambda a: a["state"] == 2 and a["state_type"] == 1, timeout=90)
        assert first_line(pg).startswith("REPLICATION_LAG CRITICAL - "), first_line(pg)
        for svc in DEPENDENTS:
            a = icinga.service("db-b", svc)
            assert a["last_reachable"] is False, svc
        # The notification component re-examines suppressed notifications every
        # few seconds; give it time to (wrongly) send one.
        time.sleep(8)
        sent = notifications(icinga)
        assert not [n for n in sent if n[1].startswith("db-b!")], sent
        # Checks of the ping paused with the dependency (disable_checks), the
        # replication check goes on (it is not disabled).
        ping = icinga.service("db-b", "ping-dr")
        assert ping["last_reachable"] is False
    finally:
        lab_cmd("restore", "ipsec", timeout=120)

    # Dependents recover first (the heartbeat has to catch up), then the
    # tunnel; nothing pages for them on the way back either.
    force_until(icinga, "db-b", "replication-dr", lambda a: a["state"] == 0, timeout=60)
    force_until(icinga, "db-b", "replication-pg", lambda a: a["state"] == 0, timeout=90)
    force_until(icinga, "db-b", "ping-dr", lambda a: a["state"] == 0)
    vpn = force_until(icinga, "gw-a", "vpn-dr", lambda a: a["state"] == 0)
    assert result_perf(vpn)["tunnels_up"].value == 1
    deadline = time.monotonic() + 20
    while not any(n[1] == "gw-a!vpn-dr" and n[0] == "RECOVERY" for n in notifications(icinga)):
        assert time.monotonic() < deadline, f"no recovery notification: {notifications(icinga)}"
        time.sleep(0.5)
    time.sleep(6)
    # Nothing for the dependents while the tunnel was down. Once the tunnel is
    # back, Icinga sends a dependent's held-back problem if it is still
    # failing then (PostgreSQL takes a few seconds to stream again, and the
    # scheduler may re-check the tunnel before that): that is a new fact, so
    # it is allowed, but only after the tunnel's recovery.
    sent = notifications(icinga)
    recovered = next(i for i, n in enumerate(sent) if n[0] == "RECOVERY" and n[1] == "gw-a!vpn-dr")
    assert not [n for n in sent[:recovered] if n[1].startswith("db-b!")], sent
    for svc in DEPENDENTS:
        a = icinga.force("db-b", svc)
        assert a["state"] == 0 and a["last_reachable"] is True, (svc, a["last_check_result"])
