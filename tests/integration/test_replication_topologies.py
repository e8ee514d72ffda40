# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend postgresql on the topologies of issue 24
(tests/lab/lab-db up pg-topo): a cascading standby (b relays site A's
primary to c), a delayed standby (d, recovery_min_apply_delay 20 s), a
logical subscriber (s) and an abandoned slot on the primary.

The idle periods here are 20 s: the long idle runs (2 and 5 minutes, no
false alarm) are measured by bench/replication, not in CI."""
import time

import pytest

from repl_lab import lab_db, lab_db_env, pg_check, poll

CUT_LIMIT = 15
IDLE_SECONDS = 20


@pytest.fixture(scope="module")
def db(lab):
    lab_db("up", "pg-topo", timeout=300)
    env = lab_db_env()
    yield env
    lab_db("down", check=False)


@pytest.fixture
def pgenv(db):
    return {"PGPASSFILE": db["LAB_PG_PASSFILE"]}


check = pg_check


def ok_again(db, env, site, *extra, limit=60):
    r, t, _ = poll(lambda: check(db, env, site, *extra), lambda r: r.rc == 0, limit)
    assert r.rc == 0, str(r)


def cut_and_wait(db, env, what, site, expect, *extra):
    """Cuts one stream, polls until CRITICAL; returns (result, seconds)."""
    assert check(db, env, site, *extra).rc == 0
    lab_db("cut-pg", what)
    cut = time.monotonic()
    try:
        r, _, history = poll(lambda: check(db, env, site, *extra), lambda r: r.rc == 2, CUT_LIMIT + 5, interval=0.5)
        took = time.monotonic() - cut
        assert r.rc == 2, f"{r}\n{[(t, x.summary) for t, x in history]}"
        assert took <= CUT_LIMIT, f"took {took:.1f} s"
        assert expect in r.summary, str(r)
        print(f"{what} cut: CRITICAL after {took:.1f} s: {r.summary}")
        return r, took
    finally:
        lab_db("restore-pg")


def idle(db, env, site, *extra):
    """IDLE_SECONDS of an idle pair: every sample OK."""
    end = time.monotonic() + IDLE_SECONDS
    samples = []
    while time.monotonic() < end:
        r = check(db, env, site, *extra)
        assert r.rc == 0, str(r)
        samples.append(r)
        time.sleep(2)
    assert len(samples) >= 5
    return samples


def test_cascade_both_sides_ok(db, pgenv):
    r = check(db, pgenv, "B")
    assert r.rc == 0, str(r)
    assert r.summary.startswith("upstream: standby streaming from"), str(r)
    assert f"downstream: sending to {db['LAB_PG_CASCADE_REPLICA']} streaming" in r.summary
    assert r.perf["link_age"].value < 7.5 and r.perf[f"{db['LAB_PG_CASCADE_REPLICA']}_link_age"].value < 7.5


def test_cascade_role_primary_judges_the_sending_side_only(db, pgenv):
    r = check(db, pgenv, "B", "--role", "primary")
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"cascading standby sending to {db['LAB_PG_CASCADE_REPLICA']} streaming"), str(r)
    assert "upstream" not in r.summary
    r = check(db, pgenv, "B", "--role", "standby")
    assert r.rc == 0, str(r)
    assert r.summary.startswith("standby streaming from"), str(r)


def test_cascade_upstream_cut_names_upstream(db, pgenv):
    cut_and_wait(db, pgenv, "upstream", "B", "upstream CRITICAL")
    ok_again(db, pgenv, "B")


def test_cascade_downstream_cut_names_downstream(db, pgenv):
    r, _ = cut_and_wait(db, pgenv, "downstream", "B", "downstream CRITICAL")
    assert "upstream" not in r.summary, str(r)
    ok_again(db, pgenv, "B")


def test_delayed_standby_idle_ok_then_cut_critical(db, pgenv):
    # A commit the delayed standby receives at once but applies 20 s later.
    lab_db("psql", "a", "INSERT INTO lab_writes (payload) VALUES ('for the delayed standby')")
    samples = idle(db, pgenv, "D")
    assert all("beyond the apply delay of 20 s" in r.summary for r in samples)
    assert all(r.perf["lag"].value == 0 for r in samples), [r.summary for r in samples]
    assert any("replay is waiting on it" in line for r in samples for line in r.lines), "never saw the delay wait"
    cut_and_wait(db, pgenv, "delayed", "D", "no message from")
    ok_again(db, pgenv, "D")


def test_logical_subscription_idle_ok_then_cut_critical(db, pgenv):
    sub = db["LAB_PG_SUBSCRIPTION"]
    samples = idle(db, pgenv, "S", "--subscription", sub)
    assert all(r.summary.startswith(f"subscription {sub} streaming") for r in samples)
    cut_and_wait(db, pgenv, "subscription", "S", f"subscription {sub}", "--subscription", sub)
    ok_again(db, pgenv, "S", "--subscription", sub)


def test_publisher_sees_the_subscription_like_a_standby(db, pgenv):
    sub = db["LAB_PG_SUBSCRIPTION"]
    r = check(db, pgenv, "A", "--role", "primary", "--replica", sub)
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"primary: {sub} streaming"), str(r)


def test_nonexistent_subscription_is_critical_naming_it(db, pgenv):
    r = check(db, pgenv, "S", "--subscription", "nosuch")
    assert r.rc == 2, str(r)
    assert r.summary == f"subscription nosuch does not exist (the server has {db['LAB_PG_SUBSCRIPTION']})"


def test_abandoned_slot_warning_then_critical(db, pgenv):
    # A slot nobody consumes, reserving WAL at once (from its segment's
    # start): the thresholds sit above what it retains now.
    lab_db("psql", "a", "SELECT pg_create_physical_replication_slot('gone', true)")
    try:
        r = check(db, pgenv, "A", "--slots")
        assert r.rc == 0, str(r)
        base = r.perf["slot_gone_retained"].value
        warn, crit = int(base + 2_000_000), int(base + 8_000_000)
        args = ("--slots", "--slot-warning-bytes", str(warn), "--slot-critical-bytes", str(crit))
        assert check(db, pgenv, "A", *args).rc == 0
        lab_db("psql", "a", "INSERT INTO lab_writes (payload) SELECT repeat('w', 1000) FROM generate_series(1, 3000)")
        r, _, _ = poll(lambda: check(db, pgenv, "A", *args), lambda r: r.rc != 0, 10)
        assert r.rc == 1, str(r)
        assert r.summary.startswith("inactive slot gone retains") and f"(warning above {warn} B)" in r.summary
        lab_db("psql", "a", "INSERT INTO lab_writes (payload) SELECT repeat('w', 1000) FROM generate_series(1, 8000)")
        r, _, _ = poll(lambda: check(db, pgenv, "A", *args), lambda r: r.rc == 2, 10)
        assert r.rc == 2, str(r)
        assert r.summary.startswith("inactive slot gone retains") and f"(critical above {crit} B)" in r.summary
        assert r.perf["slot_gone_retained"].value > crit
    finally:
        lab_db("psql", "a", "SELECT pg_drop_replication_slot('gone')")
