# SPDX-License-Identifier: GPL-2.0-or-later
"""Secrets audit: every backend that runs without the lab gets its secret the
supported way (a file, an environment variable) and runs at -vvv; no
secret may appear in what it prints. The fake peers record what the plugin
sent, so each test also proves the secret was really read and used.

The cloud backends (AWS keys, Neutron PSKs) are audited in their own tests.
"""
import base64
import os

import pytest

from sitelink_fakes import FakeServer, openvpn_management, postgres_cleartext_auth, wireguard_uapi
from sitelink_test import SOURCE, check_conventions, closed_port, run

VPN, VPN_SVC = "check_vpn_tunnel_up", "VPN_TUNNEL"
REPL, REPL_SVC = "check_replication_lag", "REPLICATION_LAG"
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "vpn")


def secret_forms(secret):
    """The secret and the encodings it could leak in."""
    forms = {secret}
    try:
        raw = bytes.fromhex(secret)
        forms.add(base64.b64encode(raw).decode())
    except ValueError:
        pass
    return forms


def assert_no_secret(r, *secrets):
    for s in secrets:
        for form in secret_forms(s):
            assert form not in r.stdout, f"secret {form!r} printed:\n{r}"
            assert form not in r.stderr, f"secret {form!r} on stderr:\n{r}"


# ---- OpenVPN: --management-password-file ----

P2P_STATE = b"1795314329,CONNECTED,SUCCESS,10.8.0.1,192.0.2.2,1194,192.0.2.1,1194\r\nEND\r\n"
P2P_STATUS = (b"OpenVPN STATISTICS\r\nUpdated,2026-11-22 02:31:15\r\nTUN/TAP read bytes,388\r\n"
              b"TUN/TAP write bytes,84\r\nTCP/UDP read bytes,14501\r\nTCP/UDP write bytes,14456\r\nEND\r\n")
MGMT_PASSWORD = "mgmt-Audit-7f3e91c2d5"


@pytest.fixture
def password_file(tmp_path):
    f = tmp_path / "mgmt.pw"
    f.write_text(MGMT_PASSWORD + "\n")
    f.chmod(0o600)
    return str(f)


@pytest.mark.parametrize("accepted", [True, False])
def test_openvpn_management_password(tmp_path, password_file, accepted):
    expected = MGMT_PASSWORD if accepted else "something-else"
    sock = str(tmp_path / "mgmt.sock")
    with FakeServer(openvpn_management(expected, P2P_STATE, P2P_STATUS), unix_path=sock) as srv:
        r = run(VPN, ["--backend", "openvpn", "--management", sock, "--management-password-file", password_file,
                      "--tunnel", "site-b", "-vvv", "-t", "5"])
    check_conventions(r, VPN_SVC)
    assert srv.received == [MGMT_PASSWORD], "the plugin did not send the password from the file"
    if accepted:
        assert r.state == "OK", str(r)
    else:
        assert r.state in ("UNKNOWN", "CRITICAL") and "password" in r.summary, str(r)
    assert_no_secret(r, MGMT_PASSWORD)


def test_openvpn_password_file_readable_by_others_refused(tmp_path, password_file):
    os.chmod(password_file, 0o644)
    sock = str(tmp_path / "mgmt.sock")
    with FakeServer(openvpn_management(MGMT_PASSWORD, P2P_STATE, P2P_STATUS), unix_path=sock) as srv:
        r = run(VPN, ["--backend", "openvpn", "--management", sock, "--management-password-file", password_file,
                      "-vvv", "-t", "5"])
    check_conventions(r, VPN_SVC)
    assert r.state == "UNKNOWN" and "0644" in r.summary, str(r)
    assert srv.received == []
    assert_no_secret(r, MGMT_PASSWORD)


# ---- WireGuard: the UAPI reply carries the private and preshared keys ----

def wireguard_reply():
    with open(os.path.join(FIXTURES, "wireguard-uapi-get.txt"), "rb") as f:
        reply = f.read()
    secrets = [line.split("=", 1)[1] for line in reply.decode().splitlines()
               if line.startswith(("private_key=", "preshared_key=")) and set(line.split("=", 1)[1]) != {"0"}]
    assert len(secrets) == 2
    return reply, secrets


def test_wireguard_private_and_preshared_keys(tmp_path):
    reply, secrets = wireguard_reply()
    sock = str(tmp_path / "wg0.sock")
    with FakeServer(wireguard_uapi(reply), unix_path=sock) as srv:
        r = run(VPN, ["--backend", "wireguard", "--socket", sock, "-vvv", "-t", "5"])
    check_conventions(r, VPN_SVC)
    assert srv.received and srv.received[0].startswith(b"get=1"), srv.received
    # The reply was really parsed: both peers are reported.
    assert r.state != "UNKNOWN" and len(r.perf) >= 2, str(r)
    assert_no_secret(r, *secrets)


def test_wireguard_malformed_reply_with_keys(tmp_path):
    # A reply that breaks off right after the secrets: the error path must
    # not quote them either.
    reply, secrets = wireguard_reply()
    cut = reply[:reply.index(b"protocol_version")] + b"garbage line without equals\n\n"
    sock = str(tmp_path / "wg0.sock")
    with FakeServer(wireguard_uapi(cut), unix_path=sock):
        r = run(VPN, ["--backend", "wireguard", "--socket", sock, "-vvv", "-t", "5"])
    check_conventions(r, VPN_SVC)
    assert r.state == "UNKNOWN", str(r)
    assert_no_secret(r, *secrets)


# ---- PostgreSQL: PGPASSWORD and PGPASSFILE ----

PG_PASSWORD = "pg-Audit-0c9a7b215e"


def test_pgpassword_sent_to_server_not_printed():
    with FakeServer(postgres_cleartext_auth()) as srv:
        r = run(REPL, ["--backend", "postgresql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "monitor",
                       "-vvv", "-t", "5"], env={"PGPASSWORD": PG_PASSWORD, "PGSSLMODE": "disable"})
    check_conventions(r, REPL_SVC)
    assert srv.received == [PG_PASSWORD], "the plugin did not send PGPASSWORD"
    assert r.state == "UNKNOWN" and "password authentication failed" in r.stdout, str(r)
    assert_no_secret(r, PG_PASSWORD)


def test_pgpassfile_sent_to_server_not_printed(tmp_path):
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:monitor:{PG_PASSWORD}\n")
    passfile.chmod(0o600)
    with FakeServer(postgres_cleartext_auth()) as srv:
        r = run(REPL, ["--backend", "postgresql", "-H", "127.0.0.1", "-p", str(srv.port), "-U", "monitor",
                       "-vvv", "-t", "5"], env={"PGPASSFILE": str(passfile), "PGSSLMODE": "disable"})
    check_conventions(r, REPL_SVC)
    assert srv.received == [PG_PASSWORD], "the plugin did not use PGPASSFILE"
    assert_no_secret(r, PG_PASSWORD)


def test_pgpassword_closed_port():
    r = run(REPL, ["--backend", "postgresql", "-H", "127.0.0.1", "-p", str(closed_port()), "-vvv", "-t", "5"],
            env={"PGPASSWORD": PG_PASSWORD})
    check_conventions(r, REPL_SVC)
    assert r.state == "CRITICAL", str(r)
    assert_no_secret(r, PG_PASSWORD)


# ---- MySQL / MariaDB: MYSQL_PWD and --defaults-file ----

MY_PASSWORD = "my-Audit-5d2e8f1a3b"


def test_mysql_pwd_closed_port():
    r = run(REPL, ["--backend", "mysql", "-H", "127.0.0.1", "-P", str(closed_port()), "-u", "monitor",
                   "-vvv", "-t", "5"], env={"MYSQL_PWD": MY_PASSWORD})
    check_conventions(r, REPL_SVC)
    assert r.state == "CRITICAL", str(r)
    assert_no_secret(r, MY_PASSWORD)


def mysql_with_defaults_file(tmp_path, mode):
    """-vvv against a closed port, the password in a --defaults-file of `mode`:
    it is never printed, whatever the state."""
    f = tmp_path / "my.cnf"
    f.write_text(f"[client]\nuser=monitor\npassword={MY_PASSWORD}\n")
    f.chmod(mode)
    r = run(REPL, ["--backend", "mysql", "-H", "127.0.0.1", "-P", str(closed_port()), "--defaults-file", str(f),
                   "-vvv", "-t", "5"])
    check_conventions(r, REPL_SVC)
    assert_no_secret(r, MY_PASSWORD)
    return r


def test_mysql_defaults_file_closed_port(tmp_path):
    r = mysql_with_defaults_file(tmp_path, 0o600)
    assert r.state == "CRITICAL", str(r)


def test_mysql_defaults_file_readable_by_others_refused(tmp_path):
    r = mysql_with_defaults_file(tmp_path, 0o644)
    assert r.state == "UNKNOWN" and "others" in r.summary, str(r)
