# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend openstack against tests/tools/cloud_server.py."""
import os

import pytest

from cloud_lab import assert_fault_ends_on_time, cloud_runner, fixture_secrets

SVC = "VPN_TUNNEL"


def password_env(server, user="monitor", password="os-password-0010"):
    return {"OS_AUTH_URL": server.url + "/identity/v3", "OS_USERNAME": user, "OS_PASSWORD": password,
            "OS_PROJECT_NAME": "dr", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}


@pytest.fixture
def os_cloud(server, tmp_path):
    server.control(None)
    yield cloud_runner(server, tmp_path, SVC, lambda a, **_: ["--backend", "openstack"] + a,
                       lambda auth=True, **_: password_env(server) if auth else {})
    server.control(None)


def tunnels(*names):
    out = []
    for n in names:
        out += ["--tunnel", n]
    return out


def test_active(os_cloud):
    r = os_cloud(*tunnels("site-a"))
    assert r.rc == 0, str(r)
    assert r.summary == "1 of 1 tunnels up"
    assert "site-a: up, status ACTIVE, VPN service vpn-dr ACTIVE, peer 192.0.2.2" in r.lines
    assert "VPN service vpn-dr: ACTIVE" in r.lines
    assert not any("checklist" in line for line in r.lines)


def test_by_id(os_cloud):
    r = os_cloud(*tunnels("851f280f-5639-4ea3-81aa-e298525ab74b"))
    assert r.rc == 0 and r.perf["site-a_up"].value == 1, str(r)


def test_down_and_error_are_down(os_cloud):
    for name, status in (("site-b", "DOWN"), ("site-d", "ERROR")):
        r = os_cloud(*tunnels(name))
        assert r.rc == 2, str(r)
        assert f"{name} down (status {status}" in r.summary
        assert f"{name} has not become ACTIVE; VPNaaS checklist:" in r.lines
        assert "- UDP 500 and 4500 are allowed between the peers (security groups, firewalls)" in r.lines
        assert any(line.startswith("- IKE policies match") for line in r.lines)
        assert any(line.startswith("- IPsec policies match") for line in r.lines)
        assert any("pre-shared key" in line for line in r.lines)


@pytest.mark.parametrize("name", ["site-c", "site-e"])  # PENDING_CREATE and "PENDING CREATE"
def test_pending_create_is_connecting(os_cloud, name):
    r = os_cloud(*tunnels(name))
    assert r.rc == 2, str(r)
    assert f"{name} connecting" in r.summary
    assert f"{name} has not become ACTIVE; VPNaaS checklist:" in r.lines
    assert "VPN service vpn-new PENDING_CREATE" in r.summary


def test_group_of_two_one_down_is_warning(os_cloud):
    r = os_cloud(*tunnels("site-a", "site-b"), "--impact", "One path to the DR site left")
    assert r.rc == 1, str(r)
    assert "Impact: One path to the DR site left" in r.lines


def test_all_connections_without_tunnel(os_cloud):
    r = os_cloud()
    assert r.perf["tunnels_expected"].value == 5 and r.perf["tunnels_up"].value == 1, str(r)
    assert r.rc == 1


def test_unknown_connection_is_missing(os_cloud):
    r = os_cloud(*tunnels("site-a", "site-z"))
    assert r.rc == 1 and "site-z missing" in r.summary, str(r)


def test_only_safe_fields_are_fetched(os_cloud):
    os_cloud(*tunnels("site-a"))
    asked = [q for q in os_cloud.server.requests() if q.get("action") == "neutron"]
    assert [q["kind"] for q in asked] == ["ipsec-site-connections", "vpnservices"]
    for q in asked:
        assert q["fields"] and "psk" not in q["fields"], q


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
def test_secrets_never_printed(os_cloud, verbosity):
    r = os_cloud(verbosity)
    for s in fixture_secrets() | {"os-password-0010"}:
        assert s not in r.stdout, s
    assert "X-Subject-Token" not in r.stdout and "gAAAAA" not in r.stdout


def test_wrong_password(os_cloud):
    r = os_cloud(*tunnels("site-a"), env={"OS_PASSWORD": "wrong"})
    assert r.rc == 3, str(r)
    assert "Keystone refused the password credentials" in r.summary and "HTTP 401" in r.summary
    assert "wrong" not in r.stdout


def test_no_network_endpoint(os_cloud):
    r = os_cloud(*tunnels("site-a"), env=password_env(os_cloud.server, "nonet", "os-password-0011"))
    assert r.rc == 3 and "no network endpoint (interface public) in the service catalog" in r.summary, str(r)


def test_interface_and_region_select_the_endpoint(os_cloud):
    r = os_cloud(*tunnels("site-a"), env={"OS_INTERFACE": "internal"})
    assert r.rc == 0, str(r)
    assert {q["endpoint"] for q in os_cloud.server.requests() if q.get("action") == "neutron"} == {"network-internal"}
    os_cloud.server.control(None)
    r = os_cloud(*tunnels("site-a"), env={"OS_REGION_NAME": "RegionTwo"})
    assert r.rc == 0, str(r)
    assert {q["endpoint"] for q in os_cloud.server.requests() if q.get("action") == "neutron"} == {"network-two"}
    r = os_cloud(*tunnels("site-a"), env={"OS_REGION_NAME": "RegionThree"})
    assert r.rc == 3 and "region RegionThree" in r.summary, str(r)


def clouds_yaml(path, server, mode=0o600, auth_type=None):
    text = f"""clouds:
  dr:
    auth:
      auth_url: {server.url}/identity/v3
      username: monitor
      password: os-password-0010
      project_name: dr
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  dr-app:
    auth_type: v3applicationcredential
    auth:
      auth_url: {server.url}/identity/v3
      application_credential_id: appcred-0012
      application_credential_secret: app-secret-0012
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_clouds_yaml_password_and_application_credential(os_cloud):
    clouds_yaml(os_cloud.home / ".config" / "openstack" / "clouds.yaml", os_cloud.server)
    r = os_cloud(*tunnels("site-a"), "--os-cloud", "dr", auth=False)
    assert r.rc == 0, str(r)
    r = os_cloud(*tunnels("site-a"), "--os-cloud", "dr-app", "-v", auth=False)
    assert r.rc == 0, str(r)
    assert any("application_credential authentication" in line for line in r.lines), str(r)
    assert "app-secret-0012" not in r.stdout
    r = os_cloud(*tunnels("site-a"), auth=False, env={"OS_CLOUD": "dr"})
    assert r.rc == 0, str(r)
    r = os_cloud(*tunnels("site-a"), "--os-cloud", "nosuch", auth=False)
    assert r.rc == 3 and "cloud 'nosuch' not found" in r.summary, str(r)


def test_clouds_yaml_readable_by_others_is_refused(os_cloud):
    path = clouds_yaml(os_cloud.home / "c" / "clouds.yaml", os_cloud.server, mode=0o644)
    r = os_cloud(*tunnels("site-a"), "--os-cloud", "dr", auth=False, env={"OS_CLIENT_CONFIG_FILE": path})
    assert r.rc == 3 and "mode 0644" in r.summary, str(r)


def test_no_credentials(os_cloud):
    r = os_cloud(*tunnels("site-a"), auth=False)
    assert r.rc == 3 and "no OpenStack credentials" in r.summary, str(r)


def test_expired_token(os_cloud):
    os_cloud.server.control("expired", "neutron")
    r = os_cloud(*tunnels("site-a"))
    assert r.rc == 3, str(r)
    assert "Neutron refused the token (HTTP 401)" in r.summary and "even after re-authenticating" in r.summary
    os_cloud.server.control("expired_once", "neutron")
    r = os_cloud(*tunnels("site-a"))
    assert r.rc == 0, str(r)
    assert len([q for q in os_cloud.server.requests() if q.get("action") == "keystone"]) == 2


@pytest.mark.parametrize("target,fault,text", [
    ("neutron", "hang", "timed out after 3 s while reading ipsec-site-connections"),
    ("keystone", "hang", "timed out after 3 s while authenticating at Keystone"),
    ("neutron", "malformed", "malformed JSON from Neutron"),
    ("keystone", "malformed", "malformed JSON from Keystone"),
    ("neutron", "huge", "larger than"),
    ("neutron", "500", "HTTP 500"),
])
def test_faults_end_on_time(os_cloud, target, fault, text):
    assert_fault_ends_on_time(os_cloud, tunnels("site-a"), target, fault, text)


# ---- sites, identity and regions (neutron_topology.json) -------------------

def topology(server):
    """Serves neutron_topology.json: two connections named to-hq (one DOWN),
    two offices of two connections each (office-b all down), and a router
    that carries two VPN services (vpn-second PENDING_CREATE)."""
    import json
    import urllib.request
    req = urllib.request.Request(server.url + "/_control", data=json.dumps({"neutron": "topology"}).encode(),
                                 method="POST")
    server._open(req).read()


def test_same_named_connections_are_judged_each_never_ok(os_cloud):
    topology(os_cloud.server)
    r = os_cloud(*tunnels("to-hq"))
    assert r.rc == 1, str(r)
    assert r.summary.startswith("1 of 2 tunnels up: to-hq [9f2b0a02] down (status DOWN"), str(r)
    assert "to-hq matches 2 connections, judging each" in r.summary
    assert r.perf["to-hq [4d1e0a01]_up"].value == 1 and r.perf["to-hq [9f2b0a02]_up"].value == 0, str(r)
    assert any(line.startswith("--tunnel to-hq matches 2 connections (4d1e0a01-") for line in r.lines), str(r)
    r = os_cloud(*tunnels("to-hq"), "-c", "2:")
    assert r.rc == 2, str(r)
    # By ID: only that one, still labelled apart from its namesake.
    r = os_cloud(*tunnels("9f2b0a02-2222-4bbb-8000-000000000002"))
    assert r.rc == 2 and r.summary.startswith("0 of 1 tunnels up: to-hq [9f2b0a02] down"), str(r)


def test_one_office_cut_off_is_critical_and_named(os_cloud):
    topology(os_cloud.server)
    r = os_cloud(*tunnels("office-a-1", "office-a-2", "office-b-1", "office-b-2"))
    assert r.rc == 2, str(r)
    assert r.summary.startswith("site 10.62.0.0/16 cut off: 0 of 2 tunnels up; 2 of 4 tunnels up "
                                "(10.61.0.0/16 2 of 2, 10.62.0.0/16 0 of 2)"), str(r)
    assert r.perf["10.61.0.0/16_tunnels_up"].value == 2 and r.perf["10.62.0.0/16_tunnels_up"].value == 0, str(r)
    assert "site 10.62.0.0/16: 0 of 2 tunnels up, cut off" in r.lines
    # The healthy office alone is one site: as before groups.
    r = os_cloud(*tunnels("office-a-1", "office-a-2"))
    assert r.rc == 0 and r.summary == "2 of 2 tunnels up", str(r)
    assert "10.61.0.0/16_tunnels_up" not in r.perf


def test_service_on_a_router_with_another_names_the_likely_cause(os_cloud):
    topology(os_cloud.server)
    r = os_cloud(*tunnels("to-branch"))
    assert r.rc == 2, str(r)
    assert "VPN service vpn-second PENDING_CREATE (its router also carries VPN service vpn-main: likely cause)" \
        in r.summary, str(r)
    assert any(line.startswith("VPN service vpn-second is PENDING_CREATE and its router 8e000000-0000-4000-8000-"
                               "0000000000aa also carries VPN service vpn-main (ACTIVE): a router holds one VPN "
                               "service") for line in r.lines), str(r)


def test_topology_never_prints_psks(os_cloud):
    topology(os_cloud.server)
    r = os_cloud("-vvv")
    assert "NEUTRON_PSK" not in r.stdout and "psk" not in r.stdout.lower().replace("no psk", ""), str(r)


def test_os_region_selects_the_endpoint_and_wins_over_the_environment(os_cloud):
    r = os_cloud(*tunnels("site-a"), "--os-region", "RegionTwo", env={"OS_REGION_NAME": "RegionOne"})
    assert r.rc == 0, str(r)
    assert {q["endpoint"] for q in os_cloud.server.requests() if q.get("action") == "neutron"} == {"network-two"}
    r = os_cloud(*tunnels("site-a"), "--os-region", "RegionThree")
    assert r.rc == 3 and "region RegionThree" in r.summary, str(r)
    clouds_yaml(os_cloud.home / ".config" / "openstack" / "clouds.yaml", os_cloud.server)
    os_cloud.server.control(None)
    r = os_cloud(*tunnels("site-a"), "--os-cloud", "dr", "--os-region", "RegionTwo", auth=False)
    assert r.rc == 0, str(r)
    assert {q["endpoint"] for q in os_cloud.server.requests() if q.get("action") == "neutron"} == {"network-two"}


@pytest.mark.parametrize("args,text", [
    (["--os-region", ""], "--os-region"),
    (["--os-region", "Region One"], "--os-region"),
    (["--os-region", "x|y"], "--os-region"),
])
def test_bad_os_region_is_a_usage_error(os_cloud, args, text):
    r = os_cloud(*tunnels("site-a"), *args)
    assert r.rc == 3 and text in r.summary, str(r)
    assert not [q for q in os_cloud.server.requests() if q.get("action") == "keystone"], str(r)


def test_os_region_only_with_openstack(os_cloud):
    from cloud_lab import run_clean
    r = run_clean(["--backend", "aws", "--vpn-connection-id", "vpn-0123456789abcdef0", "--os-region", "R"],
                  {"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    assert r.rc == 3 and "--os-region" in r.summary, str(r)
