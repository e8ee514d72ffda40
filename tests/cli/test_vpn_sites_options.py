# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up: the options for sites and pairs (--group,
--management given more than once, --os-region), their help and their
usage errors; and an OpenVPN pair whose servers are not running."""
import pytest

from sitelink_test import check_conventions, run

P = "check_vpn_tunnel_up"


def test_help_explains_sites_and_pairs():
    r = run(P, ["--help"])
    assert r.rc == 3
    for word in ("--group SITE=TUNNEL", "[NAME=]PATH|HOST:PORT", "--os-region", "cut off: 0 of 2 tunnels up",
                 "<site>_tunnels_up", "--management secondary=", "(active/passive pair)", "'name [id8]'"):
        assert word in r.stdout, word


@pytest.mark.parametrize("args,expect", [
    (["--backend", "strongswan", "--group", "office-a"], "invalid value 'office-a' for option '--group'"),
    (["--backend", "strongswan", "--group", "office-a="], "for option '--group': expected SITE=TUNNEL"),
    (["--backend", "strongswan", "--group", "=a-1"], "for option '--group'"),
    (["--backend", "strongswan", "--group", "a=t1,,t2"], "for option '--group'"),
    (["--backend", "strongswan", "--group", "a=t1", "--group", "b=t1"], "each tunnel in one group only ('t1' twice)"),
    (["--backend", "openvpn", "--management", "/x", "--group", "a=t1"],
     "option '--group' does not apply to --backend openvpn"),
    (["--backend", "aws", "--vpn-connection-id", "vpn-12345678", "--group", "a=t1"],
     "option '--group' does not apply to --backend aws"),
    (["--backend", "openvpn", "--management", "a=/x", "--management", "a=/y"], "for option '--management'"),
    (["--backend", "openvpn", "--management", "/x", "--management", "/x"], "for option '--management'"),
    (["--backend", "openvpn", "--management", "/x", "--management", "p=host:"], "for option '--management'"),
    (["--backend", "strongswan", "--os-region", "R"], "option '--os-region' does not apply to --backend strongswan"),
])
def test_usage_errors(args, expect):
    r = run(P, args)
    assert r.rc == 3, str(r)
    assert r.state == "UNKNOWN" and expect in r.lines[0], str(r)
    assert r.stderr == ""


def test_pair_with_no_server_running_is_critical_naming_each(tmp_path):
    # Neither socket exists: both servers are down, which is a finding about
    # the pair (CRITICAL), not a plugin failure (UNKNOWN).
    r = run(P, ["--backend", "openvpn", "--management", f"primary={tmp_path}/p.sock", "--management",
                f"secondary={tmp_path}/s.sock", "-w", "1:1", "-c", "1:"])
    check_conventions(r, "VPN_TUNNEL")
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"0 of 2 tunnels up: primary/openvpn down (OpenVPN is not running (no socket at "
                                f"{tmp_path}/p.sock)), secondary/openvpn down (OpenVPN is not running"), str(r)
    assert r.perf["primary/openvpn_up"].value == 0 and r.perf["secondary/openvpn_up"].value == 0


def test_one_management_is_unchanged(tmp_path):
    r = run(P, ["--backend", "openvpn", "--management", f"{tmp_path}/p.sock"])
    assert r.rc == 2 and r.summary == f"OpenVPN is not running (no socket at {tmp_path}/p.sock): no tunnel can be up", \
        str(r)
