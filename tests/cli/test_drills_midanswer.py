# SPDX-License-Identifier: GPL-2.0-or-later
"""Peers that die mid-answer, without the lab (issue 25).

Each control-socket peer replays a real daemon's answer (the recordings in
tests/fixtures/vpn/) and is cut after N bytes, for N across the whole answer
(every packet or line boundary, one byte either side of it, and a stride in
between): the socket is closed as a killed daemon's would be. A cut answer
is UNKNOWN ("could not find out"), never OK and never a made-up CRITICAL,
within -t + 0.5 s. The full answer, as a control, is OK.

Also here: the control socket replaced by a different daemon's socket, and
the cloud APIs through tests/tools/cloud_server.py's "cut" fault (headers
with the full Content-Length, part of the body, then a reset). The
databases and the real daemons killed or restarted during a check are in
tests/integration/test_drills_midanswer_lab.py.
"""
import os
import shutil
import socket
import struct
import tempfile
import time

import pytest

from cloud_lab import cloud_runner
from sitelink_fakes import FakeServer, read_exact, read_line, read_until
from sitelink_test import SOURCE, check_conventions, run

P = "check_vpn_tunnel_up"
SVC = "VPN_TUNNEL"
T = 2
SLACK = 0.5
VPN_FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "vpn")


def fixture_bytes(name):
    with open(os.path.join(VPN_FIXTURES, name), "rb") as f:
        return f.read()


class Cut(Exception):
    pass


class Budget:
    """Sends at most `limit` bytes of the session, then kills the connection."""

    def __init__(self, conn, limit):
        self.conn, self.left = conn, limit

    def send(self, data):
        if self.left is not None and len(data) >= self.left:
            if self.left:
                self.conn.sendall(data[:self.left])
            raise Cut()
        self.conn.sendall(data)
        if self.left is not None:
            self.left -= len(data)


def vici_packets(blob):
    """Splits a recording into VICI packets (u32 length + payload)."""
    out, i = [], 0
    while i + 4 <= len(blob):
        (n,) = struct.unpack(">I", blob[i:i + 4])
        if i + 4 + n > len(blob):
            break
        out.append(blob[i:i + 4 + n])
        i += 4 + n
    return out


def read_vici_packet(conn):
    head = read_exact(conn, 4)
    (n,) = struct.unpack(">I", head)
    return read_exact(conn, n)


# ---- the sessions: (plugin arguments for an address, server script, reply chunks) ----

VICI_CONNS = vici_packets(fixture_bytes("strongswan-list-conns.bin"))
VICI_SAS = vici_packets(fixture_bytes("strongswan-list-sas.bin"))


def vici_script(out, conn):
    for reply in (VICI_CONNS, VICI_SAS):
        read_vici_packet(conn)  # EVENT_REGISTER
        read_vici_packet(conn)  # CMD_REQUEST
        for packet in reply:
            out.send(packet)


def crlf(lines):
    return [(line + "\r\n").encode() for line in lines]


OVPN_GREETING = crlf([">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info"])


def ovpn_state():
    return crlf([f"{int(time.time()) - 600},CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,192.0.2.1,1194", "END"])


OVPN_STATUS = crlf(["OpenVPN STATISTICS", "Updated,2026-11-22 02:31:15", "TUN/TAP read bytes,388",
                    "TUN/TAP write bytes,84", "TCP/UDP read bytes,14501", "TCP/UDP write bytes,14456",
                    "Auth read bytes,5268", "END"])


def openvpn_script(out, conn):
    """Answers like OpenVPN 2.6: `state`, `status 2`, an error for the rest."""
    for line in OVPN_GREETING:
        out.send(line)
    for _ in range(8):
        cmd = read_line(conn)
        if cmd == "state":
            reply = ovpn_state()
        elif cmd == "status 2":
            reply = OVPN_STATUS
        elif cmd in ("quit", ""):
            return
        else:
            reply = crlf(["ERROR: unknown command, enter 'help' for more options"])
        for line in reply:
            out.send(line)


def wg_reply():
    now = int(time.time())
    lines = ["private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a", "listen_port=51820",
             "public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcb20be8e543b15ce4bd85a8e75a33",
             "protocol_version=1", "endpoint=192.0.2.2:51820", f"last_handshake_time_sec={now - 30}",
             "last_handshake_time_nsec=0", "tx_bytes=10748", "rx_bytes=10548",
             "persistent_keepalive_interval=25", "allowed_ip=10.9.0.2/32", "errno=0", ""]
    return [(line + "\n").encode() for line in lines]


def wireguard_script(out, conn):
    read_until(conn, b"\n\n")
    for line in wg_reply():
        out.send(line)


SESSIONS = {
    "strongswan": (lambda path: ["--backend", "strongswan", "--socket", "unix://" + path,
                                 "--tunnel", "dr-primary", "--tunnel", "dr-secondary"],
                   vici_script, lambda: VICI_CONNS + VICI_SAS),
    "openvpn": (lambda path: ["--backend", "openvpn", "--management", path, "--tunnel", "dr-ovpn"],
                openvpn_script, lambda: OVPN_GREETING + ovpn_state() + OVPN_STATUS),
    "wireguard": (lambda path: ["--backend", "wireguard", "--interface", "wgtest0", "--socket", path],
                  wireguard_script, wg_reply),
}


def cut_points(chunks, stride=61):
    """Every chunk boundary, one byte either side, and a stride between."""
    total = sum(len(c) for c in chunks)
    points, pos = {0, 1}, 0
    for c in chunks:
        pos += len(c)
        points.update({pos - 1, pos, pos + 1})
    points.update(range(0, total, stride))
    return sorted(p for p in points if 0 <= p < total), total


def session(conn, server, script, limit):
    out = Budget(conn, limit)
    try:
        script(out, conn)
    except Cut:
        # What a killed daemon leaves: the kernel closes its socket; unread
        # requests in the queue turn the close into a reset.
        server.received.append("cut")
        return
    # The whole answer was sent: wait for the client to go.
    while conn.recv(4096):
        pass


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix="sitelink-cut-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def vpn(args):
    r = run(P, args + ["-t", str(T)])
    check_conventions(r, SVC)
    return r


@pytest.mark.parametrize("backend", sorted(SESSIONS))
def test_full_answer_is_ok(sockdir, backend):
    args_for, script, _ = SESSIONS[backend]
    path = os.path.join(sockdir, "full.sock")
    with FakeServer(lambda c, s: session(c, s, script, None), unix_path=path):
        r = vpn(args_for(path))
    assert r.rc == 0, str(r)


@pytest.mark.parametrize("backend", sorted(SESSIONS))
def test_answer_cut_is_unknown_never_ok(sockdir, backend):
    args_for, script, chunks = SESSIONS[backend]
    points, total = cut_points(chunks())
    path = os.path.join(sockdir, "cut.sock")
    wrong, slowest = [], 0.0
    for n in points:
        with FakeServer(lambda c, s, n=n: session(c, s, script, n), unix_path=path) as srv:
            r = vpn(args_for(path))
            assert srv.connections == 1 and srv.received == ["cut"], f"cut at {n}: the peer was not cut\n{r}"
        os.unlink(path)
        slowest = max(slowest, r.elapsed)
        if r.state != "UNKNOWN" or r.elapsed >= T + SLACK:
            wrong.append(f"cut after {n} of {total} bytes: {r}")
    print(f"{backend}: {len(points)} cuts of a {total}-byte answer, {len(wrong)} wrong, slowest {slowest:.2f} s")
    assert not wrong, "\n".join(wrong[:5])


# ---- the socket replaced by a different daemon's socket ----

OTHER = {
    "strongswan": lambda c, s: session(c, s, openvpn_script, None),
    "openvpn": lambda c, s: session(c, s, vici_script, None),
    "wireguard": lambda c, s: session(c, s, openvpn_script, None),
}


@pytest.mark.parametrize("backend,other", [(b, o) for b in sorted(SESSIONS) for o in sorted(OTHER) if o != b])
def test_socket_of_another_daemon_is_unknown(sockdir, backend, other):
    args_for, _, _ = SESSIONS[backend]
    path = os.path.join(sockdir, "other.sock")
    peer = {"strongswan": lambda c, s: session(c, s, vici_script, None),
            "openvpn": lambda c, s: session(c, s, openvpn_script, None),
            "wireguard": lambda c, s: session(c, s, wireguard_script, None)}[other]
    with FakeServer(peer, unix_path=path):
        r = vpn(args_for(path))
    assert r.state == "UNKNOWN" and r.elapsed < T + SLACK, str(r)


# ---- the cloud APIs: the body cut by a reset ----

AWS_KEY = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}
OS_AUTH = {"OS_USERNAME": "monitor", "OS_PASSWORD": "os-password-0010", "OS_PROJECT_NAME": "dr",
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}
CLOUDS = {
    # target, arguments, environment
    "aws-ec2": ("ec2", lambda url: ["--backend", "aws", "--vpn-connection-id", "vpn-0a1b2c3d4e5f60001",
                                    "--region", "eu-west-1", "--endpoint-url", url], lambda url: AWS_KEY),
    "openstack-keystone": ("keystone", lambda url: ["--backend", "openstack", "--tunnel", "site-a"],
                           lambda url: dict(OS_AUTH, OS_AUTH_URL=url + "/identity/v3")),
    "openstack-neutron": ("neutron", lambda url: ["--backend", "openstack", "--tunnel", "site-a"],
                          lambda url: dict(OS_AUTH, OS_AUTH_URL=url + "/identity/v3")),
}


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_cloud_body_cut_is_unknown_never_ok(server, tmp_path, name):
    target, args, env = CLOUDS[name]
    runner = cloud_runner(server, tmp_path, SVC, lambda a, **_: args(server.url) + a, lambda **_: env(server.url))
    server.control(None)
    full = runner(timeout=T)
    assert full.rc == 0, str(full)
    wrong = []
    try:
        for n in (0, 1, 10, 100, -100, -10, -1):  # bytes of the body; < 0: all but
            server.control("cut", target, cut=n)
            r = runner(timeout=T)
            if r.state != "UNKNOWN" or r.elapsed >= T + SLACK:
                wrong.append(f"body cut at {n}: {r}")
    finally:
        server.control(None)
    assert not wrong, "\n".join(wrong[:5])
