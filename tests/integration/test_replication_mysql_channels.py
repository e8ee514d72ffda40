# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend mysql on a MariaDB 10.11 multi-source
replica (tests/lab/lab-db up mysql-channels): replica b follows primary a on
its default connection and a second primary (c, site A, port 3307) on the
named connection 'site2'. Every connection is judged without --channel."""
import pytest

from repl_lab import lab_db, lab_db_env, lag, poll


@pytest.fixture(scope="module")
def db(lab):
    lab_db("up", "mysql-channels", timeout=300)
    env = lab_db_env()
    yield env
    lab_db("down", check=False)


def replica(db, *extra):
    return lag(["--backend", "mysql", "-H", db["LAB_MY_SOCK_B"], "--defaults-file", db["LAB_MY_DEFAULTS"]]
               + list(extra))


def test_both_connections_ok_with_perfdata_per_connection(db):
    conn = db["LAB_MY_CONNECTION"]
    r, _, _ = poll(lambda: replica(db), lambda r: r.rc == 0, 30)
    assert r.rc == 0, str(r)
    assert r.summary.startswith("2 connections replicating: '' from"), str(r)
    assert f"{conn} from {db['LAB_MY_HOST_A']}:3307" in r.summary
    assert set(r.perf) == {"default_lag", f"{conn}_lag"}


def test_stopped_connection_is_critical_naming_it_while_the_other_is_fine(db):
    conn = db["LAB_MY_CONNECTION"]
    lab_db("mysql", "b", f"STOP SLAVE '{conn}'")
    try:
        r = replica(db)
        assert r.rc == 2, str(r)
        assert r.summary.startswith(f"connection {conn}: IO thread is 'No'"), str(r)
        assert "connection '':" not in r.summary
        assert r.perf["default_lag"].value is not None and r.perf[f"{conn}_lag"].value is None
        r = replica(db, "--channel", conn)
        assert r.rc == 2 and "IO thread is 'No'" in r.summary, str(r)
    finally:
        lab_db("mysql", "b", f"START SLAVE '{conn}'")
    r, _, _ = poll(lambda: replica(db), lambda r: r.rc == 0, 30)
    assert r.rc == 0, str(r)


def test_sql_thread_of_default_connection_stopped_names_it(db):
    lab_db("mysql", "b", "STOP SLAVE SQL_THREAD")
    try:
        r = replica(db)
        assert r.rc == 2, str(r)
        assert r.summary == "connection '': SQL thread is 'No' (not applying changes)", str(r)
        r = replica(db, "--channel", db["LAB_MY_CONNECTION"])
        assert r.rc == 0, str(r)
    finally:
        lab_db("mysql", "b", "START SLAVE SQL_THREAD")
    r, _, _ = poll(lambda: replica(db), lambda r: r.rc == 0, 30)
    assert r.rc == 0, str(r)


def test_named_connection_that_does_not_exist_is_critical(db):
    r = replica(db, "--channel", "nosuch")
    assert r.rc == 2, str(r)
    assert r.summary == f"connection nosuch does not exist (the server has '', '{db['LAB_MY_CONNECTION']}')"
    assert r.perf["lag"].value is None


def test_missing_grant_is_unknown_naming_it(db):
    r = lag(["--backend", "mysql", "-H", db["LAB_MY_SOCK_B"], "--defaults-file", db["LAB_MY_NOMON_DEFAULTS"]])
    assert r.rc == 3, str(r)
    assert "lacks the SLAVE MONITOR privilege" in r.summary
