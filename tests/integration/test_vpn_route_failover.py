# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend aws-route with two real OpenVPN tunnels.

Two OpenVPN servers at site B stand for the primary and secondary VPN
instances of a VPC (their management sockets are what --target-tunnel reads);
two OpenVPN clients at site A are the on-premises ends. The route table is
the AWS test server's (tests/tools/cloud_server.py). The test cuts the
primary's tunnel on the client side, applies the repoint command the check
prints, restores the cut and repoints back, and records how long each
transition took to show. The daemons are this file's own, started inside
the lab's namespaces on their own ports and stopped by PID."""
import json
import os
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from cloud_lab import CloudServer, base_env, run_clean
from conftest import poll
from sitelink_test import check_conventions

SVC = "VPN_TUNNEL"
RTB = "rtb-0fa11ed0fa11ed001"
DEST = "10.112.0.0/16"  # the route to the on-premises network in the test server's table
PRIMARY, SECONDARY = "i-0a11ce0000000000a", "i-0b0b000000000000b"
ENV_KEY = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}
# name -> (UDP port, TUN device, server tunnel address, client tunnel address)
TUNNELS = {"primary": (1195, "ovpnp0", "10.8.1.2", "10.8.1.1"),
           "secondary": (1196, "ovpns0", "10.8.2.2", "10.8.2.1")}
CUT_TABLE = "sitelink_route_failover"


def fingerprint(cert):
    out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1]


def write_conf(path, lab, name, server, mgmt):
    port, dev, server_ip, client_ip = TUNNELS[name]
    pki = os.path.join(lab["LAB_STATE"], "pki")
    me, peer = ("b", "a") if server else ("a", "b")
    lines = [f"dev {dev}", "dev-type tun", "disable-dco", "proto udp", f"lport {port}",
             f"cert {pki}/ovpn-{me}.crt", f"key {pki}/ovpn-{me}.key",
             f"peer-fingerprint {fingerprint(f'{pki}/ovpn-{peer}.crt')}",
             "ping 1", "ping-restart 5", "persist-tun", "tls-timeout 1", "verb 3", "mute-replay-warnings"]
    if server:
        lines += [f"local {lab['LAB_WAN_B']}", "tls-server", "dh none", f"ifconfig {server_ip} {client_ip}",
                  f"management {mgmt} unix"]
    else:
        lines += [f"local {lab['LAB_WAN_A']}", f"remote {lab['LAB_WAN_B']} {port}", "tls-client",
                  f"ifconfig {client_ip} {server_ip}", "connect-retry 1 1", f"management {mgmt} unix"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def nft_a(lab, script):
    subprocess.run(["ip", "netns", "exec", lab["LAB_NS_A"], "nft", "-f", "-"], input=script, text=True, check=True)


def cut_primary(lab):
    """Drops the primary tunnel's UDP both ways at the client (site A)."""
    port = TUNNELS["primary"][0]
    nft_a(lab, f"table inet {CUT_TABLE} {{\n"
               f"  chain i {{ type filter hook input priority -10; udp dport {port} drop; }}\n"
               f"  chain o {{ type filter hook output priority -10; udp sport {port} drop; }}\n}}\n")


def restore_primary(lab):
    subprocess.run(["ip", "netns", "exec", lab["LAB_NS_A"], "nft", "delete", "table", "inet", CUT_TABLE],
                   capture_output=True)


@pytest.fixture(scope="module")
def pair(lab, tmp_path_factory):
    d = tmp_path_factory.mktemp("route-failover")
    procs, mgmt = [], {}
    try:
        for name in TUNNELS:
            for server in (True, False):
                sock = str(d / f"{name}-{'server' if server else 'client'}.mgmt")
                conf = str(d / f"{name}-{'server' if server else 'client'}.conf")
                write_conf(conf, lab, name, server, sock)
                ns = lab["LAB_NS_B"] if server else lab["LAB_NS_A"]
                log = open(d / f"{name}-{'server' if server else 'client'}.log", "w")
                procs.append(subprocess.Popen(["ip", "netns", "exec", ns, "/usr/sbin/openvpn", "--config", conf],
                                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
                if server:
                    mgmt[name] = sock
        yield mgmt
    finally:
        restore_primary(lab)
        for p in procs:  # our own daemons, by PID
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def aws():
    s = CloudServer()
    yield s
    s.stop()


def check(aws, home, mgmt):
    args = ["--backend", "aws-route", "--route-table-id", RTB, "--destination", DEST,
            "--expect-target", PRIMARY, "--standby-target", SECONDARY,
            "--target-tunnel", f"{PRIMARY}={mgmt['primary']}", "--target-tunnel", f"{SECONDARY}={mgmt['secondary']}",
            "--region", "eu-west-1", "--endpoint-url", aws.url, "-t", "8"]
    env = base_env(home)
    env.update(ENV_KEY)
    r = run_clean(args, env)
    check_conventions(r, SVC)
    return r


def apply(aws, home, action):
    """Runs the repoint command the check printed against the test server:
    with the AWS CLI when it is installed, else the same ReplaceRoute
    through the server's control endpoint."""
    words = shlex.split(action)
    assert words[:3] == ["aws", "ec2", "replace-route"], action
    aws_cli = shutil.which("aws")
    if aws_cli:
        env = base_env(home)
        env.update(ENV_KEY, AWS_DEFAULT_REGION="eu-west-1", PATH=os.environ["PATH"])
        # A pyenv shim finds its Python below PYENV_ROOT (default ~/.pyenv,
        # and HOME is the test's own here).
        shims = os.path.dirname(os.path.realpath(aws_cli)) if "shims" not in aws_cli else os.path.dirname(aws_cli)
        if os.path.basename(shims) == "shims":
            env["PYENV_ROOT"] = os.environ.get("PYENV_ROOT", os.path.dirname(shims))
        p = subprocess.run([aws_cli, "--endpoint-url", aws.url] + words[1:], env=env, capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        return "aws CLI"
    opts = dict(zip(words[3::2], words[4::2]))
    target = {"--instance-id": "instanceId", "--network-interface-id": "networkInterfaceId",
              "--gateway-id": "gatewayId"}
    route = {"dest": opts["--destination-cidr-block"]}
    for k, v in target.items():
        if k in opts:
            route[v] = opts[k]
    req = urllib.request.Request(aws.url + "/_aws", data=json.dumps({"route": route}).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    return "control endpoint"


def test_route_follows_the_live_tunnel(lab, pair, aws, tmp_path):
    times = {}
    # Both tunnels come up (the daemons were just started).
    r, times["start"] = poll(lambda: check(aws, tmp_path, pair), lambda r: r.rc == 0, 60, 0.5)
    assert r.summary == f"route to {DEST} in {RTB} active via {PRIMARY}, tunnel up", str(r)
    assert r.perf["route_tunnel_up"].value == 1

    cut_primary(lab)
    t0 = time.monotonic()
    r, times["cut"] = poll(lambda: check(aws, tmp_path, pair), lambda r: r.rc == 2, 45, 0.5)
    assert r.summary.startswith(f"traffic for {DEST} is routed into a dead tunnel via {PRIMARY} "), str(r)
    assert r.summary.endswith(f"the tunnel of {SECONDARY} is up: repoint the route"), str(r)
    actions = [line[len("Action: "):] for line in r.lines if line.startswith("Action: aws ")]
    assert actions == [f"aws ec2 replace-route --route-table-id {RTB} --destination-cidr-block {DEST} "
                       f"--instance-id {SECONDARY}"], str(r)

    how = apply(aws, tmp_path, actions[0])
    r, times["repoint"] = poll(lambda: check(aws, tmp_path, pair), lambda r: r.rc == 1, 15, 0.5)
    assert r.summary == (f"route to {DEST} failed over to the standby {SECONDARY} (expected {PRIMARY}), "
                         "tunnel up"), str(r)

    restore_primary(lab)
    r, times["restore"] = poll(lambda: check(aws, tmp_path, pair),
                               lambda r: any(line.startswith(f"{PRIMARY}: tunnel up") for line in r.lines), 60, 0.5)
    assert r.rc == 1, str(r)  # still on the standby until repointed
    apply(aws, tmp_path, f"aws ec2 replace-route --route-table-id {RTB} --destination-cidr-block {DEST} "
                         f"--instance-id {PRIMARY}")
    r, times["repoint back"] = poll(lambda: check(aws, tmp_path, pair), lambda r: r.rc == 0, 15, 0.5)
    assert r.summary == f"route to {DEST} in {RTB} active via {PRIMARY}, tunnel up", str(r)
    times["total"] = time.monotonic() - t0
    print(f"transition times (s), repoint applied with the {how}: " +
          ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
    # Bounds for a loaded machine: OpenVPN's ping-restart is 5 s.
    assert times["cut"] < 40 and times["repoint"] < 10 and times["repoint back"] < 10, times
