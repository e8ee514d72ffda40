# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend postgresql with standbys whose clocks are
skewed (tests/lab/lab-db up pg-skew): e runs LAB_PG_SKEW (60) seconds behind
site A's primary, f as far ahead, both streaming through the tunnel. Their
whole server (postmaster, WAL receiver, backends) runs on the skewed clock
(tests/lab/lib/skewclock.c), so the primary's pg_stat_replication.reply_time
carries the skew as it would between two sites whose clocks disagree.

From the primary's side a healthy skewed standby is WARNING naming the skew,
not a dead link, and its cut link is CRITICAL within 15 s of the cut; from
the standby's own side (one clock) the skew changes nothing."""
import re
import threading
import time

import pytest

from repl_lab import lab_db, lab_db_env, pg_check, poll

CUT_LIMIT = 15


@pytest.fixture(scope="module")
def db(lab):
    lab_db("up", "pg-skew", timeout=300)
    env = lab_db_env()
    yield env
    lab_db("down", check=False)


@pytest.fixture
def pgenv(db):
    return {"PGPASSFILE": db["LAB_PG_PASSFILE"]}


check = pg_check


def epoch(site):
    return float(lab_db("psql", site, "SELECT extract(epoch FROM now())").stdout.strip())


def reply_age(db, which):
    app = db[f"LAB_PG_SKEW_{which}_REPLICA"]
    out = lab_db("psql", "a", "SELECT extract(epoch FROM now() - reply_time) FROM pg_stat_replication "
                 f"WHERE application_name = '{app}'").stdout.strip()
    return float(out)


def skew_in(summary, which):
    m = re.search(r"clock is (?:about )?([\d.]+) s " + ("behind" if which == "BEHIND" else "ahead"), summary)
    return float(m.group(1)) if m else None


def primary_side(db, env, which):
    return check(db, env, "A", "--role", "primary", "--replica", db[f"LAB_PG_SKEW_{which}_REPLICA"])


def test_the_standbys_run_on_skewed_clocks(db):
    skew = int(db["LAB_PG_SKEW"])
    # Read one after the other: a loaded machine may take a second between.
    a, e, f = epoch("a"), epoch("e"), epoch("f")
    print(f"now() on e - a: {e - a:.1f} s, f - a: {f - a:.1f} s")
    assert -skew - 5 < e - a < -skew + 5
    assert skew - 5 < f - a < skew + 5
    # Every process of the standby is skewed, its WAL receiver too: the
    # primary sees the skew in reply_time (plus the reply's age).
    behind, ahead = reply_age(db, "BEHIND"), reply_age(db, "AHEAD")
    print(f"now() - reply_time on the primary: behind {behind:.1f} s, ahead {ahead:.1f} s")
    assert skew - 3 < behind < skew + 15
    assert -skew - 3 < ahead < -skew + 15


@pytest.mark.parametrize("which", ["BEHIND", "AHEAD"])
def test_healthy_skewed_standby_is_skew_not_a_dead_link(db, pgenv, which):
    skew = int(db["LAB_PG_SKEW"])
    for _ in range(3):
        r = primary_side(db, pgenv, which)
        assert r.rc == 1, str(r)
        assert "link down" not in r.summary and "not connected" not in r.summary, str(r)
        seen = skew_in(r.summary, which)
        print(f"{which}: {r.summary}")
        assert seen is not None and skew - 5 < seen < skew + 15, str(r)
        time.sleep(1)


@pytest.mark.parametrize("site", ["E", "F"])
def test_standby_side_of_a_skewed_standby_is_ok(db, pgenv, site):
    r = check(db, pgenv, site, "--role", "standby")
    assert r.rc == 0, str(r)
    assert r.summary.startswith("standby streaming from"), str(r)
    assert r.perf["link_age"].value < 7.5, str(r)


@pytest.mark.parametrize("which,cut,site", [("BEHIND", "behind", "E"), ("AHEAD", "ahead", "F")])
def test_skewed_standby_cut_is_critical_within_15_s(db, pgenv, which, cut, site):
    # Both sides poll at once, each on its own thread: the cut drops one TCP
    # connection, so the standby's WAL receiver reconnects once it has timed
    # out (10 s) and each side's CRITICAL lasts only until then.
    sides = {"primary": lambda: primary_side(db, pgenv, which),
             "standby": lambda: check(db, pgenv, site, "--role", "standby")}
    assert sides["primary"]().rc == 1
    took = {}

    def watch(side):
        r, _, history = poll(sides[side], lambda r: r.rc == 2, CUT_LIMIT + 10)
        took[side] = (time.monotonic() - start, r.rc, r.summary, [(t, x.rc) for t, x in history])

    lab_db("cut-pg", cut)
    start = time.monotonic()
    try:
        threads = [threading.Thread(target=watch, args=(side,)) for side in sides]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        lab_db("restore-pg")
    for side, (t, rc, summary, history) in took.items():
        print(f"{cut} cut, {side} side: {'CRITICAL' if rc == 2 else rc} after {t:.1f} s: {summary}")
        assert rc == 2 and t <= CUT_LIMIT, f"{side} side: {summary} after {t:.1f} s {history}"
    assert "link down?" in took["primary"][2]
    r, _, _ = poll(sides["primary"], lambda r: r.rc == 1 and skew_in(r.summary, which), 60)
    assert r.rc == 1, str(r)


def test_role_primary_on_a_standby_without_downstream_stays_critical(db, pgenv):
    # e has no standbys of its own: --role primary is the mistake it was.
    r = check(db, pgenv, "E", "--role", "primary")
    assert r.rc == 2, str(r)
    assert "is in recovery (a standby) but --role primary was expected" in r.summary
