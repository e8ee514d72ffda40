# SPDX-License-Identifier: GPL-2.0-or-later
"""VMware Cloud Director endpoints of tests/tools/cloud_server.py.

  GET    /api/versions                                    (no authentication)
  POST   /oauth/tenant/{org}/token, /oauth/provider/token (refresh_token grant)
  POST   /cloudapi/1.0.0/sessions, .../sessions/provider  (Basic user@org:password)
  GET    /cloudapi/1.0.0/edgeGateways[?filter=name==N], .../edgeGateways/{urn}
  GET    /cloudapi/1.0.0/edgeGateways/{urn}/ipsec/tunnels[?pageSize=&page=]
  GET    /cloudapi/1.0.0/edgeGateways/{urn}/ipsec/tunnels/{id}[/status]
  GET    /network/edges/{uuid}/ipsec/statistics           (NSX-V, XML)
  DELETE /cloudapi/1.0.0/sessions/{id}, .../sessions/current
  POST   /_vcd/control  {"page_size": N, "link": bool, "expire_after": N}

Refused as the real one would: a missing, unknown, expired or logged-out
bearer token (401 with a CloudAPI error), an Accept header without a
supported ;version= (406), a wrong refresh token (400 invalid_grant), wrong
Basic credentials (401). Faults (cloud_server's /_control) apply to the
targets vcd-versions, vcd-auth and vcd-api; "expired" and "expired_once" on
vcd-api expire the token that made the request.

Fixtures: tests/fixtures/cloud/vcd_* (sources in vcd_SOURCES.md).
"""
import base64
import json
import os
import re
import secrets
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "cloud")

# org (lower case) -> {user: password}; refresh tokens -> org
USERS = {"live": {"monitor": "vcd-password-0020"}, "system": {"administrator": "vcd-admin-password-0022"}}
REFRESH = {"vcd-refresh-token-0021": "live", "vcd-provider-token-0023": "system"}
PREFIXES = ("/api/versions", "/oauth/", "/cloudapi/", "/network/edges/", "/_vcd/")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


class VcdState:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.tokens = {}  # access token -> {"org", "session", "uses"}
        self.deleted = []
        self.page_size = None
        self.link = True
        self.expire_after = None  # a token answers this many calls, then 401

    def versions(self):
        return re.findall(r"<Version>([\d.]+)</Version>", fixture("vcd_api_versions.xml"))


VCD = VcdState()


def handles(path):
    return path.startswith(PREFIXES)


def dispatch(h, state, scheme):
    """Answers one request on handler `h` (cloud_server's Handler); `state`
    is cloud_server's STATE (fault mode, request log); `scheme` http or https."""
    h.vcd_origin = f"{scheme}://127.0.0.1:{h.server.server_address[1]}"
    url = urllib.parse.urlsplit(h.path)
    path, query = url.path, urllib.parse.parse_qs(url.query)
    body = h.body() if h.command in ("POST", "PUT") else ""
    if path == "/_vcd/control":
        cfg = json.loads(body or "{}")
        with VCD.lock:
            VCD.page_size = cfg.get("page_size")
            VCD.link = cfg.get("link", True)
            VCD.expire_after = cfg.get("expire_after")
        return h.send(200, "{}", "application/json")
    state.requests.append({"path": h.path, "action": "vcd", "method": h.command,
                           "accept": h.headers.get("Accept", ""), "authorization": bool(h.headers.get("Authorization"))})
    if path == "/api/versions" and h.command == "GET":
        if fault(h, state, "vcd-versions", "<SupportedVersions><VersionInfo>", "application/*+xml"):
            return
        text = fixture("vcd_api_versions.xml").replace("{base}", h.vcd_origin)
        return h.send(200, text, "application/*+xml;version=39.1")
    if path.startswith("/oauth/") and h.command == "POST":
        return oauth(h, state, path, body)
    if path in ("/cloudapi/1.0.0/sessions", "/cloudapi/1.0.0/sessions/provider") and h.command == "POST":
        return login(h, state, path)
    if path.startswith("/cloudapi/1.0.0/sessions/") and h.command == "DELETE":
        return logout(h, path)
    if h.command == "GET" and (path.startswith("/cloudapi/1.0.0/edgeGateways") or path.startswith("/network/edges/")):
        return api_get(h, state, path, query)
    return h.send(404, json.dumps({"minorErrorCode": "NOT_FOUND", "message": f"{path} not found"}), "application/json")


def fault(h, state, target, garbage, ctype):
    return h.apply_fault(target, garbage, ctype)


def error(h, status, code, message, ctype="application/json"):
    h.send(status, json.dumps({"minorErrorCode": code, "message": message, "stackTrace": None}), ctype)


def accepted_version(h, xml=False):
    """The version of a `<type>;version=V` Accept header, if supported."""
    m = re.match(r"^application/(\*\+xml|json|\*\+json|\*);\s*version=([\d.]+)$", h.headers.get("Accept", "").strip())
    if not m or m.group(2) not in VCD.versions() or float(m.group(2)) < 33.0:
        return None
    if xml and "xml" not in m.group(1):
        return None
    return m.group(2)


def new_token(org, session):
    token = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(48)
    with VCD.lock:
        VCD.tokens[token] = {"org": org, "session": session, "uses": 0}
    return token


def oauth(h, state, path, body):
    if fault(h, state, "vcd-auth", "{not json", "application/json"):
        return
    m = re.match(r"^/oauth/(?:tenant/([^/]+)|provider)/token$", path)
    if not m:
        return h.send(404, "", "text/plain")
    org = urllib.parse.unquote(m.group(1)).lower() if m.group(1) else "system"
    if h.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
        return h.send(400, json.dumps({"error": "invalid_request", "error_description": "form body expected"}),
                      "application/json")
    form = urllib.parse.parse_qs(body)
    refresh = (form.get("refresh_token") or [""])[0]
    if (form.get("grant_type") or [""])[0] != "refresh_token" or REFRESH.get(refresh) != org:
        return h.send(400, json.dumps({"error": "invalid_grant", "error_description": "Invalid refresh token"}),
                      "application/json")
    token = new_token(org, None)
    h.send(200, fixture("vcd_oauth_token.json").replace("{access_token}", token), "application/json")


def login(h, state, path):
    if fault(h, state, "vcd-auth", "{not json", "application/json"):
        return
    version = accepted_version(h)
    if not version:
        return error(h, 406, "NOT_ACCEPTABLE", "The request has invalid accept header: invalid API version requested")
    auth = h.headers.get("Authorization", "")
    try:
        user_org, password = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":", 1)
        user, org = user_org.rsplit("@", 1)
    except (ValueError, UnicodeDecodeError):
        return error(h, 401, "UNAUTHORIZED", "Missing or malformed Basic credentials")
    org = org.lower()
    provider = path.endswith("/provider")
    if USERS.get(org, {}).get(user) != password or provider != (org == "system"):
        return error(h, 401, "UNAUTHORIZED", "Invalid credentials")
    session = "sess-" + secrets.token_hex(8)
    token = new_token(org, session)
    text = fixture("vcd_session.json").replace("{session_id}", session).replace("{user}", user).replace("{org}", org)
    h.send(200, text, f"application/json;version={version}", {"X-VMWARE-VCLOUD-ACCESS-TOKEN": token,
                                                               "X-VMWARE-VCLOUD-TOKEN-TYPE": "Bearer"})


def bearer(h, state):
    """The token's record, or None after answering 401."""
    auth = h.headers.get("Authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else ""
    with VCD.lock:
        rec = VCD.tokens.get(token)
        if rec is not None:
            rec["uses"] += 1
            if VCD.expire_after is not None and rec["uses"] > VCD.expire_after:
                del VCD.tokens[token]
                rec = None
    if rec is None:
        error(h, 401, "UNAUTHORIZED", json.loads(fixture("vcd_error_401.json"))["message"])
        return None
    f = state.faulty("vcd-api")
    if f in ("expired", "expired_once"):
        with state.lock:
            state.count += 1
            n = state.count
        if f == "expired" or n == 1:
            with VCD.lock:
                VCD.tokens.pop(token, None)
            error(h, 401, "UNAUTHORIZED", json.loads(fixture("vcd_error_401.json"))["message"])
            return None
    return rec


def logout(h, path):
    auth = h.headers.get("Authorization", "")
    token = auth[7:] if auth.lower().startswith("bearer ") else ""
    with VCD.lock:
        rec = VCD.tokens.get(token)
        which = path.rsplit("/", 1)[1]
        if rec is None or (which != "current" and which != rec["session"]):
            return error(h, 401, "UNAUTHORIZED", "No such session")
        del VCD.tokens[token]
        VCD.deleted.append(which)
    h.send(204, b"", "application/json")


def edges():
    return json.loads(fixture("vcd_edge_gateways.json"))["values"]


def api_get(h, state, path, query):
    if bearer(h, state) is None:
        return
    if fault(h, state, "vcd-api", "{not json", "application/json"):
        return
    nsxv = path.startswith("/network/edges/")
    version = accepted_version(h, xml=nsxv)
    if not version:
        return error(h, 406, "NOT_ACCEPTABLE", "The request has invalid accept header: invalid API version requested")
    if nsxv:
        m = re.match(r"^/network/edges/([0-9a-f-]+)/ipsec/statistics$", path)
        if not m or not any(e["id"].endswith(m.group(1)) and e["gatewayBacking"]["gatewayType"] == "NSXV_BACKED"
                            for e in edges()):
            return h.send(404, '<Error minorErrorCode="NOT_FOUND" message="edge not found"/>', "application/xml")
        return h.send(200, fixture("vcd_nsxv_ipsec_statistics.xml"), "application/xml")
    rest = path[len("/cloudapi/1.0.0/edgeGateways"):]
    if rest in ("", "/"):
        values = edges()
        flt = (query.get("filter") or [""])[0]
        if flt.startswith("name=="):
            values = [e for e in values if e["name"] == flt[6:]]
        return h.send(200, json.dumps(page_of(values, 1, 128)), "application/json")
    parts = [urllib.parse.unquote(p) for p in rest.strip("/").split("/")]
    edge = next((e for e in edges() if e["id"] == parts[0]), None)
    if edge is None:
        return error(h, 403, "ACCESS_TO_RESOURCE_IS_FORBIDDEN", f"[ {parts[0]} ] not found or not accessible")
    if len(parts) == 1:
        return h.send(200, json.dumps(edge), "application/json")
    if parts[1:3] != ["ipsec", "tunnels"] or edge["gatewayBacking"]["gatewayType"] != "NSXT_BACKED":
        return error(h, 400, "BAD_REQUEST", "not an NSX-T edge gateway IPsec path")
    return tunnels(h, path, query, edge, parts[3:])


def page_of(values, page, size):
    count = max(1, (len(values) + size - 1) // size)
    return {"resultTotal": len(values), "pageCount": count, "page": page, "pageSize": size, "associations": None,
            "values": values[(page - 1) * size: page * size]}


def tunnels(h, path, query, edge, rest):
    data = json.loads(fixture("vcd_ipsec_tunnels.json"))
    mine = data["edges"].get(edge["id"], [])
    if not rest:
        size = VCD.page_size or min(int((query.get("pageSize") or ["25"])[0]), 128)
        page = int((query.get("page") or ["1"])[0])
        # The list never carries the pre-shared keys.
        listed = [{k: v for k, v in t.items() if k != "preSharedKey"} for t in mine]
        doc = page_of(listed, page, size)
        headers = {}
        if VCD.link and page < doc["pageCount"]:
            base = h.vcd_origin + path
            nxt = f"{base}?page={page + 1}&pageSize={size}"
            last = f"{base}?page={doc['pageCount']}&pageSize={size}"
            headers["Link"] = (f'<{last}>;rel="lastPage";type="application/json";model="EdgeIpSecVpnTunnels", '
                               f'<{nxt}>;rel="nextPage";type="application/json";model="EdgeIpSecVpnTunnels"')
        return h.send(200, json.dumps(doc), "application/json", headers)
    tunnel = next((t for t in mine if t["id"] == rest[0]), None)
    if tunnel is None:
        return error(h, 404, "NOT_FOUND", f"IPsec tunnel {rest[0]} not found")
    if len(rest) == 1:
        return h.send(200, json.dumps(tunnel), "application/json")  # by ID: with its key, as the real API
    status = data["status"].get(tunnel["id"], {"tunnelStatus": "UNKNOWN", "ikeStatus": {}})
    return h.send(200, json.dumps(status), "application/json")
