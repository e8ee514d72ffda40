# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared fixtures for the lab tests: the lab's environment and its controls."""
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))

LAB = os.environ.get("LAB", os.path.join(os.path.dirname(__file__), "..", "lab", "lab"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "timing: measures latency; ctest runs these alone (lab.<file>.timing, RUN_SERIAL)")


def lab_cmd(*args, timeout=120, check=True):
    p = subprocess.run([LAB] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"lab {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def poll(fn, until, timeout, interval=0.25):
    """Calls fn() until until(result); returns (result, seconds taken), or
    fails with the last result after `timeout` seconds."""
    start = time.monotonic()
    while True:
        r = fn()
        if until(r):
            return r, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not reached within {timeout} s; last result:\n{r}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def lab():
    """The lab's environment (`lab env`), bringing the lab up if needed (idempotent)."""
    if os.geteuid() != 0:
        pytest.fail("lab tests need root (network namespaces); CI runs them as root")
    lab_cmd("up", timeout=300)
    env = {}
    for line in lab_cmd("env").stdout.splitlines():
        if "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k.strip()] = v.strip().strip("'\"")
    return env
