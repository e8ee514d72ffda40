# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend aws-route with the targets' tunnels and
--backend aws-eip, against tests/tools/cloud_server.py (its EC2 model in
tests/tools/cloud_aws_ext.py) and fake OpenVPN management interfaces."""
import json
import time
import urllib.request

import pytest

from cloud_lab import base_env, cloud_runner, run_clean
from sitelink_fakes import FakeServer, garbage, read_line, silent
from sitelink_test import check_conventions

SVC = "VPN_TUNNEL"
ENV_KEY = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}
RTB = "rtb-0fa11ed0fa11ed001"
PRIMARY, SECONDARY, OLD = "i-0a11ce0000000000a", "i-0b0b000000000000b", "i-0c0c000000000000c"
ENI_SECONDARY = "eni-0b0b000000000000b"
VGW_A, VGW_B, VGW_C, VGW_D = ("vgw-0aaaa0000aaaa0001", "vgw-0bbbb0000bbbb0002", "vgw-0cccc0000cccc0003",
                              "vgw-0dddd0000dddd0004")


def model(server, **change):
    req = urllib.request.Request(server.url + "/_aws", data=json.dumps(change).encode(), method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())


@pytest.fixture
def cloud(server, tmp_path):
    def args_for(a, **_):
        return a + ["--region", "eu-west-1", "--endpoint-url", server.url]

    server.control(None)
    model(server, reset=True)
    yield cloud_runner(server, tmp_path, SVC, args_for, lambda creds=ENV_KEY, **_: creds or {})
    server.control(None)
    model(server, reset=True)


class Mgmt:
    """A fake OpenVPN 2.6 management interface (no password) whose state a
    test changes: CONNECTED, or RECONNECTING as during a cut."""

    def __init__(self, path):
        self.state = "CONNECTED"
        self.srv = FakeServer(self.handler, unix_path=path)
        self.path = path

    def handler(self, conn, server):
        conn.sendall(b">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n")
        while True:
            cmd = read_line(conn)
            if cmd == "state":
                now = int(time.time()) - 30
                detail = "SUCCESS,10.8.0.1,192.0.2.2,1194,," if self.state == "CONNECTED" else "ping-restart,,,,,"
                conn.sendall(f"{now},{self.state},{detail}\r\nEND\r\n".encode())
            elif cmd == "status 2":
                conn.sendall(b"OpenVPN STATISTICS\r\nTUN/TAP read bytes,10\r\nTUN/TAP write bytes,20\r\nEND\r\n")
            else:
                return


@pytest.fixture
def pair(tmp_path):
    a, b = Mgmt(str(tmp_path / "primary.sock")), Mgmt(str(tmp_path / "secondary.sock"))
    yield a, b
    a.srv.close()
    b.srv.close()


def route(cloud, dest, *extra, **kw):
    return cloud("--backend", "aws-route", "--route-table-id", RTB, "--destination", dest, *extra, **kw)


def paired(a, b):
    return ["--expect-target", PRIMARY, "--standby-target", SECONDARY,
            "--target-tunnel", f"{PRIMARY}={a.path}", "--target-tunnel", f"{SECONDARY}={b.path}"]


def action_lines(r):
    return [line for line in r.lines[1:] if line.startswith("Action: ")]


# ---- virtual private gateway targets: no extra options ------------------------

def test_gateway_with_a_tunnel_up_is_ok(cloud):
    r = route(cloud, "10.110.0.0/16")
    assert r.rc == 0, str(r)
    assert r.summary == f"route to 10.110.0.0/16 in {RTB} active via {VGW_A}, tunnel up"
    assert any(line.startswith(f"{VGW_A} (the route's target): tunnel up, 1 of 2 VPN tunnels up") for line in r.lines)
    assert set(r.perf) == {"route_active", "route_on_expected_target"}
    asked = [q for q in cloud.server.requests() if q.get("action") == "DescribeVpnConnections"]
    assert asked and asked[0]["form"]["Filter.1.Name"] == ["vpn-gateway-id"]
    assert asked[0]["form"]["Filter.1.Value.1"] == [VGW_A]


def test_gateway_with_every_tunnel_down_is_a_dead_tunnel(cloud):
    r = route(cloud, "10.111.0.0/16")
    assert r.rc == 2, str(r)
    assert r.summary == (f"traffic for 10.111.0.0/16 is routed into a dead tunnel via {VGW_B} "
                         "(0 of 2 VPN tunnels up); no target has a live tunnel")
    assert action_lines(r) == []


@pytest.mark.parametrize("dest,gw", [("10.115.0.0/16", VGW_C), ("10.116.0.0/16", VGW_D)])
def test_gateway_without_a_connection_is_a_dead_tunnel(cloud, dest, gw):
    # vgw-d's only connection is deleted: it carries nothing.
    r = route(cloud, dest)
    assert r.rc == 2, str(r)
    assert f"dead tunnel via {gw} (no VPN connection on {gw})" in r.summary


def test_dead_gateway_with_a_live_standby_gives_the_repoint_command(cloud):
    r = route(cloud, "10.111.0.0/16", "--expect-target", VGW_B, "--standby-target", VGW_A)
    assert r.rc == 2, str(r)
    assert f"the tunnel of {VGW_A} is up: repoint the route" in r.summary
    assert action_lines(r) == [f"Action: aws ec2 replace-route --route-table-id {RTB} "
                               f"--destination-cidr-block 10.111.0.0/16 --gateway-id {VGW_A}"]
    assert r.perf["route_tunnel_up"].value == 0
    assert [q["form"]["Filter.1.Value.2"] for q in cloud.server.requests()
            if q.get("action") == "DescribeVpnConnections"] == [[VGW_A]]


def test_gateway_connections_unreadable_is_unknown(cloud):
    model(cloud.server, fail={"action": "DescribeVpnConnections", "status": 403, "code": "UnauthorizedOperation"})
    r = route(cloud, "10.110.0.0/16")
    assert r.rc == 3, str(r)
    assert r.summary.startswith(f"cannot tell whether the tunnel via {VGW_A} is up: its VPN connections could not "
                                "be read: DescribeVpnConnections failed: UnauthorizedOperation"), str(r)
    # A blackhole stays CRITICAL whatever the gateways say.
    model(cloud.server, route={"dest": "10.110.0.0/16", "gatewayId": VGW_A, "state": "blackhole"})
    r = route(cloud, "10.110.0.0/16")
    assert r.rc == 2 and "blackhole" in r.summary, str(r)


def test_gateway_psk_never_printed(cloud):
    r = route(cloud, "10.111.0.0/16", "--expect-target", VGW_B, "--standby-target", VGW_A, "-vvv")
    assert r.rc == 2, str(r)
    for s in ("PSK_SECRET_ext", "pre_shared_key", "env-secret-0001"):
        assert s not in r.stdout


# ---- instance and interface targets: --target-tunnel ---------------------------

def test_primary_active_and_both_tunnels_up_is_ok(cloud, pair):
    r = route(cloud, "10.112.0.0/16", *paired(*pair))
    assert r.rc == 0, str(r)
    assert r.summary == f"route to 10.112.0.0/16 in {RTB} active via {PRIMARY}, tunnel up"
    assert r.perf["route_tunnel_up"].value == 1 and r.perf["route_on_expected_target"].value == 1
    assert f"{SECONDARY}: tunnel up, OpenVPN at {pair[1].path}: 1 of 1 tunnel(s) up" in r.lines


def test_primary_tunnel_cut_is_critical_with_the_repoint_command(cloud, pair):
    pair[0].state = "RECONNECTING"
    r = route(cloud, "10.112.0.0/16", *paired(*pair))
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"traffic for 10.112.0.0/16 is routed into a dead tunnel via {PRIMARY} "), str(r)
    assert r.summary.endswith(f"the tunnel of {SECONDARY} is up: repoint the route"), str(r)
    assert action_lines(r) == [f"Action: aws ec2 replace-route --route-table-id {RTB} "
                               f"--destination-cidr-block 10.112.0.0/16 --instance-id {SECONDARY}"]
    assert r.perf["route_tunnel_up"].value == 0


def test_on_the_standby_with_its_tunnel_up_is_warning(cloud, pair):
    pair[0].state = "RECONNECTING"
    model(cloud.server, route={"dest": "10.112.0.0/16", "instanceId": SECONDARY, "networkInterfaceId": ENI_SECONDARY})
    r = route(cloud, "10.112.0.0/16", *paired(*pair))
    assert r.rc == 1, str(r)
    assert r.summary == (f"route to 10.112.0.0/16 failed over to the standby {SECONDARY} (expected {PRIMARY}), "
                         "tunnel up")
    assert r.perf["route_on_expected_target"].value == 0 and r.perf["route_tunnel_up"].value == 1


def test_no_live_target_is_critical_without_a_command(cloud, pair):
    for m in pair:
        m.state = "RECONNECTING"
    r = route(cloud, "10.112.0.0/16", *paired(*pair))
    assert r.rc == 2, str(r)
    assert r.summary.endswith("; no target has a live tunnel"), str(r)
    assert action_lines(r) == []


def test_daemon_not_running_is_a_dead_tunnel(cloud, pair, tmp_path):
    args = paired(*pair)
    args[5] = f"{PRIMARY}={tmp_path / 'nothing.sock'}"
    r = route(cloud, "10.112.0.0/16", *args)
    assert r.rc == 2, str(r)
    assert f"dead tunnel via {PRIMARY} (OpenVPN at {tmp_path / 'nothing.sock'}: no socket at" in r.summary, str(r)
    assert len(action_lines(r)) == 1


def test_standby_tunnel_down_leaves_no_fail_over(cloud, pair):
    pair[1].state = "RECONNECTING"
    r = route(cloud, "10.112.0.0/16", *paired(*pair))
    assert r.rc == 1, str(r)
    assert r.summary.endswith(f"; no fail-over left: the tunnel of {SECONDARY} is down"), str(r)


def test_interface_target(cloud, pair):
    r = route(cloud, "10.113.0.0/16", "--target-tunnel", f"{ENI_SECONDARY}={pair[1].path}")
    assert r.rc == 0, str(r)
    assert r.summary == f"route to 10.113.0.0/16 in {RTB} active via {ENI_SECONDARY}, tunnel up"


def test_target_without_a_source_is_never_ok(cloud, pair):
    r = route(cloud, "10.112.0.0/16", "--target-tunnel", f"{SECONDARY}={pair[1].path}")
    assert r.rc == 3, str(r)
    assert r.summary == (f"cannot tell whether the tunnel via {PRIMARY} is up: no --target-tunnel says where "
                         f"the tunnel of {PRIMARY} is read")


def test_blackhole_stays_critical_and_names_a_live_target(cloud, pair):
    r = route(cloud, "10.114.0.0/16", "--target-tunnel", f"{SECONDARY}={pair[1].path}")
    assert r.rc == 2, str(r)
    assert r.summary == f"route to 10.114.0.0/16 in {RTB} is a blackhole: target {OLD} is gone"
    assert action_lines(r) == [f"Action: aws ec2 replace-route --route-table-id {RTB} "
                               f"--destination-cidr-block 10.114.0.0/16 --instance-id {SECONDARY}"]


def test_no_route_stays_critical(cloud, pair):
    r = route(cloud, "10.119.0.0/16", *paired(*pair))
    assert r.rc == 2 and r.summary == f"no route to 10.119.0.0/16 in {RTB}", str(r)


def test_ipv6_route_command(cloud, pair):
    pair[0].state = "RECONNECTING"
    r = route(cloud, "fd00:10::/48", *paired(*pair))
    assert r.rc == 2, str(r)
    assert action_lines(r) == [f"Action: aws ec2 replace-route --route-table-id {RTB} "
                               f"--destination-ipv6-cidr-block fd00:10::/48 --instance-id {SECONDARY}"]


@pytest.mark.parametrize("hostile,text", [(silent, "timed out after 2 s while "),
                                          (garbage, "not an OpenVPN management interface")])
@pytest.mark.parametrize("which", ["route's target", "standby"])
def test_hostile_target_source_is_unknown_on_time(cloud, pair, tmp_path, hostile, text, which):
    with FakeServer(hostile, unix_path=str(tmp_path / "hostile.sock")) as h:
        args = paired(*pair)
        index, target = (5, PRIMARY) if which == "route's target" else (7, SECONDARY)
        args[index] = f"{target}={h.address}"
        r = route(cloud, "10.112.0.0/16", *args, timeout=2)
    assert r.rc == 3, str(r)
    assert text in r.summary, str(r)
    assert r.elapsed < 2.5, str(r)


@pytest.mark.parametrize("fault,text", [("hang", "timed out after 2 s while calling DescribeRouteTables"),
                                        ("malformed", "malformed XML from EC2")])
def test_ec2_faults_end_on_time(cloud, pair, fault, text):
    cloud.server.control(fault, "ec2")
    r = route(cloud, "10.112.0.0/16", *paired(*pair), timeout=2)
    assert r.rc == 3 and text in r.summary and r.elapsed < 2.5, str(r)
    if fault == "malformed":
        assert r.perf["route_tunnel_up"].value is None


# ---- aws-eip --------------------------------------------------------------------

def eip(cloud, ip, expect, standby=None, **kw):
    a = ["--backend", "aws-eip", "--expect-instance", expect]
    a += ["--allocation-id", ip] if ip.startswith("eipalloc-") else ["--public-ip", ip]
    if standby:
        a += ["--standby-instance", standby]
    return cloud(*a, **kw)


def test_eip_on_the_expected_instance_is_ok(cloud):
    r = eip(cloud, "198.51.100.10", PRIMARY, SECONDARY)
    assert r.rc == 0, str(r)
    assert r.summary == f"Elastic IP 198.51.100.10 on the expected instance {PRIMARY} (vpn-primary) (running)"
    assert r.perf["eip_on_expected_instance"].value == 1 and r.perf["eip_instance_running"].value == 1
    r = eip(cloud, "eipalloc-0e1a0000000000001", PRIMARY)
    assert r.rc == 0 and r.summary.startswith("Elastic IP 198.51.100.10 on the expected"), str(r)


def test_eip_on_the_standby_is_warning(cloud):
    r = eip(cloud, "198.51.100.11", PRIMARY, SECONDARY)
    assert r.rc == 1, str(r)
    assert r.summary == (f"Elastic IP 198.51.100.11 failed over to the standby {SECONDARY} (vpn-secondary) "
                         f"(expected {PRIMARY}, running)")
    assert r.perf["eip_on_expected_instance"].value == 0


def test_eip_not_associated_is_critical_with_the_command(cloud):
    r = eip(cloud, "198.51.100.12", PRIMARY, SECONDARY)
    assert r.rc == 2, str(r)
    assert r.summary == "Elastic IP 198.51.100.12 is not associated with any instance"
    assert action_lines(r) == ["Action: aws ec2 associate-address --allocation-id eipalloc-0e1a0000000000003 "
                               f"--instance-id {PRIMARY} --allow-reassociation"]
    assert r.perf["eip_associated"].value == 0
    r = eip(cloud, "198.51.100.14", PRIMARY)
    assert r.rc == 2 and r.summary.endswith("(on eni-0f0f000000000000f alone)"), str(r)


def test_eip_on_another_instance_is_critical(cloud):
    r = eip(cloud, "198.51.100.10", SECONDARY, OLD)
    assert r.rc == 2, str(r)
    assert "neither the expected" in r.summary and PRIMARY in r.summary


def test_eip_instance_not_running_is_critical(cloud):
    r = eip(cloud, "198.51.100.13", OLD)
    assert r.rc == 2 and r.summary == f"Elastic IP 198.51.100.13 is on {OLD} (vpn-old), which is stopped", str(r)
    model(cloud.server, instance={PRIMARY: "stopping"})
    r = eip(cloud, "198.51.100.10", PRIMARY, SECONDARY)
    assert r.rc == 2 and r.summary.endswith("which is stopping"), str(r)
    assert action_lines(r)[0].endswith(f"--instance-id {SECONDARY} --allow-reassociation")


def test_eip_standby_not_running_leaves_no_fail_over(cloud):
    model(cloud.server, instance={SECONDARY: "stopped"})
    r = eip(cloud, "198.51.100.10", PRIMARY, SECONDARY)
    assert r.rc == 1, str(r)
    assert r.summary.endswith(f"; no fail-over left: the standby {SECONDARY} is stopped"), str(r)


def test_eip_not_found_is_critical(cloud):
    r = eip(cloud, "198.51.100.99", PRIMARY)
    assert r.rc == 2 and r.summary == "Elastic IP 198.51.100.99 not found (released, or in another region)", str(r)
    r = eip(cloud, "eipalloc-0e1a00000000000ff", PRIMARY)
    assert r.rc == 2 and "not found" in r.summary, str(r)


@pytest.mark.parametrize("fault,text", [("hang", "timed out after 2 s while calling DescribeAddresses"),
                                        ("malformed", "malformed XML from EC2"),
                                        ("500", "InternalError")])
def test_eip_faults_end_on_time(cloud, fault, text):
    cloud.server.control(fault, "ec2")
    r = eip(cloud, "198.51.100.10", PRIMARY, timeout=2)
    assert r.rc == 3 and text in r.summary and r.elapsed < 2.5, str(r)
    if fault != "hang":
        assert r.perf["eip_associated"].value is None


def test_eip_auth_failure_is_unknown(cloud):
    r = eip(cloud, "198.51.100.10", PRIMARY,
            creds={"AWS_ACCESS_KEY_ID": "AKIANOPERMISSION0007", "AWS_SECRET_ACCESS_KEY": "noperm-secret-0007"})
    assert r.rc == 3 and "UnauthorizedOperation" in r.summary and "noperm-secret" not in r.stdout, str(r)


# ---- usage errors ----------------------------------------------------------------

R = ["--backend", "aws-route", "--route-table-id", RTB, "--destination", "10.112.0.0/16"]
E = ["--backend", "aws-eip"]


@pytest.mark.parametrize("args,text", [
    (R + ["--target-tunnel", PRIMARY], "--target-tunnel"),
    (R + ["--target-tunnel", f"={'/run/x.sock'}"], "--target-tunnel"),
    (R + ["--target-tunnel", f"{PRIMARY}="], "--target-tunnel"),
    (R + ["--target-tunnel", "tgw-0123456789abcdef0=/run/x.sock"], "unknown target type"),
    (R + ["--target-tunnel", f"{VGW_A}=/run/x.sock"], "read from EC2"),
    (R + ["--target-tunnel", f"{PRIMARY}=host-without-port"], "--target-tunnel"),
    (R + ["--target-tunnel", f"{PRIMARY}=/a", "--target-tunnel", f"{PRIMARY}=/b"], "each target once"),
    (R + ["--expect-target", PRIMARY, "--standby-target", PRIMARY], "--standby-target"),
    (R + ["--standby-target", SECONDARY], "needs --expect-target"),
    (R + ["--expect-target", PRIMARY, "--standby-target", "pcx-0123456789abcdef0"], "unknown target type"),
    (R + ["--management-password-file", "/etc/hostname"], "--management-password-file"),
    (R + ["--public-ip", "198.51.100.10"], "--public-ip"),
    (E + ["--expect-instance", PRIMARY], "--public-ip"),
    (E + ["--public-ip", "198.51.100.10", "--allocation-id", "eipalloc-0e1a0000000000001",
          "--expect-instance", PRIMARY], "one of --public-ip"),
    (E + ["--public-ip", "198.51.100.300", "--expect-instance", PRIMARY], "--public-ip"),
    (E + ["--allocation-id", "eipalloc-zz", "--expect-instance", PRIMARY], "--allocation-id"),
    (E + ["--public-ip", "198.51.100.10"], "--expect-instance"),
    (E + ["--public-ip", "198.51.100.10", "--expect-instance", "vgw-0123456789abcdef0"], "--expect-instance"),
    (E + ["--public-ip", "198.51.100.10", "--expect-instance", PRIMARY, "--standby-instance", PRIMARY],
     "--standby-instance"),
    (E + ["--public-ip", "198.51.100.10", "--expect-instance", PRIMARY, "--route-table-id", RTB],
     "--route-table-id"),
    (["--backend", "aws", "--vpn-connection-id", "vpn-0a1b2c3d4e5f60001", "--standby-target", PRIMARY],
     "--standby-target"),
    (["--backend", "openvpn", "--management", "/run/x.sock", "--expect-instance", PRIMARY], "--expect-instance"),
])
def test_usage_errors(tmp_path, args, text):
    r = run_clean(args, base_env(tmp_path))
    check_conventions(r, SVC)
    assert r.rc == 3 and text in r.lines[0], str(r)
