# SPDX-License-Identifier: GPL-2.0-or-later
"""Starts tests/tools/cloud_server.py for the cloud backend CLI tests."""
import json
import os
import signal
import subprocess
import urllib.request

from sitelink_test import BUILD, SOURCE

SERVER = os.path.join(SOURCE, "tests", "tools", "cloud_server.py")
SIGNER = os.path.join(BUILD, "tests", "tools", "sigv4_tool")
FIXTURES = os.path.join(SOURCE, "tests", "fixtures", "cloud")


def self_signed(dirpath):
    """A throw-away certificate for 127.0.0.1, made at test time."""
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class CloudServer:
    def __init__(self, tls=None):
        args = ["python3", SERVER, "--signer", SIGNER]
        if tls:
            args += ["--cert", tls[0], "--key", tls[1]]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("PORT "), f"cloud_server did not start: {line!r}"
        self.port = int(line.split()[1])
        self.scheme = "https" if tls else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._control_url = self.url

    def _open(self, req):
        import ssl
        ctx = ssl._create_unverified_context() if self.scheme == "https" else None
        return urllib.request.urlopen(req, timeout=10, context=ctx)

    def control(self, fault=None, target="all", slow=2.0, cut=0):
        body = json.dumps({"fault": fault, "target": target, "slow": slow, "cut": cut}).encode()
        req = urllib.request.Request(self.url + "/_control", data=body, method="POST")
        self._open(req).read()

    def requests(self):
        return json.loads(self._open(self.url + "/_requests").read())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def base_env(home):
    """A clean environment: nothing from the developer's AWS/OpenStack setup,
    and never the real instance metadata address."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C",
            "AWS_EC2_METADATA_DISABLED": "true"}


def fixture_secrets():
    """Every pre-shared key in the fixtures, to prove none is ever printed."""
    import re
    out = set()
    for name in ("ec2_describe_vpn_connections.xml", "neutron_ipsec_site_connections.json"):
        with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
            out.update(re.findall(r"(?:PSK_SECRET|NEUTRON_PSK)_\w+", f.read()))
    assert len(out) >= 10
    return out


def run_clean(args, env, timeout=60):
    """Runs check_vpn_tunnel_up with exactly `env` (run() would merge the
    caller's environment, and with it any real cloud credentials)."""
    import time
    from sitelink_test import Run, parse_output, plugin_path
    cmd = [plugin_path("check_vpn_tunnel_up")] + list(args)
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    r = Run(p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    r.service, r.state, r.summary, r.perf, r.lines = parse_output(p.stdout)
    return r


def cloud_runner(server, home, service, args_for, env_for):
    """The runner behind the cloud CLI fixtures: `run(*args, ..., **kw)` runs
    check_vpn_tunnel_up with a clean environment (base_env plus env_for(kw)
    plus `env=`), the arguments args_for(args, kw) and `-t timeout`, and
    checks the plugin conventions. The server is reset before and after."""
    from sitelink_test import check_conventions

    def run(*args, env=None, timeout=None, **kw):
        e = base_env(home)
        e.update(env_for(**kw))
        e.update(env or {})
        a = args_for(list(args), **kw)
        if timeout is not None:
            a += ["-t", str(timeout)]
        r = run_clean(a, e)
        check_conventions(r, service)
        return r
    run.server = server
    run.home = home
    return run


# ---- the fault block every cloud backend's CLI tests share ------------------------
# `run` is a cloud_runner, `args` the check's arguments, `target` the part of
# cloud_server.py a fault applies to (its /_control "target").

def asked(server, action):
    """The requests cloud_server.py logged for `action` (e.g. "azure-arm")."""
    return [q for q in server.requests() if q.get("action") == action]


def assert_fault_ends_on_time(run, args, target, fault, text, slow=2.0, timeout=3, **kw):
    """With `fault` on `target`, the check run with -t `timeout` is UNKNOWN
    naming `text`, and ends within half a second of the timeout."""
    run.server.control(fault, target, slow=slow)
    r = run(*args, timeout=timeout, **kw)
    assert r.rc == 3, str(r)
    assert text in r.summary, str(r)
    assert r.elapsed < timeout + 0.5, str(r)
    return r


def assert_refused_quickly(run, args, env, api, timeout=3, **kw):
    """With the API's endpoint in `env` on a closed port, the check is UNKNOWN
    naming "`api` at http://127.0.0.1:" and ends within the timeout."""
    r = run(*args, env=env, timeout=timeout, **kw)
    assert r.rc == 3 and f"{api} at http://127.0.0.1:" in r.summary, str(r)
    assert r.elapsed < timeout + 0.5, str(r)
    return r


def assert_throttled_once_is_retried(run, args, target, texts, requests=None, timeout=None):
    """One throttled answer is retried and the check is OK (and, given
    `requests`, that callable then counts 2 requests); a throttle that lasts
    is UNKNOWN with every one of `texts` in the summary."""
    run.server.control("throttle_once", target)
    r = run(*args, timeout=timeout)
    assert r.rc == 0, str(r)
    if requests is not None:
        assert len(requests()) == 2
    run.server.control("throttle", target)
    r = run(*args, timeout=timeout)
    assert r.rc == 3 and all(t in r.summary for t in texts), str(r)


def assert_slow_within_budget(run, args, target, slow, timeout):
    """An answer `slow` seconds late but inside the -t budget is still OK."""
    run.server.control("slow", target, slow=slow)
    r = run(*args, timeout=timeout)
    assert r.rc == 0 and r.elapsed >= slow, str(r)
