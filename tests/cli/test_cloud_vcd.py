# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend vcd against tests/tools/cloud_server.py
(Cloud Director endpoints in tests/tools/cloud_vcd.py)."""
import json
import os
import re
import urllib.request

import pytest

from cloud_lab import (assert_fault_ends_on_time, assert_refused_quickly, assert_throttled_once_is_retried,
                       cloud_runner)
from sitelink_test import closed_port

SVC = "VPN_TUNNEL"
TOKEN = "vcd-refresh-token-0021"
PASSWORD = "vcd-password-0020"
PROVIDER_TOKEN = "vcd-provider-token-0023"
PROVIDER_PASSWORD = "vcd-admin-password-0022"
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "cloud")


def token_env(server):
    return {"VCD_URL": server.url + "/api", "VCD_ORG": "live", "VCD_API_TOKEN": TOKEN}


def password_env(server, org="live", user="monitor", password=PASSWORD):
    return {"VCD_URL": server.url + "/api", "VCD_ORG": org, "VCD_USER": user, "VCD_PASSWORD": password}


def vcd_control(server, **cfg):
    req = urllib.request.Request(server.url + "/_vcd/control", data=json.dumps(cfg).encode(), method="POST")
    server._open(req).read()


@pytest.fixture
def vcd(server, tmp_path):
    server.control(None)
    vcd_control(server)

    def args_for(a, edge="edge-live", **_):
        return ["--backend", "vcd"] + (["--edge-gateway", edge] if edge else []) + a

    def env_for(auth="token", **_):
        return {"token": token_env, "password": password_env}.get(auth, lambda s: {})(server)

    yield cloud_runner(server, tmp_path, SVC, args_for, env_for)
    server.control(None)
    vcd_control(server)


def tunnels(*names):
    out = []
    for n in names:
        out += ["--tunnel", n]
    return out


def asked(server, method=None):
    return [q for q in server.requests() if q.get("action") == "vcd" and (method is None or q["method"] == method)]


def psks():
    with open(os.path.join(FIXTURES, "vcd_ipsec_tunnels.json"), encoding="utf-8") as f:
        keys = set(re.findall(r"VCD_PSK_\w+", f.read()))
    assert len(keys) >= 9
    return keys


def test_all_up(vcd):
    r = vcd(*tunnels("live-to-dr", "dr-backup"))
    assert r.rc == 0, str(r)
    assert r.summary == "2 of 2 tunnels up"
    assert "live-to-dr: up, status UP, IKE UP, peer 198.51.100.20" in r.lines
    assert any(line.startswith("edge gateway edge-live (NSX-T, API 39.1)") for line in r.lines), str(r)
    assert not any("checklist" in line for line in r.lines)


def test_one_down_is_warning_with_checklist(vcd):
    r = vcd(*tunnels("live-to-dr", "licensing"), "--impact", "Licence payments fail at the last step")
    assert r.rc == 1, str(r)
    assert "licensing down (status DOWN, IKE DOWN, Authentication failed" in r.summary
    assert "licensing is not up; Cloud Director IPsec checklist:" in r.lines
    assert any("pre-shared key" in line and line.startswith("- first:") for line in r.lines), str(r)
    assert any("UDP 500, UDP 4500 and ESP" in line for line in r.lines)
    assert "Impact: Licence payments fail at the last step" in r.lines


def test_all_down_is_critical(vcd):
    r = vcd(*tunnels("licensing", "payments"))
    assert r.rc == 2, str(r)
    assert r.perf["tunnels_up"].value == 0 and r.perf["tunnels_expected"].value == 2
    assert "payments down (status DOWN, IKE DOWN, Peer not responding" in r.summary
    assert "payments is not up; Cloud Director IPsec checklist:" in r.lines
    assert any(line.startswith("- first: the peer does not answer") for line in r.lines), str(r)


def test_negotiating_is_connecting(vcd):
    r = vcd(*tunnels("aws-prod"))
    assert r.rc == 2, str(r)
    assert "aws-prod connecting (status DOWN, IKE NEGOTIATING" in r.summary


def test_degraded_is_warning_with_reason(vcd):
    r = vcd(*tunnels("carrenza-dr"))
    assert r.rc == 1, str(r)
    assert r.perf["tunnels_up"].value == 1
    assert "carrenza-dr degraded (IKE up, not every IPsec SA up)" in r.summary


def test_disabled_named_tunnel(vcd):
    r = vcd(*tunnels("live-to-dr", "old-partner"))
    assert r.rc == 1, str(r)
    assert "old-partner down (disabled in Cloud Director" in r.summary
    # A disabled tunnel's status is never asked for.
    assert not any("000000000007/status" in q["path"] for q in asked(vcd.server))


def test_default_is_every_enabled_tunnel(vcd):
    r = vcd()
    assert r.perf["tunnels_expected"].value == 8 and r.perf["tunnels_up"].value == 5, str(r)
    assert "old-partner" not in r.stdout


def test_missing_tunnel(vcd):
    r = vcd(*tunnels("live-to-dr", "no-such-tunnel"))
    assert r.rc == 1 and "no-such-tunnel missing" in r.summary, str(r)


def test_tunnel_by_id_and_edge_by_urn(vcd):
    r = vcd(*tunnels("7a1e0c52-3f4b-4d8e-9c21-000000000001"), edge="urn:vcloud:gateway:6f3c1b7e-0d2a-4c55-9a0e-3b8e1f2d4a10")
    assert r.rc == 0 and r.perf["live-to-dr_up"].value == 1, str(r)


def test_edge_not_found_and_ambiguous(vcd):
    r = vcd(edge="edge-none")
    assert r.rc == 3 and "no edge gateway named edge-none" in r.summary, str(r)
    r = vcd(edge="edge-twin")
    assert r.rc == 3 and "2 edge gateways are named edge-twin" in r.summary, str(r)


def test_nsxv_edge_statistics(vcd):
    r = vcd(edge="edge-legacy")
    assert r.rc == 1, str(r)
    assert r.perf["tunnels_expected"].value == 3 and r.perf["tunnels_up"].value == 2
    assert "payment-provider down (IKE channel down" in r.summary
    assert "IKE SA not established: no response from peer" in r.summary
    assert "licensing-partner degraded: 1 of 2 tunnels down (No proposal chosen: peer subnet mismatch)" in r.summary
    assert "payment-provider is not up; Cloud Director IPsec checklist:" in r.lines
    r = vcd(*tunnels("dr-site"), edge="edge-legacy")
    assert r.rc == 0, str(r)
    r = vcd(*tunnels("192.0.2.90", "gone-site"), edge="edge-legacy")
    assert r.rc == 2 and "gone-site missing" in r.summary, str(r)


def test_pagination_by_link_and_by_page_count(vcd):
    for link in (True, False):
        vcd.server.control(None)
        vcd_control(vcd.server, page_size=2, link=link)
        r = vcd()
        assert r.perf["tunnels_expected"].value == 8, str(r)
        pages = [q for q in asked(vcd.server, "GET") if q["path"].split("?")[0].endswith("/ipsec/tunnels")]
        assert len(pages) == 5, pages  # 9 tunnels, 2 a page


def test_api_calls_and_session_closed(vcd):
    r = vcd(*tunnels("live-to-dr", "dr-backup"))
    assert r.rc == 0, str(r)
    calls = [(q["method"], q["path"].split("?")[0].rsplit("/", 2)[-2:]) for q in asked(vcd.server)]
    # versions, token, edge, tunnels (1 page), 2 statuses, logout
    assert len(calls) == 7, calls
    assert calls[-1][0] == "DELETE" and calls[-1][1][-1] == "current"
    for q in asked(vcd.server, "GET")[1:]:
        assert q["accept"] == "application/json;version=39.1" and q["authorization"], q


def test_api_version_option(vcd):
    r = vcd(*tunnels("live-to-dr"), "--api-version", "38.0")
    assert r.rc == 0, str(r)
    assert not any(q["path"] == "/api/versions" for q in asked(vcd.server))
    assert all(q["accept"].endswith("version=38.0") for q in asked(vcd.server, "GET")), asked(vcd.server)
    r = vcd(*tunnels("live-to-dr"), "--api-version", "31.0")
    assert r.rc == 3 and "HTTP 406" in r.summary and "NOT_ACCEPTABLE" in r.summary, str(r)
    r = vcd(*tunnels("live-to-dr"), "--api-version", "x")
    assert r.rc == 3 and "api-version" in r.stdout, str(r)


def test_password_session(vcd):
    r = vcd(*tunnels("live-to-dr"), auth="password")
    assert r.rc == 0, str(r)
    deletes = asked(vcd.server, "DELETE")
    assert len(deletes) == 1 and "/cloudapi/1.0.0/sessions/sess-" in deletes[0]["path"], deletes
    r = vcd(*tunnels("live-to-dr"), auth="password", env={"VCD_PASSWORD": "wrong-one"})
    assert r.rc == 3 and "refused the user and password" in r.summary and "HTTP 401" in r.summary, str(r)
    assert "wrong-one" not in r.stdout


def test_provider_logins(vcd):
    env = password_env(vcd.server, org="live", user="administrator", password=PROVIDER_PASSWORD)
    env["VCD_SYS_ORG"] = "System"
    r = vcd(*tunnels("live-to-dr"), auth=None, env=env)
    assert r.rc == 0, str(r)
    assert any(q["path"] == "/cloudapi/1.0.0/sessions/provider" for q in asked(vcd.server))
    r = vcd(*tunnels("live-to-dr"), auth=None,
            env={"VCD_URL": vcd.server.url + "/api", "VCD_ORG": "System", "VCD_API_TOKEN": PROVIDER_TOKEN})
    assert r.rc == 0, str(r)
    assert any(q["path"] == "/oauth/provider/token" for q in asked(vcd.server))


def test_wrong_token(vcd):
    r = vcd(*tunnels("live-to-dr"), env={"VCD_API_TOKEN": "not-a-token-123"})
    assert r.rc == 3 and "refused the API token" in r.summary and "invalid_grant" in r.summary, str(r)
    assert "not-a-token-123" not in r.stdout


def write_secret(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_token_file_and_credentials_file(vcd, tmp_path):
    tf = write_secret(tmp_path / "token.json", json.dumps({"refresh_token": TOKEN, "token_type": "API Token"}))
    r = vcd(*tunnels("live-to-dr"), auth=None,
            env={"VCD_URL": vcd.server.url + "/api", "VCD_ORG": "live", "VCD_API_TOKEN_FILE": tf})
    assert r.rc == 0, str(r)
    for fields in ({"user": "monitor", "password": PASSWORD}, {"api_token": TOKEN}, {"api_token_file": tf}):
        cf = write_secret(tmp_path / "vcd.json", json.dumps({"url": vcd.server.url + "/api", "org": "live", **fields}))
        r = vcd(*tunnels("live-to-dr"), "--credentials-file", cf, "-v", auth=None)
        assert r.rc == 0, (fields, str(r))
        assert any("from credentials file" in line for line in r.lines), str(r)
    os.chmod(cf, 0o644)
    r = vcd(*tunnels("live-to-dr"), "--credentials-file", cf, auth=None)
    assert r.rc == 3 and "mode 0644" in r.summary, str(r)
    os.chmod(tf, 0o644)
    r = vcd(*tunnels("live-to-dr"), auth=None,
            env={"VCD_URL": vcd.server.url + "/api", "VCD_ORG": "live", "VCD_API_TOKEN_FILE": tf})
    assert r.rc == 3 and "mode 0644" in r.summary, str(r)


def test_no_credentials(vcd):
    r = vcd(*tunnels("live-to-dr"), auth=None)
    assert r.rc == 3 and "no Cloud Director credentials" in r.summary, str(r)
    r = vcd(*tunnels("live-to-dr"), auth=None, env={"VCD_URL": vcd.server.url + "/api", "VCD_ORG": "live"})
    assert r.rc == 3 and "give an API token" in r.summary, str(r)


def test_usage(vcd):
    r = vcd(edge=None)
    assert r.rc == 3 and "--edge-gateway" in r.stdout, str(r)
    r = vcd("--os-cloud", "x")
    assert r.rc == 3 and "os-cloud" in r.stdout, str(r)


def test_expired_token_is_refreshed_once(vcd):
    vcd.server.control("expired_once", "vcd-api")
    r = vcd(*tunnels("live-to-dr"))
    assert r.rc == 0, str(r)
    assert len([q for q in asked(vcd.server) if q["path"].startswith("/oauth/")]) == 2
    vcd.server.control(None)
    vcd_control(vcd.server, expire_after=2)  # the token dies in the middle of the check
    r = vcd(*tunnels("live-to-dr", "dr-backup"), auth="password")
    assert r.rc == 0, str(r)
    assert len([q for q in asked(vcd.server) if q["path"] == "/cloudapi/1.0.0/sessions"]) == 2
    vcd_control(vcd.server)
    vcd.server.control("expired", "vcd-api")
    r = vcd(*tunnels("live-to-dr"))
    assert r.rc == 3 and "HTTP 401" in r.summary and "even after logging in again" in r.summary, str(r)


def test_throttling_retried_once(vcd):
    assert_throttled_once_is_retried(vcd, tunnels("live-to-dr"), "vcd-api", ["HTTP 503"])


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
def test_secrets_never_printed(vcd, verbosity):
    for auth in ("token", "password"):
        r = vcd(verbosity, auth=auth)
        assert r.perf["tunnels_expected"].value == 8, str(r)
        for s in psks() | {TOKEN, PASSWORD, "eyJhbGciOiJSUzI1NiJ9", "Basic ", "Bearer "}:
            assert s not in r.stdout and s not in r.stderr, s
    # The key-bearing by-ID GET is never made.
    assert not any(re.search(r"/ipsec/tunnels/[^/?]+$", q["path"].split("?")[0]) for q in asked(vcd.server))


def test_refused_is_unknown_quickly(vcd):
    refused = {"VCD_URL": f"http://127.0.0.1:{closed_port()}/api", "VCD_ORG": "live", "VCD_API_TOKEN": TOKEN}
    assert_refused_quickly(vcd, tunnels("live-to-dr"), refused, "Cloud Director", auth=None)


@pytest.mark.parametrize("target,fault,text", [
    ("vcd-api", "hang", "timed out after 3 s while finding edge gateway edge-live"),
    ("vcd-auth", "hang", "timed out after 3 s while logging in to Cloud Director"),
    ("vcd-versions", "hang", "timed out after 3 s while reading the API versions"),
    ("vcd-api", "slow", "timed out after 3 s while"),
    ("vcd-api", "malformed", "malformed JSON from edgeGateways"),
    ("vcd-versions", "malformed", "malformed XML from /api/versions"),
    ("vcd-auth", "malformed", "malformed JSON from the OAuth token endpoint"),
    ("vcd-api", "huge", "larger than"),
    ("vcd-api", "500", "HTTP 500"),
])
def test_faults_end_on_time(vcd, target, fault, text):
    assert_fault_ends_on_time(vcd, tunnels("live-to-dr"), target, fault, text, slow=6)
