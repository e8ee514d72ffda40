# SPDX-License-Identifier: GPL-2.0-or-later
"""Google Cloud endpoints of tests/tools/cloud_server.py (imported by it).

  POST /gcp-token      OAuth 2.0 token endpoint: JWT bearer grant (RS256
                       assertion of a service-account key) and refresh_token
  GET  /computeMetadata/v1/instance/service-accounts/default/token
                       the metadata server (Metadata-Flavor: Google)
  GET  /gcp-compute/compute/v1/projects/P/regions/R/vpnTunnels
                       vpnTunnels.list with fields=, maxResults, pageToken
  GET  /_gcp/key       a service-account key file (JSON) for this server;
                       ?unregistered=1: same account, a key Google never saw

It refuses what Google would: a bad signature, unknown key id, wrong
audience, a scope without Compute read access, an expired or over-long
assertion, a wrong refresh token, a missing, unknown or expired bearer
token (fault expired/expired_once), an unknown project or region.

Fault targets: gcp-token, gcp-metadata, gcp-compute. Project
"paged-project" answers at most 3 tunnels per page.
"""
import json
import os
import secrets
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from cloud_azure import fault, fixture, verify_rs256

PROJECTS = {"dr-project", "paged-project"}
REGION = "europe-west3"
SA_EMAIL = "sitelink-monitor@dr-project.iam.gserviceaccount.com"
KEY_ID = "5f1c0a7e0123456789abcdef0123456789abcdef"
REFRESH = ("764086051850-user.apps.googleusercontent.com", "gcp-client-secret-0015", "1//gcp-refresh-token-0016")
SCOPES = {"https://www.googleapis.com/auth/compute.readonly", "https://www.googleapis.com/auth/compute",
          "https://www.googleapis.com/auth/cloud-platform"}
TOKENS = set()


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY, OTHER_KEY = _key(), _key()


def _pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def key_file(base, unregistered=False):
    return {"type": "service_account", "project_id": "dr-project", "private_key_id": KEY_ID,
            "private_key": _pem(OTHER_KEY if unregistered else KEY), "client_email": SA_EMAIL,
            "client_id": "104000000000000000001", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": base + "/gcp-token"}


def _oauth_error(h, status, code, desc, headers=None):
    h.send(status, json.dumps({"error": code, "error_description": desc}), "application/json", headers)


def _api_error(h, status, code, message, headers=None):
    names = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
             500: "INTERNAL", 400: "INVALID_ARGUMENT"}
    h.send(status, json.dumps({"error": {"code": status, "message": message, "status": names.get(status, code),
                                         "errors": [{"message": message, "domain": "global", "reason": code}]}}),
           "application/json", headers)


def _issue(h):
    token = "ya29.gcp-at-" + secrets.token_hex(12)
    TOKENS.add(token)
    h.send(200, json.dumps({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}), "application/json")


def token(h, state, base, body):
    state.requests.append({"action": "gcp-token", "path": h.path})
    if fault(h, state, "gcp-token", lambda s, c, m, hd=None: _oauth_error(h, s, c.lower(), m, hd)):
        return
    form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
    grant = form.get("grant_type")
    if grant == "refresh_token":
        if (form.get("client_id"), form.get("client_secret"), form.get("refresh_token")) != REFRESH:
            return _oauth_error(h, 400, "invalid_grant", "Token has been expired or revoked.")
        return _issue(h)
    if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer":
        return _oauth_error(h, 400, "unsupported_grant_type", "Invalid grant_type: " + str(grant))
    checked = verify_rs256(form.get("assertion", ""), KEY.public_key())
    if not checked:
        return _oauth_error(h, 400, "invalid_grant", "Invalid JWT Signature.")
    head, claims = checked
    if head.get("alg") != "RS256" or head.get("kid") not in (None, KEY_ID):
        return _oauth_error(h, 400, "invalid_grant", "Invalid JWT: key id unknown.")
    if claims.get("iss") != SA_EMAIL:
        return _oauth_error(h, 400, "invalid_grant", "Invalid JWT: iss is not a service account.")
    if claims.get("aud") != base + "/gcp-token":
        return _oauth_error(h, 400, "invalid_grant", "Invalid JWT: audience is not the token URI.")
    now = time.time()
    if not isinstance(claims.get("exp"), int) or claims["exp"] < now or claims["exp"] - claims.get("iat", 0) > 3600:
        return _oauth_error(h, 400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) "
                            "and in a reasonable timeframe.")
    if not set(str(claims.get("scope", "")).split()) & SCOPES:
        return _oauth_error(h, 400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
    state.requests[-1]["scope"] = claims.get("scope")
    _issue(h)


def metadata(h, state, query):
    state.requests.append({"action": "gcp-metadata", "path": h.path})
    if fault(h, state, "gcp-metadata", lambda s, c, m, hd=None: h.send(s, m, "text/plain", hd)):
        return
    if h.headers.get("Metadata-Flavor") != "Google":
        return h.send(403, "Missing Metadata-Flavor:Google header.", "text/html")
    if not set(",".join(query.get("scopes", [])).split(",")) & SCOPES:
        return h.send(400, "scopes must include Compute access", "text/plain")
    token = "ya29.gcp-md-" + secrets.token_hex(12)
    TOKENS.add(token)
    h.send(200, json.dumps({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}),
           "application/json", {"Metadata-Flavor": "Google"})


def select_fields(items, fields):
    """The subset of fields= this server understands: items(a,b,...),nextPageToken."""
    if not fields:
        return items
    inner = fields[fields.find("items(") + 6:fields.find(")")] if "items(" in fields else ""
    keep = set(inner.split(",")) if inner else set()
    return [{k: v for k, v in it.items() if k in keep} for it in items]


def compute(h, state, path, query):
    fields = (query.get("fields") or [""])[0]
    state.requests.append({"action": "gcp-compute", "path": h.path, "fields": fields})
    if fault(h, state, "gcp-compute", lambda s, c, m, hd=None: _api_error(h, s, c, m, hd)):
        return
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
        return _api_error(h, 401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 "
                          "access token, login cookie or other valid authentication credential.")
    parts = path[len("/gcp-compute/compute/v1/"):].split("/")
    if len(parts) != 5 or parts[0] != "projects" or parts[2] != "regions" or parts[4] != "vpnTunnels":
        return _api_error(h, 404, "notFound", "The requested URL was not found.")
    project, region = parts[1], parts[3]
    if project not in PROJECTS:
        return _api_error(h, 403, "forbidden", f"Required 'compute.vpnTunnels.list' permission for "
                          f"'projects/{project}'")
    if region != REGION:
        return _api_error(h, 404, "notFound", f"The resource 'projects/{project}/regions/{region}' was not found")
    data = json.loads(fixture("gcp_vpn_tunnels.json").replace("{project}", project).replace("{region}", region))
    items = data["items"]
    size = int((query.get("maxResults") or ["500"])[0])
    if project == "paged-project":
        size = min(size, 3)
    start = int((query.get("pageToken") or ["0"])[0] or 0)
    page = items[start:start + size]
    out = {"kind": data["kind"], "items": select_fields(page, fields)}
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    if fields and "nextPageToken" not in fields:
        out.pop("nextPageToken", None)
    h.send(200, json.dumps(out), "application/json")


def route(h, method, body, state, base):
    """Serves the request if it is one of ours; True when it did."""
    url = urllib.parse.urlsplit(h.path)
    query = urllib.parse.parse_qs(url.query)
    if method == "GET" and url.path == "/_gcp/key":
        h.send(200, json.dumps(key_file(base, "unregistered=1" in url.query)), "application/json")
        return True
    if method == "POST" and url.path == "/gcp-token":
        token(h, state, base, body)
        return True
    if method == "GET" and url.path == "/computeMetadata/v1/instance/service-accounts/default/token":
        metadata(h, state, query)
        return True
    if method == "GET" and url.path.startswith("/gcp-compute/compute/v1/"):
        compute(h, state, url.path, query)
        return True
    return False
