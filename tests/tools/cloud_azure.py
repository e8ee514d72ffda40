# SPDX-License-Identifier: GPL-2.0-or-later
"""Azure endpoints of tests/tools/cloud_server.py (imported by it).

  POST /azure-login/{tenant}/oauth2/v2.0/token     Microsoft Entra ID v2.0
       (client secret, certificate client assertion, federated token)
  GET  /azure-imds/metadata/identity/oauth2/token  managed identity (IMDS)
  GET  /azure-arm/subscriptions/.../connections/NAME?api-version=2023-09-01
  POST /azure-arm/.../virtualNetworkGateways/GW/getBgpPeerStatus (202, then
       GET /azure-arm/.../operationResults/ID answers 200)
  GET  /_azure/client-cert   PEM certificate + key registered for CERT_CLIENT

It refuses what Azure would: an unknown tenant or client, a wrong secret, a
client assertion with a bad signature, wrong audience, unknown thumbprint or
past expiry, a scope of an unknown resource, a missing or unknown bearer
token, a token for another audience (InvalidAuthenticationTokenAudience), an
expired one (fault expired/expired_once), a missing or wrong api-version.

Fault targets: azure-login, azure-imds, azure-arm (modes as cloud_server.py:
slow, hang, 500, throttle, throttle_once, malformed, huge, expired,
expired_once). Throttling is 429 with Retry-After: 1, as ARM sends it.
"""
import base64
import json
import os
import secrets
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "cloud")
API_VERSION = "2023-09-01"
TENANT = "72f988bf-0000-4000-8000-000000000001"
SUBSCRIPTION = "11111111-2222-4333-8444-555555555555"
RESOURCE_GROUP = "rg-network"
SECRET_CLIENT = "c1000000-0000-4000-8000-000000000001"
CLIENT_SECRET = "azure-client-secret-0013"
CERT_CLIENT = "c2000000-0000-4000-8000-000000000002"
WORKLOAD_CLIENT = "c3000000-0000-4000-8000-000000000003"
FEDERATED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.federated-token-0014.sig"
MANAGED_CLIENT = "c4000000-0000-4000-8000-000000000004"
AUDIENCES = {"https://management.azure.com", "https://management.core.windows.net"}
ARM_AUDIENCE = "https://management.azure.com"

TOKENS = {}  # access token -> (audience, client)
OPERATIONS = {}


def _cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sitelink-monitor")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    thumb = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()
    return cert, pem.decode(), thumb


CERT, CERT_PEM, CERT_X5T = _cert()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_rs256(token, public_key):
    """(header, claims) of a JWT whose RS256 signature verifies, else None."""
    try:
        h, c, sig = token.split(".")
        public_key.verify(b64d(sig), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        return json.loads(b64d(h)), json.loads(b64d(c))
    except Exception:  # any malformed or unverifiable token is refused
        return None


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def fault(h, state, target, error):
    """Applies the fault mode for `target`; True when it answered.
    error(status, code, message) sends the provider's error document."""
    mode = state.faulty(target)
    if not mode:
        return False
    with state.lock:
        state.count += 1
        count = state.count
    if mode == "slow":
        time.sleep(state.slow)
        return False
    if mode == "hang":
        while True:
            time.sleep(3600)
    if mode == "500":
        error(500, "InternalServerError", "An internal error occurred.")
        return True
    if mode == "throttle" or (mode == "throttle_once" and count == 1):
        error(429, "TooManyRequests", "Too many requests, retry after 1 second.", {"Retry-After": "1"})
        return True
    if mode == "malformed":
        h.send(200, '{"properties": {"connectionStatus": ', "application/json")
        return True
    if mode == "huge":
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            for _ in range(64 * 1024):
                h.wfile.write(b" " * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        h.close_connection = True
        return True
    if mode == "expired" or (mode == "expired_once" and count == 1):
        error(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.")
        return True
    return False


def _entra_error(h, status, code, desc, headers=None):
    body = {"error": code, "error_description": desc + "\r\nTrace ID: 0000\r\nTimestamp: now",
            "error_codes": [int(desc[6:desc.index(":")]) if desc.startswith("AADSTS") else 0]}
    h.send(status, json.dumps(body), "application/json", headers)


def _arm_error(h, status, code, message, headers=None):
    h.send(status, json.dumps({"error": {"code": code, "message": message}}), "application/json", headers)


def _issue(h, audience, client):
    token = "eyJ0eXAiOiJKV1Qi.azure-at-" + secrets.token_hex(12)
    TOKENS[token] = (audience, client)
    h.send(200, json.dumps({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                            "access_token": token}), "application/json")


def token(h, state, base, tenant, body):
    state.requests.append({"action": "azure-login", "path": h.path})
    if fault(h, state, "azure-login", lambda s, c, m, hd=None: _entra_error(h, s, c.lower(), "AADSTS50000: " + m, hd)):
        return
    form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
    state.requests[-1]["form_keys"] = sorted(form)
    if tenant != TENANT:
        return _entra_error(h, 400, "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.")
    if form.get("grant_type") != "client_credentials":
        return _entra_error(h, 400, "unsupported_grant_type", "AADSTS70003: The grant type is not supported.")
    scope = form.get("scope", "")
    if not scope.endswith("/.default") or scope[:-len("/.default")] not in AUDIENCES:
        return _entra_error(h, 400, "invalid_resource",
                            f"AADSTS500011: The resource principal named {scope} was not found in the tenant.")
    client = form.get("client_id", "")
    if client == SECRET_CLIENT:
        if form.get("client_secret") != CLIENT_SECRET:
            return _entra_error(h, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
        return _issue(h, scope[:-len("/.default")], client)
    if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return _entra_error(h, 401, "invalid_client", "AADSTS7000218: The request body must contain "
                            "client_assertion or client_secret.")
    assertion = form.get("client_assertion", "")
    if client == WORKLOAD_CLIENT:
        if assertion != FEDERATED_TOKEN:
            return _entra_error(h, 401, "invalid_client", "AADSTS700024: Client assertion is not within its "
                                "valid time range.")
        return _issue(h, scope[:-len("/.default")], client)
    if client != CERT_CLIENT:
        return _entra_error(h, 400, "unauthorized_client",
                            f"AADSTS700016: Application with identifier '{client}' was not found.")
    checked = verify_rs256(assertion, CERT.public_key())
    if not checked:
        return _entra_error(h, 401, "invalid_client", "AADSTS7000274: Key was found, but use of the key to "
                            "verify the signature failed.")
    head, claims = checked
    audience = f"{base}/azure-login/{tenant}/oauth2/v2.0/token"
    if head.get("x5t") != CERT_X5T:
        return _entra_error(h, 401, "invalid_client", "AADSTS700027: The certificate with identifier used to "
                            "sign the client assertion is not registered on application.")
    if claims.get("aud") != audience or claims.get("iss") != client or claims.get("sub") != client:
        return _entra_error(h, 401, "invalid_client", "AADSTS700021: Client assertion application identifier "
                            "or audience does not match.")
    if not claims.get("exp") or claims["exp"] < time.time():
        return _entra_error(h, 401, "invalid_client", "AADSTS700024: Client assertion is not within its valid "
                            "time range.")
    return _issue(h, scope[:-len("/.default")], client)


def imds(h, state, query):
    state.requests.append({"action": "azure-imds", "path": h.path})
    if fault(h, state, "azure-imds", lambda s, c, m, hd=None: _entra_error(h, s, c.lower(), "AADSTS50000: " + m, hd)):
        return
    if h.headers.get("Metadata") != "true":
        return h.send(400, json.dumps({"error": "invalid_request", "error_description": "Required metadata header "
                                       "not specified"}), "application/json")
    if query.get("api-version") != ["2018-02-01"]:
        return h.send(400, json.dumps({"error": "invalid_request", "error_description": "Invalid api-version"}),
                      "application/json")
    resource = (query.get("resource") or [""])[0].rstrip("/")
    if resource not in AUDIENCES:
        return h.send(400, json.dumps({"error": "invalid_resource", "error_description": "AADSTS500011: The "
                                       "resource principal was not found"}), "application/json")
    token = "eyJ0eXAiOiJKV1Qi.azure-mi-" + secrets.token_hex(12)
    TOKENS[token] = (resource, MANAGED_CLIENT)
    h.send(200, json.dumps({"access_token": token, "expires_in": "86399", "expires_on": str(int(time.time()) + 86399),
                            "resource": resource + "/", "token_type": "Bearer",
                            "client_id": MANAGED_CLIENT}), "application/json")


def check_bearer(h):
    """Why ARM refuses the request's token, or None."""
    auth = h.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
    tok = TOKENS.get(auth[len("Bearer "):])
    if not tok:
        return "InvalidAuthenticationToken", "The access token is invalid."
    if tok[0] != ARM_AUDIENCE:
        return ("InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{tok[0]}'.")
    return None


def arm(h, state, method, path, query):
    rest = path[len("/azure-arm"):]
    state.requests.append({"action": "azure-arm", "method": method, "path": h.path})
    if fault(h, state, "azure-arm", lambda s, c, m, hd=None: _arm_error(h, s, c, m, hd)):
        return
    refused = check_bearer(h)
    if refused:
        return _arm_error(h, 401, *refused)
    if query.get("api-version") != [API_VERSION]:
        return _arm_error(h, 400, "MissingApiVersionParameter" if "api-version" not in query else
                          "InvalidApiVersionParameter", "The api-version query parameter is missing or not supported.")
    parts = rest.strip("/").split("/")
    if method == "GET" and "operationResults" in parts:
        if parts[-1] not in OPERATIONS:
            return _arm_error(h, 404, "OperationNotFound", "The operation was not found.")
        body = json.loads(fixture("azure_bgp_peer_status.json"))
        body.pop("_source", None)
        return h.send(200, json.dumps(body), "application/json")
    if len(parts) < 8 or parts[0] != "subscriptions" or parts[2] != "resourceGroups":
        return _arm_error(h, 404, "InvalidResourceType", "The resource type could not be found.")
    if parts[1] != SUBSCRIPTION:
        return _arm_error(h, 404, "SubscriptionNotFound", f"The subscription '{parts[1]}' could not be found.")
    if parts[3] != RESOURCE_GROUP:
        return _arm_error(h, 404, "ResourceGroupNotFound", f"Resource group '{parts[3]}' could not be found.")
    kind, name = parts[6], parts[7]
    if method == "GET" and kind == "connections" and len(parts) == 8:
        data = json.loads(fixture("azure_connections.json").replace("{sub}", SUBSCRIPTION).replace(
            "{rg}", RESOURCE_GROUP))
        if name not in data or name.startswith("_"):
            return _arm_error(h, 404, "ResourceNotFound", f"The Resource 'Microsoft.Network/connections/{name}' "
                              f"under resource group '{RESOURCE_GROUP}' was not found.")
        return h.send(200, json.dumps(data[name]), "application/json")
    if method == "POST" and kind == "virtualNetworkGateways" and parts[8:] == ["getBgpPeerStatus"]:
        op = secrets.token_hex(8)
        OPERATIONS[op] = name
        loc = f"{h.base}/azure-arm/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Network/locations/westeurope/" \
              f"operationResults/{op}?api-version={API_VERSION}"
        return h.send(202, "", "application/json", {"Location": loc, "Retry-After": "1"})
    return _arm_error(h, 404, "InvalidResourceType", "The resource type could not be found.")


def route(h, method, body, state, base):
    """Serves the request if it is one of ours; True when it did."""
    url = urllib.parse.urlsplit(h.path)
    query = urllib.parse.parse_qs(url.query)
    h.base = base
    if method == "GET" and url.path == "/_azure/client-cert":
        h.send(200, CERT_PEM, "application/x-pem-file")
        return True
    if method == "POST" and url.path.startswith("/azure-login/") and url.path.endswith("/oauth2/v2.0/token"):
        token(h, state, base, url.path.split("/")[2], body)
        return True
    if method == "GET" and url.path == "/azure-imds/metadata/identity/oauth2/token":
        imds(h, state, query)
        return True
    if url.path.startswith("/azure-arm/"):
        arm(h, state, method, url.path, query)
        return True
    return False
