# SPDX-License-Identifier: GPL-2.0-or-later
"""check_tunnel_traffic capturing live on site A's WAN interface in the lab.

Faults that site A's capture must see ("nothing comes back") are made at
site B by tests/lab/lab-traffic, because a capture sees inbound packets
before site A's own netfilter could drop them."""
import os
import re
import subprocess
import time

import pytest

from conftest import LAB, lab_cmd
from sitelink_test import address_label as label, check_conventions, plugin_path, run

P = "check_tunnel_traffic"
SVC = "TUNNEL_TRAFFIC"
LAB_TRAFFIC = os.path.join(os.path.dirname(LAB), "lab-traffic")


def lab_traffic(*args, timeout=60):
    p = subprocess.run([LAB_TRAFFIC] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"lab-traffic {args} failed:\n{p.stdout}\n{p.stderr}"
    return p.stdout


def capture(lab, *args, ns=None, iface="wan1"):
    ns = ns or lab["LAB_NS_A"]
    r = run("/usr/sbin/ip", ["netns", "exec", ns, plugin_path(P), "-i", iface] + list(args))
    check_conventions(r, SVC)
    return r


@pytest.fixture
def peer(lab):
    return lab["LAB_WAN_B"]


@pytest.fixture
def ping(lab):
    """Pings through the IPsec tunnel during the test."""
    pids = []

    def start(seconds, interval=0.1):
        pids.append(int(lab_traffic("ping", seconds, interval).strip()))

    yield start
    for pid in pids:
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass


@pytest.fixture
def restore(lab):
    """Removes every fault afterwards and waits for the tunnels."""
    yield
    lab_traffic("clear")
    lab_cmd("restore", "all", 60, timeout=120)


def test_ipsec_flowing_with_traffic(lab, peer, ping):
    lab_cmd("wait", "ipsec", 30)
    ping(5)
    r = capture(lab, "--peer", peer, "--protocol", "ipsec", "--duration", "3")
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"{peer} IPsec flowing: ")
    # 10 pings per second each way, carried as ESP-in-UDP.
    assert 7 <= r.perf[f"{label(peer)}_out_pps"].value <= 14, str(r)
    assert 7 <= r.perf[f"{label(peer)}_in_pps"].value <= 14, str(r)
    assert r.perf[f"{label(peer)}_in_Bps"].value > 7 * 100
    assert any(line.startswith(f"{peer} out: ESP ") for line in r.lines), str(r)


def test_inbound_4500_dropped_is_one_way_out(lab, peer, ping, restore):
    lab_cmd("wait", "ipsec", 30)
    lab_traffic("drop-return", "ipsec")
    # On a busy machine a capture window can fall on charon re-sending IKE
    # (no ESP in those 3 s: "IKE unanswered", also CRITICAL). Up to three
    # windows, each with traffic; never OK, and one sees the ESP flow.
    seen = []
    for _ in range(3):
        ping(5)
        r = capture(lab, "--peer", peer, "--protocol", "ipsec", "--duration", "3")
        seen.append(r)
        assert r.rc == 2, str(r)
        if r.summary.startswith(f"{peer} IPsec one-way out: "):
            break
    assert r.summary.startswith(f"{peer} IPsec one-way out: "), "\n".join(map(str, seen))
    assert r.perf[f"{label(peer)}_in_pps"].value == 0
    assert r.perf[f"{label(peer)}_out_pps"].value >= 7
    assert any(line.startswith("Check: the peer receives our packets") for line in r.lines)


def test_ike_blocked_both_ways_is_ike_unanswered(lab, peer, restore):
    lab_cmd("wait", "ipsec", 30)
    lab_traffic("blackhole", "ipsec")
    lab_traffic("reinit")  # site A starts over with IKE_SA_INIT and retransmits it
    r = capture(lab, "--peer", peer, "--protocol", "ipsec", "--duration", "4")
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"{peer} IKE unanswered: "), str(r)
    assert r.perf[f"{label(peer)}_ike_requests_out"].value >= 2, str(r)
    assert r.perf[f"{label(peer)}_ike_responses_in"].value == 0
    checks = [line for line in r.lines if line.startswith("Check:")]
    assert len(checks) == 3 and "UDP 500 and 4500" in checks[0]


@pytest.mark.parametrize("kind,name", [("wireguard", "WireGuard"), ("openvpn", "OpenVPN")])
def test_flowing_then_cut(lab, peer, restore, kind, name):
    lab_cmd("wait", kind, 30)
    # Both daemons send keepalives every second.
    r = capture(lab, "--peer", peer, "--protocol", kind, "--duration", "3")
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"{peer} {name} flowing: ")
    assert r.perf[f"{label(peer)}_in_pps"].value > 0 and r.perf[f"{label(peer)}_out_pps"].value > 0
    # Site B stops answering: our packets leave, nothing comes back.
    lab_traffic("blackhole", kind)
    r = capture(lab, "--peer", peer, "--protocol", kind, "--duration", "3")
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"{peer} {name} one-way out: "), str(r)
    assert r.perf[f"{label(peer)}_in_pps"].value == 0
    # The lab's own cut drops at site A: B's packets still arrive on A's
    # wire, A's never leave.
    # (From a healthy tunnel again: after a few seconds without answers the
    # daemons restart their handshakes on their own schedule.)
    lab_traffic("clear")
    lab_cmd("restore", kind, 60, timeout=120)
    lab_cmd("cut", kind)
    time.sleep(0.5)
    r = capture(lab, "--peer", peer, "--protocol", kind, "--duration", "3")
    assert r.rc == 1, str(r)
    assert r.summary.startswith(f"{peer} {name} one-way in: "), str(r)
    assert r.perf[f"{label(peer)}_out_pps"].value == 0


def test_no_traffic_is_idle(lab):
    peer2 = lab["LAB_WAN2_B"]
    # The second WAN carries only IPsec (dr-secondary): no WireGuard there.
    r = capture(lab, "--peer", peer2, "--protocol", "wireguard", "--duration", "2", iface="wan2")
    assert r.rc == 0, str(r)  # a quiet link notifies no one by default
    # The summary gives the window as measured: 2 s, or a few ms more when a
    # busy machine wakes the capture loop late (a correctness bound, not a
    # speed assertion).
    m = re.fullmatch(re.escape(peer2) + r" idle: no tunnel packets in (2|2\.0[0-9]) s", r.summary)
    assert m, str(r)
    assert r.perf[f"{label(peer2)}_out_pps"].value == 0 and r.perf[f"{label(peer2)}_in_pps"].value == 0
    r = capture(lab, "--peer", peer2, "--protocol", "wireguard", "--duration", "1", "--idle-state", "warning",
                iface="wan2")
    assert r.rc == 1, str(r)


def test_peers_discovered_from_local_addresses(lab, peer):
    lab_cmd("wait", "all", 30)
    r = capture(lab, "--duration", "3")
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"{peer} "), str(r)
    # All three tunnels of WAN 1 run to the same peer.
    assert "IPsec" in r.summary and "OpenVPN" in r.summary and "WireGuard" in r.summary, str(r)
    assert f"{label(peer)}_out_pps" in r.perf


def test_capture_ends_within_timeout(lab, peer):
    start = time.monotonic()
    r = capture(lab, "--peer", peer, "--duration", "10", "-t", "3")
    assert time.monotonic() - start < 3.3, str(r)
    assert any(line.startswith("capture shortened from 10 s") for line in r.lines)


def test_unprivileged_live_capture_is_unknown(lab):
    r = run("/usr/sbin/ip", ["netns", "exec", lab["LAB_NS_A"], "setpriv", "--reuid=65534", "--regid=65534",
                             "--clear-groups", "--inh-caps=-all", plugin_path(P), "-i", "wan1", "--duration", "1"])
    check_conventions(r, SVC)
    assert r.rc == 3 and "needs CAP_NET_RAW" in r.summary, str(r)
