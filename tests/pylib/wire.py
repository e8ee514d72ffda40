# SPDX-License-Identifier: GPL-2.0-or-later
"""The wire as a reference for round trips: tcpdump in a lab namespace with
the kernel's nanosecond timestamps, so each echo's round trip is what the
host's network stack saw, free of any tool's own delays. Used by the lab
latency test and by bench/ping's accuracy table."""
import os
import re
import subprocess
import tempfile
import time

ECHO = re.compile(r"^(\d+\.\d+) .*ICMP6?,? echo (request|reply), id (\d+), seq (\d+)", re.M)


class WireCapture:
    """tcpdump in a lab namespace, ICMP to and from one host.
    --immediate-mode: without it, packets still in the capture ring's open
    block when tcpdump is stopped are counted but never written."""

    def __init__(self, ns, host):
        self.ns, self.host = ns, host
        self.file = tempfile.NamedTemporaryFile(suffix=".pcap", delete=False).name
        self.proc = None

    def __enter__(self):
        proto = "icmp6" if ":" in self.host else "icmp"
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "tcpdump", "-i", "any", "-n", "-U", "--immediate-mode", "-s", "128",
             "--time-stamp-precision=nano", "-w", self.file, f"{proto} and host {self.host}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        line = ""
        while "listening on" not in line:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self._stop()
                os.unlink(self.file)
                raise RuntimeError(f"tcpdump did not start: {line}")
            line = self.proc.stderr.readline()
        return self

    def _stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if self.proc:
            self.proc.stderr.close()

    def __exit__(self, exc_type, *exc):
        self._stop()
        if exc_type is not None and os.path.exists(self.file):
            os.unlink(self.file)  # the run failed: nobody reads the capture

    def echoes(self):
        """[(identifier, sequence, round trip in ms or None)] in the order the
        requests left. Reads the capture once and removes it."""
        try:
            out = subprocess.run(["tcpdump", "-r", self.file, "-n", "-tt", "--time-stamp-precision=nano"],
                                 capture_output=True, text=True, check=True).stdout
        finally:
            os.unlink(self.file)
        order, sent, rtt = [], {}, {}
        for ts, kind, ident, seq in ECHO.findall(out):
            key = (int(ident), int(seq))
            if kind == "request":
                if key not in sent:
                    order.append(key)
                sent[key] = float(ts)
            elif key in sent and key not in rtt:
                rtt[key] = (float(ts) - sent[key]) * 1000
        return [(k[0], k[1], rtt.get(k)) for k in order]

    def rtts_ms(self):
        """The round trips of the answered echoes, in ms."""
        return [r for _, _, r in self.echoes() if r is not None]
