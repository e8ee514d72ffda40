# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the CLI and lab tests: run a plugin, parse its output."""
import os
import re
import subprocess
import time
from dataclasses import dataclass, field

BUILD = os.environ.get("SITELINK_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build", "ci"))
SOURCE = os.environ.get("SITELINK_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}

_PERF_RE = re.compile(r"""('(?:[^']*)'|[^=' ]+)=(\S*)""")


def plugin_path(name):
    return os.path.join(BUILD, "bin", name)


@dataclass
class PerfItem:
    label: str
    value: object  # float or None for U
    uom: str
    warn: str = ""
    crit: str = ""
    min: str = ""
    max: str = ""


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    elapsed: float
    lines: list = field(default_factory=list)
    service: str = ""
    state: str = ""
    summary: str = ""
    perf: dict = field(default_factory=dict)

    def __str__(self):
        return f"rc={self.rc} elapsed={self.elapsed:.2f}s\n{self.stdout}\nstderr: {self.stderr}"


def parse_perfdata(text):
    items = {}
    for m in _PERF_RE.finditer(text):
        label = m.group(1)
        if label.startswith("'"):
            label = label[1:-1]
        fields = m.group(2).split(";")
        vm = re.match(r"^(-?[0-9.]+|U)([a-zA-Z%]*)$", fields[0])
        assert vm, f"bad perfdata value in {m.group(0)!r}"
        value = None if vm.group(1) == "U" else float(vm.group(1))
        rest = fields[1:] + [""] * (4 - len(fields[1:]))
        items[label] = PerfItem(label, value, vm.group(2), *rest[:4])
    return items


def address_label(address):
    """A perfdata label (prefix) built from an address or host name, as the
    plugins write it: every character that is not a letter or digit made _
    (192.0.2.2 -> 192_0_2_2; common/include/sitelink/perfdata.hpp)."""
    return re.sub(r"[^A-Za-z0-9]", "_", address)


def parse_output(stdout):
    lines = stdout.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    first = lines[0] if lines else ""
    m = re.match(r"^(\S+) (OK|WARNING|CRITICAL|UNKNOWN) - (.*)$", first)
    if not m:
        return "", "", first, {}, lines
    summary, _, perf = m.group(3).partition(" | ")
    return m.group(1), m.group(2), summary, parse_perfdata(perf) if perf else {}, lines


def run(name_or_path, args, env=None, timeout=60, user=None, path=None, stdin=None):
    exe = path or (name_or_path if os.path.sep in name_or_path else plugin_path(name_or_path))
    cmd = [exe] + list(args)
    if user:
        import pwd
        pw = pwd.getpwnam(user)
        cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
               "--inh-caps=-all"] + cmd
    full_env = dict(os.environ)
    full_env.update(env or {})
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout,
                       stdin=stdin if stdin is not None else subprocess.DEVNULL)
    elapsed = time.monotonic() - start
    r = Run(p.returncode, p.stdout, p.stderr, elapsed)
    r.service, r.state, r.summary, r.perf, r.lines = parse_output(p.stdout)
    return r


def check_conventions(r, service):
    """Assertions every plugin run must satisfy, whatever its state."""
    assert r.rc in (0, 1, 2, 3), str(r)
    assert r.stderr == "", str(r)
    assert r.service == service, str(r)
    assert r.state == STATES[r.rc], str(r)
    assert len(r.stdout.encode()) <= 8192 or len(r.lines[0]) > 8000, str(r)
    for line in r.lines[1:]:
        assert " | " not in line or line.startswith("Impact") or line.startswith("Action"), str(r)


def closed_port():
    """A local TCP port nothing listens on: a connection to it is refused at once."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
