# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend file, run as a real binary."""
import os
import time

import pytest

from sitelink_test import SOURCE, check_conventions, run

P = "check_replication_lag"
SVC = "REPLICATION_LAG"
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")


def lag(*args, **kw):
    r = run(P, ["--backend", "file"] + list(args), **kw)
    check_conventions(r, SVC)
    return r


@pytest.fixture
def hb(tmp_path):
    def write(content, mtime=None):
        f = tmp_path / "heartbeat"
        f.write_text(content)
        if mtime is not None:
            os.utime(f, (mtime, mtime))
        return str(f)
    return write


@pytest.mark.parametrize("bad", ["abc", "10:20:30", "1:~", "@", "", "20:10", "1e3", "5,20%"])
@pytest.mark.parametrize("opt", ["-w", "-c"])
def test_bad_ranges(hb, opt, bad):
    r = run(P, ["--backend", "file", "--file", hb(f"{int(time.time())}\n"), opt, bad])
    assert r.rc == 3, str(r)
    assert r.state == "UNKNOWN"
    name = "--warning" if opt == "-w" else "--critical"
    assert name in r.lines[0], str(r)


def test_ok_with_perfdata(hb):
    r = lag("--file", hb(f"{time.time() - 12}\n"))
    assert r.rc == 0 and r.state == "OK", str(r)
    age = r.perf["age"]
    assert 11.5 <= age.value <= 14 and age.uom == "s"
    assert (age.warn, age.crit, age.min) == ("300", "900", "0")
    assert "Impact:" not in r.stdout


def test_critical_with_catalog_runbook(hb):
    r = lag("--file", hb(f"{int(time.time()) - 1260}\n"), "--runbook", "dr-vpn", "--runbook-file", CATALOG)
    assert r.rc == 2, str(r)
    assert r.summary.startswith("heartbeat ") and "critical above 900 s" in r.summary
    assert 1259 <= r.perf["age"].value <= 1262
    assert any(line.startswith("Impact: Replication and file sync") for line in r.lines)
    assert any(line.startswith("Action: ") for line in r.lines)
    assert r.lines[-1] == ("Runbook: Site-to-site VPN between the live site and the disaster-recovery site "
                           "<https://runbooks.example.org/links/dr-vpn>")
    # impact lines come before action lines
    kinds = [line.split(":")[0] for line in r.lines if line.startswith(("Impact:", "Action:", "Runbook:"))]
    assert kinds == sorted(kinds, key=["Impact", "Action", "Runbook"].index)


def test_catalog_from_environment(hb):
    r = lag("--file", hb(f"{int(time.time()) - 400}\n"), "--runbook", "dr-vpn",
            env={"SITELINK_RUNBOOKS": CATALOG})
    assert r.rc == 1, str(r)
    assert any(line.startswith("Impact: The DR link is degraded") for line in r.lines)


def test_inline_runbook(hb):
    r = lag("--file", hb(f"{int(time.time()) - 1000}\n"), "--impact", "users see stale data",
            "--impact", "second|line", "--action", "call ops", "--runbook-url", "https://r.example/x")
    assert r.rc == 2
    assert r.lines[-4:] == ["Impact: users see stale data", "Impact: second line", "Action: call ops",
                            "Runbook: https://r.example/x"]


@pytest.mark.parametrize("content,expect", [
    ('{"runbooks": {}}', "no runbook with ID 'dr-vpn'"),
    ("{not json", "invalid JSON"),
    ('{"runbooks": {"dr-vpn": {"impact": 3}}}', "must be a list or an object"),
    ('{"runbooks": {"dr-vpn": {"severity": "x"}}}', "unknown key 'severity'"),
])
def test_catalog_errors_are_unknown(hb, tmp_path, content, expect):
    cat = tmp_path / "rb.json"
    cat.write_text(content)
    r = lag("--file", hb(f"{int(time.time())}\n"), "--runbook", "dr-vpn", "--runbook-file", str(cat))
    assert r.rc == 3, str(r)
    assert expect in r.summary and str(cat) in r.summary


def test_catalog_error_does_not_hide_critical(hb, tmp_path):
    r = lag("--file", str(tmp_path / "absent"), "--runbook", "dr-vpn", "--runbook-file", str(tmp_path / "nope.json"))
    assert r.rc == 2, str(r)
    assert any("nope.json" in line for line in r.lines[1:])


def test_missing_file_is_critical(tmp_path):
    r = lag("--file", str(tmp_path / "absent"))
    assert r.rc == 2 and "does not exist" in r.summary and "sync never delivered" in r.summary
    assert r.perf["age"].value is None


def test_permission_denied_is_unknown(hb, tmp_path):
    f = hb(f"{int(time.time())}\n")
    os.chmod(f, 0o600)
    os.chmod(tmp_path, 0o755)
    r = lag("--file", f, user="nobody")
    assert r.rc == 3, str(r)
    assert "Permission denied" in r.summary


def test_directory_is_unknown(tmp_path):
    r = lag("--file", str(tmp_path))
    assert r.rc == 3 and "is a directory" in r.summary


@pytest.mark.parametrize("content", ["garbage\n", "2026-11-22T02:14:57\n", "", "x" * 200 + "|\x1b\n"])
def test_unparsable_is_unknown(hb, content):
    r = lag("--file", hb(content))
    assert r.rc == 3, str(r)
    assert "unparsable content" in r.summary or "empty heartbeat" in r.summary
    assert "x" * 41 not in r.summary and "\x1b" not in r.stdout


def test_rfc3339_and_mtime(hb):
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 500))
    r = lag("--file", hb(stamp + "\n"))
    assert r.rc == 1 and 499 <= r.perf["age"].value <= 502, str(r)
    r = lag("--file", hb("not a timestamp", mtime=time.time() - 1000), "--timestamp", "mtime")
    assert r.rc == 2 and 999 <= r.perf["age"].value <= 1002, str(r)


def test_future_timestamp_is_warning(hb):
    r = lag("--file", hb(f"{int(time.time()) + 120}\n"))
    assert r.rc == 1 and "in the future" in r.summary, str(r)


def test_custom_ranges(hb):
    r = lag("--file", hb(f"{int(time.time()) - 50}\n"), "-w", "@40:60", "-c", "100")
    assert r.rc == 1, str(r)
    assert r.perf["age"].warn == "@40:60" and r.perf["age"].crit == "100"


def test_comma_decimal_locale(hb):
    f = hb(f"{time.time() - 1.5}\n")
    r = lag("--file", f, "-w", "0.5", "-c", "100.5", env={"LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8"})
    assert r.rc == 1, str(r)
    assert "," not in r.lines[0].split(" | ")[1]
    assert r.perf["age"].crit == "100.5"


def test_missing_backend_and_file():
    r = run(P, [])
    assert r.rc == 3 and "--backend" in r.lines[0]
    r = run(P, ["--backend", "file"])
    assert r.rc == 3 and "--file" in r.lines[0]
    r = run(P, ["--backend", "nosuch"])
    assert r.rc == 3 and "nosuch" in r.lines[0]


def test_verbose_repeatable(hb):
    r = lag("-v", "-vv", "-v", "--file", hb(f"{int(time.time())}\n"))
    assert r.rc == 0 and any(line.startswith("debug:") for line in r.lines)
