# SPDX-License-Identifier: GPL-2.0-or-later
"""check_icmp's quality modes (-R -P -J -M -S -O) of check_cross_site_ping,
run as a real binary against loopback. Verdicts are chosen so that they hold
whatever loopback's round trip is on a loaded machine (well under 10 ms)."""
import pytest

from sitelink_test import check_conventions, run

P = "check_cross_site_ping"
SVC = "CROSS_SITE_PING"
BASE = ["-H", "127.0.0.1", "-n", "5", "-i", "20ms"]


def ping(*args):
    r = run(P, BASE + list(args))
    check_conventions(r, SVC)
    return r


def test_jitter_mode_thresholds_and_perfdata():
    r = ping("-J", "40,50")
    assert r.rc == 0, str(r)
    assert list(r.perf) == ["rta", "pl", "rtmin", "rtmax", "jitter", "jitter_avg", "jitter_min", "jitter_max"]
    j = r.perf["jitter_avg"]
    assert (j.uom, j.warn, j.crit) == ("ms", "40", "50"), str(r)
    assert 0 <= r.perf["jitter_min"].value <= j.value <= r.perf["jitter_max"].value < 40
    assert r.perf["jitter"].value == j.value and r.perf["jitter"].warn == "40"
    # Jitter is never below 0: a 0 limit alerts with two replies or more.
    r = ping("-J", "0,0")
    assert r.rc == 2 and "jitter" in r.summary and "(critical 0 ms)" in r.summary, str(r)
    r = ping("-J", "0ms,50ms")
    assert r.rc == 1 and "(warning 0 ms)" in r.summary, str(r)


def test_naming_a_mode_judges_only_the_named_modes():
    # check_icmp's rule: -w/-c rta and loss only count without a mode, or with -R/-P.
    strict = ["-w", "0.001,0%", "-c", "0.001,0%"]
    assert ping(*strict).rc == 2
    r = ping(*strict, "-J", "40,50")
    assert r.rc == 0, str(r)
    assert r.perf["rta"].warn == "" and r.perf["pl"].warn == "", str(r)
    r = ping("-J", "40,50", "-R", "0.001ms,0.001ms")
    assert r.rc == 2 and "rta" in r.summary, str(r)
    assert (r.perf["rta"].warn, r.perf["rta"].crit) == ("0.001", "0.001")
    r = ping("-P", "40%,50%")
    assert r.rc == 0 and (r.perf["pl"].warn, r.perf["pl"].crit) == ("40", "50"), str(r)


def test_mos_mode_thresholds_and_perfdata():
    r = ping("-M", "3.5,3")
    assert r.rc == 0, str(r)
    m = r.perf["mos"]
    # Loopback: EL = rta + 2 jitter + 10 ms, about 10 ms: MOS about 4.40.
    assert 4.3 < m.value <= 4.41, str(r)
    assert (m.uom, m.warn, m.crit, m.min, m.max) == ("", "3.5:", "3:", "0", "5"), str(r)
    assert ", mos " in r.lines[1]
    # The highest MOS the model gives is 4.404: these alert whatever the path.
    assert ping("-M", "4.5,1").rc == 1
    r = ping("-M", "4.5,4.45")
    assert r.rc == 2 and "mos 4." in r.summary and "(critical 4.45)" in r.summary, str(r)
    # Only the warning limit: critical keeps check_icmp's default 3.
    assert ping("-M", "4.5").rc == 1


def test_score_mode_thresholds_and_perfdata():
    r = ping("-S", "80,70")
    assert r.rc == 0, str(r)
    s = r.perf["score"]
    assert 90 < s.value <= 92.95, str(r)
    assert (s.warn, s.crit, s.min, s.max) == ("80:", "70:", "0", "100"), str(r)
    assert ping("-S", "95,50").rc == 1
    r = ping("-S", "99,93")
    assert r.rc == 2 and "score 9" in r.summary, str(r)


def test_out_of_order_mode():
    r = ping("-O")
    assert r.rc == 0, str(r)
    assert ", 0 out of order" in r.lines[1], str(r)
    # No perfdata of its own (check_icmp has none), the usual set stays.
    assert list(r.perf) == ["rta", "pl", "rtmin", "rtmax", "jitter"]


def test_all_modes_together_as_in_check_icmps_test():
    # plugins-root/t/check_icmp.t: -O -S 80,70 -M 4,3 -J 80,90 -P 80,90 -R 100,100
    r = ping("-O", "-S", "80,70", "-M", "4,3", "-J", "80,90", "-P", "80,90", "-R", "100,100")
    assert r.rc == 0, str(r)
    for label in ("rta", "pl", "jitter_avg", "mos", "score"):
        assert label in r.perf, str(r)


@pytest.mark.parametrize("args,needle", [
    (["-J", "fast"], "--jitter-mode-thresholds"),
    (["-M", "3.5,"], "--mos-mode-thresholds"),
    (["-S", "-1,2"], "--score-mode-thresholds"),
    (["-R", "1e2,3"], "--rta-mode-thresholds"),
    (["-P", "40,50,60"], "--packet-loss-mode-thresholds"),
    (["-J", "40,50", "--jitter-warning", "5"], "-J"),
    (["-O", "--tcp", "22"], "-O"),
])
def test_bad_mode_options_are_unknown(args, needle):
    r = run(P, ["-H", "127.0.0.1"] + args)
    assert r.rc == 3 and r.state == "UNKNOWN", str(r)
    assert needle in r.lines[0], str(r)
    assert r.stderr == ""
