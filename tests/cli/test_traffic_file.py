# SPDX-License-Identifier: GPL-2.0-or-later
"""check_tunnel_traffic run as a real binary: capture files (no privileges),
bad options, and short live captures on loopback when run as root."""
import os
import re
import socket
import threading
import time

import pytest

from sitelink_test import SOURCE, check_conventions, run

P = "check_tunnel_traffic"
SVC = "TUNNEL_TRAFFIC"
FIX = os.path.join(SOURCE, "tests", "fixtures", "traffic")
PEER = "192.0.2.2"
PEER_LABEL = "192_0_2_2"  # the address with every non-alphanumeric character made _
LABELS = ["out_pps", "in_pps", "out_Bps", "in_Bps", "ike_requests_out", "ike_responses_in",
          "ike_requests_in", "ike_responses_out"]
root = pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs CAP_NET_RAW")


def traffic(*args, **kw):
    r = run(P, list(args), **kw)
    check_conventions(r, SVC)
    return r


def pcap(name, *args, **kw):
    return traffic("--pcap-file", os.path.join(FIX, name), "--peer", PEER, *args, **kw)


@pytest.mark.parametrize("name,rc,summary", [
    ("ipsec-flowing.pcap", 0, "192.0.2.2 IPsec flowing: 10.1 pkt/s out, 10.1 pkt/s in"),
    ("ipsec-flowing-sll2.pcap", 0, "192.0.2.2 IPsec flowing: "),
    ("ipsec-one-way-out.pcap", 2, "192.0.2.2 IPsec one-way out: 20 packets sent, none received in 1.9 s"),
    ("ike-unanswered.pcap", 2, "192.0.2.2 IKE unanswered: 6 requests sent, no response in 7.12 s"),
    ("ike-handshake.pcap", 0, "192.0.2.2 IPsec flowing: "),
    ("wireguard-flowing.pcap", 0, "192.0.2.2 WireGuard flowing: 2 pkt/s out, 2 pkt/s in"),
    ("wireguard-one-way-out.pcap", 2, "192.0.2.2 WireGuard one-way out: 2 packets sent, none received"),
    ("openvpn-flowing.pcap", 0, "192.0.2.2 OpenVPN flowing: "),
    ("openvpn-one-way-out.pcap", 2, "192.0.2.2 OpenVPN one-way out: 2 packets sent"),
    ("openvpn-one-way-in.pcap", 1, "192.0.2.2 OpenVPN one-way in: 3 packets received, none sent"),
    ("idle.pcap", 0, "192.0.2.2 idle: no tunnel packets"),
])
def test_verdicts_from_recordings(name, rc, summary):
    r = pcap(name)
    assert r.rc == rc, str(r)
    assert r.summary.startswith(summary), str(r)
    assert sorted(r.perf) == sorted(f"{PEER_LABEL}_{x}" for x in LABELS)
    if rc == 0:
        assert "Impact:" not in r.stdout and not any(line.startswith("Check:") for line in r.lines)


def test_perfdata_values():
    r = pcap("ipsec-flowing.pcap")
    assert r.perf[f"{PEER_LABEL}_out_pps"].value == pytest.approx(10.15, abs=0.1)
    assert r.perf[f"{PEER_LABEL}_out_Bps"].value == pytest.approx(148 * 19 / 1.872, rel=0.02)
    assert r.perf[f"{PEER_LABEL}_out_pps"].min == "0"
    r = pcap("ike-unanswered.pcap")
    assert r.perf[f"{PEER_LABEL}_ike_requests_out"].value == 6
    assert r.perf[f"{PEER_LABEL}_ike_responses_in"].value == 0
    r = pcap("ike-handshake.pcap")
    assert [r.perf[f"{PEER_LABEL}_{x}"].value for x in LABELS[4:]] == [3, 3, 0, 0]


def test_ike_unanswered_checklist_and_runbook():
    r = pcap("ike-unanswered.pcap", "--impact", "DR replication stops", "--action", "page the network team")
    assert r.rc == 2
    checks = [line for line in r.lines if line.startswith("Check:")]
    assert any("UDP 500 and 4500" in c for c in checks)
    assert any("policies" in c for c in checks)
    assert any("pre-shared key" in c for c in checks)
    assert r.lines[-2:] == ["Impact: DR replication stops", "Action: page the network team"]


def test_idle_state_option():
    # A quiet link notifies no one by default; a site that expects constant
    # traffic says so.
    assert pcap("idle.pcap").rc == 0
    assert pcap("idle.pcap", "--idle-state", "warning").rc == 1
    assert pcap("idle.pcap", "--idle-state", "ok").rc == 0
    assert pcap("idle.pcap", "--idle-state", "CRITICAL").rc == 2
    assert pcap("idle.pcap", "--idle-state", "3").rc == 3


def test_protocol_selection():
    # Only OpenVPN counted: the WireGuard recording is idle then.
    r = pcap("wireguard-flowing.pcap", "--protocol", "openvpn")
    assert r.rc == 0 and "idle" in r.summary
    r = pcap("openvpn-flowing.pcap", "--protocol", "openvpn", "--port", "1195")
    assert r.rc == 0 and "idle" in r.summary
    r = pcap("openvpn-flowing.pcap", "--protocol", "openvpn", "--port", "1194")
    assert r.rc == 0


def test_several_peers_and_ipv6():
    r = traffic("--pcap-file", os.path.join(FIX, "synthetic-raw-ipv6.pcap"), "--peer", "2001:db8::2",
                "--peer", PEER)
    assert r.rc == 0, str(r)  # 192.0.2.2 idle (OK by default)
    assert "192.0.2.2 idle" in r.stdout
    assert "2001:db8::2 IPsec flowing" in r.stdout
    assert len(r.perf) == 16 and "2001_db8__2_in_pps" in r.perf
    # Labels for graphers: unquoted, no space and no dot (Icinga's Graphite
    # writer keeps dots as path separators), as written on line 1.
    perfdata = r.stdout.splitlines()[0].split(" | ", 1)[1]
    assert "'" not in perfdata, perfdata
    for item in perfdata.split(" "):
        assert re.fullmatch(r"(192_0_2_2|2001_db8__2)_[a-z_]+(pps|Bps|in|out)=[0-9.U][^ ]*", item), item
    assert any("1 fragments" in line for line in r.lines)


@pytest.mark.parametrize("name,expect", [
    ("truncated-record.pcap", "is damaged at packet 3 (byte offset 312): truncated dump file"),
    ("corrupt-caplen.pcap", "is damaged at packet 2 (byte offset 168): invalid packet capture length"),
    ("truncated-header.pcap", "truncated dump file; tried to read 24 file header bytes"),
    ("not-a-capture.pcap", "unknown file format"),
    ("unsupported-link.pcap", "has link type IEEE802_11 (105), which is not decoded"),
    ("absent.pcap", "No such file or directory"),
])
def test_damaged_files_are_unknown(name, expect):
    r = pcap(name)
    assert r.rc == 3, str(r)
    assert expect in r.summary, str(r)
    assert name in r.summary


def test_directory_is_unknown():
    r = traffic("--pcap-file", FIX, "--peer", PEER)
    assert r.rc == 3 and FIX in r.summary, str(r)


@pytest.fixture
def world_dir():
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="traffic-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def test_file_mode_without_privileges(world_dir):
    import pathlib
    f = pathlib.Path(world_dir) / "t.pcap"
    f.write_bytes(open(os.path.join(FIX, "ipsec-one-way-out.pcap"), "rb").read())
    os.chmod(f, 0o644)
    r = traffic("--pcap-file", str(f), "--peer", PEER, user="nobody")
    assert r.rc == 2 and "one-way out" in r.summary, str(r)
    os.chmod(f, 0o600)
    r = traffic("--pcap-file", str(f), "--peer", PEER, user="nobody")
    assert r.summary == f"cannot read capture file {f}: Permission denied", str(r)


@pytest.mark.parametrize("args,expect", [
    ([], "give either -i IFACE"),
    (["-i", "lo", "--pcap-file", "x"], "give either -i IFACE"),
    (["--pcap-file", "x"], "--pcap-file needs --peer"),
    (["--pcap-file", "x", "--peer", "peer.example"], "'--peer': not an IP address"),
    (["--pcap-file", "x", "--peer", "192.0.2.256"], "'--peer': not an IP address"),
    (["--pcap-file", "x", "--peer", PEER, "--protocol", "gre"], "'--protocol': expected auto"),
    (["--pcap-file", "x", "--peer", PEER, "--protocol", "wireguard", "--port", "0"], "'--port': expected 1 to 65535"),
    (["--pcap-file", "x", "--peer", PEER, "--protocol", "wireguard", "--port", "70000"], "'--port'"),
    (["--pcap-file", "x", "--peer", PEER, "--protocol", "wireguard", "--port", "51820x"], "'--port'"),
    (["--pcap-file", "x", "--peer", PEER, "--port", "51820"], "--port needs --protocol openvpn or wireguard"),
    (["--pcap-file", "x", "--peer", PEER, "--protocol", "ipsec", "--port", "4500"], "--port needs"),
    (["--pcap-file", "x", "--peer", PEER, "--duration", "2"], "--duration applies to live capture"),
    (["-i", "lo", "--duration", "abc"], "'--duration'"),
    (["-i", "lo", "--duration", "0"], "'--duration'"),
    (["-i", "lo", "--duration", "-1"], "'--duration'"),
    (["-i", "lo", "--duration", "5000"], "'--duration'"),
    (["--pcap-file", "x", "--peer", PEER, "--idle-state", "maybe"], "'--idle-state'"),
    (["--pcap-file", "x", "--peer", PEER, "-t", "0"], "--timeout"),
    (["--bogus"], "unrecognised option '--bogus'"),
])
def test_bad_options(args, expect):
    r = traffic(*args)
    assert r.rc == 3, str(r)
    assert expect in r.lines[0], str(r)
    assert len(r.lines) <= 25 and all(len(line) <= 80 for line in r.lines[1:])


def test_verbose_shows_filter_and_dropped_capabilities():
    r = pcap("ipsec-flowing.pcap", "-vvv")
    assert r.rc == 0
    assert f"debug: BPF filter: (udp port 500 or udp port 4500 or ip proto 50 or ip6 proto 50 or udp port 1194 " \
           f"or tcp port 1194 or udp port 51820) and (host {PEER})" in r.lines
    assert "debug: capabilities: CapPrm:0000000000000000 CapEff:0000000000000000" in r.lines


# ---- live capture on loopback (root only; traffic stays on 127.0.0.0/8)

def send_wireguard_shaped(dst, port, seconds, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    end = time.monotonic() + seconds
    while time.monotonic() < end and not stop.is_set():
        s.sendto(bytes([4, 0, 0, 0]) + bytes(44), (dst, port))  # a data message: 48 bytes
        time.sleep(0.01)
    s.close()


@root
def test_live_one_way_out_on_loopback():
    stop = threading.Event()
    t = threading.Thread(target=send_wireguard_shaped, args=("127.0.0.2", 51999, 4, stop))
    t.start()
    try:
        r = traffic("-i", "lo", "--peer", "127.0.0.2", "--protocol", "wireguard", "--port", "51999",
                    "--duration", "1.5", "-vvv")
    finally:
        stop.set()
        t.join()
    assert r.rc == 2, str(r)
    assert r.summary.startswith("127.0.0.2 WireGuard one-way out: ")
    # The sender sleeps 10 ms between packets: at most about 100 a second,
    # far fewer when the machine is loaded (55/s seen with 8 parallel builds).
    assert 10 <= r.perf["127_0_0_2_out_pps"].value <= 110, str(r)
    assert r.perf["127_0_0_2_out_Bps"].value == pytest.approx(r.perf["127_0_0_2_out_pps"].value * 76, rel=0.01)
    assert "debug: capabilities: CapPrm:0000000000000000 CapEff:0000000000000000" in r.lines
    assert 1.4 <= r.elapsed < 3


@root
def test_live_idle_and_duration_within_timeout():
    r = traffic("-i", "lo", "--peer", "127.0.0.9", "--protocol", "openvpn", "--port", "1", "--duration", "5",
                "-t", "2")
    assert r.rc == 0 and "idle" in r.summary, str(r)
    # The budget counts from the process's start, so a slow start (a
    # sanitizer build, a busy machine) leaves a little less for the capture.
    assert any(re.match(r"capture shortened from 5 s to 1\.[0-7] s to finish within -t 2$", line) for line in r.lines), \
        str(r)
    assert r.elapsed < 2.2


@root
def test_live_no_such_interface():
    r = traffic("-i", "nosuch0", "--duration", "1")
    assert r.rc == 3 and "nosuch0" in r.summary, str(r)


@root
def test_live_without_cap_net_raw_is_unknown():
    r = traffic("-i", "lo", "--duration", "1", user="nobody")
    assert r.rc == 3, str(r)
    assert r.summary == "no permission to capture on lo: needs CAP_NET_RAW (run as root or give the plugin " \
                        "file capability cap_net_raw+ep)"

