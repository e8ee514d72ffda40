# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up against hostile and absent control sockets (no lab).

Every backend, against a unix socket that accepts and never answers, one that
answers garbage and one that streams without end, must end in UNKNOWN within
-t + 0.5 s; a missing or refused socket is CRITICAL (the daemon is not
running); a socket the plugin's user may not open is UNKNOWN naming what is
needed."""
import os
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest

from sitelink_test import check_conventions, run

P = "check_vpn_tunnel_up"
SVC = "VPN_TUNNEL"
BACKENDS = ["strongswan", "openvpn", "wireguard"]


def socket_args(backend, path):
    if backend == "strongswan":
        return ["--backend", "strongswan", "--socket", "unix://" + path]
    if backend == "openvpn":
        return ["--backend", "openvpn", "--management", path]
    return ["--backend", "wireguard", "--interface", "wgtest0", "--socket", path]


def vpn(backend, path, *args, **kw):
    r = run(P, socket_args(backend, path) + list(args), **kw)
    check_conventions(r, SVC)
    return r


@pytest.fixture
def sockdir():
    # World-searchable, so the permission test fails on the socket itself.
    d = tempfile.mkdtemp(prefix="sitelink-vpn-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Server:
    """A unix socket server that treats every client with `behaviour`."""

    def __init__(self, path, behaviour):
        self.path = path
        self.behaviour = behaviour
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.stop = threading.Event()
        self.conns = []
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        try:
            self.behaviour(c, self.stop)
        except OSError:
            pass

    def close(self):
        self.stop.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


def silent(c, stop):
    stop.wait(30)


def garbage(c, stop):
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n\x00\xff\xfe garbage")
    stop.wait(30)


def endless(c, stop):
    # Valid-looking framing that never ends: VICI EVENT packets, OpenVPN
    # notifications after a greeting, UAPI-like lines, all in one stream.
    ev = b"\x07\x08list-sa\x03\x01k\x00\x01v"
    chunk = (struct.pack(">I", 1) + b"\x05" + (struct.pack(">I", len(ev)) + ev) * 200)
    c.sendall(b"")
    first = True
    while not stop.is_set():
        if first:
            first = False
        try:
            c.sendall(chunk + b">INFO:OpenVPN Management Interface Version 5\r\n" + b">LOG:x\r\nkey=value\n" * 50)
        except OSError:
            return


@pytest.fixture
def server(sockdir):
    made = []

    def start(behaviour):
        s = Server(os.path.join(sockdir, "ctl.sock"), behaviour)
        made.append(s)
        return s.path

    yield start
    for s in made:
        s.close()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("behaviour", [silent, garbage, endless], ids=["silent", "garbage", "endless"])
def test_hostile_socket_is_unknown_within_timeout(server, backend, behaviour):
    path = server(behaviour)
    r = vpn(backend, path, "--tunnel", "dr-primary", "-t", "2")
    assert r.rc == 3, str(r)
    assert r.elapsed < 2.5, str(r)
    assert r.summary.startswith(("timed out after 2 s while", "cannot read ")), str(r)
    # a timeout names what the plugin was doing
    if r.summary.startswith("timed out"):
        assert path in r.summary or "UAPI" in r.summary, str(r)


@pytest.mark.parametrize("backend", BACKENDS)
def test_timeout_state_is_honoured(server, backend):
    path = server(silent)
    r = vpn(backend, path, "-t", "1:critical", "--impact", "DR replication stops")
    assert r.rc == 2, str(r)
    assert r.summary.startswith("timed out after 1 s while"), str(r)
    assert "Impact: DR replication stops" in r.lines
    assert r.elapsed < 1.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_socket_is_critical_daemon_not_running(sockdir, backend):
    path = os.path.join(sockdir, "absent.sock")
    r = vpn(backend, path, "--tunnel", "dr-primary")
    assert r.rc == 2, str(r)
    assert "is not running" in r.summary and path in r.summary, str(r)
    assert r.summary.startswith("0 of 1 tunnels up: ")
    assert r.perf["tunnels_up"].value == 0
    assert r.perf["dr-primary_up"].value == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_refused_socket_is_critical(sockdir, backend):
    path = os.path.join(sockdir, "dead.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)  # bound, never listening: what a crashed daemon leaves behind
    try:
        r = vpn(backend, path)
        assert r.rc == 2, str(r)
        assert "is not running (connection refused at " + path in r.summary, str(r)
    finally:
        s.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the plugin as nobody")
@pytest.mark.parametrize("backend", BACKENDS)
def test_permission_denied_is_unknown_naming_the_need(server, backend):
    path = server(silent)
    os.chmod(path, 0o770)  # root:root, like charon's VICI socket
    r = vpn(backend, path, "--tunnel", "x", user="nobody")
    assert r.rc == 3, str(r)
    assert r.summary.endswith(": permission denied"), str(r)
    hint = [line for line in r.lines[1:] if "owned by root:root mode 0770" in line]
    assert hint and "run the check as root" in hint[0], str(r)


def test_openvpn_password_prompt_and_secret_hygiene(server, sockdir):
    """A fake management interface that asks for a password: the password comes
    from the file, never appears in the output (even at -vvv)."""
    secret = "pw-4711-never-print"
    got = {}

    def mgmt(c, stop):
        c.sendall(b"ENTER PASSWORD:")
        f = c.makefile("rb")
        got["pw"] = f.readline().decode().strip()
        if got["pw"] != secret:
            c.sendall(b"ERROR: bad password\r\n")
            return
        c.sendall(b"SUCCESS: password is correct\r\n>INFO:OpenVPN Management Interface Version 5\r\n")
        for line in f:
            cmd = line.decode().strip()
            if cmd == "state":
                c.sendall(f"{int(time.time()) - 50},CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,,\r\nEND\r\n".encode())
            elif cmd == "status 2":
                c.sendall(b"OpenVPN STATISTICS\r\nTUN/TAP read bytes,10\r\nTUN/TAP write bytes,20\r\nEND\r\n")
            elif cmd == "quit":
                return

    path = server(mgmt)
    pw = os.path.join(sockdir, "pw")
    with open(pw, "w") as f:
        f.write(secret + "\n")
    os.chmod(pw, 0o600)
    r = vpn("openvpn", path, "--tunnel", "dr-ovpn", "--management-password-file", pw, "-vvv")
    assert r.rc == 0, str(r)
    assert got["pw"] == secret
    assert secret not in r.stdout
    assert r.perf["dr-ovpn_bytes_in"].value == 20 and r.perf["dr-ovpn_bytes_out"].value == 10
    assert 49 <= float(r.lines[1].split("up for ")[1].split(" s")[0]) <= 52, str(r)

    os.chmod(pw, 0o644)
    r = vpn("openvpn", path, "--management-password-file", pw)
    assert r.rc == 3 and "mode 0644" in r.summary and secret not in r.stdout, str(r)

    with open(pw, "w") as f:
        f.write("wrong\n")
    os.chmod(pw, 0o600)
    r = vpn("openvpn", path, "--management-password-file", pw)
    assert r.rc == 3 and "password was refused" in r.summary, str(r)

    r = vpn("openvpn", path)
    assert r.rc == 3 and "asks for a password" in r.summary, str(r)
    assert any("--management-password-file" in line for line in r.lines[1:])


def test_wireguard_secrets_never_printed(server):
    priv = "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
    psk = "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
    peer = "b85996fecc9c7f1fc6d2572a76eda11d59bcb20be8e543b15ce4bd85a8e75a33"
    now = int(time.time())

    def uapi(c, stop):
        f = c.makefile("rb")
        assert f.readline() == b"get=1\n"
        c.sendall((f"private_key={priv}\nlisten_port=51820\npublic_key={peer}\npreshared_key={psk}\n"
                   f"endpoint=192.0.2.2:51820\nlast_handshake_time_sec={now - 30}\nlast_handshake_time_nsec=0\n"
                   f"rx_bytes=100\ntx_bytes=200\nallowed_ip=10.9.0.2/32\nerrno=0\n\n").encode())

    path = server(uapi)
    r = vpn("wireguard", path, "--peer-alias", "site-b=uFmW/sycfx/G0lcqdu2hHVm8sgvo5UOxXOS9hajnWjM=", "-vvv")
    assert r.rc == 0, str(r)
    assert r.summary == "1 of 1 tunnels up"
    assert 29 <= r.perf["site-b_handshake_age"].value <= 32
    assert "private_key=(redacted)" in r.stdout
    import base64
    for secret in (priv, psk, base64.b64encode(bytes.fromhex(priv)).decode(),
                   base64.b64encode(bytes.fromhex(psk)).decode()):
        assert secret not in r.stdout
