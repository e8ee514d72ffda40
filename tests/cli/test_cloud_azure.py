# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend azure against tests/tools/cloud_server.py
(its Azure part: tests/tools/cloud_azure.py)."""
import json
import os
import re
import urllib.request

import pytest

from cloud_lab import (asked, assert_fault_ends_on_time, assert_refused_quickly, assert_slow_within_budget,
                       assert_throttled_once_is_retried, cloud_runner)
from sitelink_test import closed_port

SVC = "VPN_TUNNEL"
TENANT = "72f988bf-0000-4000-8000-000000000001"
SUB = "11111111-2222-4333-8444-555555555555"
RG = "rg-network"
SECRET = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": "c1000000-0000-4000-8000-000000000001",
          "AZURE_CLIENT_SECRET": "azure-client-secret-0013"}
FEDERATED = "eyJhbGciOiJSUzI1NiJ9.federated-token-0014.sig"


def endpoints(server, imds=True):
    return {"AZURE_AUTHORITY_HOST": server.url + "/azure-login",
            "AZURE_RESOURCE_MANAGER_ENDPOINT": server.url + "/azure-arm",
            # Never the real IMDS address: the server's, or a closed port.
            "AZURE_POD_IDENTITY_AUTHORITY_HOST": server.url + "/azure-imds" if imds
            else f"http://127.0.0.1:{closed_port()}"}


@pytest.fixture
def az(server, tmp_path):
    def args_for(a, sub=SUB, rg=RG, **_):
        return ["--backend", "azure", "--subscription", sub, "--resource-group", rg] + a

    def env_for(creds=SECRET, imds=True, **_):
        e = endpoints(server, imds)
        e.update(creds or {})
        return e

    server.control(None)
    yield cloud_runner(server, tmp_path, SVC, args_for, env_for)
    server.control(None)


def conns(*names):
    out = []
    for n in names:
        out += ["--connection", n]
    return out


def fixture_secrets():
    here = os.path.join(os.path.dirname(__file__), "..", "fixtures", "cloud", "azure_connections.json")
    with open(here, encoding="utf-8") as f:
        found = set(re.findall(r"AZURE_PSK_SECRET_\w+", f.read()))
    assert len(found) == 5
    return found


# ---- scenarios ---------------------------------------------------------------

def test_active_active_all_up_with_bgp(az):
    r = az(*conns("cn-dc1"))
    assert r.rc == 0, str(r)
    assert r.summary == "2 of 2 tunnels up", str(r)
    assert r.perf["cn-dc1/vpngw-aa_IN_0_203.0.113.10_bytes_in"].value == 1048576
    assert any(line.startswith("gateway vpngw-aa: BGP 2 of 2 peer(s) connected") for line in r.lines), str(r)
    # token, GET connection, getBgpPeerStatus (202) and its poll
    assert len(asked(az.server, "azure-login")) == 1
    assert [q["method"] for q in asked(az.server, "azure-arm")] == ["GET", "POST", "GET"]


def test_single_connection_up_and_one_down(az):
    r = az(*conns("cn-dc2"))
    assert r.rc == 0 and r.summary == "1 of 1 tunnels up", str(r)
    # Each connection is a site: one cut off is CRITICAL even beside a
    # healthy one (issue 19's groups).
    r = az(*conns("cn-dc2", "cn-down"))
    assert r.rc == 2 and r.summary.startswith("site cn-down cut off: 0 of 1 tunnels up"), str(r)
    assert "cn-down down (connectionStatus NotConnected" in r.summary
    assert "cn-down is not connected; Azure site-to-site checklist:" in r.lines
    assert any("shared key" in line for line in r.lines)


def test_all_down_is_critical(az):
    r = az(*conns("cn-down"))
    assert r.rc == 2 and r.summary.startswith("0 of 1 tunnels up"), str(r)


def test_one_instance_of_active_active_down_is_warning(az):
    r = az(*conns("cn-aa-half"))
    assert r.rc == 1, str(r)
    assert "cn-aa-half/vpngw-aa_IN_1_198.51.100.7 down (tunnel NotConnected)" in r.summary, str(r)


def test_connecting(az):
    r = az(*conns("cn-connecting"))
    assert r.rc == 2 and "cn-connecting connecting" in r.summary, str(r)


def test_missing_connection_is_down(az):
    r = az(*conns("cn-dc2", "cn-nosuch"))
    assert r.rc == 2 and "site cn-nosuch cut off" in r.summary and "cn-nosuch missing" in r.summary, str(r)


def test_wrong_resource_group_is_unknown_with_code(az):
    r = az(*conns("cn-dc2"), rg="rg-other")
    assert r.rc == 3 and "ResourceGroupNotFound" in r.summary and "HTTP 404" in r.summary, str(r)


# ---- credentials -------------------------------------------------------------

def test_client_certificate(az):
    pem = urllib.request.urlopen(az.server.url + "/_azure/client-cert", timeout=10).read()
    path = az.home / "client.pem"
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    creds = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": "c2000000-0000-4000-8000-000000000002",
             "AZURE_CLIENT_CERTIFICATE_PATH": str(path)}
    r = az(*conns("cn-dc2"), "-vvv", creds=creds)
    assert r.rc == 0, str(r)
    assert "PRIVATE KEY" not in r.stdout and "client_assertion=" not in r.stdout
    os.chmod(path, 0o644)
    r = az(*conns("cn-dc2"), creds=creds)
    assert r.rc == 3 and "mode 0644" in r.summary, str(r)


def test_certificate_not_registered_is_refused(az):
    # A key pair the tenant never saw: the signature does not verify.
    import subprocess
    key, cert = az.home / "k.pem", az.home / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=other"], check=True, capture_output=True)
    both = az.home / "both.pem"
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    os.chmod(both, 0o600)
    creds = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": "c2000000-0000-4000-8000-000000000002",
             "AZURE_CLIENT_CERTIFICATE_PATH": str(both)}
    r = az(*conns("cn-dc2"), creds=creds)
    assert r.rc == 3 and "Microsoft Entra ID refused the client certificate" in r.summary, str(r)
    assert "AADSTS" in r.summary


def test_workload_identity(az):
    path = az.home / "federated-token"
    path.write_text(FEDERATED + "\n")
    os.chmod(path, 0o600)
    creds = {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": "c3000000-0000-4000-8000-000000000003",
             "AZURE_FEDERATED_TOKEN_FILE": str(path)}
    r = az(*conns("cn-dc2"), "-vvv", creds=creds)
    assert r.rc == 0, str(r)
    assert "federated-token-0014" not in r.stdout
    assert any("workload identity" in line for line in r.lines), str(r)


def test_managed_identity(az):
    r = az(*conns("cn-dc2"), "-v", creds={})
    assert r.rc == 0, str(r)
    assert len(asked(az.server, "azure-imds")) == 1 and not asked(az.server, "azure-login")


def test_no_credentials(az):
    r = az(*conns("cn-dc2"), creds={}, imds=False, timeout=5)
    assert r.rc == 3 and "no Azure credentials" in r.summary, str(r)
    assert r.elapsed < 3, str(r)


def test_wrong_secret(az):
    r = az(*conns("cn-dc2"), creds=dict(SECRET, AZURE_CLIENT_SECRET="wrong-secret-x"))
    assert r.rc == 3, str(r)
    assert "invalid_client: AADSTS7000215" in r.summary and "HTTP 401" in r.summary
    assert "wrong-secret-x" not in r.stdout


def test_wrong_audience_is_refused_by_arm(az):
    r = az(*conns("cn-dc2"), env={"AZURE_RESOURCE_MANAGER_AUDIENCE": "https://management.core.windows.net"})
    assert r.rc == 3 and "InvalidAuthenticationTokenAudience" in r.summary, str(r)


def test_expired_token_gets_one_fresh_one(az):
    az.server.control("expired_once", "azure-arm")
    r = az(*conns("cn-dc2"))
    assert r.rc == 0, str(r)
    assert len(asked(az.server, "azure-login")) == 2
    az.server.control("expired", "azure-arm")
    r = az(*conns("cn-dc2"))
    assert r.rc == 3 and "ExpiredAuthenticationToken" in r.summary, str(r)
    assert "even after a fresh one" in r.summary


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
def test_secrets_never_printed(az, verbosity):
    r = az(*conns("cn-dc1", "cn-dc2", "cn-down", "cn-connecting", "cn-aa-half"), verbosity)
    assert r.rc in (1, 2), str(r)
    for s in fixture_secrets() | {"azure-client-secret-0013"}:
        assert s not in r.stdout and s not in r.stderr, s
    assert "azure-at-" not in r.stdout and "Bearer" not in r.stdout


# ---- faults --------------------------------------------------------------------

def test_throttled_once_is_retried(az):
    assert_throttled_once_is_retried(az, conns("cn-dc2"), "azure-arm", ["TooManyRequests", "after one retry"],
                                     lambda: [q for q in asked(az.server, "azure-arm") if q["method"] == "GET"],
                                     timeout=5)


def test_refused(az):
    assert_refused_quickly(az, conns("cn-dc2"),
                           {"AZURE_RESOURCE_MANAGER_ENDPOINT": f"http://127.0.0.1:{closed_port()}"},
                           "Azure Resource Manager")


@pytest.mark.parametrize("target,fault,text", [
    ("azure-arm", "hang", "timed out after 3 s while reading connection cn-dc2"),
    ("azure-login", "hang", "timed out after 3 s while asking Microsoft Entra ID for a token"),
    ("azure-arm", "malformed", "malformed JSON from Azure Resource Manager"),
    ("azure-login", "malformed", "malformed JSON in the token response"),
    ("azure-arm", "huge", "larger than"),
    ("azure-arm", "500", "InternalServerError"),
    ("azure-arm", "slow", "timed out after 3 s"),
])
def test_faults_end_on_time(az, target, fault, text):
    assert_fault_ends_on_time(az, conns("cn-dc2"), target, fault, text, slow=10)


def test_slow_within_budget(az):
    assert_slow_within_budget(az, conns("cn-dc2"), "azure-arm", slow=1.0, timeout=6)


def test_usage_errors(az):
    r = az(*conns("cn-dc2"), sub="not-a-uuid")
    assert r.rc == 3 and "--subscription" in r.stdout, str(r)
    r = az(*conns("cn-dc2"), "--region", "eu-west-1")
    assert r.rc == 3 and "--region" in r.stdout, str(r)
    r = az(*conns("cn-dc2"), "--project", "dr-project")
    assert r.rc == 3 and "--project" in r.stdout, str(r)
