# SPDX-License-Identifier: GPL-2.0-or-later
"""Checks on the gateway for the Nagios family: Debian's nrpe (package
nagios-nrpe-server, not its service: own config, pid file and port) runs in
site A's gateway namespace, and check_nrpe (nagios-nrpe-plugin) asks it from
site A's LAN host, as a Nagios 4 server there would. What comes back must be
what the plugin prints when run on the gateway itself: the same state, the
same status line and the same runbook block, with the tunnel healthy and cut.
Also measures what NRPE carries: the plugins' largest output (8 KiB) whole
with v3/v4 packets (nrpe keeps up to 65,535 bytes), the first 1,023 bytes
with -2 (v2 packets), the rest cut without a mark.

The commands here are full command lines: nagios-conf/nrpe/sitelink.cfg, the
shipped file, takes its parameters from --extra-opts instead."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import lab_cmd, poll
from sitelink_icinga import lab_icinga
from sitelink_test import SOURCE, plugin_path

CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"
NRPE = "/usr/sbin/nrpe"
PORT = 5766  # not the system service's 5666
CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")
PCAP = os.path.join(SOURCE, "tests", "fixtures", "traffic", "openvpn-one-way-in.pcap")
RUNBOOK_LINE = re.compile(r"^(Impact|Action|Runbook): ")
SHIPPED = os.path.join(SOURCE, "nagios-conf", "nrpe", "sitelink.cfg")


def big_catalog(path):
    """The example catalog plus an entry whose impact alone is about 80 KiB,
    more than the plugins print (8 KiB) and than nrpe keeps (64 KiB)."""
    cat = json.load(open(CATALOG))
    entry = dict(cat["runbooks"]["dr-vpn"])
    entry["impact"] = {"warning": [f"Impact line {i:04d}: " + "x" * 100 for i in range(750)]}
    cat["runbooks"]["huge"] = entry
    with open(path, "w") as f:
        json.dump(cat, f)


@pytest.fixture(scope="module")
def nrpe(lab):
    if not (os.access(NRPE, os.X_OK) and os.access(CHECK_NRPE, os.X_OK)):
        pytest.fail("nagios-nrpe-server and nagios-nrpe-plugin are needed (tests/lab/packages.txt)")
    state = lab["LAB_STATE"]
    d = os.path.join(state, "nrpe")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    big_catalog(os.path.join(d, "catalog.json"))
    vici = lab["LAB_VICI_A"]
    vpn = (f"{plugin_path('check_vpn_tunnel_up')} --backend strongswan --socket unix://{vici} "
           f"--tunnel {lab['LAB_IPSEC_CONN_PRIMARY']} --stale 5 --runbook dr-vpn --runbook-file {CATALOG}")
    traffic = (f"{plugin_path('check_tunnel_traffic')} --pcap-file {PCAP} --peer {lab['LAB_WAN_B']} "
               f"--runbook dr-vpn --runbook-file {CATALOG}")
    commands = {"sitelink_vpn_tunnel_up": vpn, "sitelink_tunnel_traffic": traffic,
                "sitelink_huge": traffic.replace(f"--runbook dr-vpn --runbook-file {CATALOG}",
                                                 f"--runbook huge --runbook-file {d}/catalog.json")}
    # The shipped nrpe.d line, with the lab's plugin directory and an ini
    # file holding the lab's values in the shipped section.
    shipped = dict(re.findall(r"(?m)^command\[(\w+)\]=(.+)$", open(SHIPPED).read()))
    ini = os.path.join(d, "sitelink.ini")
    with open(ini, "w") as f:
        f.write(f"[vpn-dr]\nbackend=strongswan\nsocket=unix://{vici}\ntunnel={lab['LAB_IPSEC_CONN_PRIMARY']}\n"
                f"stale=5\nrunbook=dr-vpn\nrunbook-file={CATALOG}\n")
    commands["sitelink_vpn_dr"] = (shipped["sitelink_vpn_dr"]
                                   .replace("/usr/lib/nagios/plugins/", os.path.dirname(plugin_path("x")) + "/")
                                   .replace("/etc/sitelink/sitelink.ini", ini))
    for line in commands.values():
        assert len(line) < 1024, line  # nrpe reads its config lines into 2 KiB
    cfg = os.path.join(d, "nrpe.cfg")
    with open(cfg, "w") as f:
        f.write(f"""pid_file={d}/nrpe.pid
server_address={lab['LAB_LAN_GW_A']}
server_port={PORT}
allowed_hosts={lab['LAB_LAN_A']}
nrpe_user=nagios
nrpe_group=nagios
dont_blame_nrpe=0
allow_bash_command_substitution=0
debug=0
command_timeout=30
connection_timeout=60
""" + "".join(f"command[{k}]={v}\n" for k, v in commands.items()))
    # nrpe refuses to run as root and drops to nagios: let that user reach
    # the lab's VICI socket (as a gateway's admin would with a group), the
    # same modes are put back afterwards.
    saved = {p: os.stat(p) for p in (state, os.path.dirname(vici), vici)}
    nagios_gid = int(subprocess.run(["id", "-g", "nagios"], capture_output=True, text=True).stdout)
    for p in saved:
        os.chown(p, 0, nagios_gid)
        os.chmod(p, saved[p].st_mode & 0o7777 | (0o060 if p == vici else 0o050))
    for p in (d, cfg):
        os.chown(p, 0, nagios_gid)
        os.chmod(p, 0o750 if p == d else 0o640)
    os.chmod(d, 0o770)  # the pid file
    # Traffic through the tunnel, so that --stale sees a live tunnel.
    pinger = subprocess.Popen(["ip", "netns", "exec", lab["LAB_NS_A_LAN"], "ping", "-q", "-i", "0.5",
                               lab["LAB_LAN_B"]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lab_icinga("nrpe-start", "gw", "a", cfg, f"{lab['LAB_LAN_GW_A']}:{PORT}")
        yield {"lab": lab, "commands": commands, "dir": d}
    finally:
        pinger.terminate()
        pinger.wait(timeout=10)
        try:
            lab_icinga("nrpe-stop", "gw")
        finally:
            for p, st in saved.items():
                if os.path.exists(p):
                    os.chown(p, st.st_uid, st.st_gid)
                    os.chmod(p, st.st_mode & 0o7777)


def local(nrpe, name):
    """The command line of `name` run on the gateway itself, as root."""
    p = subprocess.run(["ip", "netns", "exec", nrpe["lab"]["LAB_NS_A"], "sh", "-c", nrpe["commands"][name]],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def remote(nrpe, name, *opts):
    p = subprocess.run(["ip", "netns", "exec", nrpe["lab"]["LAB_NS_A_LAN"], CHECK_NRPE,
                        "-H", nrpe["lab"]["LAB_LAN_GW_A"], "-p", str(PORT), "-t", "40", *opts, "-c", name],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout


def runbook_block(out):
    return [line for line in out.splitlines() if RUNBOOK_LINE.match(line)]


def shape(out):
    """The output with its measured numbers (seconds, bytes) blanked: the
    local and the NRPE run are a second apart."""
    return re.sub(r"\d+", "N", out)


def test_deterministic_output_is_carried_byte_for_byte(nrpe):
    rc, out = local(nrpe, "sitelink_tunnel_traffic")
    assert rc == 1 and out.startswith("TUNNEL_TRAFFIC WARNING - "), out
    assert runbook_block(out)[0].startswith("Impact: ")
    assert remote(nrpe, "sitelink_tunnel_traffic") == (rc, out)
    print(f"NRPE carried {len(out.encode())} bytes, state {rc}")


def test_tunnel_healthy_and_cut(nrpe):
    conn = nrpe["lab"]["LAB_IPSEC_CONN_PRIMARY"]
    (rc, out), _ = poll(lambda: local(nrpe, "sitelink_vpn_tunnel_up"), lambda r: r[0] == 0, 30)
    assert out.startswith("VPN_TUNNEL OK - "), out
    rrc, rout = remote(nrpe, "sitelink_vpn_tunnel_up")
    assert rrc == 0 and shape(rout) == shape(out), (out, rout)
    print(f"healthy: NRPE carried {len(rout.encode())} bytes, state {rrc}")
    lab_cmd("cut", "ipsec")
    try:
        (rc, out), _ = poll(lambda: local(nrpe, "sitelink_vpn_tunnel_up"), lambda r: r[0] == 2, 60)
        assert out.startswith("VPN_TUNNEL CRITICAL - ") and conn in out.splitlines()[0], out

        # The cut tunnel moves on while it is down (stale, then dead-peer
        # detection and IKE connecting again): compare a local and a remote
        # run taken back to back, until both saw the same phase.
        def both():
            return local(nrpe, "sitelink_vpn_tunnel_up") + remote(nrpe, "sitelink_vpn_tunnel_up")

        (rc, out, rrc, rout), _ = poll(both, lambda r: r[0] == r[2] == 2 and shape(r[1]) == shape(r[3]), 60)
        assert out.startswith("VPN_TUNNEL CRITICAL - ") and conn in out.splitlines()[0], out
        assert shape(rout.splitlines()[0]) == shape(out.splitlines()[0]), (out, rout)
        block = runbook_block(out)
        assert block and block[0].startswith("Impact: ") and block[-1].startswith("Runbook: ")
        assert runbook_block(rout) == block
        assert shape(rout) == shape(out), (out, rout)
        print(f"cut: NRPE carried {len(rout.encode())} bytes, state {rrc}")
    finally:
        lab_cmd("restore", "ipsec", timeout=120)


def test_largest_output_is_carried_whole(nrpe):
    """The plugins cap their output at 8 KiB (detail lines go first, the
    status line and the runbook block stay), well inside the 65,535 bytes
    nrpe keeps of a plugin's output with v3/v4 packets (a 64 KiB buffer with
    its terminating NUL, nrpe.c my_system; the rest would be dropped without
    a mark): the largest output arrives whole, state included. With v2
    packets (check_nrpe -2, or an old NRPE) only the first 1,023 bytes arrive
    (MAX_PACKETBUFFER_LENGTH - 1): the status line and the start of the
    runbook block."""
    rc, out = local(nrpe, "sitelink_huge")
    assert rc == 1 and 8000 < len(out.encode()) <= 8192, len(out)
    assert "more lines omitted (8 KiB output limit)" in out
    assert remote(nrpe, "sitelink_huge") == (rc, out)
    print(f"largest: plugin printed {len(out.encode())} bytes, NRPE carried them all, state {rc}")
    rc2, rout2 = remote(nrpe, "sitelink_huge", "-2")
    assert rc2 == rc and rout2 == out[:1023] + "\n", (rc2, len(rout2), rout2[-80:])
    assert rout2.startswith(out.splitlines()[0]) and "Impact: Impact line 0000" in rout2
    print(f"largest with v2 packets: NRPE carried {len(rout2.encode()) - 1} bytes, state {rc2}")


def test_shipped_nrpe_command_with_extra_opts(nrpe):
    """The shipped nrpe.d command (parameters from an ini section through
    --extra-opts) answers like the plugin run with the same options on the
    gateway."""
    rc, out = local(nrpe, "sitelink_vpn_tunnel_up")
    rrc, rout = remote(nrpe, "sitelink_vpn_dr")
    assert rrc == rc and shape(rout) == shape(out), (out, rout)
