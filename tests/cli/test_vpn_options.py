# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up: help, version and usage errors."""
import pytest

from sitelink_test import run

P = "check_vpn_tunnel_up"


def test_help_lists_the_vpn_options():
    r = run(P, ["--help"])
    assert r.rc == 3
    for word in ("--backend", "--tunnel", "--stale", "--management-password-file", "--peer-alias", "-w 1:1 -c 1:",
                 "--idle-state", "--no-keepalive-state", "idle for N s"):
        assert word in r.stdout


@pytest.mark.parametrize("args,expect", [
    ([], "missing --backend"),
    (["--backend", "ipsec"], "invalid value 'ipsec' for option '--backend'"),
    (["--backend", "openvpn"], "needs --management"),
    (["--backend", "strongswan", "--socket", "charon.vici"], "--socket"),
    (["--backend", "strongswan", "--management", "/x"], "'--management' does not apply"),
    (["--backend", "openvpn", "--management", "host:"], "--management"),
    (["--backend", "wireguard", "--interface", "../etc"], "invalid value '../etc' for option '--interface'"),
    (["--backend", "wireguard", "--peer-alias", "b"], "expected NAME=PUBKEY"),
    (["--backend", "wireguard", "--peer-alias", "b=short="], "for option '--peer-alias': expected NAME=PUBKEY with a 44"),
    (["--backend", "strongswan", "--stale", "0"], "--stale"),
    (["--backend", "strongswan", "--stale", "3s"], "--stale"),
    (["--backend", "strongswan", "-w", "1:~"], "--warning"),
    (["--backend", "strongswan", "-c", "abc"], "--critical"),
    (["--backend", "strongswan", "--tunnel", ""], "--tunnel"),
    (["--backend", "strongswan", "--no-such"], "unrecognised option"),
    (["--backend", "strongswan", "--idle-state", "maybe"],
     "invalid value 'maybe' for option '--idle-state': expected ok, warning, critical, unknown or 0-3"),
    (["--backend", "wireguard", "--no-keepalive-state", "4"],
     "invalid value '4' for option '--no-keepalive-state': expected ok, warning, critical, unknown or 0-3"),
    (["--backend", "openvpn", "--management", "/x", "--idle-state", "ok"],
     "option '--idle-state' does not apply to --backend openvpn"),
    (["--backend", "wireguard", "--idle-state", "ok"], "option '--idle-state' does not apply to --backend wireguard"),
    (["--backend", "strongswan", "--no-keepalive-state", "ok"],
     "option '--no-keepalive-state' does not apply to --backend strongswan"),
    (["--backend", "aws", "--vpn-connection-id", "vpn-12345678", "--no-keepalive-state", "ok"],
     "option '--no-keepalive-state' does not apply to --backend aws"),
])
def test_usage_errors(args, expect):
    r = run(P, args)
    assert r.rc == 3, str(r)
    assert r.state == "UNKNOWN" and expect in r.lines[0], str(r)
    assert r.stderr == ""
    assert len(r.lines) <= 25 and all(len(line) <= 80 for line in r.lines[1:])
