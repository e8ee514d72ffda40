# SPDX-License-Identifier: GPL-2.0-or-later
"""The distributed example for real: an Icinga 2 master in site A's gateway
namespace and an agent on site A's LAN host, with certificates made by
`icinga2 pki` (new-cert on the agent, sign-csr by the master's CA). The
master holds every object (icinga-conf/examples/distributed plus the single
example's rules); the cross-site ping and the tunnel check run on the agent
through command_endpoint and their results come back to the master."""
import os
import secrets
import shutil
import time

import pytest

from sitelink_icinga import DISTRIBUTED, SINGLE, Icinga, IcingaApi, lab_icinga, result_perf
from sitelink_test import SOURCE

MASTER = "master1.example.org"
AGENT = "agent-a.example.org"
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")


def constants(ic, node, zone):
    return (f'const PluginDir = "{ic.plugin_dir()}"\n'
            f'const PluginContribDir = "{ic.plugin_dir()}"\n'
            'const ManubulonPluginDir = "/usr/lib/nagios/plugins"\n'
            f'const NodeName = "{node}"\nconst ZoneName = "{zone}"\n')


@pytest.fixture(scope="module")
def cluster(lab):
    base = os.path.join(lab["LAB_STATE"], "conf-cluster")
    shutil.rmtree(base, ignore_errors=True)
    master = Icinga(os.path.join(base, "master"))
    agent = Icinga(os.path.join(base, "agent"))
    zones = open(os.path.join(DISTRIBUTED, "zones.conf")).read()
    # The example's addresses are the lab's: site A's LAN host is the agent.
    assert f'host = "{lab["LAB_LAN_A"]}"' in zones

    # Certificates: the master's CA (api setup), the agent's key and CSR
    # (pki new-cert), signed by the master (pki sign-csr).
    lab_icinga("icinga-cli", master.root, "api", "setup", "--cn", MASTER)
    certs = os.path.join(agent.data, "certs")
    os.makedirs(certs, exist_ok=True)
    key, csr, crt = (os.path.join(certs, f"{AGENT}.{x}") for x in ("key", "csr", "crt"))
    lab_icinga("icinga-cli", agent.root, "pki", "new-cert", "--cn", AGENT, "--key", key, "--csr", csr)
    lab_icinga("icinga-cli", master.root, "pki", "sign-csr", "--csr", csr, "--cert", crt)
    shutil.copy(os.path.join(master.data, "certs", "ca.crt"), os.path.join(certs, "ca.crt"))

    # Agent: the shipped agent icinga2.conf, nothing but an API listener.
    shutil.copy(os.path.join(DISTRIBUTED, "icinga2-agent.conf"), os.path.join(agent.etc, "icinga2.conf"))
    agent.write("constants.conf", constants(agent, AGENT, "site-a"))
    agent.write("zones.conf", zones)
    agent.write("features-enabled/api.conf", f'object ApiListener "api" {{\n\tbind_host = "{lab["LAB_LAN_A"]}"\n'
                "\taccept_commands = true\n\taccept_config = true\n}\n")
    agent.write("features-enabled/mainlog.conf",
                'object FileLogger "main-log" { severity = "information"; path = LogDir + "/icinga2.log" }\n')

    # Master: every object, in zones.d/master.
    password = secrets.token_hex(16)
    master.write("icinga2.conf", constants(master, MASTER, "master") + f"""
include "zones.conf"
include <itl>
include <plugins>
include <plugins-contrib>
object ApiListener "api" {{ bind_host = "127.0.0.1" }}
object ApiUser "root" {{ password = "{password}"; permissions = [ "*" ] }}
object CheckerComponent "checker" {{ }}
object FileLogger "main-log" {{ severity = "information"; path = LogDir + "/icinga2.log" }}
""")
    master.write("zones.conf", zones)
    hosts = open(os.path.join(DISTRIBUTED, "zones.d", "master", "hosts.conf")).read()
    old = 'sitelink_vpn_tunnel_up_socket = "unix:///var/run/charon.vici"'
    assert old in hosts
    master.write("zones.d/master/hosts.conf",
                 hosts.replace(old, f'sitelink_vpn_tunnel_up_socket = "unix://{lab["LAB_VICI_A"]}"'))
    for f in ("templates.conf", "services.conf", "dependencies.conf"):
        shutil.copy(os.path.join(SINGLE, f), os.path.join(master.etc, "zones.d", "master", f))

    try:
        # The example services name runbook "dr-vpn"; the plugins on the agent
        # find the catalog through the environment Icinga passes on.
        lab_icinga("icinga-start", "agent", "a-lan", agent.root, f"{lab['LAB_LAN_A']}:5665",
                   env={"SITELINK_RUNBOOKS": CATALOG})
        lab_icinga("icinga-start", "master", "a", master.root, "127.0.0.1:5665")
        api = IcingaApi(lab["LAB_NS_A"], master, MASTER, password)
        deadline = time.monotonic() + 60
        while not api.endpoint(AGENT).get("connected"):
            assert time.monotonic() < deadline, "the master did not connect to the agent"
            time.sleep(1)
        api.agent = agent
        yield api
    finally:
        for name in ("master", "agent"):
            try:
                lab_icinga("icinga-stop", name)
            except AssertionError as e:
                print(e)


def test_ping_runs_on_the_agent(cluster, lab):
    a = cluster.force("db-b", "ping-from-site-a")
    cr = a["last_check_result"]
    assert a["state"] == 0, cr["output"]
    assert cr["output"].startswith("CROSS_SITE_PING OK - "), cr
    # Executed by the agent, reported to the master
    assert cr["check_source"] == AGENT, cr
    assert a["command_endpoint"] == AGENT
    # The command was resolved with the agent's PluginContribDir, not the master's.
    assert cr["command"][0] == os.path.join(cluster.agent.root, "plugins", "check_cross_site_ping"), cr["command"]
    perf = result_perf(a)
    assert perf["pl"].value == 0 and 0 < perf["rta"].value < 100
    assert cr["command"][cr["command"].index("-H") + 1] == lab["LAB_LAN_B"]
    # The master's Dependency rule applies across zones.
    assert a["last_reachable"] is True


def test_tunnel_check_runs_on_the_agent(cluster, lab):
    a = cluster.force(AGENT, "vpn-dr")
    cr = a["last_check_result"]
    assert a["state"] == 0 and cr["check_source"] == AGENT, cr
    assert cr["command"][0].startswith(cluster.agent.root + "/"), cr["command"]
    assert result_perf(a)["tunnels_up"].value == 1
