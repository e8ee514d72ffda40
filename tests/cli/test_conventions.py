# SPDX-License-Identifier: GPL-2.0-or-later
"""The conventions every plugin follows (CONVENTIONS.md), run over all four
plugins: --help, --version, unknown options, bad -t, SIGTERM, the -t state.
Plugin-specific behaviour stays in the plugin's own test file."""
import pytest

from sitelink_test import run

SERVICES = {
    "check_vpn_tunnel_up": "VPN_TUNNEL",
    "check_cross_site_ping": "CROSS_SITE_PING",
    "check_replication_lag": "REPLICATION_LAG",
    "check_tunnel_traffic": "TUNNEL_TRAFFIC",
}
PLUGINS = sorted(SERVICES)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_usage_error_output_has_no_pipe(plugin):
    # Nagios reads everything after the first '|' as perfdata: the short usage
    # after a usage error spells alternatives with words instead.
    r = run(plugin, ["--no-such-option"])
    assert r.rc == 3, str(r)
    assert r.lines[0] == f"{SERVICES[plugin]} UNKNOWN - unrecognised option '--no-such-option'", str(r)
    assert "|" not in r.stdout, str(r)
    assert any(line.startswith("Usage: ") for line in r.lines), str(r)


@pytest.mark.parametrize("plugin, alternatives", [
    ("check_vpn_tunnel_up", "strongswan, openvpn or wireguard"),
    ("check_cross_site_ping", "[-4 or -6]"),
    ("check_replication_lag", "file, postgresql or mysql"),
    ("check_tunnel_traffic", "(-i IFACE or --pcap-file FILE)"),
])
def test_usage_error_spells_alternatives_in_words(plugin, alternatives):
    r = run(plugin, ["--no-such-option"])
    assert alternatives in " ".join(line.strip() for line in r.lines), str(r)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_help_keeps_the_synopsis_notation(plugin):
    r = run(plugin, ["--help"])
    assert r.rc == 3, str(r)
    usage = r.stdout[r.stdout.index("Usage: "):].split("\n\n")[0]
    assert "|" in usage, str(r)
