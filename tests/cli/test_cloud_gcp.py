# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend gcp against tests/tools/cloud_server.py
(its Google Cloud part: tests/tools/cloud_gcp.py)."""
import json
import os
import re
import urllib.request

import pytest

from cloud_lab import (asked, assert_fault_ends_on_time, assert_refused_quickly, assert_slow_within_budget,
                       assert_throttled_once_is_retried, cloud_runner)
from sitelink_test import closed_port

SVC = "VPN_TUNNEL"
REFRESH = {"type": "authorized_user", "client_id": "764086051850-user.apps.googleusercontent.com",
           "client_secret": "gcp-client-secret-0015", "refresh_token": "1//gcp-refresh-token-0016"}


def write_key(server, home, name="sa.json", unregistered=False, mode=0o600, doc=None):
    if doc is None:
        url = server.url + "/_gcp/key" + ("?unregistered=1" if unregistered else "")
        doc = json.loads(urllib.request.urlopen(url, timeout=10).read())
    path = home / name
    path.write_text(json.dumps(doc))
    os.chmod(path, mode)
    return str(path)


@pytest.fixture
def gcp(server, tmp_path):
    key = write_key(server, tmp_path)

    def args_for(a, project="dr-project", region="europe-west3", **_):
        return ["--backend", "gcp", "--project", project, "--region", region] + a

    def env_for(creds="key", metadata=True, **_):
        e = {"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE": server.url + "/gcp-compute/compute/v1/",
             # Never the real metadata server: the test server or a closed port.
             "GCE_METADATA_HOST": f"127.0.0.1:{server.port}" if metadata else f"127.0.0.1:{closed_port()}"}
        if creds == "key":
            e["GOOGLE_APPLICATION_CREDENTIALS"] = key
        elif creds:
            e.update(creds)
        return e

    server.control(None)
    run = cloud_runner(server, tmp_path, SVC, args_for, env_for)
    run.key = key
    yield run
    server.control(None)


def tunnels(*names):
    out = []
    for n in names:
        out += ["--tunnel", n]
    return out


def fixture_secrets():
    here = os.path.join(os.path.dirname(__file__), "..", "fixtures", "cloud", "gcp_vpn_tunnels.json")
    with open(here, encoding="utf-8") as f:
        found = set(re.findall(r"GCP_PSK_SECRET_\w+", f.read()))
    assert len(found) == 7
    return found


# ---- scenarios ---------------------------------------------------------------

def test_ha_gateway_all_up(gcp):
    r = gcp(*tunnels("ha-tunnel-0", "ha-tunnel-1"))
    assert r.rc == 0 and r.summary == "2 of 2 tunnels up", str(r)
    assert ("HA VPN gateway ha-gw-1: interface 0: ha-tunnel-0 ESTABLISHED; interface 1: ha-tunnel-1 ESTABLISHED"
            in r.lines), str(r)
    assert len(asked(gcp.server, "gcp-token")) == 1 and len(asked(gcp.server, "gcp-compute")) == 1


def test_ha_interface_down_is_warning_with_detailed_status(gcp):
    r = gcp(*tunnels("ha2-tunnel-0", "ha2-tunnel-1"))
    assert r.rc == 1, str(r)
    assert "ha2-tunnel-1 down (status NO_INCOMING_PACKETS: No incoming packets from peer." in r.summary, str(r)
    assert "HA gateway ha-gw-2 interface 1 has no tunnel up" in r.summary
    assert "ha2-tunnel-1 is not ESTABLISHED; Cloud VPN checklist:" in r.lines
    assert any("UDP 500/4500" in line for line in r.lines)


def test_all_down(gcp):
    r = gcp(*tunnels("tunnel-auth"))
    assert r.rc == 2 and "AUTHORIZATION_ERROR" in r.summary, str(r)
    assert any("shared secret differs" in line for line in r.lines), str(r)


def test_first_handshake_is_connecting(gcp):
    r = gcp(*tunnels("tunnel-handshake"))
    assert r.rc == 2 and "tunnel-handshake connecting" in r.summary, str(r)


def test_missing_tunnel(gcp):
    r = gcp(*tunnels("classic-tunnel", "no-such-tunnel"))
    assert r.rc == 1 and "no-such-tunnel missing" in r.summary, str(r)


def test_every_tunnel_without_names(gcp):
    r = gcp()
    assert r.perf["tunnels_expected"].value == 7 and r.perf["tunnels_up"].value == 4, str(r)


def test_pagination(gcp):
    r = gcp(project="paged-project")
    assert r.perf["tunnels_expected"].value == 7, str(r)
    assert len(asked(gcp.server, "gcp-compute")) == 3


def test_only_status_fields_are_asked(gcp):
    gcp(*tunnels("ha-tunnel-0"))
    (q,) = asked(gcp.server, "gcp-compute")
    assert "status" in q["fields"] and "detailedStatus" in q["fields"]
    assert "sharedSecret" not in q["fields"]


def test_unknown_project_is_unknown_with_code(gcp):
    r = gcp(*tunnels("ha-tunnel-0"), project="other-project")
    assert r.rc == 3 and "403 PERMISSION_DENIED" in r.summary and "compute.vpnTunnels.list" in r.summary, str(r)


# ---- credentials -------------------------------------------------------------

def test_metadata_server(gcp):
    r = gcp(*tunnels("ha-tunnel-0"), creds=None)
    assert r.rc == 0, str(r)
    assert len(asked(gcp.server, "gcp-metadata")) == 1 and not asked(gcp.server, "gcp-token")


def test_application_default_credentials_file(gcp):
    (gcp.home / ".config" / "gcloud").mkdir(parents=True)
    write_key(gcp.server, gcp.home, ".config/gcloud/application_default_credentials.json",
              doc=dict(REFRESH, token_uri=gcp.server.url + "/gcp-token"))
    r = gcp(*tunnels("ha-tunnel-0"), "-vvv", creds=None)
    assert r.rc == 0, str(r)
    assert not asked(gcp.server, "gcp-metadata")
    for s in REFRESH["client_secret"], REFRESH["refresh_token"]:
        assert s not in r.stdout


def test_no_credentials(gcp):
    r = gcp(*tunnels("ha-tunnel-0"), creds=None, metadata=False, timeout=5)
    assert r.rc == 3 and "no Google credentials" in r.summary, str(r)


def test_bad_signature_is_refused(gcp):
    path = write_key(gcp.server, gcp.home, "other.json", unregistered=True)
    r = gcp(*tunnels("ha-tunnel-0"), creds={"GOOGLE_APPLICATION_CREDENTIALS": path})
    assert r.rc == 3 and "invalid_grant: Invalid JWT Signature." in r.summary, str(r)


def test_key_readable_by_others_is_refused(gcp):
    os.chmod(gcp.key, 0o644)
    r = gcp(*tunnels("ha-tunnel-0"))
    assert r.rc == 3 and "mode 0644" in r.summary, str(r)


def test_key_file_missing(gcp):
    r = gcp(*tunnels("ha-tunnel-0"), creds={"GOOGLE_APPLICATION_CREDENTIALS": str(gcp.home / "none.json")})
    assert r.rc == 3 and "does not exist" in r.summary, str(r)


def test_expired_token_gets_one_fresh_one(gcp):
    gcp.server.control("expired_once", "gcp-compute")
    r = gcp(*tunnels("ha-tunnel-0"))
    assert r.rc == 0, str(r)
    assert len(asked(gcp.server, "gcp-token")) == 2
    gcp.server.control("expired", "gcp-compute")
    r = gcp(*tunnels("ha-tunnel-0"))
    assert r.rc == 3 and "even after a fresh one" in r.summary and "UNAUTHENTICATED" in r.summary, str(r)


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
def test_secrets_never_printed(gcp, verbosity):
    r = gcp(verbosity)
    assert r.rc in (1, 2), str(r)
    with open(gcp.key, encoding="utf-8") as f:
        pem = json.load(f)["private_key"]
    body = "".join(pem.splitlines()[1:-1])
    for s in fixture_secrets() | {body[:40], body[-40:]}:
        assert s not in r.stdout and s not in r.stderr, s
    assert "ya29." not in r.stdout and "assertion=" not in r.stdout


# ---- faults --------------------------------------------------------------------

def test_throttled_once_is_retried(gcp):
    assert_throttled_once_is_retried(gcp, tunnels("ha-tunnel-0"), "gcp-compute", ["429", "after one retry"],
                                     lambda: asked(gcp.server, "gcp-compute"), timeout=5)


def test_refused(gcp):
    assert_refused_quickly(gcp, tunnels("ha-tunnel-0"),
                           {"CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE": f"http://127.0.0.1:{closed_port()}/compute/v1/"},
                           "Compute Engine")


@pytest.mark.parametrize("target,fault,text", [
    ("gcp-compute", "hang", "timed out after 3 s while listing VPN tunnels"),
    ("gcp-token", "hang", "timed out after 3 s while asking Google for a token"),
    ("gcp-compute", "malformed", "malformed JSON from Compute Engine"),
    ("gcp-token", "malformed", "malformed JSON in the token response"),
    ("gcp-compute", "huge", "larger than"),
    ("gcp-compute", "500", "HTTP 500"),
    ("gcp-compute", "slow", "timed out after 3 s"),
])
def test_faults_end_on_time(gcp, target, fault, text):
    assert_fault_ends_on_time(gcp, tunnels("ha-tunnel-0"), target, fault, text, slow=10)


def test_slow_within_budget(gcp):
    assert_slow_within_budget(gcp, tunnels("ha-tunnel-0"), "gcp-compute", slow=1.0, timeout=6)


def test_usage_errors(gcp):
    r = gcp(*tunnels("ha-tunnel-0"), region="eu-west-1x")
    assert r.rc == 3 and "--region" in r.stdout, str(r)
    r = gcp(*tunnels("Bad_Name"))
    assert r.rc == 3 and "--tunnel" in r.stdout, str(r)
    r = gcp(*tunnels("ha-tunnel-0"), "--connection", "x")
    assert r.rc == 3 and "--connection" in r.stdout, str(r)
