# SPDX-License-Identifier: GPL-2.0-or-later
"""check_cross_site_ping --mtu across the two-site lab (issue 23): from site
A's LAN host to site B's LAN through the IPsec tunnel (dr-primary, whose
ipsec0 devices have MTU 1400), with site B's LAN-side link lowered to 1300
(LAB-NOTES "Path-MTU scenarios"). ICMP allowed: WARNING with the hop; ICMP
frag-needed / packet-too-big dropped in B's output hook: CRITICAL black hole.
Every test restores the MTU, the nft table and A's route cache."""
import re
import subprocess

import pytest

from sitelink_test import address_label
from test_ping_lab import from_a_lan

TUNNEL_MTU = 1400  # ipsec0 on both gateways (the lab's libipsec TUN device)
LOWERED = 1300
TABLE = "sitelink_mtu_lab"


def ns(lab_ns, *cmd, check=True, text_in=None):
    return subprocess.run(["ip", "netns", "exec", lab_ns] + list(cmd), input=text_in, capture_output=True,
                          text=True, check=check, timeout=30)


def flush_sender_cache(lab):
    ns(lab["LAB_NS_A_LAN"], "ip", "route", "flush", "cache")
    ns(lab["LAB_NS_A_LAN"], "ip", "-6", "route", "flush", "cache")


def cached_mtu(lab, target):
    """The path MTU A's LAN host has cached for `target` (None: none)."""
    fam = "-6" if ":" in target else "-4"
    out = ns(lab["LAB_NS_A_LAN"], "ip", fam, "route", "get", target).stdout
    m = re.search(r"\bmtu (\d+)", out)
    return int(m.group(1)) if m else None


@pytest.fixture
def mtu_lab(lab):
    flush_sender_cache(lab)
    try:
        yield lab
    finally:
        ns(lab["LAB_NS_B"], "ip", "link", "set", "lan", "mtu", "1500", check=False)
        ns(lab["LAB_NS_B"], "nft", "delete", "table", "inet", TABLE, check=False)
        flush_sender_cache(lab)


def lower_hop(lab):
    ns(lab["LAB_NS_B"], "ip", "link", "set", "lan", "mtu", str(LOWERED))


def black_hole(lab):
    ns(lab["LAB_NS_B"], "nft", "-f", "-", text_in=f"""
table inet {TABLE} {{
  chain out {{ type filter hook output priority 0; policy accept;
    icmp type destination-unreachable icmp code frag-needed drop
    icmpv6 type packet-too-big drop
  }}
}}
""")
    flush_sender_cache(lab)


def targets(lab):
    return [lab["LAB_LAN_B"], lab["LAB_LAN6_B"]]


def test_healthy_path_ok_with_its_pmtu(mtu_lab):
    lab = mtu_lab
    r = from_a_lan(lab, ["-H", ",".join(targets(lab)), "--mtu", TUNNEL_MTU])
    assert r.rc == 0, str(r)
    for t in targets(lab):
        assert r.perf[f"{address_label(t)}_pmtu"].value == TUNNEL_MTU, str(r)
    # Above the tunnel's MTU: A's gateway signals 1400 (the tunnel device).
    r = from_a_lan(lab, ["-H", ",".join(targets(lab)), "--mtu", 1500])
    assert r.rc == 1, str(r)
    for t, gw in zip(targets(lab), (lab["LAB_LAN_GW_A"], "fd00:101::1")):
        assert r.perf[f"{address_label(t)}_pmtu"].value == TUNNEL_MTU, str(r)
        assert f"path MTU to {t}: {TUNNEL_MTU} bytes, signalled by {gw}" in r.stdout, str(r)


def test_lowered_hop_signalled_is_warning_with_the_hop(mtu_lab):
    lab = mtu_lab
    lower_hop(lab)
    r = from_a_lan(lab, ["-H", ",".join(targets(lab)), "--mtu", TUNNEL_MTU])
    assert r.rc == 1, str(r)
    assert f"path MTU {LOWERED}, signalled by {lab['LAB_LAN_GW_B']}" in r.summary, str(r)
    for t, gw in zip(targets(lab), (lab["LAB_LAN_GW_B"], "fd00:102::1")):
        assert r.perf[f"{address_label(t)}_pmtu"].value == LOWERED, str(r)
        assert f"path MTU to {t}: {LOWERED} bytes, signalled by {gw}" in r.stdout, str(r)
        assert re.search(rf"path MTU to {re.escape(t)}: .*\(2 round trip\(s\)", r.stdout), str(r)
    # The ICMP messages taught A's kernel the MTU, as they would for any
    # traffic (route exception, net.ipv4.route.mtu_expires: 600 s); with DF
    # the kernel then refuses larger probes locally: too big, not loss.
    for t in targets(lab):
        assert cached_mtu(lab, t) == LOWERED
    r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-b", LOWERED + 72, "--dont-fragment"])
    assert r.rc == 1, str(r)
    assert f"probes of {LOWERED + 100} bytes are too big for the known path MTU {LOWERED} bytes" in r.summary


def test_silent_drop_is_a_critical_black_hole_of_the_right_size(mtu_lab):
    lab = mtu_lab
    lower_hop(lab)
    black_hole(lab)
    r = from_a_lan(lab, ["-H", ",".join(targets(lab)), "--mtu", TUNNEL_MTU])
    assert r.rc == 2, str(r)
    assert "MTU black hole: packets above" in r.summary, str(r)
    assert "TCP sessions that send full-size segments will hang" in r.summary
    for t in targets(lab):
        # The hop's MTU is what limits here, so the search finds it to the
        # byte (no encapsulation granularity in between).
        assert r.perf[f"{address_label(t)}_pmtu"].value == LOWERED, str(r)
        assert re.search(rf"path MTU to {re.escape(t)}: {LOWERED} bytes, no ICMP message; .*\(3 round trip", r.stdout)
        assert "clamp the TCP MSS" in r.stdout
        # Nothing was signalled: the probes leave no cached MTU behind.
        assert cached_mtu(lab, t) is None
    assert r.elapsed < 1.0, str(r)


def test_black_hole_never_hides_loss_of_small_probes(mtu_lab):
    lab = mtu_lab
    lower_hop(lab)
    black_hole(lab)
    # 100% loss target next to a black-holed one: the dead target's CRITICAL
    # stays; it is not searched (no small reply to tell a hole from a dead host).
    r = from_a_lan(lab, ["-H", f"{lab['LAB_LAN_B']},10.102.0.99", "--mtu", TUNNEL_MTU, "-n", 3, "-w", "50ms,20%", "-c", "100ms,60%"])
    assert r.rc == 2, str(r)
    assert "CRITICAL: 10.102.0.99: no echo reply, 100% loss (0 of 3)" in r.stdout, str(r)
    assert r.perf["10_102_0_99_pmtu"].value is None, str(r)
    assert r.perf[f"{address_label(lab['LAB_LAN_B'])}_pmtu"].value == LOWERED, str(r)
