# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend openvpn|wireguard against the lab (site A)."""
import re
import time

import pytest

from conftest import lab_cmd, poll
from sitelink_test import check_conventions, run

P = "check_vpn_tunnel_up"
SVC = "VPN_TUNNEL"


def check(*args, **kw):
    r = run(P, list(args), **kw)
    check_conventions(r, SVC)
    return r


@pytest.fixture
def healthy(lab):
    lab_cmd("restore", "all", 60, timeout=120)
    yield lab
    lab_cmd("restore", "all", 60, timeout=120)


def ovpn(lab, *args):
    return check("--backend", "openvpn", "--management", lab["LAB_OVPN_MGMT_A"], "--tunnel", "dr-ovpn", *args)


def wg(lab, *args):
    return check("--backend", "wireguard", "--interface", lab["LAB_WG_IFACE"], "--socket", lab["LAB_WG_SOCK_A"],
                 "--peer-alias", "site-b=" + lab["LAB_WG_PUB_B"], "--peer-alias", "never=" + lab["LAB_WG_PUB_NEVER"],
                 *args)


def test_openvpn_healthy_cut_restored(healthy):
    r = ovpn(healthy)
    assert r.rc == 0, str(r)
    assert r.summary == "1 of 1 tunnels up"
    assert r.lines[1].startswith(f"dr-ovpn: up, CONNECTED to {healthy['LAB_WAN_B']}:")
    assert r.perf["dr-ovpn_bytes_in"].value > 0
    lab_cmd("cut", "openvpn")
    try:
        # ping-restart 5 s: OpenVPN itself notices and reconnects
        r, took = poll(lambda: ovpn(healthy), lambda r: r.rc == 2, 30)
        assert r.summary.startswith("0 of 1 tunnels up: dr-ovpn connecting ("), str(r)
        assert r.perf["dr-ovpn_up"].value == 0
    finally:
        lab_cmd("restore", "openvpn", 60, timeout=120)
    r, _ = poll(lambda: ovpn(healthy), lambda r: r.rc == 0, 30)
    assert r.perf["dr-ovpn_up"].value == 1


def test_openvpn_daemon_stopped(healthy):
    lab_cmd("stop-peer", "openvpn", "TERM")
    try:
        r = check("--backend", "openvpn", "--management", healthy["LAB_OVPN_MGMT_B"])
        assert r.rc == 2, str(r)
        assert "OpenVPN is not running" in r.summary
    finally:
        lab_cmd("start-peer", "openvpn", 60, timeout=120)


def test_wireguard_healthy_and_never_handshaked_peer(healthy):
    r = wg(healthy, "--tunnel", "site-b")
    assert r.rc == 0, str(r)
    assert r.summary == "1 of 1 tunnels up"
    assert 0 <= r.perf["site-b_handshake_age"].value <= 180
    assert r.perf["site-b_bytes_in"].value > 0
    # the lab's third peer has an allowed IP but no endpoint: never connected
    r = wg(healthy, "--tunnel", "never")
    assert r.rc == 2, str(r)
    assert r.summary == "0 of 1 tunnels up: never down (no handshake yet, no endpoint)"
    assert r.perf["never_handshake_age"].value is None
    # without --tunnel every configured peer is expected: lost redundancy
    r = wg(healthy)
    assert r.rc == 1 and r.perf["tunnels_expected"].value == 2, str(r)


def test_wireguard_cut_and_restored(healthy):
    """WireGuard keeps no session state: a cut shows when the handshake,
    renewed about every 120 s while traffic flows, grows older than the
    limit. 150 s keeps the test within three minutes."""
    r = wg(healthy, "--tunnel", "site-b", "--stale", "150")
    assert r.rc == 0, str(r)
    lab_cmd("cut", "wireguard")
    try:
        r, took = poll(lambda: wg(healthy, "--tunnel", "site-b", "--stale", "150"), lambda r: r.rc == 2, 200,
                       interval=2)
        assert r.summary.startswith("0 of 1 tunnels up: site-b stale (last handshake "), str(r)
        assert r.perf["site-b_handshake_age"].value >= 150
    finally:
        lab_cmd("restore", "wireguard", 60, timeout=120)
    r, _ = poll(lambda: wg(healthy, "--tunnel", "site-b", "--stale", "150"), lambda r: r.rc == 0, 30)
    assert r.perf["site-b_handshake_age"].value < 150


def keepalive(lab, seconds, fresh=False):
    """Sets PersistentKeepalive between A and B on both sides. fresh: A
    drops its session with B first (peer removed and added back), so the
    next packet makes a new handshake."""
    if fresh:
        lab_cmd("wg", "a", "set", lab["LAB_WG_IFACE"], "peer", lab["LAB_WG_PUB_B"], "remove")
        lab_cmd("wg", "a", "set", lab["LAB_WG_IFACE"], "peer", lab["LAB_WG_PUB_B"], "endpoint",
                f"{lab['LAB_WAN_B']}:{lab['LAB_WG_PORT']}", "allowed-ips", lab["LAB_WG_TUN_B"] + "/32")
    lab_cmd("wg", "a", "set", lab["LAB_WG_IFACE"], "peer", lab["LAB_WG_PUB_B"], "persistent-keepalive", seconds)
    lab_cmd("wg", "b", "set", lab["LAB_WG_IFACE"], "peer", lab["LAB_WG_PUB_A"], "persistent-keepalive", seconds)


NO_KEEPALIVE = re.compile(r"^1 of 1 tunnels up; site-b: no handshake for (\d+) s and no keepalive set: idle or down, "
                          r"cannot tell; set PersistentKeepalive on this peer$")


def test_wireguard_peer_without_keepalive_cannot_tell(healthy):
    """Without keepalive an idle peer makes no handshakes: past the limit it
    is neither up nor down but --no-keepalive-state (default WARNING), with
    the hint. --stale 10 stands for the usual 150-180 s."""
    keepalive(healthy, 0)
    try:
        r, _ = poll(lambda: wg(healthy, "--tunnel", "site-b", "--stale", "10"), lambda r: r.rc != 0, 30, interval=1)
        assert r.rc == 1, str(r)
        print(f"no keepalive: {r.summary}")
        m = NO_KEEPALIVE.match(r.summary)
        # Past the 10 s limit; the age is printed rounded, so 10.4 s reads 10.
        assert m and int(m.group(1)) >= 10, str(r)
        assert r.perf["site-b_up"].value == 1 and r.perf["site-b_handshake_age"].value >= 10
        for state, rc in (("critical", 2), ("ok", 0), ("3", 3)):
            r = wg(healthy, "--tunnel", "site-b", "--stale", "10", "--no-keepalive-state", state)
            assert r.rc == rc and NO_KEEPALIVE.match(r.summary), str(r)
    finally:
        keepalive(healthy, 1)


def fresh_handshake(r):
    age = r.perf["site-b_handshake_age"].value
    return r.rc == 0 and age is not None and age <= 3


def test_wireguard_keepalive_peer_cut_is_down_within_the_limit(healthy):
    """PersistentKeepalive = 5: the handshake age is evidence again; from a
    fresh handshake, a cut is CRITICAL once it passes the limit (20 s)."""
    keepalive(healthy, 5, fresh=True)
    try:
        args = ["--tunnel", "site-b", "--stale", "20"]
        r, _ = poll(lambda: wg(healthy, *args), fresh_handshake, 15)
        assert r.summary == "1 of 1 tunnels up", str(r)
        lab_cmd("cut", "wireguard")
        cut = time.monotonic()
        r, _ = poll(lambda: wg(healthy, *args), lambda r: r.rc != 0, 30, interval=0.5)
        took = time.monotonic() - cut
        assert r.rc == 2 and r.summary.startswith("0 of 1 tunnels up: site-b stale (last handshake "), str(r)
        print(f"keepalive 5, cut: CRITICAL after {took:.1f} s: {r.summary}")
        assert took <= 20 + 2, f"down after {took:.1f} s\n{r}"
    finally:
        lab_cmd("restore", "wireguard", 60, timeout=120)
        keepalive(healthy, 1)
    r, _ = poll(lambda: wg(healthy, "--tunnel", "site-b"), lambda r: r.rc == 0, 30)
