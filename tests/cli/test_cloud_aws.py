# SPDX-License-Identifier: GPL-2.0-or-later
"""check_vpn_tunnel_up --backend aws and aws-route against tests/tools/cloud_server.py."""
import os

import pytest

from cloud_lab import (CloudServer, assert_fault_ends_on_time, assert_refused_quickly, assert_slow_within_budget,
                       base_env, cloud_runner, fixture_secrets, run_clean, self_signed)
from sitelink_test import check_conventions, closed_port

SVC = "VPN_TUNNEL"
V = "vpn-0a1b2c3d4e5f6000"  # + 1..5, see tests/fixtures/cloud/ec2_describe_vpn_connections.xml
ENV_KEY = {"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "env-secret-0001"}
ROLE = "arn:aws:iam::123456789012:role/sitelink-monitor"
RTB = "rtb-0123456789abcdef0"


@pytest.fixture
def cloud(server, tmp_path):
    def args_for(a, region="eu-west-1", endpoint=True, **_):
        return a + (["--region", region] if region else []) + (["--endpoint-url", server.url] if endpoint else [])

    server.control(None)
    yield cloud_runner(server, tmp_path, SVC, args_for, lambda creds=ENV_KEY, **_: creds or {})
    server.control(None)


def vpn(*ids):
    out = ["--backend", "aws"]
    for i in ids:
        out += ["--vpn-connection-id", f"{V}{i}" if isinstance(i, int) else i]
    return out


# ---- scenarios ---------------------------------------------------------------

def test_both_tunnels_up(cloud):
    r = cloud(*vpn(1))
    assert r.rc == 0, str(r)
    assert r.summary == "2 of 2 tunnels up"
    assert r.perf["tunnels_up"].value == 2 and r.perf["tunnels_expected"].value == 2
    assert r.perf[f"{V}1/203.0.113.11_up"].value == 1
    assert r.perf[f"{V}1/203.0.113.11_routes"].value == 5
    assert any(line.startswith(f"{V}1/203.0.113.12: up, 5 BGP routes; up for ") for line in r.lines[1:]), str(r)


def test_one_down_is_warning_with_impact(cloud):
    r = cloud(*vpn(2), "--impact", "DR site reachable through one tunnel only",
              "--action", "Open the AWS console and check tunnel 2")
    assert r.rc == 1, str(r)
    assert f"{V}2/203.0.113.22 down (IPSEC IS DOWN)" in r.summary
    assert "Impact: DR site reachable through one tunnel only" in r.lines
    assert "Action: Open the AWS console and check tunnel 2" in r.lines
    assert r.perf["tunnels_up"].value == 1


def test_both_down_is_critical(cloud):
    r = cloud(*vpn(3))
    assert r.rc == 2, str(r)
    assert r.summary.startswith("0 of 2 tunnels up")
    assert r.perf["tunnels_up"].value == 0


def test_bgp_up_without_routes_is_warning(cloud):
    r = cloud(*vpn(4))
    assert r.rc == 1, str(r)
    assert r.summary == f"2 of 2 tunnels up; {V}4/203.0.113.41 up but no routes"
    assert r.perf[f"{V}4/203.0.113.41_routes"].value == 0


def test_static_connection_without_routes_is_fine(cloud):
    # acceptedRouteCount means BGP routes: a static connection has none.
    r = cloud(*vpn(2))
    assert "no routes" not in r.stdout


def test_connection_not_available_is_reported(cloud):
    r = cloud(*vpn(5))
    assert r.rc == 2, str(r)
    assert f"{V}5 pending" in r.summary
    assert f"VPN connection {V}5 is pending, not available" in r.lines


def test_connection_not_found_means_missing_tunnels(cloud):
    r = cloud(*vpn("vpn-0a1b2c3d4e5f6ffff"))
    assert r.rc == 2, str(r)
    assert "vpn-0a1b2c3d4e5f6ffff/tunnel1 missing" in r.summary
    assert "vpn-0a1b2c3d4e5f6ffff/tunnel2: missing, VPN connection vpn-0a1b2c3d4e5f6ffff not found" in r.lines
    # With another, found connection: its tunnels are still judged; each
    # connection is a site, and the one not found has no tunnel up.
    r = cloud(*vpn(1, "vpn-0a1b2c3d4e5f6ffff"))
    assert r.rc == 2 and r.summary.startswith("site vpn-0a1b2c3d4e5f6ffff cut off: 0 of 2 tunnels up"), str(r)
    assert r.perf["tunnels_up"].value == 2 and r.perf["tunnels_expected"].value == 4


def test_several_connections_in_one_check(cloud):
    # Connection 3 (both tunnels down) is a site cut off: CRITICAL whatever
    # the ranges, which apply to each connection (tests/cli/test_cloud_aws_sites.py).
    r = cloud(*vpn(1, 3), "-w", "4:", "-c", "2:")
    assert r.rc == 2, str(r)
    assert r.perf["tunnels_up"].value == 2 and r.perf["tunnels_expected"].value == 4


# ---- authentication ---------------------------------------------------------

def test_auth_failure_reports_code_and_message(cloud):
    r = cloud(*vpn(1), creds={"AWS_ACCESS_KEY_ID": "AKIANOPERMISSION0007", "AWS_SECRET_ACCESS_KEY": "noperm-secret-0007"})
    assert r.rc == 3, str(r)
    assert "UnauthorizedOperation: You are not authorized to perform this operation." in r.summary
    r = cloud(*vpn(1), creds={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000099", "AWS_SECRET_ACCESS_KEY": "x"})
    assert r.rc == 3 and "AuthFailure" in r.summary, str(r)


def test_wrong_secret_fails_the_signature_check(cloud):
    # The server recomputes every signature with sitelink's signer: a wrong
    # secret must be caught there.
    r = cloud(*vpn(1), creds={"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000001", "AWS_SECRET_ACCESS_KEY": "wrong"})
    assert r.rc == 3, str(r)
    assert "SignatureDoesNotMatch" in r.summary


def test_session_token_from_environment(cloud):
    creds = {"AWS_ACCESS_KEY_ID": "ASIASESSIONEXAMPLE02", "AWS_SECRET_ACCESS_KEY": "session-secret-0002",
             "AWS_SESSION_TOKEN": "SESSION_TOKEN_env_0002"}
    r = cloud(*vpn(1), creds=creds)
    assert r.rc == 0, str(r)
    creds["AWS_SESSION_TOKEN"] = "SESSION_TOKEN_wrong"
    r = cloud(*vpn(1), creds=creds)
    assert r.rc == 3 and "InvalidClientTokenId" in r.summary, str(r)


def write_private(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return str(path)


def test_shared_credentials_file_and_profiles(cloud):
    creds = write_private(cloud.home / ".aws" / "credentials",
                          "[default]\naws_access_key_id = AKIANOPERMISSION0007\naws_secret_access_key = noperm-secret-0007\n"
                          "[monitor]\naws_access_key_id = AKIAPROFILEEXAMPLE03\naws_secret_access_key = profile-secret-0003\n")
    write_private(cloud.home / ".aws" / "config", "[profile monitor]\nregion = eu-central-1\n")
    r = cloud(*vpn(1), "--profile", "monitor", creds=None, region=None)
    assert r.rc == 0, str(r)
    r = cloud(*vpn(1), creds=None, env={"AWS_PROFILE": "monitor"}, region=None)
    assert r.rc == 0, str(r)
    # default profile: the key without permission, so the file was read
    r = cloud(*vpn(1), creds=None)
    assert r.rc == 3 and "UnauthorizedOperation" in r.summary, str(r)
    r = cloud(*vpn(1), "--profile", "nosuch", creds=None)
    assert r.rc == 3 and "profile nosuch not found" in r.summary, str(r)
    # --profile wins over keys in the environment
    r = cloud(*vpn(1), "--profile", "monitor", region=None)
    assert r.rc == 0, str(r)
    # AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files
    other = write_private(cloud.home / "elsewhere" / "creds",
                          "[x]\naws_access_key_id = AKIAPROFILEEXAMPLE03\naws_secret_access_key = profile-secret-0003\n")
    conf = write_private(cloud.home / "elsewhere" / "conf", "[profile x]\nregion = us-east-2\n")
    r = cloud(*vpn(1), "--profile", "x", creds=None, region=None,
              env={"AWS_SHARED_CREDENTIALS_FILE": other, "AWS_CONFIG_FILE": conf})
    assert r.rc == 0, str(r)
    assert creds


def test_credentials_file_readable_by_others_is_refused(cloud):
    write_private(cloud.home / ".aws" / "credentials",
                  "[default]\naws_access_key_id = AKIAPROFILEEXAMPLE03\naws_secret_access_key = profile-secret-0003\n",
                  0o644)
    r = cloud(*vpn(1), creds=None)
    assert r.rc == 3, str(r)
    assert "mode 0644" in r.summary and "credentials" in r.summary


def test_container_credentials(cloud):
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cloud.server.url + "/container-credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-auth-token-0009"}
    r = cloud(*vpn(1), creds=None, env=env)
    assert r.rc == 0, str(r)
    token_file = write_private(cloud.home / "token", "container-auth-token-0009\n")
    env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": cloud.server.url + "/container-credentials",
           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": token_file}
    r = cloud(*vpn(1), creds=None, env=env)
    assert r.rc == 0, str(r)
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = write_private(cloud.home / "bad", "nope\n")
    r = cloud(*vpn(1), creds=None, env=env)
    assert r.rc == 3 and "HTTP 403" in r.summary, str(r)


def test_imds_v2(cloud):
    env = {"AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": cloud.server.url}
    r = cloud(*vpn(1), "-v", creds=None, env=env)
    assert r.rc == 0, str(r)
    assert "debug: aws: instance metadata (IMDSv2) at " + cloud.server.url in r.lines
    asked = [q["action"] for q in cloud.server.requests() if q.get("action", "").startswith("imds")]
    assert asked == ["imds-token", "imds", "imds"]


def test_no_credentials_at_all(cloud):
    r = cloud(*vpn(1), creds=None)
    assert r.rc == 3, str(r)
    assert r.summary.startswith("no AWS credentials found")


def test_assumed_role(cloud):
    base = {"AWS_ACCESS_KEY_ID": "AKIABASEFORROLE00006", "AWS_SECRET_ACCESS_KEY": "base-secret-0006"}
    r = cloud(*vpn(1), "--role-arn", ROLE, "-v", creds=base)
    assert r.rc == 0, str(r)
    assert f"debug: aws: assumed role {ROLE}" in r.lines
    used = [q["key"] for q in cloud.server.requests() if "key" in q]
    assert used == ["AKIABASEFORROLE00006", "ASIAASSUMEDEXAMPLE08"]
    # Without the role the base key may not describe anything.
    r = cloud(*vpn(1), creds=base)
    assert r.rc == 3 and "UnauthorizedOperation" in r.summary, str(r)
    r = cloud(*vpn(1), "--role-arn", "arn:aws:iam::123456789012:role/other", creds=base)
    assert r.rc == 3 and "cannot assume role" in r.summary and "AccessDenied" in r.summary, str(r)


def test_region_is_required(cloud):
    r = cloud(*vpn(1), region=None)
    assert r.rc == 3 and "no AWS region" in r.summary, str(r)
    r = cloud(*vpn(1), region=None, env={"AWS_REGION": "eu-west-1"})
    assert r.rc == 0, str(r)


# ---- faults -------------------------------------------------------------------

@pytest.mark.parametrize("fault,state,text", [
    ("500", "UNKNOWN", "InternalError"),
    ("throttle", "UNKNOWN", "RequestLimitExceeded"),
    ("malformed", "UNKNOWN", "malformed XML"),
    ("huge", "UNKNOWN", "larger than"),
    ("expired", "UNKNOWN", "ExpiredToken"),
    ("hang", "UNKNOWN", "timed out after 3 s while calling DescribeVpnConnections"),
])
def test_faults_end_on_time(cloud, fault, state, text):
    r = assert_fault_ends_on_time(cloud, vpn(1), "ec2", fault, text)
    assert r.state == state, str(r)


def test_retry_once_on_5xx(cloud):
    cloud.server.control("500", "ec2")
    r = cloud(*vpn(1), timeout=5)
    assert "(after one retry)" in r.summary, str(r)
    assert len([q for q in cloud.server.requests() if q.get("action") == "DescribeVpnConnections"]) == 2
    cloud.server.control("throttle_once", "ec2")
    r = cloud(*vpn(1), timeout=5)
    assert r.rc == 0, str(r)


def test_slow_answer_within_budget(cloud):
    assert_slow_within_budget(cloud, vpn(1), "ec2", slow=1.5, timeout=5)
    r = assert_fault_ends_on_time(cloud, vpn(1), "ec2", "slow", "timed out after 2 s", slow=10, timeout=2)
    assert r.state == "UNKNOWN", str(r)


def test_timeout_state_applies(cloud):
    cloud.server.control("hang", "ec2")
    r = cloud(*vpn(1), "-t", "2:critical")
    assert r.rc == 2 and r.summary.startswith("timed out after 2 s"), str(r)
    assert r.elapsed < 2.5


def test_hang_on_sts_ends_on_time(cloud):
    base = {"AWS_ACCESS_KEY_ID": "AKIABASEFORROLE00006", "AWS_SECRET_ACCESS_KEY": "base-secret-0006"}
    assert_fault_ends_on_time(cloud, vpn(1) + ["--role-arn", ROLE], "sts", "hang", "AssumeRole", timeout=2,
                              creds=base)


def test_unreachable_endpoint(cloud):
    port = closed_port()
    r = assert_refused_quickly(cloud, vpn(1) + ["--endpoint-url", f"http://127.0.0.1:{port}"], {},
                               "DescribeVpnConnections", endpoint=False)
    assert f"DescribeVpnConnections at http://127.0.0.1:{port}" in r.summary, str(r)


# ---- secrets -------------------------------------------------------------------

@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
def test_psk_never_printed(cloud, verbosity):
    secrets = fixture_secrets()
    for ids in ([1, 2, 3, 4, 5],):
        r = cloud(*vpn(*ids), verbosity)
        assert r.rc in (1, 2), str(r)
        for s in secrets:
            assert s not in r.stdout, s
        for s in ("env-secret-0001", "pre_shared_key", "customerGatewayConfiguration"):
            assert s not in r.stdout
    base = {"AWS_ACCESS_KEY_ID": "AKIABASEFORROLE00006", "AWS_SECRET_ACCESS_KEY": "base-secret-0006"}
    r = cloud(*vpn(1), "--role-arn", ROLE, verbosity, creds=base)
    for s in ("base-secret-0006", "assumed-secret-0008", "SESSION_TOKEN_assumed_0008"):
        assert s not in r.stdout


# ---- TLS -------------------------------------------------------------------------

def test_tls_verified_by_default(tmp_path):
    cert, key = self_signed(str(tmp_path))
    s = CloudServer(tls=(cert, key))
    try:
        e = base_env(tmp_path)
        e.update(ENV_KEY)
        args = vpn(1) + ["--region", "eu-west-1", "--endpoint-url", s.url]
        r = run_clean(args, e)
        assert r.rc == 3 and "certificate" in r.summary.lower(), str(r)
        r = run_clean(args + ["--cacert", cert], e)
        assert r.rc == 0, str(r)
        r = run_clean(args + ["--insecure"], e)
        assert r.rc == 0, str(r)
        # The AWS CLI's variable for a private CA, and --cacert above it.
        r = run_clean(args, dict(e, AWS_CA_BUNDLE=cert))
        assert r.rc == 0, str(r)
        os.makedirs(tmp_path / "other")
        other, _ = self_signed(str(tmp_path / "other"))
        r = run_clean(args + ["--cacert", other], dict(e, AWS_CA_BUNDLE=cert))
        assert r.rc == 3 and "certificate" in r.summary.lower(), str(r)
        r = run_clean(args, dict(e, AWS_CA_BUNDLE=str(tmp_path / "missing.pem")))
        assert r.rc == 3 and r.summary.startswith("cannot read the CA bundle named by AWS_CA_BUNDLE: "), str(r)
    finally:
        s.stop()


# ---- options -----------------------------------------------------------------------

@pytest.mark.parametrize("args,text", [
    (["--backend", "aws"], "needs --vpn-connection-id"),
    (["--backend", "aws", "--vpn-connection-id", "vpn-xyz"], "--vpn-connection-id"),
    (["--backend", "aws", "--vpn-connection-id", V + "1", "--destination", "10.0.0.0/8"], "--destination"),
    (["--backend", "aws", "--vpn-connection-id", V + "1", "--role-arn", "me"], "--role-arn"),
    (["--backend", "aws", "--vpn-connection-id", V + "1", "--endpoint-url", "ftp://x"], "--endpoint-url"),
    (["--backend", "aws", "--vpn-connection-id", V + "1", "--stale", "5"], "--stale"),
    (["--backend", "strongswan", "--region", "eu-west-1"], "--region"),
    (["--backend", "aws-route", "--route-table-id", RTB], "--destination"),
    (["--backend", "aws-route", "--route-table-id", RTB, "--destination", "10.1.0.0/33"], "--destination"),
    (["--backend", "aws-route", "--route-table-id", "rtb-1", "--destination", "10.1.0.0/16"], "--route-table-id"),
])
def test_usage_errors(tmp_path, args, text):
    r = run_clean(args, base_env(tmp_path))
    check_conventions(r, SVC)
    assert r.rc == 3 and text in r.lines[0], str(r)


# ---- aws-route ------------------------------------------------------------------------

def route(cloud, dest, expect=None, **kw):
    a = ["--backend", "aws-route", "--route-table-id", RTB, "--destination", dest]
    if expect:
        a += ["--expect-target", expect]
    return cloud(*a, **kw)


def test_route_active(cloud):
    r = route(cloud, "10.101.0.0/16", "i-0aaaaaaaaaaaaaaa1")
    assert r.rc == 0, str(r)
    assert r.summary == f"route to 10.101.0.0/16 in {RTB} active via i-0aaaaaaaaaaaaaaa1"
    assert r.perf["route_active"].value == 1 and r.perf["route_on_expected_target"].value == 1


def test_route_failed_over(cloud):
    r = route(cloud, "10.102.0.0/16", "i-0aaaaaaaaaaaaaaa1")
    assert r.rc == 1, str(r)
    assert r.summary == "route to 10.102.0.0/16 failed over to i-0bbbbbbbbbbbbbbb2 (expected i-0aaaaaaaaaaaaaaa1)"
    assert r.perf["route_on_expected_target"].value == 0
    r = route(cloud, "10.102.0.0/16")
    assert r.rc == 0 and r.perf["route_on_expected_target"].value is None, str(r)


def test_route_blackhole(cloud):
    r = route(cloud, "10.103.0.0/16", "i-0ccccccccccccccc3")
    assert r.rc == 2, str(r)
    assert "blackhole" in r.summary and "i-0ccccccccccccccc3" in r.summary
    assert r.perf["route_active"].value == 0


def test_route_absent_and_table_not_found(cloud):
    r = route(cloud, "10.104.0.0/16")
    assert r.rc == 2 and r.summary == f"no route to 10.104.0.0/16 in {RTB}", str(r)
    r = cloud("--backend", "aws-route", "--route-table-id", "rtb-0123456789abcdeff", "--destination", "10.1.0.0/16")
    assert r.rc == 3 and "InvalidRouteTableID.NotFound" in r.summary, str(r)


def test_route_hang_ends_on_time(cloud):
    cloud.server.control("hang", "ec2")
    r = route(cloud, "10.101.0.0/16", timeout=2)
    assert r.rc == 3 and "timed out after 2 s while calling DescribeRouteTables" in r.summary, str(r)
    assert r.elapsed < 2.5
