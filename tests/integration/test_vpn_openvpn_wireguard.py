# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend openvpn|wireguard against the lab (site A)."""
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
