# SPDX-License-Identifier: GPL-2.0-or-later
"""check_replication_lag --backend postgresql / mysql without a database:
option checks, refused secrets, unreachable and silent servers, and that the
client libraries stay out of the executable."""
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import sitelink_test
from sitelink_test import BUILD, check_conventions, plugin_path, run

P = "check_replication_lag"
SVC = "REPLICATION_LAG"


def lag(*args, **kw):
    r = run(P, list(args), **kw)
    check_conventions(r, SVC)
    return r


class SilentPort(int):
    """A port number that also holds the connections its listener accepted."""
    held: list


@pytest.fixture
def silent_port():
    """A loopback listener that accepts connections and never says a word."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                held.append(c)
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    port = SilentPort(srv.getsockname()[1])
    port.held = held
    yield port
    stop.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


@pytest.fixture
def closed_port():
    return sitelink_test.closed_port()


def test_client_libraries_are_not_linked():
    out = subprocess.run(["ldd", plugin_path(P)], capture_output=True, text=True, check=True).stdout
    assert "libpq" not in out and "libmariadb" not in out and "libssl" not in out, out
    mods = os.path.join(BUILD, "modules")
    assert "libpq.so" in subprocess.run(["ldd", os.path.join(mods, "sitelink_pgsql.so")],
                                        capture_output=True, text=True).stdout
    assert "libmariadb.so" in subprocess.run(["ldd", os.path.join(mods, "sitelink_mysql.so")],
                                             capture_output=True, text=True).stdout


@pytest.mark.parametrize("dsn", [
    "host=db password=s3cr3t-value",
    "host=db  password = 's3cr3t-value'",
    "postgresql://monitor:s3cr3t-value@db/postgres",
    "postgresql://db/postgres?password=s3cr3t-value",
])
def test_password_in_dsn_is_refused(dsn):
    r = lag("--backend", "postgresql", "--dsn", dsn, "-vvv")
    assert r.rc == 3, str(r)
    assert "refusing a --dsn that contains a password" in r.summary
    assert "s3cr3t-value" not in r.stdout


def test_password_from_environment_is_never_printed(closed_port):
    r = lag("--backend", "postgresql", "-H", "127.0.0.1", "-p", str(closed_port), "-U", "monitor", "-vvv",
            env={"PGPASSWORD": "s3cr3t-value"})
    assert r.rc == 2, str(r)
    assert "s3cr3t-value" not in r.stdout
    r = lag("--backend", "mysql", "-H", "127.0.0.1", "-P", str(closed_port), "-u", "monitor", "-vvv",
            env={"MYSQL_PWD": "s3cr3t-value"})
    assert r.rc == 2, str(r)
    assert "s3cr3t-value" not in r.stdout


def test_connection_refused_is_critical(closed_port):
    r = lag("--backend", "postgresql", "-H", "127.0.0.1", "-p", str(closed_port), "-U", "monitor")
    assert r.rc == 2, str(r)
    assert r.summary.startswith(f"cannot connect to 127.0.0.1:{closed_port}/") and "refused" in r.summary
    assert r.perf["lag"].value is None and r.perf["lag_bytes"].value is None
    r = lag("--backend", "mysql", "-H", "127.0.0.1", "-P", str(closed_port), "-u", "monitor")
    assert r.rc == 2, str(r)
    assert f"cannot connect to 127.0.0.1:{closed_port}: error 2002" in r.summary or "error 2003" in r.summary


def test_missing_socket_is_critical(tmp_path):
    r = lag("--backend", "postgresql", "-H", str(tmp_path), "-U", "monitor")
    assert r.rc == 2 and "No such file or directory" in r.summary, str(r)
    r = lag("--backend", "mysql", "-H", str(tmp_path / "mysqld.sock"), "-u", "monitor")
    assert r.rc == 2 and "error 2002" in r.summary, str(r)


@pytest.mark.parametrize("backend,portopt", [("postgresql", "-p"), ("mysql", "-P")])
@pytest.mark.parametrize("tspec,rc", [("2", 3), ("2:critical", 2)])
def test_silent_server_ends_within_timeout(silent_port, backend, portopt, tspec, rc):
    r = lag("--backend", backend, "-H", "127.0.0.1", portopt, str(silent_port), "-U", "monitor", "-t", tspec)
    assert r.rc == rc, str(r)
    assert r.summary.startswith("timed out after 2 s while connecting to 127.0.0.1:"), str(r)
    assert r.elapsed < 2.6, str(r)


def test_sigterm_while_connecting(silent_port):
    p = subprocess.Popen([plugin_path(P), "--backend", "postgresql", "-H", "127.0.0.1", "-p", str(silent_port),
                          "-U", "monitor", "-t", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Signal it once it is connecting (its connection has arrived), not after a
    # fixed pause: on a busy machine loading the module can take longer.
    for _ in range(200):
        if silent_port.held or p.poll() is not None:
            break
        time.sleep(0.05)
    assert silent_port.held, "the plugin never connected"
    start = time.monotonic()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=5)
    assert time.monotonic() - start < 1.0
    assert p.returncode == 3 and err == ""
    assert out.startswith("REPLICATION_LAG UNKNOWN - terminated by signal while connecting to 127.0.0.1:"), out


SILENT_DNS = r"""#!/bin/bash
# Runs the plugin in private mount and network namespaces whose only DNS
# server (127.0.0.1:53) takes queries and never answers.
[[ -z ${IN_NS:-} ]] && IN_NS=1 exec unshare --mount --net "$0" "$@"
ip link set lo up && mount --bind "$RESOLV" /etc/resolv.conf || exit 90
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("bound", flush=True)
time.sleep(30)' >"$READY" 2>/dev/null &
dns=$!
for _ in $(seq 200); do [[ -s $READY ]] && break; sleep 0.05; done
[[ -s $READY ]] || exit 91
"$PLUGIN" "$@"
rc=$?
kill "$dns"
exit $rc
"""


def test_silent_resolver_names_the_server(tmp_path):
    """libpq resolves the host name inside its connect call: running out of
    time there names the server ("connecting to db...:5432/monitor"), not an
    earlier step of the plugin."""
    if os.geteuid() != 0:
        pytest.skip("needs root: private mount and network namespaces with a silent DNS server")
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:20 attempts:1\n")
    wrapper = tmp_path / "silent-dns"
    wrapper.write_text(SILENT_DNS)
    wrapper.chmod(0o755)
    env = {"RESOLV": str(resolv), "READY": str(tmp_path / "ready"), "PLUGIN": plugin_path(P)}
    r = run(P, ["--backend", "postgresql", "-H", "db.sitelink.test", "-U", "monitor", "-t", "2"],
            env=env, path=str(wrapper))
    assert r.rc not in (90, 91), f"namespace set-up failed: {r}"
    check_conventions(r, SVC)
    assert r.rc == 3, str(r)
    assert r.summary == "timed out after 2 s while connecting to db.sitelink.test:5432/monitor", str(r)


@pytest.mark.parametrize("args,needle", [
    (["--backend", "postgresql", "--role", "replica"], "--role"),
    (["--backend", "postgresql", "--role", "standby", "--replica", "dr1"], "--replica"),
    (["--backend", "postgresql", "--heartbeat-table", "a;drop table x"], "--heartbeat-table"),
    (["--backend", "postgresql", "--link-timeout", "0"], "--link-timeout"),
    (["--backend", "postgresql", "--link-timeout", "abc"], "--link-timeout"),
    (["--backend", "postgresql", "--critical-bytes", "1:~"], "--critical-bytes"),
    (["--backend", "postgresql", "--defaults-file", "/x"], "--defaults-file"),
    (["--backend", "mysql", "--dsn", "host=x"], "--dsn"),
    (["--backend", "mysql", "-P", "70000"], "--port"),
    (["--backend", "mysql", "--channel", "x'y"], "--channel"),
    (["--backend", "mysql", "--heartbeat-table", "a.b.c"], "--heartbeat-table"),
    (["--backend", "file", "--file", "/x", "-H", "db"], "--hostname"),
    (["--backend", "mysql", "--channel", "a", "--channel", "x'y"], "--channel"),
    (["--backend", "mysql", "--slots"], "--slots"),
    (["--backend", "mysql", "--subscription", "mig"], "--subscription"),
    (["--backend", "postgresql", "--slot-warning-bytes", "100"], "--slots"),
    (["--backend", "postgresql", "--slots", "--slot-inactive-state", "loud"], "--slot-inactive-state"),
    (["--backend", "postgresql", "--slots", "--slot-critical-bytes", "1:~"], "--slot-critical-bytes"),
    (["--backend", "postgresql", "--role", "standby", "--subscription", "mig"], "--subscription"),
    (["--backend", "postgresql", "--role", "subscriber", "--replica", "dr1"], "--replica"),
    (["--backend", "postgresql", "--expected-delay", "soon"], "--expected-delay"),
    (["--backend", "file", "--file", "/x", "--expected-delay", "60"], "--expected-delay"),
])
def test_bad_options_are_usage_errors(args, needle):
    r = run(P, args)
    assert r.rc == 3, str(r)
    assert needle in r.lines[0], str(r)
    assert any(line.startswith("Usage:") for line in r.lines), str(r)


def test_defaults_file_permissions(tmp_path):
    f = tmp_path / "my.cnf"
    f.write_text("[client]\nuser=monitor\npassword=s3cr3t-value\n")
    os.chmod(f, 0o644)
    r = lag("--backend", "mysql", "--defaults-file", str(f), "-H", str(tmp_path / "none.sock"))
    assert r.rc == 3, str(r)
    assert "refusing --defaults-file" in r.summary and "accessible by others" in r.summary
    assert "s3cr3t-value" not in r.stdout
    r = lag("--backend", "mysql", "--defaults-file", str(tmp_path / "absent.cnf"))
    assert r.rc == 3 and "No such file" in r.summary, str(r)
    os.chmod(f, 0o600)
    r = lag("--backend", "mysql", "--defaults-file", str(f), "-H", str(tmp_path / "none.sock"), "-vvv")
    assert r.rc == 2 and "error 2002" in r.summary, str(r)
    assert "s3cr3t-value" not in r.stdout


def test_stale_module_is_refused(tmp_path):
    # A module from another build: refused by its ABI tag, not run.
    fake = tmp_path / "sitelink_pgsql.so"
    src = tmp_path / "fake.cpp"
    src.write_text('struct T { const char* abi; void* f; };\n'
                   'static const T t{"0.0.0-other", nullptr};\n'
                   'extern "C" const T* sitelink_pgsql_module() { return &t; }\n')
    subprocess.run(["c++", "-shared", "-fPIC", "-o", str(fake), str(src)], check=True)
    r = lag("--backend", "postgresql", "-H", "/nonexistent", env={"SITELINK_MODULE_DIR": str(tmp_path)})
    assert r.rc == 3, str(r)
    assert "is from another build (ABI 0.0.0-other" in r.summary
