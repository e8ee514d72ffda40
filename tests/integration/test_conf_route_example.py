# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped openvpn-route-failover example (icinga-conf/examples/) run end
to end by a real Icinga 2 in site A's namespace, against the AWS test server
(tests/tools/cloud_server.py, route table model) and two real OpenVPN
tunnels (the pair of test_vpn_route_failover: servers at site B, clients at
site A). The Icinga instance, the mail capture and the forcing helpers are
test_conf_aws_example's.

Every file of the example is loaded; what changes is only what must point
at the lab:
- the route: the test server's table and destination (its model has no
  rtb-0123456789abcdef0), the instance IDs are the example's own;
- the servers' management interfaces: the pair's unix sockets instead of
  10.0.x.5:7505 (the lab's servers ask no password; the example's password
  file option stays, pointing at a real file);
- no Icinga agents run on the servers: the two pings lose their
  command_endpoint and the agent endpoints their address, so the pings run
  on the master, from the client ends of the same two tunnels (each pings
  its server's tunnel address: 10.8.1.2 through the primary, 10.8.2.2
  through the secondary); the servers' own host checks go to site B's WAN
  address;
- the application behind the route (dc-app-1) lives on site B's loopback,
  reached from site A through the tunnel the route points at (a host route
  in site A that the test moves with each repoint, as the VPC does);
- the mail program (as in test_conf_aws_example).

Scenario: healthy (no mail); the primary's tunnel cut (UDP dropped at the
client): the route service pages once with the openvpn-route-vpn entry and
the replace-route Action line, the ping through the primary and the
application host stay silent; repointed as the Action line says: WARNING
(failed over), no page for it; the ping through the dead primary, HARD
CRITICAL since the cut and reachable again once its parent is WARNING, then
pages once (Icinga sends the notification it held back): the entry's "no
fail-over left"; restored and repointed back: the two recoveries, nothing
else. The application host never pages."""
import json
import os
import re
import shlex
import shutil
import secrets
import subprocess
import time

import pytest

from sitelink_icinga import Icinga, IcingaApi, lab_icinga
from test_conf_aws_example import CN as AWS_CN
from test_conf_aws_example import (CATALOG, CREDS, ICINGA_CONF, Lab, force_host, force_until, hard, mail_script,
                                   mails, main_conf, wait_mail)
from test_vpn_route_failover import DEST, PRIMARY, RTB, SECONDARY, TUNNELS, cut_primary, pair, restore_primary

assert pair  # the fixture, imported for its name
CN = "icinga-route"
EXAMPLE = os.path.join(ICINGA_CONF, "examples", "openvpn-route-failover")
ROUTE = ("aws-route-onprem", "vpn-onprem-route")
PING_A = ("ovpn-a.example.org", "ping-onprem-via-a")
PING_B = ("ovpn-b.example.org", "ping-onprem-via-b")
APP_HOST, APP = "dc-app-1", "10.112.1.10"  # in DEST, on site B's loopback
DEV = {PRIMARY: TUNNELS["primary"][1], SECONDARY: TUNNELS["secondary"][1]}
FAR = {PRIMARY: TUNNELS["primary"][2], SECONDARY: TUNNELS["secondary"][2]}  # the servers' tunnel addresses


def sub(text, old, new, count=1):
    assert text.count(old) == count, f"the example changed: {old!r} found {text.count(old)} times"
    return text.replace(old, new)


def lab_hosts(text, lab, mgmt, pw_file):
    """hosts.conf pointed at the lab (see the module's docstring)."""
    text = sub(text, '"i-0a11ce0000000000a=10.0.1.5:7505"', f'"{PRIMARY}={mgmt["primary"]}"')
    text = sub(text, '"i-0b0b000000000000b=10.0.2.5:7505"', f'"{SECONDARY}={mgmt["secondary"]}"')
    text = sub(text, "rtb-0123456789abcdef0", RTB, 2)
    text = sub(text, '"10.50.0.0/16"', f'"{DEST}"')
    text = sub(text, '"/etc/sitelink/openvpn-management.pass"', f'"{pw_file}"')
    text = re.sub(r'(?m)^\s*command_endpoint = "ovpn-[ab]\.example\.org"\n', "", text)
    a, b = text.split('object Host "ovpn-b.example.org"')
    a = sub(a, '[ "10.50.1.10" ]', f'[ "{FAR[PRIMARY]}" ]')
    b = sub(b, '[ "10.50.1.10" ]', f'[ "{FAR[SECONDARY]}" ]')
    b = sub(b, 'address = "10.50.1.10"', f'address = "{APP}"')
    text = a + 'object Host "ovpn-b.example.org"' + b
    text = sub(text, 'address = "10.0.1.5"', f'address = "{lab["LAB_WAN_B"]}"')
    return sub(text, 'address = "10.0.2.5"', f'address = "{lab["LAB_WAN_B"]}"')


def lab_main_conf(password, plugins):
    """test_conf_aws_example's main file, the zones left to the example's
    zones.conf (its master zone is where the example's hosts live)."""
    text = main_conf(password, plugins).replace(f'"{AWS_CN}"', f'"{CN}"')
    text = sub(text, f'const ZoneName = "{CN}"', 'const ZoneName = "master"')
    text = sub(text, "object Endpoint NodeName { }\n", "")
    return sub(text, "object Zone ZoneName { endpoints = [ NodeName ] }\n", "")


def ns_run(ns, *args, check=True):
    p = subprocess.run(["ip", "netns", "exec", ns] + list(args), capture_output=True, text=True, timeout=30)
    assert not check or p.returncode == 0, f"{args}: {p.stdout}{p.stderr}"
    return p


def wait_ping(ns, address, ok=True, timeout=60):
    deadline = time.monotonic() + timeout
    while (ns_run(ns, "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0) != ok:
        assert time.monotonic() < deadline, f"ping {address} {'never answered' if ok else 'still answers'}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def route(lab, pair):
    ns_a, ns_b = lab["LAB_NS_A"], lab["LAB_NS_B"]
    root = os.path.join(lab["LAB_STATE"], "conf-route-example")
    shutil.rmtree(root, ignore_errors=True)
    ic = Icinga(root)
    mail_log = ic.path("mail.log")
    open(mail_log, "w").close()
    mail_script(ic.path("mail"), mail_log)
    pw_file = ic.path("openvpn-management.pass")
    fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(12) + "\n")
    lab_icinga("icinga-cli", root, "api", "setup", "--cn", CN)
    password = secrets.token_hex(16)
    ic.write("icinga2.conf", lab_main_conf(password, ic.plugin_dir()))
    for f in sorted(os.listdir(EXAMPLE)):
        text = open(os.path.join(EXAMPLE, f)).read()
        if f == "notifications.conf":
            text = sub(text, "/usr/bin/mail", ic.path("mail"), 2)
        elif f == "hosts.conf":
            text = lab_hosts(text, lab, pair, pw_file)
        elif f == "zones.conf":  # no agents to connect to
            text = sub(text, '\thost = "10.0.1.5"\n', "")
            text = sub(text, '\thost = "10.0.2.5"\n', "")
        ic.write(os.path.join("example", f), text)
    t = None
    try:
        # Both tunnels carry traffic before Icinga's first check (else that
        # check would page for the start-up).
        wait_ping(ns_a, FAR[PRIMARY])
        wait_ping(ns_a, FAR[SECONDARY])
        ns_run(ns_b, "ip", "addr", "replace", f"{APP}/32", "dev", "lo")
        ns_run(ns_a, "ip", "route", "replace", f"{APP}/32", "dev", DEV[PRIMARY])
        wait_ping(ns_a, APP)
        t = Lab(lab, root)
        env = dict(CREDS, AWS_ENDPOINT_URL=t.url, SITELINK_RUNBOOKS=CATALOG, HOME=root,
                   AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.path.join(root, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(root, "no-aws-credentials"))
        lab_icinga("icinga-start", "route-example", "a", root, "127.0.0.1:5665", env=env)
        api = IcingaApi(ns_a, ic, CN, password)
        api.lab, api.labenv, api.mail_log, api.ns = t, lab, mail_log, ns_a
        yield api
    finally:
        try:
            lab_icinga("icinga-stop", "route-example")
        except AssertionError as e:
            print(e)
        ns_run(ns_a, "ip", "route", "del", f"{APP}/32", check=False)
        ns_run(ns_b, "ip", "addr", "del", f"{APP}/32", "dev", "lo", check=False)
        if t:
            t.server.stop()


def repoint(api, instance):
    """Moves the VPC route as a replace-route does: the site's own path to
    the application first (so its host is back before the route service
    lifts the dependency), then the test server's route table."""
    ns_run(api.ns, "ip", "route", "replace", f"{APP}/32", "dev", DEV[instance])
    wait_ping(api.ns, APP)
    deadline = time.monotonic() + 60
    while force_host(api, APP_HOST)["state"] != 0:
        assert time.monotonic() < deadline, f"{APP_HOST} did not come back through {instance}"
        time.sleep(1)
    api.lab.aws({"route": {"dest": DEST, "instanceId": instance}})


def pages(api):
    return [m for m in mails(api) if "oncall@example.org" in m[0]]


def tickets(api):
    """Office-hours tickets (WARNING): whether one is sent depends on the
    clock; never a page."""
    return [m for m in mails(api) if "servicedesk@example.org" in m[0]]


def first(attrs):
    return attrs["last_check_result"]["output"].split("\n")[0].rstrip()


def test_healthy_is_quiet(route):
    vpn = force_until(route, ROUTE, hard(0), timeout=90)
    assert first(vpn) == f"VPN_TUNNEL OK - route to {DEST} in {RTB} active via {PRIMARY}, tunnel up", first(vpn)
    cmd = vpn["last_check_result"]["command"]
    assert cmd[cmd.index("--backend") + 1] == "aws-route" and cmd[cmd.index("--runbook") + 1] == "openvpn-route-vpn"
    assert "--management-password-file" in cmd
    assert vpn["check_interval"] == 5  # sees a cut before the pings do (hosts.conf)
    for svc in (PING_A, PING_B):
        ping = force_until(route, svc, lambda a: a["state"] == 0)
        assert first(ping).startswith("CROSS_SITE_PING OK - "), first(ping)
        assert not ping.get("command_endpoint")  # run by the master (no agents in the lab)
    assert force_host(route, APP_HOST)["state"] == 0
    time.sleep(3)  # a (wrong) notification would be on its way by now
    assert mails(route) == []


def test_cut_pages_once_with_the_runbook(route):
    t0 = time.monotonic()
    cut_primary(route.labenv)
    vpn = force_until(route, ROUTE, hard(2), timeout=90)
    assert first(vpn).startswith(f"VPN_TUNNEL CRITICAL - traffic for {DEST} is routed into a dead tunnel via "
                                 f"{PRIMARY} "), first(vpn)
    out = vpn["last_check_result"]["output"]
    repoint_cmd = (f"aws ec2 replace-route --route-table-id {RTB} --destination-cidr-block {DEST} "
                   f"--instance-id {SECONDARY}")
    assert f"Action: {repoint_cmd}" in out.split("\n"), out
    page = wait_mail(route, lambda m: "PROBLEM" in m[0] and ROUTE[1] in m[0], "the route")
    print(f"time to page from the cut (route check forced): {time.monotonic() - t0:.1f} s")
    args, body = page[0]
    assert "oncall@example.org" in args and "CRITICAL" in args, args
    entry = json.load(open(CATALOG))["runbooks"]["openvpn-route-vpn"]
    assert f"Action: {repoint_cmd}" in body, body
    for line in entry["impact"]["critical"]:
        assert f"Impact: {line}" in body, (line, body)
    for line in entry["actions"]["critical"]:
        assert f"Action: {line}" in body, (line, body)
    assert f"Runbook: {entry['title']} <{entry['url']}>" in body, body
    assert f"Impact: {entry['impact']['critical'][0]}\nRunbook: {entry['url']}" in body, body
    assert "dr-vpn" not in body and "DR site" not in body
    route.repoint_cmd = repoint_cmd

    # Behind the cut: the ping through the primary and the application fail, silently.
    ping = force_until(route, PING_A, hard(2))
    assert first(ping).startswith("CROSS_SITE_PING CRITICAL - ") and ping["last_reachable"] is False, first(ping)
    host = force_host(route, APP_HOST)
    assert host["state"] == 1 and host["last_reachable"] is False, host["last_check_result"]["output"]
    assert force_until(route, PING_B, lambda a: True)["state"] == 0  # the standby still carries
    time.sleep(8)  # the notification component re-examines suppressed ones every few seconds
    assert len(mails(route)) == 1, mails(route)


def test_repoint_is_warning_without_a_page(route):
    words = shlex.split(route.repoint_cmd)
    opts = dict(zip(words[3::2], words[4::2]))
    assert opts["--route-table-id"] == RTB and opts["--destination-cidr-block"] == DEST
    repoint(route, opts["--instance-id"])
    vpn = force_until(route, ROUTE, hard(1))
    assert first(vpn) == (f"VPN_TUNNEL WARNING - route to {DEST} failed over to the standby {SECONDARY} "
                          f"(expected {PRIMARY}), tunnel up"), first(vpn)
    assert force_host(route, APP_HOST)["state"] == 0
    # The ping through the dead primary is reachable again (its parent is
    # WARNING) and still CRITICAL: the held page goes out, "no fail-over left".
    ping = force_until(route, PING_A, hard(2))
    assert ping["last_reachable"] is True, ping
    page = wait_mail(route, lambda m: "PROBLEM" in m[0] and PING_A[1] in m[0], "the ping through the primary",
                     timeout=60)
    args, body = page[0]
    assert "oncall@example.org" in args and "CRITICAL" in args, args
    entry = json.load(open(CATALOG))["runbooks"]["openvpn-route-vpn"]
    assert f"Impact: {entry['impact']['critical'][1]}\nRunbook: {entry['url']}" in body, body
    time.sleep(5)
    sent = [m[0] for m in pages(route)]
    assert len(sent) == 2 and ROUTE[1] in sent[0] and PING_A[1] in sent[1], sent
    assert all(ROUTE[1] in m[0] and "WARNING" in m[0] for m in tickets(route)), tickets(route)
    assert len(tickets(route)) <= 1, tickets(route)


def test_restore_and_repoint_back_recover(route):
    restore_primary(route.labenv)
    wait_ping(route.ns, FAR[PRIMARY])
    force_until(route, PING_A, lambda a: a["state"] == 0)
    wait_mail(route, lambda m: "RECOVERY" in m[0] and PING_A[1] in m[0], "the ping's recovery")
    vpn = force_until(route, ROUTE, lambda a: "\n" + PRIMARY + ": tunnel up" in a["last_check_result"]["output"])
    assert vpn["state"] == 1  # still on the standby until repointed
    repoint(route, PRIMARY)
    vpn = force_until(route, ROUTE, lambda a: a["state"] == 0)
    assert first(vpn) == f"VPN_TUNNEL OK - route to {DEST} in {RTB} active via {PRIMARY}, tunnel up", first(vpn)
    wait_mail(route, lambda m: "RECOVERY" in m[0] and ROUTE[1] in m[0], "the route's recovery")
    time.sleep(5)
    sent = [m[0] for m in pages(route)]
    assert len(sent) == 4, sent
    assert "PROBLEM" in sent[0] and ROUTE[1] in sent[0] and "RECOVERY" in sent[3] and ROUTE[1] in sent[3], sent
    assert "PROBLEM" in sent[1] and "RECOVERY" in sent[2] and all(PING_A[1] in m for m in sent[1:3]), sent
    assert not any(APP_HOST in m or PING_B[1] in m for m in sent), sent
    # In office hours a WARNING ticket and its recovery (the clock decides).
    assert len(tickets(route)) <= 2 and all(ROUTE[1] in m[0] for m in tickets(route)), tickets(route)

