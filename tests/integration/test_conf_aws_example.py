# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped aws-active-passive example (icinga-conf/examples/) run end to
end by a real Icinga 2 in site A's namespace, against the AWS test server
(tests/tools/cloud_server.py) started in the same namespace. Every file of
the example is loaded as shipped; the only change is the path of the mail
program in notifications.conf, which becomes a script that appends each
mail to a file. The checks reach the test server through AWS_ENDPOINT_URL
and read the example catalog through SITELINK_RUNBOOKS (the daemon's
environment), so hosts.conf is untouched.

The payment provider's API (172.31.200.10:443 in hosts.conf) is a TCP
listener on that address in the namespace. Normal state: one tunnel UP and
one DOWN, the provider answers: no mail. Cut: both tunnels DOWN and the
provider silent: exactly one mail, for the tunnel service, carrying the
payment-status-vpn entry's impact, actions and title; the provider's ping
and host stay silent. Restore: one recovery mail. Checks are forced through
the API (the example runs the cloud check once a minute), so the time to
page measured here is the forced one, not the example's schedule."""
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time

import pytest

from sitelink_icinga import ICINGA_CONF, Icinga, IcingaApi, lab_icinga
from sitelink_test import BUILD, SOURCE

CN = "icinga-aws"
EXAMPLE = os.path.join(ICINGA_CONF, "examples", "aws-active-passive")
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")
SERVER = os.path.join(SOURCE, "tests", "tools", "cloud_server.py")
SIGNER = os.path.join(BUILD, "tests", "tools", "sigv4_tool")
VPN_ID = "vpn-0a1b2c3d4e5f67890"  # as in the example's hosts.conf
PROVIDER = "172.31.200.10"        # the provider's API in hosts.conf
VPN = ("aws-vpn-payments", "vpn-payment-status")
PING = ("payment-provider-api", "ping-payment-status")
# Test keys the server accepts (tests/tools/cloud_server.py); not secrets.
CREDS = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}


def main_conf(password, plugins):
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

include "example/*.conf"
"""


class NsProcess:
    """A process this test starts in the lab namespace, stopped by its own
    process group."""

    def __init__(self, ns, args, first_line=False):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns] + args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        self.line = self.proc.stdout.readline() if first_line else ""

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


LISTENER = f"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("{PROVIDER}", 443))
s.listen(16)
print("LISTENING", flush=True)
while True:
    c, _ = s.accept()
    c.close()
"""


class Lab:
    def __init__(self, lab, root):
        self.ns = lab["LAB_NS_A"]
        self.root = root
        self.server = NsProcess(self.ns, ["python3", SERVER, "--signer", SIGNER], first_line=True)
        assert self.server.line.startswith("PORT "), f"cloud_server did not start: {self.server.line!r}"
        self.url = f"http://127.0.0.1:{int(self.server.line.split()[1])}"
        self.provider = None

    def aws(self, change):
        p = subprocess.run(["ip", "netns", "exec", self.ns, "curl", "-sS", "--max-time", "20", "-X", "POST",
                            "--data-binary", json.dumps(change), self.url + "/_aws"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 0, p.stderr

    def tunnels(self, *states):
        self.aws({"telemetry": {VPN_ID: list(states)}})

    def ip(self, *args):
        subprocess.run(["ip", "-n", self.ns] + list(args), capture_output=True, timeout=30)

    def provider_up(self):
        if not self.provider:
            self.ip("route", "del", "blackhole", f"{PROVIDER}/32")
            self.ip("addr", "add", f"{PROVIDER}/32", "dev", "lo")
            self.provider = NsProcess(self.ns, ["python3", "-c", LISTENER], first_line=True)
            assert self.provider.line.startswith("LISTENING"), self.provider.line

    def provider_down(self):
        """Gone as across a dead tunnel: a refused connection would read as
        "host alive", so the address goes and its route drops everything."""
        if self.provider:
            self.provider.stop()
            self.provider = None
        self.ip("addr", "del", f"{PROVIDER}/32", "dev", "lo")
        self.ip("route", "replace", "blackhole", f"{PROVIDER}/32")


def mail_script(path, log):
    """Stands in for /usr/bin/mail: one block per mail, its arguments and body."""
    with open(path, "w") as fh:
        fh.write(f"#!/bin/sh\n{{ printf '=== MAIL %s\\n' \"$*\"; cat; printf '=== END\\n'; }} >> '{log}'\n")
    os.chmod(path, 0o755)


@pytest.fixture(scope="module")
def aws(lab):
    root = os.path.join(lab["LAB_STATE"], "conf-aws-example")
    shutil.rmtree(root, ignore_errors=True)
    ic = Icinga(root)
    mail_log = ic.path("mail.log")
    open(mail_log, "w").close()
    mail_script(ic.path("mail"), mail_log)
    lab_icinga("icinga-cli", root, "api", "setup", "--cn", CN)
    password = secrets.token_hex(16)
    ic.write("icinga2.conf", main_conf(password, ic.plugin_dir()))
    for f in sorted(os.listdir(EXAMPLE)):
        text = open(os.path.join(EXAMPLE, f)).read()
        if f == "notifications.conf":
            assert text.count("/usr/bin/mail") == 2, "the example's mail commands changed"
            text = text.replace("/usr/bin/mail", ic.path("mail"))
        ic.write(os.path.join("example", f), text)
    t = None
    try:
        t = Lab(lab, root)
        # The example's connection in the server's EC2 model: the normal state,
        # the customer gateway using one tunnel of two.
        t.aws({"vpn": {VPN_ID: {"gateway": "vgw-0e0e0000000000e05", "state": "available",
                                "telemetry": [["203.0.113.151", "UP"], ["203.0.113.152", "DOWN"]]}}})
        t.provider_up()
        env = dict(CREDS, AWS_ENDPOINT_URL=t.url, SITELINK_RUNBOOKS=CATALOG, HOME=root,
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.path.join(root, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(root, "no-aws-credentials"))
        lab_icinga("icinga-start", "aws-example", "a", root, "127.0.0.1:5665", env=env)
        api = IcingaApi(lab["LAB_NS_A"], ic, CN, password)
        api.lab, api.mail_log, api.ic = t, mail_log, ic
        yield api
    finally:
        try:
            lab_icinga("icinga-stop", "aws-example")
        except AssertionError as e:
            print(e)
        if t:
            t.provider_down()
            t.ip("route", "del", "blackhole", f"{PROVIDER}/32")
            t.server.stop()


def mails(api):
    text = open(api.mail_log).read()
    return re.findall(r"^=== MAIL (.*?)\n(.*?)^=== END$", text, flags=re.S | re.M)


def force_host(api, host, timeout=60):
    t0 = time.time()
    r = api.request("POST", "actions/reschedule-check", {
        "type": "Host", "filter": "host.name == h", "filter_vars": {"h": host}, "force": True})
    assert r.get("results") and r["results"][0]["code"] == 200, r
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        a = api.request("GET", f"objects/hosts/{host}")["results"][0]["attrs"]
        if (a.get("last_check_result") or {}).get("schedule_end", 0) >= t0:
            return a
        time.sleep(0.3)
    raise AssertionError(f"no new check result for host {host} within {timeout} s")


def force_until(api, host_svc, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        a = api.force(*host_svc)
        if pred(a):
            return a
        out = a["last_check_result"]["output"].split("\n")[0]
        assert time.monotonic() < deadline, f"{'!'.join(host_svc)}: state {a['state']} {out}"
        time.sleep(1)


def wait_mail(api, pred, what, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mails(api) if pred(m)]
        if found:
            return found
        assert time.monotonic() < deadline, f"no mail for {what} within {timeout} s: {mails(api)}"
        time.sleep(0.5)


def hard(state):
    return lambda a: a["state"] == state and a["state_type"] == 1


def test_normal_state_is_quiet(aws):
    vpn = force_until(aws, VPN, hard(0))
    first = vpn["last_check_result"]["output"].split("\n")[0]
    assert first.startswith("VPN_TUNNEL OK - "), first
    cmd = vpn["last_check_result"]["command"]
    assert cmd[cmd.index("--backend") + 1] == "aws" and cmd[cmd.index("--runbook") + 1] == "payment-status-vpn"
    assert cmd[cmd.index("-w") + 1] == "1:1" and cmd[cmd.index("-c") + 1] == "1:"
    assert vpn["check_interval"] == 60  # the cloud template: one API call a minute
    ping = force_until(aws, PING, lambda a: a["state"] == 0)
    # Icinga ignores a SOFT parent: the dependents must turn HARD later than
    # the tunnel check can confirm a cut on its own schedule (interval, then
    # retries), or one of them pages first.
    host = aws.request("GET", f"objects/hosts/{PING[0]}")["results"][0]["attrs"]
    worst = vpn["check_interval"] + (vpn["max_check_attempts"] - 1) * vpn["retry_interval"]
    for dep in (ping, host):
        assert (dep["max_check_attempts"] - 1) * dep["retry_interval"] > worst, (dep["max_check_attempts"], worst)
    assert ping["last_check_result"]["output"].startswith("CROSS_SITE_PING OK - ")
    assert force_host(aws, PING[0])["state"] == 0
    time.sleep(3)  # a (wrong) notification would be on its way by now
    assert mails(aws) == []


def test_both_tunnels_down_pages_once_with_the_runbook(aws):
    t0 = time.monotonic()
    aws.lab.tunnels("DOWN", "DOWN")
    aws.lab.provider_down()
    vpn = force_until(aws, VPN, hard(2))
    first = vpn["last_check_result"]["output"].split("\n")[0]
    assert first.startswith("VPN_TUNNEL CRITICAL - "), first
    page = wait_mail(aws, lambda m: "PROBLEM" in m[0] and "vpn-payment-status" in m[0], "the tunnel")
    aws.time_to_page = time.monotonic() - t0
    print(f"time to page (checks forced): {aws.time_to_page:.1f} s")
    args, body = page[0]
    assert "oncall@example.org" in args and "CRITICAL" in args
    entry = json.load(open(CATALOG))["runbooks"]["payment-status-vpn"]
    # The plugin's runbook block (the catalog entry's critical texts and
    # its title), then the notes and URL the example set from the same entry.
    for line in entry["impact"]["critical"]:
        assert f"Impact: {line}" in body, (line, body)
    for line in entry["actions"]["critical"]:
        assert f"Action: {line}" in body, (line, body)
    assert f"Runbook: {entry['title']} <{entry['url']}>" in body, body
    assert f"Impact: {entry['impact']['critical'][0]}\nRunbook: {entry['url']}" in body, body
    assert "dr-vpn" not in body and "DR site" not in body

    # The provider's API fails too, but it is behind the tunnel: no mail.
    ping = force_until(aws, PING, hard(2))
    assert ping["last_check_result"]["output"].startswith("CROSS_SITE_PING CRITICAL - ")
    assert ping["last_reachable"] is False
    host = force_host(aws, PING[0])
    assert host["state"] == 1 and host["last_reachable"] is False, host["last_check_result"]["output"]
    time.sleep(8)  # the notification component re-examines suppressed ones every few seconds
    sent = mails(aws)
    assert len(sent) == 1, sent


def test_restore_sends_one_recovery(aws):
    # The provider first: its checks are back to OK before the tunnel
    # recovers, so nothing of theirs is held back to be sent then.
    aws.lab.provider_up()
    force_until(aws, PING, lambda a: a["state"] == 0)
    deadline = time.monotonic() + 60
    while force_host(aws, PING[0])["state"] != 0:
        assert time.monotonic() < deadline, "the provider's host did not come back"
        time.sleep(1)
    aws.lab.tunnels("UP", "DOWN")
    vpn = force_until(aws, VPN, lambda a: a["state"] == 0)
    assert vpn["last_check_result"]["output"].startswith("VPN_TUNNEL OK - ")
    wait_mail(aws, lambda m: "RECOVERY" in m[0] and "vpn-payment-status" in m[0], "the recovery")
    time.sleep(5)
    sent = [m[0] for m in mails(aws)]
    assert len(sent) == 2 and "PROBLEM" in sent[0] and "RECOVERY" in sent[1], sent
    assert all("vpn-payment-status" in s for s in sent), sent
