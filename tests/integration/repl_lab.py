# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the replication lab tests: tests/lab/lab-db and the plugin."""
import os
import subprocess
import time

from sitelink_test import check_conventions, plugin_path, run

LAB_DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab", "lab-db")
P = "check_replication_lag"
SVC = "REPLICATION_LAG"


def lab_db(*args, timeout=240, check=True):
    p = subprocess.run([LAB_DB] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"lab-db {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def lab_db_env():
    env = {}
    for line in lab_db("env").stdout.splitlines():
        if "=" in line:
            k, _, v = line.partition("=")
            env[k] = v.strip("'\"")
    return env


def lag(args, env=None, netns=None, **kw):
    """Runs the plugin (optionally inside a lab namespace) and checks the conventions."""
    if netns:
        r = run("/usr/sbin/ip", ["netns", "exec", netns, plugin_path(P)] + list(args), env=env, **kw)
    else:
        r = run(P, list(args), env=env, **kw)
    check_conventions(r, SVC)
    return r


def pg_check(db, env, site, *extra):
    """check_replication_lag against site's PostgreSQL of a lab-db topology
    (its unix socket, its own port if it has one), as the monitor role."""
    sock = db[f"LAB_PG_SOCK_{site}"]
    port = db.get(f"LAB_PG_PORT_{site}", db["LAB_PG_PORT"])
    return lag(["--backend", "postgresql", "-H", sock, "-p", port, "-U", "monitor", "-d", "postgres"] + list(extra),
               env=env)


def poll(fn, until, limit, interval=0.5):
    """Calls fn() until until(result) or `limit` seconds; returns (result, seconds, history)."""
    start = time.monotonic()
    history = []
    while True:
        r = fn()
        t = time.monotonic() - start
        history.append((round(t, 1), r))
        if until(r):
            return r, t, history
        if t > limit:
            return r, None, history
        time.sleep(interval)
