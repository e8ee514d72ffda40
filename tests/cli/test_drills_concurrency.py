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
import subprocess

import pytest

from crowd import run_crowd
from sitelink_fakes import FakeServer, read_until
from sitelink_test import check_conventions, parse_output, plugin_path

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


# ---- one control socket, a crowd of clients ----

def wireguard_peer(conn, server):
    import time
    read_until(conn, b"\n\n")
    now = int(time.time())
    conn.sendall(("private_key=" + "11" * 32 + "\nlisten_port=51820\npublic_key=" + "22" * 32 +
                  f"\nendpoint=192.0.2.2:51820\nlast_handshake_time_sec={now - 20}\nlast_handshake_time_nsec=0\n"
                  "rx_bytes=100\ntx_bytes=200\nallowed_ip=10.9.0.2/32\nerrno=0\n\n").encode())


def test_wireguard_crowd_on_one_uapi_socket(tmp_path):
    path = str(tmp_path / "wg0.sock")
    with FakeServer(wireguard_peer, unix_path=path) as srv:
        commands = [(i, [plugin_path("check_vpn_tunnel_up"), "--backend", "wireguard", "--interface", "wg0",
                         "--socket", path, "-t", "10"]) for i in range(CROWD)]
        members, took = run_crowd(commands, limit=LIMIT)
        connections = srv.connections
    wrong = [str(m) for m in members if m.state != "OK"]
    rss, fds = check_members(members, "VPN_TUNNEL")
    print(f"wireguard crowd: {CROWD} processes in {took:.2f} s, {len(wrong)} wrong, peak RSS {rss} KiB, "
          f"peak fds {fds}")
    assert not wrong, f"{len(wrong)} wrong of {CROWD}:\n" + "\n".join(wrong[:5])
    assert connections == CROWD


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
