# SPDX-License-Identifier: GPL-2.0-or-later
"""check_cross_site_ping across the two-site lab: from site A's LAN host to
site B's LAN through the IPsec tunnel (dr-primary), with faults injected by
`lab` (loss, cuts) and `lab-ping` (latency, TCP listeners and drops)."""
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import pytest

from conftest import lab_cmd
from sitelink_test import BUILD, address_label, check_conventions, parse_output, plugin_path, Run
from wire import WireCapture

P = "check_cross_site_ping"
SVC = "CROSS_SITE_PING"
LAB_PING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab", "lab-ping")
NOBODY = 65534


def lab_ping(*args, check=True):
    env = dict(os.environ, SITELINK_BUILD=BUILD)
    p = subprocess.run([LAB_PING] + [str(a) for a in args], capture_output=True, text=True, timeout=60, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"lab-ping {args} failed:\n{p.stdout}\n{p.stderr}")
    return p


def from_a_lan(lab, args, exe=None, user=None, timeout=60):
    """Runs the plugin in site A's LAN namespace (optionally as another user)."""
    cmd = ["ip", "netns", "exec", lab["LAB_NS_A_LAN"]]
    if user is not None:
        cmd += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--inh-caps=-all"]
    cmd += [exe or plugin_path(P)] + [str(a) for a in args]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    r = Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    r.service, r.state, r.summary, r.perf, r.lines = parse_output(p.stdout)
    check_conventions(r, SVC)
    return r


def binomial_bounds(n, p, conf=0.99):
    """Smallest and largest loss counts inside the central `conf` mass."""
    cdf, lo, hi = 0.0, None, None
    tail = (1 - conf) / 2
    for k in range(n + 1):
        cdf += math.comb(n, k) * p ** k * (1 - p) ** (n - k)
        if lo is None and cdf >= tail:
            lo = k
        if hi is None and cdf >= 1 - tail:
            hi = k
    return lo, hi


@pytest.fixture
def clean(lab):
    yield lab
    lab_cmd("loss-clear", check=False)
    lab_ping("clear", check=False)


def test_healthy_ipv4_and_ipv6_ok(lab):
    r = from_a_lan(lab, ["-H", f"{lab['LAB_LAN_B']},{lab['LAB_LAN6_B']}", "-n", "10", "-i", "20ms"])
    assert r.rc == 0, str(r)
    assert r.summary.startswith("2 of 2 hosts alive"), str(r)
    for host in (lab["LAB_LAN_B"], lab["LAB_LAN6_B"]):
        assert r.perf[f"{address_label(host)}_pl"].value == 0, str(r)
        assert 0 < r.perf[f"{address_label(host)}_rta"].value < 50, str(r)
    assert r.elapsed < 0.2 + 1.0


def test_ipv6_target_across_the_tunnel(lab):
    r = from_a_lan(lab, ["-6", "-H", lab["LAB_LAN6_B"], "-n", "5", "-i", "20ms", "-v"])
    assert r.rc == 0, str(r)
    assert list(r.perf) == ["rta", "pl", "rtmin", "rtmax", "jitter"]
    assert "ICMPv6: raw socket" in r.stdout


@pytest.mark.parametrize("pct", [20, 50])
def test_injected_loss_within_binomial_bounds(clean, pct):
    """The loss the plugin reports lies inside the central 99% of the binomial
    distribution of the injected loss. A correct plugin lands outside in 1%
    of runs, so a run outside is repeated once: a biased count fails both,
    chance fails both in 0.01% of runs."""
    lab = clean
    lab_cmd("loss", "ipsec", pct)
    n = 200
    lo, hi = binomial_bounds(n, pct / 100)
    outside = []
    for _ in range(2):
        r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", n, "-i", "10ms", "-w", "500,95%", "-c", "1000,99%",
                             "-t", "15"])
        pl = r.perf["pl"].value
        if 100 * lo / n <= pl <= 100 * hi / n:
            break
        outside.append(pl)
        print(f"pl {pl}% outside [{100 * lo / n}, {100 * hi / n}]: once more")
    assert len(outside) < 2, f"pl {outside}% outside [{100 * lo / n}, {100 * hi / n}] twice\n{r}"
    assert r.rc == 0, str(r)
    assert f"({n - round(pl * n / 100)} of {n} replies)" in r.stdout, str(r)


HELD = re.compile(r"^held (\d+) packets: mean ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms", re.M)


def latency_try(lab, args, n):
    """One baseline/delayed pair; returns (failed assertions, report)."""
    lab_ping("clear")
    base = from_a_lan(lab, args)
    assert base.rc == 0, str(base)
    lab_ping("delay", 25)
    with WireCapture(lab["LAB_NS_A_LAN"], lab["LAB_LAN_B"]) as cap:
        r = from_a_lan(lab, args)
    held = HELD.search(lab_ping("clear").stdout)
    wire = cap.rtts_ms()
    assert held, "nfq_delay printed no hold statistics"
    count, mean_hold, min_hold = int(held.group(1)), float(held.group(2)), float(held.group(3))
    injected = 2 * mean_hold
    report = (f"baseline rta {base.perf['rta'].value} ms; {held.group(0)}; injected {injected:.3f} ms; "
              f"wire: {len(wire)} echoes, mean {statistics.mean(wire) if wire else 0:.3f} ms, "
              f"min {min(wire, default=0):.3f}, max {max(wire, default=0):.3f}; plugin: {r.stdout.strip()}")
    # Every echo request and every reply was held once, nothing else was.
    assert count == 2 * n and min_hold >= 25.0, report
    assert r.rc == 0 and r.perf["pl"].value == 0, report
    assert len(wire) == n, report
    checks = {
        "injected 50-53 ms": 50.0 <= injected <= 53.0,
        "rta = wire mean +-0.25 ms": abs(r.perf["rta"].value - statistics.mean(wire)) <= 0.25,
        "rtmin = wire min +-0.25 ms": abs(r.perf["rtmin"].value - min(wire)) <= 0.25,
        "rtmax = wire max +-0.5 ms": abs(r.perf["rtmax"].value - max(wire)) <= 0.5,
        "rta - (baseline + injected) in [-1, +3] ms":
            -1.0 <= r.perf["rta"].value - (base.perf["rta"].value + injected) <= 3.0,
    }
    return [k for k, ok in checks.items() if not ok], report


@pytest.mark.timing
def test_injected_latency_25ms_each_way(clean):
    """+25 ms each way at site B's gateway (nfq_delay, NFQUEUE). Three
    references:
    - the helper's own account of how long it held each packet (from the
      kernel's receive timestamp to its verdict): 40 packets, 50 ms injected
      per round trip, give or take a scheduler wake-up;
    - the wire: tcpdump on site A's LAN host, kernel timestamps of every echo
      request leaving and every reply arriving. The plugin's rta and rtmin
      must match it within 0.25 ms, rtmax (one sample, so one preemption
      between the send timestamp and sendto) within 0.5 ms: that is the
      plugin's own error;
    - baseline + injected delay, the path's expectation. A delayed round trip
      crosses the tunnel daemons after 25 ms of idleness instead of 0.1 ms,
      and each cold wake-up on the way back costs up to a few hundred
      microseconds; the plugin is right to report that. Measured 0.0-0.9 ms
      above on an idle machine; the assertion allows -1/+3 ms.
    ctest runs this test alone (marker "timing", RUN_SERIAL); a pair is tried
    up to three times, and every try is printed."""
    lab = clean
    n = 20
    args = ["-H", lab["LAB_LAN_B"], "-n", str(n), "-i", "20ms"]
    tries = []
    for _ in range(3):
        failed, report = latency_try(lab, args, n)
        print(report)
        tries.append(f"{report}\n  failed: {', '.join(failed) or 'none'}")
        if not failed:
            return
    pytest.fail("3 tries, none within bounds:\n" + "\n".join(tries))


@pytest.mark.timing
def test_many_targets_across_a_longer_path_take_round_trips(clean):
    """100 targets x 5 packets with 10 ms added each way (a 20 ms path): the
    window of reply-driven probes follows the round trip (16 per ms of it),
    so every target has its probe out at once and the run takes about five
    round trips (lab: 0.11-0.14 s, check_icmp 0.13 s). A window fixed at 16
    needs at least 500 / 16 = 32 round trips (0.52 s measured)."""
    lab = clean
    targets = lab_ping("targets", 100).stdout.split()
    assert len(targets) == 100, targets
    lab_ping("delay", 10)
    tries = []
    for _ in range(3):
        r = from_a_lan(lab, ["-H", ",".join(targets), "-n", "5", "-i", "100ms", "-t", "10", "-vv"])
        assert r.state == "OK", str(r)
        assert r.perf["hosts_alive"].value == 100 and r.perf["pl"].value == 0, str(r)
        # The probes' own queue stays small: the mean within 20 ms + 5 ms.
        assert 20 <= r.perf["rta"].value < 25, str(r)
        tries.append(r.elapsed)
        print(f"100 targets, 20 ms path: {r.elapsed:.3f} s (with ip netns exec), rta {r.perf['rta'].value} ms")
        if r.elapsed < 0.3:
            break
    assert min(tries) < 0.3, tries


def test_tunnel_cut_is_critical_100_percent_loss(lab):
    try:
        lab_cmd("cut", "ipsec")
        r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", "5", "-i", "50ms", "-t", "5"])
        assert r.rc == 2, str(r)
        assert r.summary == f"{lab['LAB_LAN_B']}: 100% loss", str(r)
        assert r.perf["pl"].value == 100 and r.perf["rta"].value is None
        assert r.elapsed < 5, r.elapsed
        # bench/ping's table without the tunnel: site A's gateway answers
        # for these itself, so they stay up while the tunnel is cut.
        gw = lab_ping("gateway-targets", 1000).stdout.split()
        assert len(gw) == 1000 and gw[0] == "fd00:101:ff::1", gw[:3]
        r = from_a_lan(lab, ["-H", ",".join(gw), "-n", "3", "-i", "10ms", "-t", "10"])
        assert r.state == "OK" and r.perf["hosts_alive"].value == 1000 and r.perf["pl"].value == 0, str(r)
        lab_ping("clear")
        r = from_a_lan(lab, ["-H", gw[0], "-n", "2", "-i", "10ms", "-t", "5"])
        assert r.state == "CRITICAL", str(r)  # `clear` took them away again
    finally:
        lab_ping("clear", check=False)
        lab_cmd("restore", "ipsec", timeout=120)


@pytest.mark.parametrize("m,state", [(1, "OK"), (2, "WARNING"), (3, "CRITICAL")])
def test_min_alive(clean, m, state):
    # Site A's own gateway answers fast (OK), site B's host through the
    # tunnel gets +3 ms each way, above the 5 ms warning (WARNING), .99 does
    # not exist.
    lab = clean
    lab_ping("delay", 3)
    hosts = f"{lab['LAB_LAN_GW_A']},{lab['LAB_LAN_B']},10.102.0.99"
    r = from_a_lan(lab, ["-H", hosts, "-w", "5ms,20%", "-c", "100ms,60%", "-n", "5", "-i", "20ms", "-m", m])
    assert r.state == state, str(r)
    assert f"(1 OK, {m} required)" in r.summary, str(r)
    assert r.perf["10_102_0_99_pl"].value == 100
    assert 6 <= r.perf[f"{address_label(lab['LAB_LAN_B'])}_rta"].value < 100, str(r)


def test_two_concurrent_instances_count_only_their_own_replies(lab):
    base = ["ip", "netns", "exec", lab["LAB_NS_A_LAN"], plugin_path(P), "-H", lab["LAB_LAN_B"], "-i", "10ms", "-v",
            "--paced"]  # paced, so that the two runs overlap for a second
    procs = [subprocess.Popen(base + ["-n", str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (100, 60)]
    outs = [p.communicate(timeout=30)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert "(100 of 100 replies)" in outs[0], outs[0]
    assert "(60 of 60 replies)" in outs[1], outs[1]
    # Both raw sockets saw the other's replies and ignored them.
    assert all("echo replies addressed to other programs" in o for o in outs), outs


def test_unresolvable_name_is_critical(lab):
    r = from_a_lan(lab, ["-H", f"db.dr.invalid,{lab['LAB_LAN_B']}", "-n", "2", "-i", "10ms"])
    assert r.rc == 2, str(r)
    # Line 1 carries the resolver's own message, as line 2 does.
    assert r.summary.startswith("db.dr.invalid: cannot resolve host name: "), str(r)
    reason = r.summary.split("; 1 of 2 hosts alive")[0]
    assert r.summary == reason + "; 1 of 2 hosts alive", str(r)
    assert f"CRITICAL: {reason}" in r.lines[1:], str(r)


@pytest.fixture
def capped_copy():
    d = tempfile.mkdtemp(prefix="sitelink-ping-", dir="/tmp")
    os.chmod(d, 0o755)
    exe = os.path.join(d, P)
    shutil.copy2(plugin_path(P), exe)
    os.chmod(exe, 0o755)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


def test_non_root_with_cap_net_raw_only(lab, capped_copy):
    subprocess.run(["setcap", "cap_net_raw+p", capped_copy], check=True)
    r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", "5", "-i", "20ms", "-v"], exe=capped_copy, user=NOBODY)
    assert r.rc == 0, str(r)
    assert "ICMPv4: raw socket" in r.stdout and "capabilities dropped" in r.stdout, str(r)
    # While it probes, the process holds no capability at all.
    cmd = ["ip", "netns", "exec", lab["LAB_NS_A_LAN"], "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
           "--clear-groups", "--inh-caps=-all", capped_copy, "-H", lab["LAB_LAN_B"], "-n", "40", "-i", "25ms"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    with open(f"/proc/{p.pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    out = p.communicate(timeout=10)[0]
    assert p.returncode == 0, out
    for field in ("CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert int(status[field].strip(), 16) == 0, (field, status[field])
    assert status["NoNewPrivs"].strip() == "1"
    # The same copy without the capability: a clear UNKNOWN.
    subprocess.run(["setcap", "-r", capped_copy], check=True)
    r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", "1"], exe=capped_copy, user=NOBODY)
    assert r.rc == 3 and "needs CAP_NET_RAW" in r.summary, str(r)


def test_non_root_through_ping_group_range(lab):
    ns = lab["LAB_NS_A_LAN"]
    path = "/proc/sys/net/ipv4/ping_group_range"
    old = subprocess.run(["ip", "netns", "exec", ns, "cat", path], capture_output=True, text=True,
                         check=True).stdout.strip()
    try:
        subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", f"echo '0 2147483647' > {path}"], check=True)
        r = from_a_lan(lab, ["-H", f"{lab['LAB_LAN_B']},{lab['LAB_LAN6_B']}", "-n", "5", "-i", "20ms", "-v"],
                       user=NOBODY)
        assert r.rc == 0, str(r)
        assert "ICMPv4: datagram (ping_group_range) socket" in r.stdout, str(r)
        assert "ICMPv6: datagram (ping_group_range) socket" in r.stdout, str(r)
        assert r.perf[f"{address_label(lab['LAB_LAN_B'])}_pl"].value == 0
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", f"echo '{old}' > {path}"], check=True)


def test_tcp_open_closed_and_dropped(clean):
    lab = clean
    lab_ping("tcp-listen", 8022)
    lab_ping("tcp-drop", 8024)
    host = lab["LAB_LAN_B"]
    r = from_a_lan(lab, ["-H", host, "--tcp", "8022", "-n", "3", "-i", "20ms"])
    assert r.rc == 0 and "port 8022 open" in r.stdout, str(r)
    assert r.perf["pl"].value == 0 and 0 < r.perf["rta"].value < 50
    r = from_a_lan(lab, ["-H", host, "--tcp", "8023", "-n", "3", "-i", "20ms"])
    assert r.rc == 0 and "(port closed, host alive)" in r.summary, str(r)
    r = from_a_lan(lab, ["-H", host, "--tcp", "8024", "-n", "3", "-i", "20ms", "-t", "4"])
    assert r.rc == 2 and r.summary.startswith(f"{host}: 100% loss"), str(r)
    assert r.perf["rta"].value is None and r.elapsed < 4
    # The same over IPv6.
    r = from_a_lan(lab, ["-H", lab["LAB_LAN6_B"], "--tcp", "8022", "-n", "2", "-i", "20ms"])
    assert r.rc == 0 and "port 8022 open" in r.stdout, str(r)


def test_tcp_rtt_is_the_handshake_round_trip(clean):
    # +25 ms each way: the connect round trip the plugin reports (the
    # kernel's own handshake sample) is the ICMP round trip: the fastest
    # samples agree within 1 ms. The means only within 10 %: on a busy
    # machine a scheduling delay lands on single samples of either kind.
    lab = clean
    lab_ping("tcp-listen", 8022)
    host = lab["LAB_LAN_B"]
    lab_ping("delay", 25)
    icmp = from_a_lan(lab, ["-H", host, "-n", "10", "-i", "20ms"])
    tcp = from_a_lan(lab, ["-H", host, "--tcp", "8022", "-n", "10", "-i", "20ms"])
    assert icmp.rc == 0 and tcp.rc == 0, f"{icmp}\n{tcp}"
    assert tcp.perf["rtmin"].value >= 50, str(tcp)
    assert abs(tcp.perf["rtmin"].value - icmp.perf["rtmin"].value) <= 1.0, f"{icmp}\n{tcp}"
    assert abs(tcp.perf["rta"].value - icmp.perf["rta"].value) <= 0.1 * icmp.perf["rta"].value, f"{icmp}\n{tcp}"
