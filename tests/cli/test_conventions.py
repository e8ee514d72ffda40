# SPDX-License-Identifier: GPL-2.0-or-later
"""The conventions every plugin follows (README, "Conventions every plugin
follows"), run over all four plugins: --help, --version, unknown options, a bad
-t, usage errors without '|', SIGTERM and the -t state. What only one plugin
does stays in that plugin's own test file."""
import os
import signal
import subprocess
import time
from dataclasses import dataclass

import pytest

from sitelink_fakes import FakeServer, silent
from sitelink_test import check_conventions, plugin_path, run

ROOT = os.geteuid() == 0


@dataclass
class Plugin:
    service: str
    # Words --help must show (the options and rules the plugin documents).
    help_words: tuple = ()
    # How the short usage after a usage error spells an alternative.
    alternatives: str = ""
    # A run that hangs in I/O, given a scratch directory: (argv, activity).
    # None when the plugin has none without root (see sigterm_as_root).
    hang: object = None
    # A SIGTERM run that needs root: (argv, activity), or None.
    sigterm_as_root: tuple = None
    sleep: float = 0.3
    # The timeout line is exactly "... while <activity>" (nothing after it).
    timeout_line_exact: bool = False


def fifo(tmp):
    path = os.path.join(tmp, "fifo")
    if not os.path.exists(path):
        os.mkfifo(path)
    return path


def silent_socket(tmp):
    path = os.path.join(tmp, "charon.vici")
    srv = FakeServer(silent, unix_path=path)
    return srv, path


PLUGINS = {
    "check_replication_lag": Plugin(
        "REPLICATION_LAG", alternatives="file, postgresql or mysql",
        hang=lambda tmp: (["--backend", "file", "--file", fifo(tmp)], "opening heartbeat file")),
    "check_vpn_tunnel_up": Plugin(
        "VPN_TUNNEL",
        help_words=("--backend", "--tunnel", "--stale", "--management-password-file", "--peer-alias",
                    "-w 1:1 -c 1:"),
        alternatives="strongswan, openvpn or wireguard",
        hang="silent-socket"),
    "check_cross_site_ping": Plugin(
        "CROSS_SITE_PING", help_words=("RTA,PL%", "5 KiB"), alternatives="[-4 or -6]",
        sigterm_as_root=(["-H", "127.0.0.1", "-n", "80", "-i", "100ms", "--paced"], "probing 1 target(s)"),
        sleep=0.5),
    "check_tunnel_traffic": Plugin(
        "TUNNEL_TRAFFIC", help_words=("--pcap-file", "--idle-state"),
        alternatives="(-i IFACE or --pcap-file FILE)",
        hang=lambda tmp: (["--pcap-file", fifo(tmp), "--peer", "192.0.2.2"], f"opening capture file {fifo(tmp)}"),
        sigterm_as_root=(["-i", "lo", "--duration", "20", "-t", "30"], "capturing on lo"),
        sleep=0.5, timeout_line_exact=True),
}
NAMES = sorted(PLUGINS)


@pytest.fixture
def hanging(tmp_path):
    """hanging(plugin) -> (argv, activity) of a run that blocks in I/O."""
    servers = []

    def make(name):
        how = PLUGINS[name].hang
        if how == "silent-socket":
            srv, path = silent_socket(str(tmp_path))
            servers.append(srv)
            return ["--backend", "strongswan", "--socket", "unix://" + path], "listing connections (list-conns)"
        return how(str(tmp_path))
    yield make
    for s in servers:
        s.close()


@pytest.mark.parametrize("plugin", NAMES)
def test_help_and_version_exit_3(plugin):
    r = run(plugin, ["--help"])
    assert r.rc == 3 and r.stdout.startswith(f"{plugin} ") and "Usage:" in r.stdout, str(r)
    for word in PLUGINS[plugin].help_words:
        assert word in r.stdout, word
    r = run(plugin, ["--version"])
    assert r.rc == 3 and r.stdout.startswith(f"{plugin} 0.") and r.stderr == "", str(r)


@pytest.mark.parametrize("plugin", NAMES)
@pytest.mark.parametrize("bad", [["--bogus", "-w", "abc"], ["--backend", "bogus", "-w", "x"]])
def test_help_wins_over_bad_options(plugin, bad):
    r = run(plugin, bad + ["--help"])
    assert r.rc == 3 and "Usage:" in r.stdout, str(r)


@pytest.mark.parametrize("plugin", NAMES)
def test_unknown_option_short_usage(plugin):
    r = run(plugin, ["--no-such-option"])
    assert r.rc == 3, str(r)
    assert r.lines[0] == f"{PLUGINS[plugin].service} UNKNOWN - unrecognised option '--no-such-option'", str(r)
    assert len(r.lines) <= 25 and all(len(line) <= 80 for line in r.lines), str(r)
    assert r.stderr == ""


@pytest.mark.parametrize("plugin", NAMES)
def test_usage_error_output_has_no_pipe(plugin):
    # Nagios reads everything after the first '|' as perfdata: the short usage
    # after a usage error spells alternatives in words instead.
    r = run(plugin, ["--no-such-option"])
    assert "|" not in r.stdout, str(r)
    assert any(line.startswith("Usage: ") for line in r.lines), str(r)
    assert PLUGINS[plugin].alternatives in " ".join(line.strip() for line in r.lines), str(r)


@pytest.mark.parametrize("plugin", NAMES)
def test_help_keeps_the_synopsis_notation(plugin):
    r = run(plugin, ["--help"])
    usage = r.stdout[r.stdout.index("Usage: "):].split("\n\n")[0]
    assert "|" in usage, str(r)


@pytest.mark.parametrize("plugin", NAMES)
@pytest.mark.parametrize("bad", ["0", "-1", "abc", "10:", "10:bogus", "10:7", "1e2"])
def test_bad_timeouts(plugin, bad):
    r = run(plugin, ["-t", bad])
    assert r.rc == 3 and r.state == "UNKNOWN", str(r)
    assert "--timeout" in r.lines[0], str(r)
    assert "|" not in r.stdout, str(r)


@pytest.mark.parametrize("plugin", [n for n in NAMES if PLUGINS[n].hang])
def test_timeout_default_state_is_unknown(plugin, hanging):
    args, activity = hanging(plugin)
    r = run(plugin, args + ["-t", "1"])
    check_conventions(r, PLUGINS[plugin].service)
    assert r.rc == 3, str(r)
    line = f"{PLUGINS[plugin].service} UNKNOWN - timed out after 1 s while {activity}"
    assert r.lines[0].startswith(line), str(r)
    if PLUGINS[plugin].timeout_line_exact:
        assert r.lines[0] == line, str(r)
    assert r.elapsed < 1.5, str(r)


@pytest.mark.parametrize("plugin", [n for n in NAMES if PLUGINS[n].hang])
def test_timeout_state_and_runbook(plugin, hanging):
    args, _ = hanging(plugin)
    r = run(plugin, args + ["-t", "1:critical", "--impact", "stale DR data"])
    check_conventions(r, PLUGINS[plugin].service)
    assert r.rc == 2 and "timed out after 1 s" in r.lines[0], str(r)
    assert "Impact: stale DR data" in r.lines, str(r)
    assert r.elapsed < 1.5, str(r)


def sigterm(plugin, args, activity, sleep):
    # Each run must end within a second of the signal, UNKNOWN, naming what it
    # was doing. A run signalled before it reached the hanging step (a busy
    # machine or a sanitizer build starts slower) names an earlier activity:
    # that one is right too, and the plugin is signalled again later in a
    # new run (at most 3 runs, the pause growing), until it names `activity`;
    # so is one signalled before main() (killed by the signal, silent).
    expected = f"{PLUGINS[plugin].service} UNKNOWN - terminated by signal while {activity}"
    earlier = f"{PLUGINS[plugin].service} UNKNOWN - terminated by signal while "
    for pause in (sleep, sleep * 4, sleep * 10):
        p = subprocess.Popen([plugin_path(plugin)] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(pause)
        start = time.monotonic()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=5)
        assert time.monotonic() - start < 1.0
        if p.returncode == -signal.SIGTERM and out == "" and err == "":
            continue  # still starting (before main: the loader, the sanitizers): no handler yet
        assert p.returncode == 3
        assert err == ""
        if out.startswith(expected):
            return
        assert out.startswith(earlier), out
    assert out.startswith(expected), out


@pytest.mark.parametrize("plugin", [n for n in NAMES if PLUGINS[n].hang])
def test_sigterm_ends_within_a_second(plugin, hanging):
    args, activity = hanging(plugin)
    sigterm(plugin, args + ["-t", "30"], activity, PLUGINS[plugin].sleep)


@pytest.mark.skipif(not ROOT, reason="needs root (raw sockets, live capture)")
@pytest.mark.parametrize("plugin", [n for n in NAMES if PLUGINS[n].sigterm_as_root])
def test_sigterm_ends_within_a_second_as_root(plugin):
    args, activity = PLUGINS[plugin].sigterm_as_root
    sigterm(plugin, args, activity, PLUGINS[plugin].sleep)


# Boost.Program_options fills %value% and its kind into its messages until
# none is left: a value that contains one used to hang the plugin for good.
@pytest.mark.parametrize("plugin,args", [
    ("check_cross_site_ping", ["-H", "127.0.0.1", "-n", "%value%"]),
    ("check_vpn_tunnel_up", ["--backend", "strongswan", "-w", "x%value%%canonical_option%"]),
    ("check_replication_lag", ["--backend", "file", "--file", "/nonexistent", "-c", "%option%"]),
])
def test_placeholder_in_a_value_is_a_usage_error(plugin, args):
    start = time.monotonic()
    r = run(plugin, args + ["-t", "3"])
    assert r.rc == 3 and "UNKNOWN" in r.lines[0], str(r)
    assert time.monotonic() - start < 2.5, str(r)
