# SPDX-License-Identifier: GPL-2.0-or-later
"""Command-line audit: no plugin takes a secret as an option value.

Secrets on the command line show in `ps` and in Icinga's command view. Every
option whose name mentions a secret must be a documented file-path option
(--management-password-file, --defaults-file, ...), and the plugin must
treat its value as a path. A password smuggled into a connection string
(--dsn) is refused without being echoed.
"""
import os
import re

import pytest

from sitelink_test import BUILD, check_conventions, run

SECRET_WORDS = ("password", "passwd", "secret", "token", "key", "psk", "credential")
# Options allowed to mention a secret because their value is a file path.
PATH_OPTIONS = {"management-password-file", "defaults-file", "password-file", "credentials-file",
                "shared-credentials-file", "key-file", "token-file", "secret-file"}
SERVICES = {"check_replication_lag": "REPLICATION_LAG", "check_vpn_tunnel_up": "VPN_TUNNEL",
            "check_cross_site_ping": "CROSS_SITE_PING", "check_tunnel_traffic": "TUNNEL_TRAFFIC"}
# How to reach the code that reads a file-path option, per plugin and option.
CONTEXT = {
    ("check_vpn_tunnel_up", "management-password-file"): ["--backend", "openvpn", "--management",
                                                          "/nonexistent/sitelink-audit/mgmt.sock"],
    ("check_replication_lag", "defaults-file"): ["--backend", "mysql", "-H", "127.0.0.1", "-P", "9"],
}
# "--long-name ARG" or "-x [ --long-name ] ARG" in Boost.Program_options help.
OPT_RE = re.compile(r"^\s+(?:-\w \[ )?--([a-z0-9][a-z0-9-]*)(?: \])?(?: (\S+))?")


def plugins():
    bindir = os.path.join(BUILD, "bin")
    return sorted(p for p in os.listdir(bindir) if p.startswith("check_") and p in SERVICES)


def options_of(plugin):
    r = run(plugin, ["--help"])
    assert r.rc == 3, str(r)
    opts = {}
    for line in r.stdout.splitlines():
        m = OPT_RE.match(line)
        # The option tables come first; a later mention is in the notes.
        if m:
            opts.setdefault(m.group(1), m.group(2) or "")
    assert "help" in opts and "timeout" in opts, f"could not parse the --help of {plugin}:\n{r.stdout}"
    return opts


def test_every_plugin_found():
    assert set(plugins()) == set(SERVICES), plugins()


@pytest.mark.parametrize("plugin", sorted(SERVICES))
def test_no_option_takes_a_secret(plugin):
    opts = options_of(plugin)
    for name, arg in opts.items():
        if any(w in name for w in SECRET_WORDS):
            assert name in PATH_OPTIONS, f"{plugin} --{name} {arg}: an option that takes a secret"
            assert arg.upper() in ("PATH", "FILE"), f"{plugin} --{name} takes {arg}, not a path"
        # The value names say what is typed; none may be a secret either.
        assert not any(w in arg.lower() for w in ("password", "secret", "token", "psk")), \
            f"{plugin} --{name} {arg}"


@pytest.mark.parametrize("plugin,option", sorted(CONTEXT))
def test_secret_file_options_take_paths(plugin, option):
    if option not in options_of(plugin):
        pytest.skip(f"{plugin} has no --{option}")
    # A value that is not a readable file is refused as a file (UNKNOWN,
    # naming the path), never used as the secret itself.
    value = "/nonexistent/sitelink-audit/not-a-secret"
    r = run(plugin, CONTEXT[(plugin, option)] + [f"--{option}", value, "-t", "5"])
    check_conventions(r, SERVICES[plugin])
    assert r.state == "UNKNOWN", str(r)
    assert value in r.stdout, str(r)


@pytest.mark.parametrize("dsn", ["host=127.0.0.1 port=9 password=Hunter2-audit-dsn",
                                 "postgresql://mon:Hunter2-audit-dsn@127.0.0.1:9/app",
                                 "postgresql://127.0.0.1:9/app?password=Hunter2-audit-dsn"])
def test_password_in_dsn_refused_without_echo(dsn):
    opts = options_of("check_replication_lag")
    if "dsn" not in opts:
        pytest.skip("no --dsn")
    r = run("check_replication_lag", ["--backend", "postgresql", "--dsn", dsn, "-vvv", "-t", "5"])
    check_conventions(r, "REPLICATION_LAG")
    assert r.state == "UNKNOWN", str(r)
    assert "Hunter2-audit-dsn" not in r.stdout, str(r)
