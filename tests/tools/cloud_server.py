#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A local stand-in for the cloud APIs check_vpn_tunnel_up talks to.

Serves, on 127.0.0.1 with an ephemeral port (HTTP, or HTTPS with --cert/--key):
  POST /            EC2 DescribeVpnConnections, DescribeRouteTables and STS
                    AssumeRole (Query API, form body), SigV4 verified
  PUT  /latest/api/token, GET /latest/meta-data/iam/security-credentials/...
                    IMDSv2
  GET  /container-credentials                     container credentials
  POST /identity/v3/auth/tokens                   Keystone
  GET  /network*/v2.0/vpn/ipsec-site-connections, .../vpnservices   Neutron
  POST /_control    set the fault mode: {"fault": MODE, "target": T, "slow": S},
                    and the Neutron data: {"neutron": NAME} serves fixture
                    neutron_NAME.json (both listings in one file; default:
                    neutron_ipsec_site_connections.json, neutron_vpnservices.json)
  POST /_aws        change the EC2 model of cloud_aws_ext.py (route tables
                    with gateway, instance and interface targets, ReplaceRoute,
                    VPN connections by gateway, addresses, instances)
  GET  /_requests   what was asked so far (path, action, fields)
  Azure and Google Cloud: see cloud_azure.py and cloud_gcp.py

Fault modes: slow, hang (accept and never answer), 500, throttle,
throttle_once, malformed, huge, expired, expired_once, cut (the answer's
headers with its full Content-Length, then only the first "cut" bytes of
the body, or all but the last -cut, then a connection reset: a server
killed mid-answer). Targets: ec2,
sts, imds, container, keystone, neutron, all.

Signatures are checked with sitelink's own signer (tests/tools/sigv4_tool,
--signer), so a wrongly signed request gets SignatureDoesNotMatch.

The response bodies are the fixtures in tests/fixtures/cloud/.
"""
import argparse
import json
import os
import re
import secrets
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cloud_aws_ext  # noqa: E402  (next to this file)
import cloud_azure  # Azure and Google Cloud endpoints: their own modules
import cloud_gcp
import cloud_vcd  # Cloud Director endpoints (cloud_vcd.py)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "cloud")
EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

ROLE_ARN = "arn:aws:iam::123456789012:role/sitelink-monitor"
# access key -> (secret, session token or None, what may be done with it)
KEYS = {
    "AKIAENVEXAMPLE000001": ("env-secret-0001", None, "ec2"),
    "ASIASESSIONEXAMPLE02": ("session-secret-0002", "SESSION_TOKEN_env_0002", "ec2"),
    "AKIAPROFILEEXAMPLE03": ("profile-secret-0003", None, "ec2"),
    "ASIACONTAINEREXAMP04": ("container-secret-0004", "SESSION_TOKEN_container_0004", "ec2"),
    "ASIAIMDSEXAMPLE00005": ("imds-secret-0005", "SESSION_TOKEN_imds_0005", "ec2"),
    "AKIABASEFORROLE00006": ("base-secret-0006", None, "sts"),
    "AKIANOPERMISSION0007": ("noperm-secret-0007", None, "none"),
}
ASSUMED = ("ASIAASSUMEDEXAMPLE08", "assumed-secret-0008", "SESSION_TOKEN_assumed_0008")
IMDS_ROLE = "sitelink-monitor-role"
CONTAINER_TOKEN = "container-auth-token-0009"
OS_USERS = {("monitor", "Default"): "os-password-0010", ("nonet", "Default"): "os-password-0011"}
OS_APP_CREDS = {"appcred-0012": "app-secret-0012"}


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.fault = None
        self.neutron = None
        self.target = "all"
        self.slow = 2.0
        self.cut = 0
        self.count = 0
        self.tokens = set()
        self.imds_tokens = set()
        self.requests = []

    def faulty(self, target):
        return self.fault if self.fault and self.target in ("all", target) else None


STATE = State()
ARGS = None


def amz_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cloud-test/1"

    def log_message(self, fmt, *args):  # keep the test output quiet
        if ARGS and ARGS.verbose:
            sys.stderr.write("cloud_server: " + fmt % args + "\n")

    # ---- plumbing -------------------------------------------------------
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def send(self, status, body, ctype="text/xml;charset=UTF-8", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        cut = getattr(self, "cut_after", None)
        if cut is None:
            self.wfile.write(data)
            return
        self.wfile.write(data[:cut if cut >= 0 else max(0, len(data) + cut)])
        self.wfile.flush()
        # SO_LINGER 0: close() sends a RST, as when the server process dies.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def apply_fault(self, target, malformed_body, ctype):
        """Returns True when the fault answered (or will never answer)."""
        fault = STATE.faulty(target)
        if not fault:
            return False
        with STATE.lock:
            STATE.count += 1
            count = STATE.count
        if fault == "slow":
            time.sleep(STATE.slow)
            return False
        if fault == "cut":
            self.cut_after = STATE.cut  # send() stops there
            return False
        if fault == "hang":
            # Accept, read the request, never answer.
            while True:
                time.sleep(3600)
        if fault == "500":
            self.error(target, 500, "InternalError", "An internal error has occurred.")
            return True
        if fault == "throttle" or (fault == "throttle_once" and count == 1):
            self.error(target, 503, "RequestLimitExceeded", "Request limit exceeded.")
            return True
        if fault == "malformed":
            self.send(200, malformed_body, ctype)
            return True
        if fault == "huge":
            # No Content-Length: the client only finds out by reading.
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = (b"<item>" + b"x" * 65530 + b"</item>") if "xml" in ctype else b" " * 65536
            try:
                for _ in range(64 * 1024):  # up to 4 GiB: far more than any cap
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return True
        if fault == "expired" or (fault == "expired_once" and count == 1):
            if target in ("ec2", "sts"):
                self.error(target, 400, "ExpiredToken", "The security token included in the request is expired")
            else:
                self.send(401, fixture("keystone_error_401.json"), "application/json")
            return True
        return False

    def error(self, target, status, code, message):
        tmpl = fixture("sts_error.xml" if target == "sts" else "ec2_error.xml")
        self.send(status, tmpl.format(code=code, message=message))

    # ---- SigV4 ------------------------------------------------------------
    def verify_sigv4(self, body, service):
        auth = self.headers.get("Authorization", "")
        m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", auth)
        if not m:
            return 403, "IncompleteSignature", "Authorization header missing or malformed", None
        key, date, region, svc, signed, sig = m.groups()
        if key not in KEYS and key != ASSUMED[0]:
            return 401, "AuthFailure", "AWS was not able to validate the provided access credentials", None
        secret, token, may = (ASSUMED[1], ASSUMED[2], "ec2") if key == ASSUMED[0] else KEYS[key]
        headers = []
        for name in signed.split(";"):
            values = self.headers.get_all(name) or []
            for v in values:
                headers.append([name, v])
        if "x-amz-date" not in signed.split(";") or "host" not in signed.split(";"):
            return 403, "IncompleteSignature", "host and x-amz-date must be signed", None
        url = urllib.parse.urlsplit(self.path)
        req = {"secret": secret, "date": date, "region": region, "service": svc,
               "amz_date": self.headers.get("X-Amz-Date", ""), "method": self.command,
               "path": url.path, "query": url.query, "headers": headers, "body": body}
        p = subprocess.run([ARGS.signer], input=json.dumps(req), capture_output=True, text=True, timeout=10)
        if p.returncode != 0:
            return 500, "InternalError", "signer failed: " + p.stderr.strip(), None
        STATE.requests.append({"path": self.path, "signed_headers": signed, "service": svc, "key": key})
        if p.stdout.strip() != sig:
            return 403, "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                                  "signature you provided."), None
        if svc != service:
            return 403, "SignatureDoesNotMatch", f"Credential should be scoped to a valid service ({service})", None
        if token and self.headers.get("X-Amz-Security-Token") != token:
            return 403, "InvalidClientTokenId", "The security token included in the request is invalid.", None
        return None, None, None, may

    # ---- routes -------------------------------------------------------------
    def provider_route(self, method, body=""):
        base = f"{ARGS.scheme}://127.0.0.1:{self.server.server_address[1]}"
        return any(p.route(self, method, body, STATE, base) for p in (cloud_azure, cloud_gcp))

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if cloud_vcd.handles(path):
            return cloud_vcd.dispatch(self, STATE, ARGS.scheme)
        body = self.body()
        if self.provider_route("POST", body):
            return
        if path == "/_control":
            cfg = json.loads(body or "{}")
            with STATE.lock:
                STATE.reset()
                STATE.fault = cfg.get("fault")
                STATE.target = cfg.get("target", "all")
                STATE.slow = float(cfg.get("slow", 2.0))
                STATE.neutron = cfg.get("neutron")
                STATE.cut = int(cfg.get("cut", 0))
            return self.send(200, "{}", "application/json")
        if path == "/_aws":
            return cloud_aws_ext.control(self, body)
        if path.startswith("/identity/v3/auth/tokens"):
            return self.keystone(body)
        if path == "/" or path == "":
            return self.query_api(body)
        self.send(404, "not found", "text/plain")

    def query_api(self, body):
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        action = (form.get("Action") or [""])[0]
        service = "sts" if action == "AssumeRole" else "ec2"
        STATE.requests.append({"path": self.path, "action": action, "form": form})
        status, code, message, may = self.verify_sigv4(body, service)
        if status:
            return self.error(service, status, code, message)
        if self.apply_fault(service, "<DescribeVpnConnectionsResponse><vpnConnectionSet><item>", "text/xml"):
            return
        if action == "AssumeRole":
            if may != "sts":
                return self.error("sts", 403, "AccessDenied", "User is not authorized to perform: sts:AssumeRole")
            if form.get("RoleArn", [""])[0] != ROLE_ARN:
                return self.error("sts", 403, "AccessDenied", "Not authorized to assume that role")
            return self.send(200, fixture("sts_assume_role.xml").format(
                role_arn=ROLE_ARN, access_key=ASSUMED[0], secret_key=ASSUMED[1], session_token=ASSUMED[2],
                expiration=amz_now()))
        if form.get("Version", [""])[0] != "2016-11-15":
            return self.error("ec2", 400, "InvalidParameterValue", "Version missing or wrong")
        if may != "ec2":
            return self.error("ec2", 403, "UnauthorizedOperation",
                              "You are not authorized to perform this operation.")
        if cloud_aws_ext.query(self, action, form):
            return
        if action == "DescribeVpnConnections":
            return self.describe_vpn(form)
        if action == "DescribeRouteTables":
            return self.describe_routes(form)
        self.error("ec2", 400, "InvalidAction", f"The action {action} is not valid for this web service.")

    def describe_vpn(self, form):
        ids = [v[0] for k, v in sorted(form.items()) if k.startswith("VpnConnectionId.")]
        ET.register_namespace("", EC2_NS)
        root = ET.fromstring(fixture("ec2_describe_vpn_connections.xml"))
        cset = root.find(f"{{{EC2_NS}}}vpnConnectionSet")
        known = []
        for item in list(cset):
            vid = item.find(f"{{{EC2_NS}}}vpnConnectionId").text
            known.append(vid)
            if ids and vid not in ids:
                cset.remove(item)
        missing = [i for i in ids if i not in known]
        if missing:
            return self.error("ec2", 400, "InvalidVpnConnectionID.NotFound",
                              "The vpnConnection ID '" + "', '".join(missing) + "' does not exist")
        self.send(200, ET.tostring(root, encoding="unicode", xml_declaration=True))

    def describe_routes(self, form):
        ids = [v[0] for k, v in sorted(form.items()) if k.startswith("RouteTableId.")]
        doc = fixture("ec2_describe_route_tables.xml")
        if ids and any(i != "rtb-0123456789abcdef0" for i in ids):
            return self.error("ec2", 400, "InvalidRouteTableID.NotFound",
                              f"The routeTable ID '{ids[0]}' does not exist")
        self.send(200, doc)

    def keystone(self, body):
        STATE.requests.append({"path": self.path, "action": "keystone"})
        if self.apply_fault("keystone", "{not json", "application/json"):
            return
        try:
            ident = json.loads(body)["auth"]["identity"]
        except (ValueError, KeyError, TypeError):
            return self.send(400, '{"error": {"code": 400, "message": "malformed", "title": "Bad Request"}}',
                             "application/json")
        ok, user = False, ""
        if "password" in ident.get("methods", []):
            u = ident["password"]["user"]
            user = u.get("name", "")
            domain = u.get("domain", {}).get("name", "Default")
            ok = OS_USERS.get((user, domain)) == u.get("password")
        elif "application_credential" in ident.get("methods", []):
            ac = ident["application_credential"]
            ok = OS_APP_CREDS.get(ac.get("id")) == ac.get("secret")
        if not ok:
            return self.send(401, fixture("keystone_error_401.json"), "application/json")
        token = "gAAAAA" + secrets.token_hex(16)
        STATE.tokens.add(token)
        name = "keystone_token_no_network.json" if user == "nonet" else "keystone_token.json"
        base = f"{ARGS.scheme}://127.0.0.1:{self.server.server_address[1]}"
        text = fixture(name).replace("{base}", base).replace("{expires_at}", amz_now()).replace(
            "{issued_at}", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.send(201, text, "application/json", {"X-Subject-Token": token})

    def do_DELETE(self):
        if cloud_vcd.handles(urllib.parse.urlsplit(self.path).path):
            return cloud_vcd.dispatch(self, STATE, ARGS.scheme)
        self.send(404, "", "text/plain")

    def do_PUT(self):
        path = urllib.parse.urlsplit(self.path).path
        self.body()
        if path == "/latest/api/token":
            STATE.requests.append({"path": path, "action": "imds-token"})
            if self.apply_fault("imds", "", "text/plain"):
                return
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.send(400, "", "text/plain")
            token = "imds-" + secrets.token_hex(8)
            STATE.imds_tokens.add(token)
            return self.send(200, token, "text/plain")
        self.send(404, "", "text/plain")

    def do_GET(self):
        if self.provider_route("GET"):
            return
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if cloud_vcd.handles(path):
            return cloud_vcd.dispatch(self, STATE, ARGS.scheme)
        if path == "/_requests":
            return self.send(200, json.dumps(STATE.requests), "application/json")
        if path.startswith("/latest/meta-data/iam/security-credentials/"):
            STATE.requests.append({"path": path, "action": "imds"})
            if self.headers.get("X-aws-ec2-metadata-token") not in STATE.imds_tokens:
                return self.send(401, "", "text/plain")
            role = path[len("/latest/meta-data/iam/security-credentials/"):]
            if role == "":
                return self.send(200, IMDS_ROLE, "text/plain")
            if role != IMDS_ROLE:
                return self.send(404, "", "text/plain")
            key = "ASIAIMDSEXAMPLE00005"
            return self.send(200, json.dumps({
                "Code": "Success", "LastUpdated": amz_now(), "Type": "AWS-HMAC", "AccessKeyId": key,
                "SecretAccessKey": KEYS[key][0], "Token": KEYS[key][1], "Expiration": amz_now()}),
                "application/json")
        if path == "/container-credentials":
            STATE.requests.append({"path": path, "action": "container"})
            if self.apply_fault("container", "{", "application/json"):
                return
            if self.headers.get("Authorization") != CONTAINER_TOKEN:
                return self.send(403, '{"message": "bad token"}', "application/json")
            key = "ASIACONTAINEREXAMP04"
            return self.send(200, json.dumps({
                "AccessKeyId": key, "SecretAccessKey": KEYS[key][0], "Token": KEYS[key][1],
                "Expiration": amz_now(), "RoleArn": "arn:aws:iam::123456789012:role/task"}), "application/json")
        m = re.match(r"^/(network|network-internal|network-two)/v2\.0/vpn/(ipsec-site-connections|vpnservices)$", path)
        if m:
            return self.neutron(m.group(1), m.group(2), urllib.parse.parse_qs(url.query))
        self.send(404, "", "text/plain")

    def neutron(self, endpoint, kind, query):
        fields = query.get("fields", [])
        STATE.requests.append({"path": self.path, "action": "neutron", "endpoint": endpoint, "kind": kind,
                               "fields": fields})
        if self.apply_fault("neutron", "{not json", "application/json"):
            return
        if self.headers.get("X-Auth-Token") not in STATE.tokens:
            return self.send(401, fixture("keystone_error_401.json"), "application/json")
        key = "ipsec_site_connections" if kind == "ipsec-site-connections" else "vpnservices"
        name = "neutron_ipsec_site_connections.json" if key == "ipsec_site_connections" else "neutron_vpnservices.json"
        if STATE.neutron:
            # Several sites, same-named connections, a router with two VPN
            # services (neutron_topology.json).
            name = f"neutron_{STATE.neutron}.json"
        data = json.loads(fixture(name))
        data = {key: data[key]}
        if fields:
            data[key] = [{k: v for k, v in item.items() if k in fields} for item in data[key]]
        self.send(200, json.dumps(data), "application/json")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signer", required=True, help="path of tests/tools/sigv4_tool")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--verbose", action="store_true")
    ARGS = ap.parse_args()
    ARGS.scheme = "https" if ARGS.cert else "http"
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
