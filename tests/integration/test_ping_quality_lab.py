# SPDX-License-Identifier: GPL-2.0-or-later
"""check_icmp's quality modes of check_cross_site_ping across the two-site
lab: jitter, MOS and score react to delay variation injected at site B's
gateway (`lab-ping delay MS JITTER_MS`), and -O sees the reordering it causes.

Only directions and generous bounds are asserted: the injected variation is
random, and the lab's userspace ESP adds its own on a loaded machine. The
score and MOS are checked against check_icmp's formulas applied to the
plugin's own rta, jitter and loss."""
import pytest

from conftest import lab_cmd
from test_ping_lab import from_a_lan, lab_ping

MODES = ["-J", "20,30", "-M", "3.5,3", "-S", "80,70"]


@pytest.fixture
def clean(lab):
    lab_ping("clear", check=False)
    yield lab
    lab_ping("clear", check=False)
    lab_cmd("loss-clear", check=False)


def expected_score(rta, jitter, pl):
    el = rta + 2 * jitter + 10
    r = 93.2 - el / 40 if el < 160 else 93.2 - (el - 120) / 10
    return max(0.0, r - 2.5 * pl)


def delay(lab, *args):
    """Installs the delay, then sends a few probes through it: the first
    packets after the queue is bound can be held tens of ms longer."""
    lab_ping("delay", *args)
    from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", "3", "-t", "5"])


def measure(lab, extra=()):
    r = from_a_lan(lab, ["-H", lab["LAB_LAN_B"], "-n", "20", "-i", "300ms", "-t", "15"] + MODES + list(extra))
    p = r.perf
    assert p["pl"].value == 0, str(r)
    for label in ("jitter_avg", "jitter_min", "jitter_max", "mos", "score"):
        assert p[label].value is not None, str(r)
    # check_icmp's formulas on the plugin's own figures (rounded to 0.001 ms).
    score = expected_score(p["rta"].value, p["jitter_avg"].value, p["pl"].value)
    assert abs(p["score"].value - score) < 0.01, str(r)
    mos = 1 + 0.035 * score + 0.000007 * score * (score - 60) * (100 - score)
    assert abs(p["mos"].value - mos) < 0.01, str(r)
    assert p["jitter_min"].value <= p["jitter_avg"].value <= p["jitter_max"].value, str(r)
    return r


def test_delay_variation_raises_jitter_and_lowers_mos_and_score(clean):
    lab = clean
    base = measure(lab)
    assert base.rc == 0, str(base)
    assert base.perf["jitter_avg"].value < 10 and base.perf["mos"].value > 4.2, str(base)
    # 80 ms each way, constant: a slow but steady path (EL about 170 ms,
    # score about 88). On a loaded machine a few round trips stretch by tens
    # of ms, which alone stays well under the 20 ms jitter limit.
    delay(lab, 80)
    steady = measure(lab)
    lab_ping("delay-clear")
    # 30 ms plus 0..100 ms each way: the same mean round trip (about 160 ms),
    # varying by up to 200 ms (expected jitter about 46 ms, score about 79).
    delay(lab, 30, 100)
    varying = measure(lab)
    report = "\n".join(f"{n}: {r.stdout.splitlines()[0]}" for n, r in
                       (("base", base), ("steady", steady), ("varying", varying)))
    print(report)
    sj, vj = steady.perf["jitter_avg"].value, varying.perf["jitter_avg"].value
    assert 150 < steady.perf["rta"].value < 260 and 90 < varying.perf["rta"].value < 280, report
    assert sj < 20 and steady.rc == 0, report
    assert vj > sj + 10 and vj < 200 and varying.rc in (1, 2), report
    assert "jitter" in varying.summary, report
    # Delay lowers the score and the MOS; variation lowers them further. With
    # the steady round trip over 150 ms (EL over 160 ms) the score is at most
    # 89.2, and the base's (a round trip of a few ms) over 92: a drop of more
    # than 3 points (4.9 at exactly 80 ms each way; more when load stretches it).
    assert steady.perf["score"].value < base.perf["score"].value - 3, report
    assert steady.perf["mos"].value < base.perf["mos"].value, report
    assert varying.perf["score"].value < steady.perf["score"].value, report
    assert varying.perf["mos"].value < steady.perf["mos"].value, report
    assert varying.perf["score"].value > 40, report


def test_out_of_order_replies_under_delay_variation(clean):
    lab = clean
    args = ["-H", lab["LAB_LAN_B"], "-O", "-n", "20", "-t", "15"]
    # Each probe leaves once the previous reply is in: no reordering possible.
    delay(lab, 30, 30)
    r = from_a_lan(lab, args)
    assert r.rc == 0 and ", 0 out of order" in r.stdout, str(r)
    # On the fixed 5 ms schedule, probes overtake each other in the gateway.
    r = from_a_lan(lab, args + ["--paced", "-i", "5ms"])
    assert r.rc == 2 and "replies out of order" in r.summary, str(r)
    assert r.perf["pl"].value == 0, str(r)
