# SPDX-License-Identifier: GPL-2.0-or-later
"""The AWS side of cloud_server.py for the HA topologies: a mutable EC2 model.

Served through cloud_server.py's Query API (SigV4 verified there, fault modes
applied there):
  DescribeRouteTables  for the tables of this model (routes to gateways,
                       instances and network interfaces)
  ReplaceRoute         repoints a route of this model (what on-call runs)
  DescribeVpnConnections with Filter.N.Name=vpn-gateway-id, or VpnConnectionId.N
                       when every ID named is a connection of this model
  DescribeAddresses    PublicIp.N / AllocationId.N
  DescribeInstances    Filter instance-id or InstanceId.N
  POST /_aws           changes the model: {"reset": true}, {"route": {...}},
                       {"telemetry": {VPN_ID: ["UP", "DOWN"]}},
                       {"vpn": {VPN_ID: {"gateway": G, "state": S,
                                         "telemetry": [[IP, STATUS], ...]}}},
                       {"instance": {ID: STATE}}, {"address": {...}},
                       {"fail": {"action": A, "status": S, "code": C}}
Everything here is written from the EC2 API reference (2016-11-15).
"""
import copy
import json
import threading
import xml.sax.saxutils as su

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
OWNER = "123456789012"
RTB = "rtb-0fa11ed0fa11ed001"

INSTANCES = {
    "i-0a11ce0000000000a": {"state": "running", "name": "vpn-primary", "eni": "eni-0a11ce0000000000a"},
    "i-0b0b000000000000b": {"state": "running", "name": "vpn-secondary", "eni": "eni-0b0b000000000000b"},
    "i-0c0c000000000000c": {"state": "stopped", "name": "vpn-old", "eni": "eni-0c0c000000000000c"},
}

VPN = {  # connection -> gateway, state, telemetry (outside IP, status)
    "vpn-0a0a0000000000a01": {"gateway": "vgw-0aaaa0000aaaa0001", "state": "available",
                              "telemetry": [["203.0.113.101", "UP"], ["203.0.113.102", "DOWN"]]},
    "vpn-0b0b0000000000b01": {"gateway": "vgw-0bbbb0000bbbb0002", "state": "available",
                              "telemetry": [["203.0.113.111", "DOWN"], ["203.0.113.112", "DOWN"]]},
    "vpn-0d0d0000000000d01": {"gateway": "vgw-0dddd0000dddd0004", "state": "deleted",
                              "telemetry": [["203.0.113.131", "UP"], ["203.0.113.132", "UP"]]},
}

ROUTES = [  # of RTB
    {"dest": "10.110.0.0/16", "gatewayId": "vgw-0aaaa0000aaaa0001"},
    {"dest": "10.111.0.0/16", "gatewayId": "vgw-0bbbb0000bbbb0002"},
    {"dest": "10.112.0.0/16", "instanceId": "i-0a11ce0000000000a"},
    {"dest": "10.113.0.0/16", "networkInterfaceId": "eni-0b0b000000000000b"},
    {"dest": "10.114.0.0/16", "instanceId": "i-0c0c000000000000c", "state": "blackhole"},
    {"dest": "10.115.0.0/16", "gatewayId": "vgw-0cccc0000cccc0003"},
    {"dest": "10.116.0.0/16", "gatewayId": "vgw-0dddd0000dddd0004"},
    {"dest": "fd00:10::/48", "instanceId": "i-0a11ce0000000000a"},
]

ADDRESSES = [
    {"publicIp": "198.51.100.10", "allocationId": "eipalloc-0e1a0000000000001", "instanceId": "i-0a11ce0000000000a"},
    {"publicIp": "198.51.100.11", "allocationId": "eipalloc-0e1a0000000000002", "instanceId": "i-0b0b000000000000b"},
    {"publicIp": "198.51.100.12", "allocationId": "eipalloc-0e1a0000000000003"},
    {"publicIp": "198.51.100.13", "allocationId": "eipalloc-0e1a0000000000004", "instanceId": "i-0c0c000000000000c"},
    {"publicIp": "198.51.100.14", "allocationId": "eipalloc-0e1a0000000000005",
     "networkInterfaceId": "eni-0f0f000000000000f"},
]


class Model:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.instances = copy.deepcopy(INSTANCES)
        self.vpn = copy.deepcopy(VPN)
        self.routes = copy.deepcopy(ROUTES)
        self.addresses = copy.deepcopy(ADDRESSES)
        self.fail = None


MODEL = Model()


def e(text):
    return su.escape(str(text))


def values(form, prefix):
    return [v[0] for k, v in sorted(form.items(), key=lambda kv: kv[0]) if k.startswith(prefix)]


def filter_values(form, name):
    """Filter.N.Value.M of the filter named `name`."""
    out = []
    for k, v in form.items():
        if k.startswith("Filter.") and k.endswith(".Name") and v[0] == name:
            n = k.split(".")[1]
            out += values(form, f"Filter.{n}.Value.")
    return out


def response(action, inner):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{action}Response xmlns="{NS}">'
            f"<requestId>5f3a1c9e-0000-4000-8000-000000000001</requestId>{inner}</{action}Response>")


def target_xml(r):
    out = ""
    for k in ("gatewayId", "instanceId", "networkInterfaceId"):
        if r.get(k):
            out += f"<{k}>{e(r[k])}</{k}>"
    if r.get("instanceId"):
        out += f"<instanceOwnerId>{OWNER}</instanceOwnerId>"
    return out


def route_tables():
    items = ""
    for r in MODEL.routes:
        dest = "destinationIpv6CidrBlock" if ":" in r["dest"] else "destinationCidrBlock"
        origin = r.get("origin", "CreateRoute")
        items += (f"<item><{dest}>{e(r['dest'])}</{dest}>{target_xml(r)}"
                  f"<state>{e(r.get('state', 'active'))}</state><origin>{origin}</origin></item>")
    return response("DescribeRouteTables", f"<routeTableSet><item><routeTableId>{RTB}</routeTableId>"
                    f"<vpcId>vpc-0fa11ed0fa11ed001</vpcId><ownerId>{OWNER}</ownerId>"
                    f"<routeSet><item><destinationCidrBlock>10.0.0.0/16</destinationCidrBlock>"
                    f"<gatewayId>local</gatewayId><state>active</state><origin>CreateRouteTable</origin></item>"
                    f"{items}</routeSet><associationSet/><tagSet/></item></routeTableSet>")


def vpn_connections(gateways=(), ids=()):
    items = ""
    for vid, c in MODEL.vpn.items():
        if c["gateway"] not in gateways and vid not in ids:
            continue
        tel = "".join(f"<item><outsideIpAddress>{ip}</outsideIpAddress><status>{st}</status>"
                      f"<lastStatusChange>2026-11-20T08:00:00.000Z</lastStatusChange>"
                      f"<statusMessage>{'' if st == 'UP' else 'IPSEC IS DOWN'}</statusMessage>"
                      f"<acceptedRouteCount>0</acceptedRouteCount></item>" for ip, st in c["telemetry"])
        # The customer gateway configuration holds the pre-shared keys: it
        # is there, as in EC2's answer, so that a test can prove it is never printed.
        cfg = e(f'<vpn_connection id="{vid}"><pre_shared_key>PSK_SECRET_ext_{vid[-3:]}</pre_shared_key>'
                "</vpn_connection>")
        items += (f"<item><vpnConnectionId>{vid}</vpnConnectionId>"
                  f"<customerGatewayConfiguration>{cfg}</customerGatewayConfiguration>"
                  f"<customerGatewayId>cgw-0e11f167</customerGatewayId><category>VPN</category>"
                  f"<state>{c['state']}</state><type>ipsec.1</type><vpnGatewayId>{c['gateway']}</vpnGatewayId>"
                  f"<tagSet/><vgwTelemetry>{tel}</vgwTelemetry><options><staticRoutesOnly>true"
                  f"</staticRoutesOnly></options><routes/></item>")
    return response("DescribeVpnConnections", f"<vpnConnectionSet>{items}</vpnConnectionSet>")


def addresses(form):
    ips, allocs = values(form, "PublicIp."), values(form, "AllocationId.")
    found = [a for a in MODEL.addresses if a["publicIp"] in ips or a["allocationId"] in allocs]
    if (ips or allocs) and len(found) < len(ips) + len(allocs):
        missing = [i for i in ips + allocs if all(i not in (a["publicIp"], a["allocationId"]) for a in found)]
        if ips:
            return 400, "InvalidAddress.NotFound", f"Address '{missing[0]}' not found."
        return 400, "InvalidAllocationID.NotFound", f"The allocation ID '{missing[0]}' does not exist"
    items = ""
    for a in found:
        inner = (f"<publicIp>{a['publicIp']}</publicIp><allocationId>{a['allocationId']}</allocationId>"
                 "<domain>vpc</domain>")
        eni = a.get("networkInterfaceId") or (MODEL.instances.get(a.get("instanceId"), {}).get("eni"))
        if a.get("instanceId"):
            inner += f"<instanceId>{a['instanceId']}</instanceId>"
        if eni:
            inner += (f"<associationId>eipassoc-0{a['allocationId'][-16:]}</associationId>"
                      f"<networkInterfaceId>{eni}</networkInterfaceId><networkInterfaceOwnerId>{OWNER}"
                      f"</networkInterfaceOwnerId><privateIpAddress>10.0.1.5</privateIpAddress>")
        items += f"<item>{inner}<tagSet/></item>"
    return response("DescribeAddresses", f"<addressesSet>{items}</addressesSet>")


STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}


def instances(form):
    ids = filter_values(form, "instance-id") + values(form, "InstanceId.")
    items = ""
    for iid, i in MODEL.instances.items():
        if ids and iid not in ids:
            continue
        items += (f"<item><reservationId>r-0{iid[2:]}</reservationId><ownerId>{OWNER}</ownerId><groupSet/>"
                  f"<instancesSet><item><instanceId>{iid}</instanceId><imageId>ami-0123456789abcdef0</imageId>"
                  f"<instanceState><code>{STATE_CODES.get(i['state'], 0)}</code><name>{e(i['state'])}</name>"
                  f"</instanceState><instanceType>t3.small</instanceType>"
                  f"<networkInterfaceSet><item><networkInterfaceId>{i['eni']}</networkInterfaceId></item>"
                  f"</networkInterfaceSet><tagSet><item><key>Name</key><value>{e(i['name'])}</value></item>"
                  f"</tagSet></item></instancesSet></item>")
    return response("DescribeInstances", f"<reservationSet>{items}</reservationSet>")


def replace_route(form):
    table = (form.get("RouteTableId") or [""])[0]
    dest = (form.get("DestinationCidrBlock") or form.get("DestinationIpv6CidrBlock") or [""])[0]
    if table != RTB:
        return 400, "InvalidRouteTableID.NotFound", f"The routeTable ID '{table}' does not exist"
    route = next((r for r in MODEL.routes if r["dest"] == dest), None)
    if route is None:
        return 400, "InvalidParameterValue", f"There is no route defined for '{dest}' in the route table."
    new = {"dest": dest, "origin": "CreateRoute"}
    if form.get("InstanceId"):
        iid = form["InstanceId"][0]
        if iid not in MODEL.instances:
            return 400, "InvalidInstanceID.NotFound", f"The instance ID '{iid}' does not exist"
        new.update(instanceId=iid, networkInterfaceId=MODEL.instances[iid]["eni"])
    elif form.get("NetworkInterfaceId"):
        eni = form["NetworkInterfaceId"][0]
        new["networkInterfaceId"] = eni
        for iid, i in MODEL.instances.items():
            if i["eni"] == eni:
                new["instanceId"] = iid
    elif form.get("GatewayId"):
        new["gatewayId"] = form["GatewayId"][0]
    else:
        return 400, "MissingParameter", "The request must contain a route target."
    route.clear()
    route.update(new)
    return response("ReplaceRoute", "<return>true</return>")


def query(handler, action, form):
    """Answers `action` if it belongs to this model; False otherwise."""
    with MODEL.lock:
        if MODEL.fail and MODEL.fail.get("action") == action:
            f = MODEL.fail
            handler.error("ec2", int(f.get("status", 403)), f.get("code", "UnauthorizedOperation"),
                          f.get("message", "You are not authorized to perform this operation."))
            return True
        if action == "DescribeRouteTables" and values(form, "RouteTableId.") == [RTB]:
            out = route_tables()
        elif action == "ReplaceRoute":
            out = replace_route(form)
        elif action == "DescribeVpnConnections" and filter_values(form, "vpn-gateway-id"):
            out = vpn_connections(gateways=filter_values(form, "vpn-gateway-id"))
        elif (action == "DescribeVpnConnections" and values(form, "VpnConnectionId.")
              and all(v in MODEL.vpn for v in values(form, "VpnConnectionId."))):
            out = vpn_connections(ids=values(form, "VpnConnectionId."))
        elif action == "DescribeAddresses":
            out = addresses(form)
        elif action == "DescribeInstances":
            out = instances(form)
        else:
            return False
    if isinstance(out, tuple):
        handler.error("ec2", *out)
    else:
        handler.send(200, out)
    return True


def control(handler, body):
    cfg = json.loads(body or "{}")
    with MODEL.lock:
        if cfg.get("reset"):
            MODEL.reset()
        if "route" in cfg:
            r = cfg["route"]
            route = next(x for x in MODEL.routes if x["dest"] == r["dest"])
            route.clear()
            route.update(r)
        for vid, conn in cfg.get("vpn", {}).items():
            MODEL.vpn[vid] = conn
        for vid, statuses in cfg.get("telemetry", {}).items():
            for t, st in zip(MODEL.vpn[vid]["telemetry"], statuses):
                t[1] = st
        for iid, st in cfg.get("instance", {}).items():
            MODEL.instances[iid]["state"] = st
        if "address" in cfg:
            a = cfg["address"]
            addr = next(x for x in MODEL.addresses if x["publicIp"] == a["publicIp"])
            addr.clear()
            addr.update(a)
        if "fail" in cfg:
            MODEL.fail = cfg["fail"]
        routes = copy.deepcopy(MODEL.routes)
    handler.send(200, json.dumps({"routes": routes}), "application/json")
