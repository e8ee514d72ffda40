#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds capture files for check_tunnel_traffic by hand.

  pcapgen.py fixtures DIR      the hand-built fixtures (variants the lab does not
                               produce, and damaged files) from DIR's recordings
  pcapgen.py bench FILE N      a large capture of N packets for the benchmark

Frames are assembled from their headers so that each one exercises a known
path of the classifier; checksums are left zero (nothing checks them).
"""
import random
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_IEEE802_11 = 105

A4, B4 = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
A6 = bytes.fromhex("20010db8000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")


def pcap_header(linktype, snaplen=262144):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def record(ts, frame, orig=None):
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    return struct.pack("<IIII", sec, usec, len(frame), orig if orig is not None else len(frame)) + frame


def ipv4(src, dst, proto, payload, frag=0):
    total = 20 + len(payload)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, frag, 64, proto, 0, src, dst) + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport, dport, payload, flags=0x18):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, flags, 65535, 0, 0) + payload


def ike(response, version=0x20, exchange=34):
    flags = 0x20 if response else 0x08
    return b"\x11" * 8 + b"\x00" * 8 + bytes([33, version, exchange, flags]) + struct.pack("!II", 0, 28 + 8) + b"\0" * 8


def esp(spi, seq, size=64):
    return struct.pack("!II", spi, seq) + bytes(size)


def ether(payload, ethertype, vlan=None):
    head = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01"
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", ethertype) + payload


def wg(msg_type, size):
    return bytes([msg_type, 0, 0, 0]) + bytes(size - 4)


def write(path, linktype, frames, t0=1795300000.0, step=0.1):
    with open(path, "wb") as f:
        f.write(pcap_header(linktype))
        for i, fr in enumerate(frames):
            f.write(record(t0 + i * step, fr))


def fixtures(d):
    # Raw IPv6: ESP as IP protocol 50 both ways, IKE behind a hop-by-hop
    # header, and a non-first fragment (no transport header).
    hbh = bytes([17, 0]) + b"\x01\x04\0\0\0\0"  # next = UDP, PadN
    frag_later = bytes([17, 0]) + struct.pack("!HI", (185 << 3), 7)
    raw6 = [
        ipv6(A6, B6, 50, esp(0x1001, 1)),
        ipv6(B6, A6, 50, esp(0x2002, 1)),
        ipv6(A6, B6, 50, esp(0x1001, 2)),
        ipv6(A6, B6, 0, hbh + udp(4500, 4500, b"\0\0\0\0" + ike(False))),
        ipv6(B6, A6, 44, frag_later + bytes(40)),
    ]
    write(f"{d}/synthetic-raw-ipv6.pcap", LINKTYPE_RAW, raw6)

    # Ethernet with an 802.1Q tag and odds and ends around the tunnel ports.
    eth = [
        ether(ipv4(A4, B4, 17, udp(4500, 4500, b"\xff")), 0x0800, vlan=10),            # NAT-T keepalive
        ether(ipv4(A4, B4, 17, udp(500, 500, ike(False, version=0x10, exchange=2))), 0x0800),  # IKEv1
        ether(ipv4(B4, A4, 17, udp(500, 500, ike(True, version=0x10, exchange=2))), 0x0800),
        ether(bytes(28), 0x0806),                                                      # ARP
        ether(ipv4(A4, B4, 17, udp(40000, 53, bytes(20))), 0x0800),                    # DNS
        ether(ipv4(A4, B4, 17, udp(51820, 51820, wg(4, 33))), 0x0800),                 # bad WG size
        ether(ipv4(A4, B4, 6, tcp(40001, 1194, b"\x00\x2a\x38" + bytes(39))), 0x0800),  # OpenVPN/TCP
        ether(ipv4(B4, A4, 6, tcp(1194, 40001, b"", flags=0x10)), 0x0800),             # its ACK
        ether(ipv4(A4, B4, 17, udp(4500, 4500, esp(7, 1))[:12]), 0x0800),              # truncated UDP
    ]
    write(f"{d}/synthetic-vlan.pcap", LINKTYPE_ETHERNET, eth)

    good = open(f"{d}/ipsec-flowing.pcap", "rb").read()
    # Cut inside the file header.
    open(f"{d}/truncated-header.pcap", "wb").write(good[:10])
    # Cut inside the third packet's data.
    off = 24
    for _ in range(2):
        caplen = struct.unpack("<I", good[off + 8:off + 12])[0]
        off += 16 + caplen
    open(f"{d}/truncated-record.pcap", "wb").write(good[:off + 16 + 20])
    # An absurd captured length in the second record header.
    caplen0 = struct.unpack("<I", good[24 + 8:24 + 12])[0]
    second = 24 + 16 + caplen0
    bad = bytearray(good)
    bad[second + 8:second + 12] = struct.pack("<I", 0xFFFFFF00)
    open(f"{d}/corrupt-caplen.pcap", "wb").write(bytes(bad))
    open(f"{d}/not-a-capture.pcap", "wb").write(b"this is not a capture file\n" * 2)
    write(f"{d}/unsupported-link.pcap", LINKTYPE_IEEE802_11, [bytes(30)])


def bench(path, n):
    """N frames: ESP-in-UDP both ways (most of it), IKE, WireGuard, OpenVPN,
    and some traffic the classifier has to reject, across 8 peers."""
    rnd = random.Random(7)
    peers = [bytes([198, 51, 100, i]) for i in range(2, 10)]
    templates = []
    for p in peers:
        templates += [ether(ipv4(A4, p, 17, udp(4500, 4500, esp(0x100, 1, 100))), 0x0800)] * 6
        templates += [ether(ipv4(p, A4, 17, udp(4500, 4500, esp(0x200, 1, 100))), 0x0800)] * 6
        templates.append(ether(ipv4(A4, p, 17, udp(500, 500, ike(False))), 0x0800))
        templates.append(ether(ipv4(p, A4, 17, udp(500, 500, ike(True))), 0x0800))
        templates.append(ether(ipv4(A4, p, 17, udp(51820, 51820, wg(4, 128))), 0x0800))
        templates.append(ether(ipv4(p, A4, 17, udp(1194, 1194, b"\x48" + bytes(60))), 0x0800))
        templates.append(ether(ipv6(A6, B6, 50, esp(0x300, 1, 100)), 0x86DD))
        templates.append(ether(ipv4(A4, p, 17, udp(40000, 53, bytes(30))), 0x0800))
    with open(path, "wb") as f:
        f.write(pcap_header(LINKTYPE_ETHERNET, 256))
        t = 1795300000.0
        buf = []
        for i in range(n):
            fr = templates[rnd.randrange(len(templates))]
            buf.append(record(t + i * 0.00005, fr[:256], len(fr)))
            if len(buf) >= 10000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "fixtures":
        fixtures(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(__doc__)
