# SPDX-License-Identifier: GPL-2.0-or-later
"""Privilege audit: the plugins that need cap_net_raw (raw ICMP sockets,
packet capture) get it as a file capability, run as an unprivileged user,
and hold no capability at all once their socket or capture handle is open.

Each test installs a copy of the plugin with `setcap cap_net_raw+ep`, runs it
as `nobody` against something that keeps it busy (a long probe series to
loopback, a live capture on lo), and reads CapEff/CapPrm/CapAmb from
/proc/<pid>/status while it waits. A copy without the capability is run
first to show that the capability is what makes the plugin work. Needs
root (setcap, switching users); skipped otherwise.
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from sitelink_test import check_conventions, parse_output, plugin_path

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setcap") is None,
                                reason="needs root and setcap (libcap2-bin)")
USER = "nobody"


@pytest.fixture
def install(request):
    """Copies a plugin into a directory `nobody` can reach, optionally with
    cap_net_raw+ep."""
    d = tempfile.mkdtemp(prefix="sitelink-caps-")
    os.chmod(d, 0o755)
    request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))

    def do(name, caps):
        dst = os.path.join(d, name + ("-cap" if caps else "-nocap"))
        shutil.copy(plugin_path(name), dst)
        os.chmod(dst, 0o755)
        if caps:
            subprocess.run(["setcap", "cap_net_raw+ep", dst], check=True)
        return dst
    return do


def as_user(argv):
    pw = pwd.getpwnam(USER)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all,+net_raw"] + argv


def caps_of(pid):
    caps = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapEff", "CapPrm", "CapAmb", "CapInh", "Uid"):
                caps[key] = value.strip()
    return caps


def run_and_sample(argv, wait, timeout):
    """Starts the plugin as nobody, samples its capabilities after `wait`
    seconds (while it is still blocked), then collects the result."""
    p = subprocess.Popen(as_user(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(wait)
        assert p.poll() is None, f"plugin ended before it could be sampled: {p.communicate()}"
        caps = caps_of(p.pid)
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err, caps


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.stdout, self.stderr = rc, out, err
        self.service, self.state, self.summary, self.perf, self.lines = parse_output(out)

    def __str__(self):
        return f"rc={self.rc}\n{self.stdout}\nstderr: {self.stderr}"


def assert_dropped(caps):
    uid = pwd.getpwnam(USER).pw_uid
    assert caps["Uid"].split()[0] == str(uid), caps
    for key in ("CapEff", "CapPrm", "CapAmb"):
        assert int(caps[key], 16) == 0, f"{key} still set while waiting: {caps}"


# Paced, so that the plugin is still waiting for replies when sampled.
PING_ARGS = ["-H", "127.0.0.1", "-n", "8", "-i", "1s", "-t", "20", "--paced"]


def assert_needs_the_capability(install, plugin, service, args):
    """Installed without cap_net_raw and run as an ordinary user: UNKNOWN,
    naming the capability or the permission."""
    exe = install(plugin, caps=False)
    p = subprocess.run(as_user([exe] + args), capture_output=True, text=True, timeout=30)
    r = Result(p.returncode, p.stdout, p.stderr)
    check_conventions(r, service)
    assert r.state == "UNKNOWN" and ("cap_net_raw" in r.stdout or "ermission" in r.stdout), str(r)


def test_ping_needs_the_capability(install):
    assert_needs_the_capability(install, "check_cross_site_ping", "CROSS_SITE_PING",
                                PING_ARGS[:2] + ["-n", "1", "-t", "5"])


def test_ping_drops_capabilities_once_the_socket_is_open(install):
    exe = install("check_cross_site_ping", caps=True)
    rc, out, err, caps = run_and_sample([exe] + PING_ARGS, wait=2.5, timeout=30)
    r = Result(rc, out, err)
    check_conventions(r, "CROSS_SITE_PING")
    # The socket worked (loopback answers), so the capability was there.
    assert r.state == "OK", str(r)
    assert_dropped(caps)


def test_traffic_needs_the_capability(install):
    assert_needs_the_capability(install, "check_tunnel_traffic", "TUNNEL_TRAFFIC",
                                ["-i", "lo", "--duration", "1", "-t", "5"])


def test_traffic_drops_capabilities_once_capturing(install):
    exe = install("check_tunnel_traffic", caps=True)
    rc, out, err, caps = run_and_sample([exe, "-i", "lo", "--duration", "4", "-t", "10"], wait=2, timeout=30)
    r = Result(rc, out, err)
    check_conventions(r, "TUNNEL_TRAFFIC")
    # A capture on an idle lo ends with a verdict, not a permission error.
    assert r.state != "UNKNOWN" or "ermission" not in r.stdout, str(r)
    assert "cap_net_raw" not in r.summary, str(r)
    assert_dropped(caps)
