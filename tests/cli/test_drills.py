# SPDX-License-Identifier: GPL-2.0-or-later
"""Failure drills against hostile peers, with time and memory bounds.

Covers what the backends' own tests leave out (see test_vpn_hostile.py,
test_replication_db.py, test_cloud_*.py): the database backends against a
peer that answers garbage and one that streams an endless reply, and peak
RSS for every local backend against an endless stream. Each run must end
within -t + 0.5 s with the right state and a message, and its peak RSS
(from /usr/bin/time) must stay within a fixed margin of the same plugin's
RSS against a silent peer, so a reply is never buffered without bound.
The SYN-dropping peer needs the lab (tests/integration).
"""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from sitelink_fakes import (FakeServer, endless, endless_lines, garbage, openvpn_endless, silent, vici_endless,
                            vici_huge, wireguard_endless)
from sitelink_test import check_conventions, parse_output, plugin_path

TIME = shutil.which("time", path="/usr/bin") or "/usr/bin/time"
pytestmark = pytest.mark.skipif(not os.path.exists(TIME), reason="needs /usr/bin/time (package time)")
T = 2  # -t for every drill
SLACK = 0.5
RSS_MARGIN_KB = 32 * 1024  # an endless reply may cost this much over a silent peer, no more


class Run:
    def __init__(self, rc, out, err, elapsed, rss_kb):
        self.rc, self.stdout, self.stderr, self.elapsed, self.rss_kb = rc, out, err, elapsed, rss_kb
        self.service, self.state, self.summary, self.perf, self.lines = parse_output(out)

    def __str__(self):
        return f"rc={self.rc} elapsed={self.elapsed:.2f}s rss={self.rss_kb} KiB\n{self.stdout}\nstderr: {self.stderr}"


def measured(plugin, args):
    """Runs the plugin under /usr/bin/time; the RSS report goes to a file so
    the plugin's own stderr stays checkable."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.monotonic()
        p = subprocess.run([TIME, "-f", "%M", "-o", rss.name, plugin_path(plugin)] + list(args),
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - start
        rss.seek(0)
        lines = [line for line in rss.read().splitlines() if line.strip().isdigit()]
    return Run(p.returncode, p.stdout, p.stderr, elapsed, int(lines[-1]) if lines else 0)


# ---- backends and how to point them at a peer ----

def vici(addr):
    return "check_vpn_tunnel_up", "VPN_TUNNEL", ["--backend", "strongswan", "--socket", addr, "--tunnel", "x"]


def openvpn(addr):
    return "check_vpn_tunnel_up", "VPN_TUNNEL", ["--backend", "openvpn", "--management", addr, "--tunnel", "x"]


def wireguard(addr):
    return "check_vpn_tunnel_up", "VPN_TUNNEL", ["--backend", "wireguard", "--socket", addr]


def postgresql(addr):
    host, port = addr.rsplit(":", 1)
    return "check_replication_lag", "REPLICATION_LAG", ["--backend", "postgresql", "-H", host, "-p", port,
                                                        "-U", "monitor"]


def mysql(addr):
    host, port = addr.rsplit(":", 1)
    return "check_replication_lag", "REPLICATION_LAG", ["--backend", "mysql", "-H", host, "-P", port,
                                                        "-u", "monitor"]


UNIX = {"vici": vici, "openvpn": openvpn, "wireguard": wireguard}
TCP = {"postgresql": postgresql, "mysql": mysql}
BACKENDS = {**UNIX, **TCP}


@pytest.fixture
def peer():
    made = []
    d = tempfile.mkdtemp(prefix="sitelink-drill-")

    def start(backend, behaviour):
        path = os.path.join(d, f"{backend}-{len(made)}.sock") if backend in UNIX else None
        s = FakeServer(behaviour, unix_path=path)
        made.append(s)
        return s

    yield start
    for s in made:
        s.close()
    shutil.rmtree(d, ignore_errors=True)


def drill(peer, backend, behaviour, timeout=str(T)):
    srv = peer(backend, behaviour)
    plugin, svc, args = BACKENDS[backend](srv.address)
    r = measured(plugin, args + ["-t", timeout])
    check_conventions(r, svc)
    assert srv.connections >= 1, f"the plugin never connected:\n{r}"
    assert r.elapsed < T + SLACK, str(r)
    assert r.summary, str(r)
    return r


# The hostile peers are not a reachable, working service and not a finding
# about the replication/tunnel itself: every one ends UNKNOWN (we could not
# find out), except that a database server that cannot be spoken to counts
# as CRITICAL for the database backends when the connection fails outright.
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_silent_peer(peer, backend):
    r = drill(peer, backend, silent)
    assert r.rc == 3 and r.summary.startswith(f"timed out after {T} s while"), str(r)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_silent_peer_timeout_state(peer, backend):
    r = drill(peer, backend, silent, f"{T}:critical")
    assert r.rc == 2 and r.summary.startswith(f"timed out after {T} s"), str(r)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_garbage_peer(peer, backend):
    r = drill(peer, backend, garbage)
    assert r.state in ("UNKNOWN", "CRITICAL"), str(r)
    assert r.state != "OK"


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize("behaviour", [endless, endless_lines], ids=["endless", "endless-lines"])
def test_endless_peer_bounded_memory(peer, backend, behaviour):
    base = drill(peer, backend, silent)
    r = drill(peer, backend, behaviour)
    assert r.state in ("UNKNOWN", "CRITICAL"), str(r)
    assert base.rss_kb > 0 and r.rss_kb > 0
    print(f"{backend} {behaviour.__name__}: peak RSS {r.rss_kb} KiB (silent peer {base.rss_kb} KiB), {r.elapsed:.2f} s")
    assert r.rss_kb <= base.rss_kb + RSS_MARGIN_KB, \
        f"peak RSS {r.rss_kb} KiB against an endless peer, {base.rss_kb} KiB against a silent one:\n{r}"


# Endless replies that follow each protocol, so the client keeps reading
# until its own cap (reply lines, reply bytes, events, packet size) stops it.
@pytest.mark.parametrize("backend,behaviour", [("openvpn", openvpn_endless), ("wireguard", wireguard_endless),
                                               ("vici", vici_endless), ("vici", vici_huge)],
                         ids=["openvpn-state-without-end", "wireguard-without-blank-line", "vici-endless-events",
                              "vici-huge-packet"])
def test_endless_valid_reply_bounded_memory(peer, backend, behaviour):
    base = drill(peer, backend, silent)
    r = drill(peer, backend, behaviour)
    assert r.state in ("UNKNOWN", "CRITICAL"), str(r)
    print(f"{backend} {behaviour.__name__}: peak RSS {r.rss_kb} KiB (silent peer {base.rss_kb} KiB), "
          f"{r.elapsed:.2f} s: {r.summary}")
    assert r.rss_kb <= base.rss_kb + RSS_MARGIN_KB, \
        f"peak RSS {r.rss_kb} KiB against an endless peer, {base.rss_kb} KiB against a silent one:\n{r}"


# ---- a peer whose SYNs are dropped, without the lab: the plugin runs in a
# private network namespace (unshare -n) whose loopback drops every TCP SYN
# to the target port, so connect() gets no answer at all. ----

def in_blackholed_netns(argv, port):
    rules = (f"ip link set lo up && nft add table inet drill && "
             f"nft add chain inet drill in '{{ type filter hook input priority 0; }}' && "
             f"nft add rule inet drill in tcp dport {port} drop && exec \"$@\"")
    return ["unshare", "--net", "sh", "-c", rules, "sh"] + argv


SYN_DROP = {
    "postgresql": postgresql,
    "mysql": mysql,
    "openvpn-tcp": lambda addr: ("check_vpn_tunnel_up", "VPN_TUNNEL",
                                 ["--backend", "openvpn", "--management", addr, "--tunnel", "x"]),
}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("unshare") is None,
                    reason="needs root, nft and unshare")
@pytest.mark.parametrize("backend", sorted(SYN_DROP))
def test_syn_dropped_peer(backend):
    port = 5999
    plugin, svc, args = SYN_DROP[backend](f"127.0.0.1:{port}")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.monotonic()
        p = subprocess.run(in_blackholed_netns([TIME, "-f", "%M", "-o", rss.name, plugin_path(plugin)] + args +
                                               ["-t", str(T)], port),
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - start
    r = Run(p.returncode, p.stdout, p.stderr, elapsed, 0)
    check_conventions(r, svc)
    # Namespace set-up is included in the elapsed time, so allow it too.
    assert r.elapsed < T + SLACK + 0.3, str(r)
    assert r.summary.startswith(f"timed out after {T} s while") or "timed out" in r.summary \
        or "timeout" in r.summary, str(r)
    assert r.rc in (2, 3), str(r)


# ---- start-up counts against -t (issue 25): the monitoring core's timeout
# runs from the fork, so a plugin that is slow to start (a busy machine, the
# sanitizers, module loading) must still end within -t + 0.5 s of it. The
# plugin is stopped right after its exec for 0.8 s, as a loaded scheduler
# would leave it; a budget armed only after start-up would end at 2.8 s. ----

@pytest.mark.parametrize("backend", ["postgresql", "vici"])
def test_start_up_counts_against_the_timeout(peer, backend):
    import signal
    srv = peer(backend, silent)
    plugin, svc, args = BACKENDS[backend](srv.address)
    start = time.monotonic()
    p = subprocess.Popen([plugin_path(plugin)] + args + ["-t", str(T)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    p.send_signal(signal.SIGSTOP)
    time.sleep(0.8)
    p.send_signal(signal.SIGCONT)
    out, err = p.communicate(timeout=30)
    r = Run(p.returncode, out, err, time.monotonic() - start, 0)
    check_conventions(r, svc)
    assert r.rc == 3 and r.summary.startswith(f"timed out after {T} s while"), str(r)
    assert r.elapsed < T + SLACK, str(r)
