# SPDX-License-Identifier: GPL-2.0-or-later
"""A real Nagios 4 in site A's gateway namespace runs nagios-conf/ (the
command definitions and the example objects, with the lab's paths put in)
against the lab: healthy, then the IPsec tunnel cut. Results are read from
status.dat, notifications from the file the contact's command appends to."""
import os
import re
import shutil
import time

import pytest

from conftest import lab_cmd
from sitelink_icinga import (NAGIOS_COMMANDS, NAGIOS_EXAMPLE, NAGIOS_PLUGIN_CONFIG, lab_icinga, link_plugins,
                             nagios_main_cfg)
from sitelink_test import SOURCE, parse_perfdata

CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")


def patched_example(lab, heartbeat, notify_file):
    """The shipped example with the lab's paths; every replaced piece must
    exist, so a change to the example cannot silently bypass this test."""
    text = open(NAGIOS_EXAMPLE).read()
    subs = [
        ("--socket unix:///var/run/charon.vici --tunnel dr-primary --tunnel dr-secondary -w 1:1 -c 1: --stale 10",
         f"--socket unix://{lab['LAB_VICI_A']} --tunnel {lab['LAB_IPSEC_CONN_PRIMARY']} --stale 5"),
        ("--peer 192.0.2.2", f"--peer {lab['LAB_WAN_B']} --duration 3"),
        ("--file /srv/dr/heartbeat -w 60 -c 300", f"--file {heartbeat} -w 5 -c 10"),
        ("address                 192.0.2.1", f"address                 {lab['LAB_WAN_A']}"),
        ("address                 10.102.0.10", f"address                 {lab['LAB_LAN_B']}"),
    ]
    for old, new in subs:
        assert old in text, f"the example no longer contains {old!r}"
        text = text.replace(old, new)
    # interval_length 5 below shrinks the example's minutes to 5 s; its 5 s
    # tunnel intervals (1/12 of a unit) stay 5 s, one unit here.
    text, n = re.subn(r"^(\s+(?:check|retry)_interval\s+)0\.083333$", r"\g<1>1", text, flags=re.M)
    assert n >= 4
    # Mail becomes a line in a file: TYPE HOST!SERVICE STATE.
    text, n = re.subn(r"(command_name\s+sitelink_notify_service\s*\n\s*command_line\s+).*",
                      rf"""\1/usr/bin/printf '%s %s!%s %s\\n' "$NOTIFICATIONTYPE$" "$HOSTNAME$" "$SERVICEDESC$" "$SERVICESTATE$" >> {notify_file}""",
                      text)
    assert n == 1
    text, n = re.subn(r"(command_name\s+sitelink_notify_host\s*\n\s*command_line\s+).*",
                      rf"""\1/usr/bin/printf '%s %s!HOST %s\\n' "$NOTIFICATIONTYPE$" "$HOSTNAME$" "$HOSTSTATE$" >> {notify_file}""",
                      text)
    assert n == 1
    return text


def read_status(path):
    out = {}
    if not os.path.exists(path):
        return out
    text = open(path, errors="replace").read()
    for block in re.findall(r"servicestatus \{\n(.*?)\n\s*\}", text, flags=re.S):
        d = {}
        for line in block.splitlines():
            k, _, v = line.strip().partition("=")
            d[k] = v
        out[f"{d['host_name']}!{d['service_description']}"] = d
    return out


class Nagios:
    def __init__(self, root):
        self.root = root
        self.status_file = os.path.join(root, "status.dat")
        self.cmd_file = os.path.join(root, "nagios.cmd")
        self.notify_file = os.path.join(root, "notifications.log")

    def status(self):
        return read_status(self.status_file)

    def command(self, line):
        fd = os.open(self.cmd_file, os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(fd, f"[{int(time.time())}] {line}\n".encode())
        finally:
            os.close(fd)

    def force(self, host, svc):
        self.command(f"SCHEDULE_FORCED_SVC_CHECK;{host};{svc};{int(time.time())}")

    def wait(self, name, pred, timeout=60, force=True):
        deadline = time.monotonic() + timeout
        host, svc = name.split("!")
        last_force = 0
        while True:
            s = self.status().get(name)
            if s and pred(s):
                return s
            assert time.monotonic() < deadline, f"{name}: {s}"
            if force and time.monotonic() - last_force > 3:
                self.force(host, svc)
                last_force = time.monotonic()
            time.sleep(0.5)

    def notifications(self):
        if not os.path.exists(self.notify_file):
            return []
        return [line.split() for line in open(self.notify_file).read().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def nagios(lab):
    root = os.path.join(lab["LAB_STATE"], "conf-nagios")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    plugins = link_plugins(os.path.join(root, "plugins"))
    heartbeat = os.path.join(lab["LAB_STATE"], "conf-dr", "heartbeat-nagios")
    n = Nagios(root)
    example = os.path.join(root, "sitelink-example.cfg")
    with open(example, "w") as fh:
        fh.write(patched_example(lab, heartbeat, n.notify_file))
    # interval_length 5: the example's 1-unit intervals become 5 s.
    nagios_main_cfg(root, [NAGIOS_PLUGIN_CONFIG], [NAGIOS_COMMANDS, example], "root", "root", extra={
        "resource": f"$USER1$={plugins}\n",
        "interval_length": 5, "status_update_interval": 1, "check_result_reaper_frequency": 1,
        "max_service_check_spread": 1, "max_host_check_spread": 1, "soft_state_dependencies": 0,
        "enable_notifications": 1, "log_notifications": 1,
    })
    try:
        lab_icinga("sync-start", heartbeat, 7071)
        # The plugins find the runbook catalog through the environment Nagios
        # passes on to its checks.
        lab_icinga("nagios-start", "nagios", "a", root, env={"SITELINK_RUNBOOKS": CATALOG})
        yield n
    finally:
        lab_cmd("restore", "ipsec", timeout=120, check=False)
        for args in (("nagios-stop", "nagios"), ("sync-stop",)):
            try:
                lab_icinga(*args)
            except AssertionError as e:
                print(e)


def perf(s):
    return parse_perfdata(s.get("performance_data", ""))


def test_healthy(nagios, lab):
    conn = lab["LAB_IPSEC_CONN_PRIMARY"]
    vpn = nagios.wait("gw-a!vpn-dr", lambda s: s["has_been_checked"] == "1" and s["current_state"] == "0")
    assert vpn["plugin_output"].startswith("VPN_TUNNEL OK - "), vpn
    p = perf(vpn)
    assert p["tunnels_up"].value == 1 and p[f"{conn}_up"].value == 1
    ping = nagios.wait("db-b!ping-dr", lambda s: s["has_been_checked"] == "1" and s["current_state"] == "0")
    assert ping["plugin_output"].startswith("CROSS_SITE_PING OK - "), ping
    assert perf(ping)["pl"].value == 0 and 0 < perf(ping)["rta"].value < 100
    repl = nagios.wait("db-b!replication-dr", lambda s: s["has_been_checked"] == "1" and s["current_state"] == "0")
    assert repl["plugin_output"].startswith("REPLICATION_LAG OK - "), repl
    assert perf(repl)["age"].value < 5
    assert nagios.notifications() == []


def test_cut(nagios, lab):
    conn = lab["LAB_IPSEC_CONN_PRIMARY"]
    lab_cmd("cut", "ipsec")
    try:
        vpn = nagios.wait("gw-a!vpn-dr", lambda s: s["current_state"] == "2" and s["state_type"] == "1")
        assert vpn["plugin_output"].startswith("VPN_TUNNEL CRITICAL - ") and conn in vpn["plugin_output"]
        assert "Impact: " in vpn["long_plugin_output"], vpn
        assert perf(vpn)["tunnels_up"].value == 0
        # A ping started before the tunnel turned HARD may still finish.
        time.sleep(6)
        ping_last = nagios.status()["db-b!ping-dr"]["last_check"]

        # Replication keeps being checked (execution_failure_criteria n) and
        # goes HARD CRITICAL; the ping is not executed while the tunnel is down.
        repl = nagios.wait("db-b!replication-dr", lambda s: s["current_state"] == "2" and s["state_type"] == "1",
                           timeout=90, force=False)
        assert repl["plugin_output"].startswith("REPLICATION_LAG CRITICAL - ")
        assert perf(repl)["age"].value >= 10
        time.sleep(12)  # more than two check intervals of the ping
        ping = nagios.status()["db-b!ping-dr"]
        assert ping["last_check"] == ping_last, {k: ping[k] for k in ("last_check", "plugin_output", "current_state", "state_type", "current_attempt", "check_type", "next_check")}

        deadline = time.monotonic() + 20
        while not any(n[0] == "PROBLEM" and n[1] == "gw-a!vpn-dr" for n in nagios.notifications()):
            assert time.monotonic() < deadline, nagios.notifications()
            time.sleep(0.5)
        sent = nagios.notifications()
        assert not [n for n in sent if n[1].startswith("db-b!")], sent
    finally:
        lab_cmd("restore", "ipsec", timeout=120)

    nagios.wait("db-b!replication-dr", lambda s: s["current_state"] == "0")
    vpn = nagios.wait("gw-a!vpn-dr", lambda s: s["current_state"] == "0")
    assert perf(vpn)["tunnels_up"].value == 1
    ping = nagios.wait("db-b!ping-dr", lambda s: s["current_state"] == "0" and s["last_check"] != ping_last)
    assert perf(ping)["pl"].value == 0
    deadline = time.monotonic() + 20
    while not any(n[0] == "RECOVERY" and n[1] == "gw-a!vpn-dr" for n in nagios.notifications()):
        assert time.monotonic() < deadline, nagios.notifications()
        time.sleep(0.5)
    sent = nagios.notifications()
    assert not [n for n in sent if n[1].startswith("db-b!")], sent
