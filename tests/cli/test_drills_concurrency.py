# SPDX-License-Identifier: GPL-2.0-or-later
"""Crowds of checks released at the same instant (issue 25), without the lab.

A monitoring host runs hundreds of checks at once, several of them against
the same raw ICMP traffic and the same daemon. Every crowd here is started
behind one gate (tests/pylib/crowd.py), and every member's verdict must be
the one it would get alone: a reply matched to the wrong process, a refused
or dropped connection, would show as a wrong state. Peak RSS and file
descriptors per process stay bounded. The crowds against the real daemons
(charon, OpenVPN, PostgreSQL) are in tests/integration/test_drills_lab.py;
longer and bigger runs are bench/load.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess

import pytest

from crowd import run_crowd
from sitelink_fakes import FakeServer
from sitelink_test import check_conventions, parse_output, plugin_path, run

MAX_RSS_KB = 64 * 1024  # per process, whatever the crowd
MAX_FDS = 16  # per process: stdio, sockets, nothing that grows with the crowd
CROWD = 200
LIMIT = 60  # seconds for a whole crowd, then its stragglers are killed

needs_root_nft = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None or
                                    shutil.which("unshare") is None or shutil.which("nsenter") is None,
                                    reason="needs root, nft, unshare and nsenter")


def check_members(members, service):
    for m in members:
        check_conventions(m, service)
    worst_rss = max(m.rss_kb for m in members)
    worst_fds = max(m.fds for m in members)
    assert 0 < worst_rss <= MAX_RSS_KB, f"peak RSS {worst_rss} KiB"
    assert worst_fds <= MAX_FDS, f"peak fds {worst_fds}"
    return worst_rss, worst_fds


@pytest.fixture
def netns():
    """A private network namespace shared by a whole crowd: loopback up,
    echo requests to 127.0.9.0/24 dropped on their way in (silent targets:
    the send succeeds, no reply ever comes). Held by one
    process, ended by its PID."""
    rules = ("ip link set lo up && nft add table inet crowd && "
             "nft add chain inet crowd in '{ type filter hook input priority 0; }' && "
             "nft add rule inet crowd in ip daddr 127.0.9.0/24 icmp type echo-request drop && "
             "echo ready && exec sleep 600")
    holder = subprocess.Popen(["unshare", "--net", "sh", "-c", rules], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield ["nsenter", f"--net=/proc/{holder.pid}/ns/net"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()


@needs_root_nft
def test_ping_crowd_every_reply_to_its_own_process(netns):
    """200 pings at once, half at answering targets and half at silent ones,
    ten echo requests each, 20 ms apart: every answering target counts
    exactly its own ten replies, every silent one none."""
    commands = []
    for i in range(CROWD):
        answering = i % 2 == 0
        host = f"127.0.{1 if answering else 9}.{1 + i // 2}"
        commands.append(((host, answering), [plugin_path("check_cross_site_ping"), "-H", host, "-n", "10",
                                              "-i", "20ms", "--paced", "-t", "10", "-v"]))
    members, took = run_crowd(commands, limit=LIMIT, prefix=netns)
    wrong = []
    for m in members:
        host, answering = m.key
        _, state, _, perf, lines = parse_output(m.stdout)
        pl = perf.get("pl")  # one target: unprefixed labels
        want = ("OK", 0) if answering else ("CRITICAL", 100)
        counted = [line for line in lines if line.startswith(("OK: " + host, "CRITICAL: " + host))]
        ok_count = "(10 of 10 replies)" in counted[0] if counted and answering else True
        if (state, pl.value if pl else None) != want or not ok_count:
            wrong.append(str(m))
    rss, fds = check_members(members, "CROSS_SITE_PING")
    # Every raw socket sees every echo reply: the replies each process set
    # aside as another's are the cross-talk this drill is about.
    others = sum(int(line.split()[2]) for m in members for line in m.lines
                 if line.startswith("debug: ignored ") and "addressed to other programs" in line)
    print(f"ping crowd: {CROWD} processes in {took:.2f} s, {len(wrong)} wrong, {others} replies set aside as "
          f"another process's, peak RSS {rss} KiB, peak fds {fds}")
    assert others > 0, "the crowd never overlapped: no process saw another's replies"
    assert not wrong, f"{len(wrong)} wrong of {CROWD}:\n" + "\n".join(wrong[:5])


# ---- one control socket, a crowd of clients (the real daemons: tests/integration/test_drills_lab.py) ----

class OneClientManagement:
    """Like OpenVPN's management interface: a backlog of one, one client
    served at a time; the first client here keeps it (an operator's open
    session), so later ones are accepted by the kernel and never greeted."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.holder.connect(path)
        self.held, _ = self.sock.accept()
        self.held.sendall(b">INFO:OpenVPN Management Interface Version 5 -- type 'help' for more info\r\n")

    def close(self):
        for s in (self.held, self.holder, self.sock):
            s.close()


def test_openvpn_management_held_by_another_client_is_a_clear_unknown(tmp_path):
    path = str(tmp_path / "mgmt.sock")
    mgmt = OneClientManagement(path)
    try:
        commands = [(i, [plugin_path("check_vpn_tunnel_up"), "--backend", "openvpn", "--management", path,
                         "-t", "2"]) for i in range(20)]
        members, took = run_crowd(commands, limit=LIMIT)
    finally:
        mgmt.close()
    check_members(members, "VPN_TUNNEL")
    for m in members:
        # Waited its whole budget, then said why: never OK, never "not running".
        assert m.state == "UNKNOWN" and m.summary.startswith("timed out after 2 s while "), str(m)
        assert any("serves one client at a time" in line for line in m.lines[1:]), str(m)


def postgres_full_then_auth(full_times):
    """A PostgreSQL that answers the first `full_times` logins with FATAL
    53300 "sorry, too many clients already" (what a crowd of checks meets
    at max_connections), then asks for a password and refuses it."""
    from sitelink_fakes import postgres_cleartext_auth
    auth = postgres_cleartext_auth()

    def handler(conn, server):
        if server.connections > full_times:
            return auth(conn, server)
        while True:
            head = conn.recv(8)
            if len(head) < 8:
                return
            n, code = struct.unpack("!II", head)
            if n > 8:
                conn.recv(n - 8)
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest
                conn.sendall(b"N")
                continue
            break
        fields = b"SFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0\0"
        conn.sendall(b"E" + struct.pack("!I", len(fields) + 4) + fields)
    return handler


def test_postgresql_full_of_clients_is_asked_again_within_the_budget():
    with FakeServer(postgres_full_then_auth(2)) as srv:
        host, port = srv.address.rsplit(":", 1)
        r = run(plugin_path("check_replication_lag"), ["--backend", "postgresql", "-H", host, "-p", port,
                                                       "-U", "monitor", "-t", "5"],
                env={"PGPASSWORD": "not-the-password", "PGSSLMODE": "disable"})
        check_conventions(r, "REPLICATION_LAG")
        # Asked again after "too many clients" and got to the next step.
        assert srv.connections == 3, str(r)
        assert r.rc == 3 and "password authentication failed" in r.stdout, str(r)
    with FakeServer(postgres_full_then_auth(10**6)) as srv:
        host, port = srv.address.rsplit(":", 1)
        r = run(plugin_path("check_replication_lag"), ["--backend", "postgresql", "-H", host, "-p", port,
                                                       "-U", "monitor", "-t", "2"], env={"PGSSLMODE": "disable"})
        check_conventions(r, "REPLICATION_LAG")
        # Still full when the budget ends: that is the finding, on time.
        assert r.rc == 2 and "too many clients" in r.summary and r.elapsed < 2.5, str(r)
        assert srv.connections >= 2, str(r)
