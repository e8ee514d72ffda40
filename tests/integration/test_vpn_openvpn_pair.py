# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend openvpn with two --management endpoints: an
active/passive pair of real OpenVPN servers at site B (`lab ovpn-pair`), one
client at site A that moves to the secondary when the primary stops
answering. The pair check is -w 1:1 -c 1: (exactly one server carries the
tunnel). Prints how long each transition took to show in the check."""
import time

import pytest

from conftest import lab_cmd, poll
from sitelink_test import check_conventions, run

P = "check_vpn_tunnel_up"
SVC = "VPN_TUNNEL"


@pytest.fixture
def pair(lab):
    lab_cmd("ovpn-pair", "up", timeout=120)
    yield lab
    lab_cmd("ovpn-pair", "down", timeout=60, check=False)


def check(lab, *extra):
    r = run(P, ["--backend", "openvpn", "--management", "primary=" + lab["LAB_OVPN_PAIR_MGMT_PRIMARY"],
                "--management", "secondary=" + lab["LAB_OVPN_PAIR_MGMT_SECONDARY"], "-w", "1:1", "-c", "1:",
                "-t", "5", *extra])
    check_conventions(r, SVC)
    return r


def up(r, server):
    return r.perf[f"{server}/openvpn_up"].value == 1


def test_pair_fails_over_and_back(pair):
    times = {}
    # Healthy: the client is on the primary, the secondary waits.
    r, _ = poll(lambda: check(pair), lambda r: r.rc == 0 and up(r, "primary"), 30)
    assert r.summary.startswith("1 of 2 tunnels up: secondary/openvpn "), str(r)
    assert r.perf["tunnels_up"].value == 1 and r.perf["tunnels_expected"].value == 2
    assert r.perf["tunnels_up"].warn == "1:1" and r.perf["tunnels_up"].crit == "1:", str(r)

    # Cut the primary at the client: the check sees the primary drop, then
    # the secondary take the tunnel (the client's ping-restart is 5 s).
    lab_cmd("ovpn-pair", "cut", "primary")
    t0 = time.monotonic()
    try:
        r, took = poll(lambda: check(pair), lambda r: not up(r, "primary"), 30)
        times["cut primary: primary shown not up"] = took
        r, _ = poll(lambda: check(pair), lambda r: r.rc == 0 and up(r, "secondary") and not up(r, "primary"), 45)
        times["cut primary: secondary carries the tunnel, OK"] = time.monotonic() - t0
        print("after the cut:", r.summary)
        assert r.summary.startswith("1 of 2 tunnels up: primary/openvpn "), str(r)

        # The primary server gone: its tunnel counts as down with the reason;
        # the pair stays OK (not UNKNOWN).
        lab_cmd("ovpn-pair", "stop", "primary")
        r, _ = poll(lambda: check(pair), lambda r: "OpenVPN is not running" in r.summary, 15)
        assert r.rc == 0, str(r)
        assert r.summary.startswith("1 of 2 tunnels up: primary/openvpn down (OpenVPN is not running (no socket at "
                                    ) or r.summary.startswith("1 of 2 tunnels up: primary/openvpn down (OpenVPN is "
                                                              "not running (connection refused"), str(r)
        assert r.perf["primary/openvpn_up"].value == 0

        # Then the secondary is cut too: no server carries the tunnel.
        lab_cmd("ovpn-pair", "cut", "secondary")
        t1 = time.monotonic()
        r, _ = poll(lambda: check(pair), lambda r: r.rc == 2, 45)
        times["cut secondary (primary stopped): CRITICAL"] = time.monotonic() - t1
        print("both gone:", r.summary)
        assert r.summary.startswith("0 of 2 tunnels up: primary/openvpn down (OpenVPN is not running"), str(r)
        assert "secondary/openvpn " in r.summary
    finally:
        t2 = time.monotonic()
        lab_cmd("ovpn-pair", "uncut", check=False)
        lab_cmd("ovpn-pair", "start", "primary", check=False)

    # Restored (both cuts removed, the primary server started again): one of
    # the two carries the tunnel again.
    r, _ = poll(lambda: check(pair), lambda r: r.rc == 0, 60)
    times["restore: OK"] = time.monotonic() - t2
    assert r.perf["tunnels_up"].value == 1, str(r)
    print("restored:", r.summary)
    for what, secs in times.items():
        print(f"transition time: {what}: {secs:.1f} s")
    # Generous bounds (a busy CI machine): ping-restart is 5 s.
    assert times["cut primary: primary shown not up"] < 30
    assert times["cut secondary (primary stopped): CRITICAL"] < 45


def test_pair_both_up_is_warning(pair):
    # Both servers carrying a tunnel is not active/passive: -w 1:1 warns.
    # The lab has one client, so the primary is read under two names.
    def both():
        r = run(P, ["--backend", "openvpn", "--management", "one=" + pair["LAB_OVPN_PAIR_MGMT_PRIMARY"],
                    "--management", "two=" + pair["LAB_OVPN_PAIR_MGMT_PRIMARY"], "-w", "1:1", "-c", "1:"])
        check_conventions(r, SVC)
        return r
    r, _ = poll(both, lambda r: r.perf["one/openvpn_up"].value == 1, 30)
    assert r.rc == 1 and r.summary == "2 of 2 tunnels up (warning outside 1..1)", str(r)


def test_pair_bad_management_is_a_usage_error(pair):
    r = run(P, ["--backend", "openvpn", "--management", "a=" + pair["LAB_OVPN_PAIR_MGMT_PRIMARY"],
                "--management", "a=" + pair["LAB_OVPN_PAIR_MGMT_SECONDARY"]])
    assert r.rc == 3 and "--management" in r.summary, str(r)
