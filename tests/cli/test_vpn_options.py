# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up: help, version and usage errors."""
import pytest

from sitelink_test import run

P = "check_vpn_tunnel_up"


@pytest.mark.parametrize("args,expect", [
    ([], "missing --backend"),
    (["--backend", "ipsec"], "unknown backend 'ipsec'"),
    (["--backend", "openvpn"], "needs --management"),
    (["--backend", "strongswan", "--socket", "charon.vici"], "--socket"),
    (["--backend", "strongswan", "--management", "/x"], "'--management' does not apply"),
    (["--backend", "openvpn", "--management", "host:"], "--management"),
    (["--backend", "wireguard", "--interface", "../etc"], "invalid interface name"),
    (["--backend", "wireguard", "--peer-alias", "b"], "expected NAME=PUBKEY"),
    (["--backend", "wireguard", "--peer-alias", "b=short="], "invalid public key"),
    (["--backend", "strongswan", "--stale", "0"], "--stale"),
    (["--backend", "strongswan", "--stale", "3s"], "--stale"),
    (["--backend", "strongswan", "-w", "1:~"], "--warning"),
    (["--backend", "strongswan", "-c", "abc"], "--critical"),
    (["--backend", "strongswan", "--tunnel", ""], "--tunnel"),
    (["--backend", "strongswan", "--no-such"], "unrecognised option"),
])
def test_usage_errors(args, expect):
    r = run(P, args)
    assert r.rc == 3, str(r)
    assert r.state == "UNKNOWN" and expect in r.lines[0], str(r)
    assert r.stderr == ""
    assert len(r.lines) <= 25 and all(len(line) <= 80 for line in r.lines[1:])
