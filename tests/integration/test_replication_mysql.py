# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend mysql against a real MariaDB primary (site A)
and replica (site B) replicating through the IPsec tunnel, with pt-heartbeat
rewriting a heartbeat row on the primary every second."""
import time

import pytest

from repl_lab import lab_db, lab_db_env, lag, poll


@pytest.fixture(scope="module")
def db(lab):
    lab_db("up", "mysql", timeout=300)
    env = lab_db_env()
    yield env
    lab_db("down", check=False)


def replica(db, *extra, defaults=None):
    return lag(["--backend", "mysql", "-H", db["LAB_MY_SOCK_B"], "--defaults-file",
                defaults or db["LAB_MY_DEFAULTS"]] + list(extra))


def with_heartbeat(db, *extra):
    return replica(db, "--heartbeat-table", db["LAB_MY_HEARTBEAT"], *extra)


def wait_replicating(db):
    lab_db("wait", "mysql", "60")


def test_healthy_is_ok(db):
    wait_replicating(db)
    r = with_heartbeat(db)
    assert r.rc == 0, str(r)
    assert r.summary.startswith(f"replicating from {db['LAB_MY_HOST_A']}:3306, heartbeat age")
    assert 0 <= r.perf["heartbeat_age"].value < 3 and r.perf["heartbeat_age"].crit == "10"
    r = replica(db)
    assert r.rc == 0 and r.perf["lag"].value == 0, str(r)


def test_tunnel_cut_with_heartbeat_is_critical_within_15s(db, lab):
    from conftest import lab_cmd
    wait_replicating(db)
    lab_cmd("cut", "ipsec")
    cut = time.monotonic()
    try:
        r, _, history = poll(lambda: with_heartbeat(db), lambda r: r.rc == 2, 20, interval=0.3)
        took = time.monotonic() - cut
        assert r.rc == 2, str(r)
        assert took <= 15, f"took {took:.1f} s: {[(t, x.summary) for t, x in history]}"
        assert "heartbeat heartbeat.heartbeat is" in r.summary or "IO thread is 'Connecting'" in r.summary, str(r)
    finally:
        lab_cmd("restore", "ipsec")
    wait_replicating(db)
    r, t, _ = poll(lambda: with_heartbeat(db), lambda r: r.rc == 0, 30)
    assert r.rc == 0, str(r)


def test_sql_thread_stopped_is_critical(db):
    wait_replicating(db)
    lab_db("mysql", "b", "STOP SLAVE SQL_THREAD")
    try:
        r = with_heartbeat(db)
        assert r.rc == 2, str(r)
        assert "SQL thread is 'No' (not applying changes)" in r.summary
    finally:
        lab_db("mysql", "b", "START SLAVE SQL_THREAD")
    wait_replicating(db)


def test_conflicting_row_is_critical_with_error_text(db):
    wait_replicating(db)
    key = int(time.time() * 1000) % 2_000_000_000
    lab_db("mysql", "b", f"INSERT INTO lab.t VALUES ({key}, 'written on the replica')")
    lab_db("mysql", "a", f"INSERT INTO lab.t VALUES ({key}, 'written on the primary')")
    try:
        r, _, _ = poll(lambda: with_heartbeat(db), lambda r: r.rc == 2, 15)
        assert r.rc == 2, str(r)
        assert f"Duplicate entry '{key}' for key 'PRIMARY'" in r.summary, str(r)
        assert "SQL error 1062" in r.summary
    finally:
        lab_db("mysql", "b", f"DELETE FROM lab.t WHERE id = {key}; START SLAVE SQL_THREAD")
    wait_replicating(db)
    r, _, _ = poll(lambda: with_heartbeat(db), lambda r: r.rc == 0, 20)
    assert r.rc == 0, str(r)


def test_missing_grant_is_unknown(db):
    r = replica(db, defaults=db["LAB_MY_NOMON_DEFAULTS"])
    assert r.rc == 3, str(r)
    assert r.summary == "user nomon@localhost lacks the SLAVE MONITOR privilege needed for SHOW REPLICA STATUS"
    assert "fix: GRANT SLAVE MONITOR ON *.* TO nomon@localhost;" in r.lines


def test_wrong_password_is_unknown(db, tmp_path):
    f = tmp_path / "bad.cnf"
    f.write_text("[client]\nuser=monitor\npassword=not-the-password\n")
    f.chmod(0o600)
    r = replica(db, defaults=str(f))
    assert r.rc == 3 and "error 1045" in r.summary, str(r)
    assert "not-the-password" not in r.stdout


@pytest.mark.parametrize("tspec,rc", [("3", 3), ("3:critical", 2)])
def test_dropped_packets_end_within_timeout(db, lab, tspec, rc):
    lab_db("block", "mysql")
    try:
        r = lag(["--backend", "mysql", "-H", db["LAB_MY_HOST_A"], "--defaults-file", db["LAB_MY_DEFAULTS"],
                 "-t", tspec], netns=lab["LAB_NS_A"])
        assert r.rc == rc, str(r)
        assert r.summary.startswith(f"timed out after 3 s while connecting to {db['LAB_MY_HOST_A']}:3306"), str(r)
        assert r.elapsed < 3.6, str(r)
    finally:
        lab_db("unblock")
