# SPDX-License-Identifier: GPL-2.0-or-later
"""--extra-opts=[SECTION][@FILE] in every plugin, as the Monitoring Plugins
read it: options from an ini section, the command line wins, repeated
options accumulate, errors are UNKNOWN naming the file and line."""
import os
import re
import shutil
import time

import pytest

from sitelink_test import BUILD, SOURCE, check_conventions, plugin_path, run

SERVICES = {"check_replication_lag": "REPLICATION_LAG", "check_vpn_tunnel_up": "VPN_TUNNEL",
            "check_cross_site_ping": "CROSS_SITE_PING", "check_tunnel_traffic": "TUNNEL_TRAFFIC"}
FIX = os.path.join(SOURCE, "tests", "fixtures")
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")
# No default file of the machine's may leak into a test.
NO_DEFAULTS = {"MP_CONFIG_FILE": "", "NAGIOS_CONFIG_PATH": ""}


def checked(plugin, args, env=None):
    r = run(plugin, args, env={**NO_DEFAULTS, **(env or {})})
    if r.state == "UNKNOWN":
        # A usage error: line 1, then the short usage (whose synopsis has "|").
        assert r.stderr == "" and r.service == SERVICES[plugin], str(r)
        assert len(r.lines) <= 25 and all(len(line) <= 80 for line in r.lines[1:]), str(r)
    else:
        check_conventions(r, SERVICES[plugin])
    return r


@pytest.fixture
def ini(tmp_path):
    def write(text, name="plugins.ini"):
        f = tmp_path / name
        f.write_text(text)
        return str(f)
    return write


@pytest.fixture
def heartbeat(tmp_path):
    f = tmp_path / "heartbeat"
    f.write_text(f"{int(time.time()) - 100}\n")  # 100 s behind
    return str(f)


@pytest.mark.parametrize("plugin", sorted(SERVICES))
def test_help_lists_extra_opts_with_the_standard_options(plugin):
    r = run(plugin, ["--help"])
    assert r.rc == 3
    standard = r.stdout.split("Standard options:")[1].split("\n\n")[0]
    assert re.search(r"^\s+--extra-opts \[SECTION\]\[@FILE\]\s", standard, flags=re.M), standard


@pytest.mark.parametrize("plugin", sorted(SERVICES))
def test_unknown_option_in_the_file_names_file_and_line(plugin, ini):
    f = ini(f"# site options\n[{plugin}]\nrunbook = dr-vpn\nno-such-option = 1\n")
    r = checked(plugin, [f"--extra-opts=@{f}"])
    assert r.rc == 3 and r.state == "UNKNOWN", str(r)
    assert r.lines[0] == f"{SERVICES[plugin]} UNKNOWN - {f}:4: unknown option 'no-such-option'", str(r)


@pytest.mark.parametrize("plugin", sorted(SERVICES))
def test_file_errors_are_unknown(plugin, ini, tmp_path):
    svc = SERVICES[plugin]
    missing = str(tmp_path / "missing.ini")
    r = checked(plugin, [f"--extra-opts=@{missing}"])
    assert r.rc == 3 and r.lines[0] == f"{svc} UNKNOWN - cannot read {missing}: No such file or directory", str(r)
    f = ini("[other]\nx = 1\n")
    r = checked(plugin, [f"--extra-opts=@{f}"])
    assert r.rc == 3 and r.lines[0] == f"{svc} UNKNOWN - {f}: no section [{plugin}]", str(r)
    f = ini(f"[{plugin}]\n= 1\n")
    r = checked(plugin, [f"--extra-opts=@{f}"])
    assert r.rc == 3 and r.lines[0] == f"{svc} UNKNOWN - {f}:2: expected 'key', 'key = value' or '[section]'", str(r)
    if os.geteuid() != 0:
        os.chmod(f, 0)
        r = checked(plugin, [f"--extra-opts=@{f}"])
        assert r.rc == 3 and r.lines[0] == f"{svc} UNKNOWN - cannot read {f}: Permission denied", str(r)
    r = checked(plugin, ["--extra-opts"], env={"NAGIOS_CONFIG_PATH": str(tmp_path / "none")})
    assert r.rc == 3 and r.lines[0].startswith(f"{svc} UNKNOWN - no ini file for --extra-opts"), str(r)


def test_secret_in_the_file_is_not_echoed(ini):
    f = ini("[check_replication_lag]\npassword = Hunter2-extra-opts\n")
    r = checked("check_replication_lag", [f"--extra-opts=@{f}"])
    assert r.rc == 3 and "Hunter2" not in r.stdout and f"{f}:2: unknown option 'password'" in r.lines[0], str(r)


def test_replication_options_from_the_file(ini, heartbeat):
    f = ini("[check_replication_lag]\nbackend = file\nw = 30\nc = 60\n"
            f"runbook-file = {CATALOG}\nrunbook = dr-vpn\n")
    r = checked("check_replication_lag", [f"--extra-opts=@{f}", "--file", heartbeat])
    assert r.state == "CRITICAL" and "Runbook:" in r.stdout, str(r)
    # The command line wins for a single-valued option.
    r = checked("check_replication_lag", [f"--extra-opts=@{f}", "--file", heartbeat, "-c", "600"])
    assert r.state == "WARNING", str(r)
    r = checked("check_replication_lag", ["-c", "600", "--warning", "300", "--file", heartbeat,
                                          f"--extra-opts=@{f}"])
    assert r.state == "OK", str(r)


def test_section_default_file_and_search_path(ini, heartbeat, tmp_path):
    text = ("[check_replication_lag]\nbackend = file\nc = 600\n"
            "[dr]\nbackend = file\nc = 60\n")
    f = ini(text, name="plugins.ini")
    # A named section of a named file; the default section of a named file.
    assert checked("check_replication_lag", [f"--extra-opts=dr@{f}", "--file", heartbeat]).state == "CRITICAL"
    assert checked("check_replication_lag", [f"--extra-opts=@{f}", "--file", heartbeat]).state == "OK"
    # Without @FILE: MP_CONFIG_FILE, else NAGIOS_CONFIG_PATH's plugins.ini.
    r = checked("check_replication_lag", ["--extra-opts=dr", "--file", heartbeat], env={"MP_CONFIG_FILE": f})
    assert r.state == "CRITICAL", str(r)
    r = checked("check_replication_lag", ["--extra-opts", "--file", heartbeat],
                env={"NAGIOS_CONFIG_PATH": f"{tmp_path / 'none'}:{tmp_path}"})
    assert r.state == "OK", str(r)
    # Several --extra-opts are read in order.
    g = ini("[more]\nw = 30\n", name="more.ini")
    r = checked("check_replication_lag", [f"--extra-opts=@{f}", f"--extra-opts=more@{g}", "--file", heartbeat])
    assert r.state == "WARNING", str(r)


def test_repeated_options_accumulate(ini, heartbeat):
    # --action is repeatable: the file's lines, then the command line's.
    f = ini("[check_replication_lag]\nbackend = file\nc = 60\naction = first\naction = second\n")
    r = checked("check_replication_lag", [f"--extra-opts=@{f}", "--file", heartbeat, "--action", "third",
                                          "--impact", "x"])
    assert r.state == "CRITICAL", str(r)
    assert [line for line in r.lines if line.startswith("Action:")] == \
        ["Action: first", "Action: second", "Action: third"], str(r)
    # A single-valued option twice in the file is an error, as on the command line.
    f = ini("[check_replication_lag]\nbackend = file\nbackend = file\n")
    r = checked("check_replication_lag", [f"--extra-opts=@{f}", "--file", heartbeat])
    assert r.lines[0] == f"REPLICATION_LAG UNKNOWN - {f}:3: option 'backend' given again (it takes one value)", \
        str(r)


def test_verbose_from_the_file_adds_up(ini, heartbeat):
    f = ini("[check_replication_lag]\nbackend = file\nv\n")
    quiet = checked("check_replication_lag", ["--backend", "file", "--file", heartbeat])
    loud = checked("check_replication_lag", [f"--extra-opts=@{f}", "-v", "--file", heartbeat])
    assert not any(line.startswith("debug:") for line in quiet.lines)
    assert any(line.startswith("debug:") for line in loud.lines), str(loud)


def test_traffic_options_from_the_file(ini):
    f = ini(f"[check_tunnel_traffic]\npcap-file = {os.path.join(FIX, 'traffic', 'ipsec-one-way-out.pcap')}\n"
            "peer = 192.0.2.2\n")
    r = checked("check_tunnel_traffic", [f"--extra-opts=@{f}"])
    assert r.state == "CRITICAL" and "one-way out" in r.summary, str(r)


def test_vpn_options_from_the_file(ini, tmp_path):
    sock = tmp_path / "charon.vici"
    f = ini(f"[check_vpn_tunnel_up]\nbackend = strongswan\nsocket = unix://{sock}\n")
    r = checked("check_vpn_tunnel_up", [f"--extra-opts=@{f}", "-t", "3"])
    assert r.state in ("CRITICAL", "UNKNOWN") and str(sock) in r.stdout, str(r)
    # The same from the command line reads the same.
    r2 = checked("check_vpn_tunnel_up", ["--backend", "strongswan", "--socket", f"unix://{sock}", "-t", "3"])
    assert (r2.state, r2.lines[0]) == (r.state, r.lines[0])


def test_ping_options_from_the_file(ini):
    f = ini("[check_cross_site_ping]\nH = 127.0.0.1\nn = 3\ni = 20ms\n")
    r = checked("check_cross_site_ping", [f"--extra-opts=@{f}"])
    if r.state == "UNKNOWN" and "permission" in r.stdout.lower():
        pytest.skip("no ICMP socket for this user")
    assert r.state == "OK" and r.summary.startswith("127.0.0.1: rta "), str(r)
    assert "(3 of 3 replies)" in r.lines[1], str(r)
