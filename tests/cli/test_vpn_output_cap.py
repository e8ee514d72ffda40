# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up with many tunnels stays within Nagios's 8 KiB output
(issue 26, item 1): per-tunnel perfdata for up to 20 tunnels while it fits,
aggregates beyond, and a summary that names a bounded number of tunnels. The
daemon is a fake OpenVPN server on a unix socket whose clients are the
tunnels."""
import os
import re

import pytest

from sitelink_fakes import FakeServer, openvpn_management
from sitelink_test import check_conventions, run

P, SVC = "check_vpn_tunnel_up", "VPN_TUNNEL"
PASSWORD = "cap-test-password"
NOW = 1795314429
STATE = b"1795314000,CONNECTED,SUCCESS,10.8.0.1,,,,\r\nEND\r\n"
ITEM = re.compile(r"^('[^']+'|[A-Za-z0-9_]+)=(U|-?[0-9.]+[a-zA-Z%]*)(;[^; ]*){0,4}$")


def status(names):
    """`status 2` of an OpenVPN server with one client per name, all up."""
    lines = ["TITLE,OpenVPN 2.6.3 x86_64-pc-linux-gnu", f"TIME,2026-11-21 10:27:09,{NOW}",
             "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,"
             "Bytes Sent,Connected Since,Connected Since (time_t),Username,Client ID,Peer ID,Data Channel Cipher"]
    for i, n in enumerate(names):
        lines.append(f"CLIENT_LIST,{n},192.0.2.{i % 250 + 1}:1194,10.8.{i // 250}.{i % 250 + 2},,{123456789 + i},"
                     f"{987654321 + i},2026-11-21 10:20:00,{NOW - 429},UNDEF,{i},{i},AES-256-GCM")
    lines.append("HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref,Last Ref (time_t)")
    for i, n in enumerate(names):
        lines.append(f"ROUTING_TABLE,10.8.{i // 250}.{i % 250 + 2},{n},192.0.2.{i % 250 + 1}:1194,"
                     f"2026-11-21 10:27:00,{NOW - 9}")
    lines += ["GLOBAL_STATS,Max bcast/mcast queue length,0", "END"]
    return ("\r\n".join(lines) + "\r\n").encode()


def check(tmp_path, clients, tunnels=()):
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    os.chmod(pw, 0o600)
    sock = str(tmp_path / f"mgmt-{len(clients)}.sock")
    args = ["--backend", "openvpn", "--management", sock, "--management-password-file", str(pw), "-t", "10"]
    for t in tunnels:
        args += ["--tunnel", t]
    with FakeServer(openvpn_management(PASSWORD, STATE, status(clients)), unix_path=sock):
        r = run(P, args)
    check_conventions(r, SVC)
    return r


def assert_line1_intact(r, up, expected):
    assert len(r.stdout.encode()) <= 8192, f"{len(r.stdout.encode())} bytes of output"
    head, sep, perf = r.lines[0].partition(" | ")
    assert sep, "line 1 lost its perfdata"
    assert head.startswith(f"{SVC} {r.state} - {up} of {expected} tunnels up"), head[:200]
    # Every item complete: nothing cut mid-item.
    for item in perf.split(" "):
        assert ITEM.match(item), item
    assert r.perf["tunnels_up"].value == up and r.perf["tunnels_expected"].value == expected


@pytest.mark.parametrize("count,width", [(100, 4), (300, 51)], ids=["100-short-names", "300-long-names"])
def test_many_tunnels_up(tmp_path, count, width):
    names = [f"t{i:03d}".ljust(width, "x") for i in range(1, count + 1)]
    r = check(tmp_path, names)
    assert r.state == "OK", str(r)[:500]
    assert_line1_intact(r, count, count)
    # Aggregates instead of 5 items per tunnel.
    assert not any(label.endswith("_up") and label != "tunnels_up" for label in r.perf)
    assert set(r.perf) == {"tunnels_up", "tunnels_expected", "in_idle_max", "bytes_in", "bytes_out"}
    assert r.perf["in_idle_max"].value == 9 and r.perf["in_idle_max"].uom == "s"
    assert r.perf["bytes_in"].value == sum(123456789 + i for i in range(count))


def test_many_tunnels_missing(tmp_path):
    names = [f"site-{i:03d}-".ljust(51, "y") for i in range(1, 301)]
    r = check(tmp_path, [], names)
    assert r.state == "CRITICAL", str(r)[:500]
    assert_line1_intact(r, 0, 300)
    assert names[0] + " missing" in r.summary
    assert r.summary.endswith(" more not up"), r.summary[-200:]
    assert len(r.summary) < 1500


def test_perfdata_per_tunnel_up_to_20_then_aggregates(tmp_path):
    twenty = [f"t{i:02d}" for i in range(1, 21)]
    r = check(tmp_path, twenty)
    assert r.state == "OK"
    assert {"t01_up", "t20_in_idle", "t20_bytes_out"} <= set(r.perf)
    assert "in_idle_max" not in r.perf
    r = check(tmp_path, twenty + ["t21"])
    assert r.state == "OK"
    assert "t01_up" not in r.perf and "in_idle_max" in r.perf
