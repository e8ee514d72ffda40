# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend aws with several VPN connections: each is a
site (a customer gateway), judged on its own against -w/-c."""
import pytest

from cloud_lab import cloud_runner

SVC = "VPN_TUNNEL"
V = "vpn-0a1b2c3d4e5f6000"  # 1: both up, 2: one down, 3: both down, 4: both up (BGP, no routes)
ENV_KEY = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}


@pytest.fixture
def cloud(server, tmp_path):
    def args_for(a, **_):
        out = ["--backend", "aws", "--region", "eu-west-1", "--endpoint-url", server.url]
        return out + a

    server.control(None)
    yield cloud_runner(server, tmp_path, SVC, args_for, lambda **_: ENV_KEY)
    server.control(None)


def vpn(*ids):
    out = []
    for i in ids:
        out += ["--vpn-connection-id", f"{V}{i}"]
    return out


def test_one_site_cut_off_while_the_other_is_healthy_is_critical(cloud):
    r = cloud(*vpn(1, 3))
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"site {V}3 cut off: 0 of 2 tunnels up; 2 of 4 tunnels up ({V}1 2 of 2, {V}3 0 of 2): "
                                f"{V}3/203.0.113.31 down"), str(r)
    assert f"site {V}3: 0 of 2 tunnels up, cut off" in r.lines and f"site {V}1: 2 of 2 tunnels up" in r.lines
    assert r.perf[f"{V}1_tunnels_up"].value == 2 and r.perf[f"{V}3_tunnels_up"].value == 0, str(r)
    assert r.perf[f"{V}3_tunnels_up"].crit == "1:" and r.perf[f"{V}3_tunnels_up"].max == "2", str(r)


def test_ranges_apply_to_each_connection(cloud):
    # Active/passive per connection: one tunnel of each up is normal.
    r = cloud(*vpn(1, 2), "-w", "1:1", "-c", "1:")
    assert r.rc == 1, str(r)  # connection 1 has both up: more than 1:1
    assert f"({V}1 2 of 2 (warning outside 1..1), {V}2 1 of 2)" in r.summary, str(r)
    r = cloud(*vpn(1, 2))  # default: every tunnel of each connection up
    assert r.rc == 1 and f"{V}2/203.0.113.22 down (IPSEC IS DOWN)" in r.summary, str(r)
    r = cloud(*vpn(1, 4), "-w", "1:", "-c", "1:")
    assert r.rc == 1 and f"{V}4/203.0.113.41 up but no routes" in r.summary, str(r)


def test_perfdata_labels_are_the_same_in_every_state(cloud):
    healthy = cloud(*vpn(1, 4))
    broken = cloud(*vpn(1, 3))
    assert sorted(healthy.perf) != [] and [k.replace(f"{V}4", "X") for k in healthy.perf if "_tunnels_up" in k] == \
        [k.replace(f"{V}3", "X") for k in broken.perf if "_tunnels_up" in k], (str(healthy), str(broken))


def test_one_connection_is_unchanged(cloud):
    r = cloud(*vpn(2))
    assert r.rc == 1, str(r)
    assert r.summary == f"1 of 2 tunnels up: {V}2/203.0.113.22 down (IPSEC IS DOWN)", str(r)
    assert not [k for k in r.perf if k.endswith("_tunnels_up")], str(r)
