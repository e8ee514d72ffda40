# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for the tests of icinga-conf/ and nagios-conf/: private Icinga 2
and Nagios 4 instances (every path redirected, nothing of the host's own
configuration touched) and a small reader for our CheckCommand file."""
import grp
import json
import os
import pwd
import re
import shutil
import subprocess
import time

from sitelink_test import BUILD, SOURCE

ICINGA2 = "/usr/lib/x86_64-linux-gnu/icinga2/sbin/icinga2"
SYSTEM_INCLUDE = "/usr/share/icinga2/include"
NAGIOS4 = "/usr/sbin/nagios4"
NAGIOS_PLUGIN_CONFIG = "/etc/nagios-plugins/config"

ICINGA_CONF = os.path.join(SOURCE, "icinga-conf")
SITELINK_CONF = os.path.join(ICINGA_CONF, "sitelink.conf")
SINGLE = os.path.join(ICINGA_CONF, "examples", "single")
DISTRIBUTED = os.path.join(ICINGA_CONF, "examples", "distributed")
NAGIOS_CONF = os.path.join(SOURCE, "nagios-conf")
NAGIOS_COMMANDS = os.path.join(NAGIOS_CONF, "sitelink-commands.cfg")
NAGIOS_EXAMPLE = os.path.join(NAGIOS_CONF, "examples", "single", "sitelink-example.cfg")

PLUGINS = {
    "sitelink_vpn_tunnel_up": "check_vpn_tunnel_up",
    "sitelink_cross_site_ping": "check_cross_site_ping",
    "sitelink_replication_lag": "check_replication_lag",
    "sitelink_tunnel_traffic": "check_tunnel_traffic",
}


def packaged_include_dir(dest, with_sitelink=True):
    """A copy of the system include directory (symlinks) with sitelink.conf
    where the package puts it, so `include <plugins-contrib>` loads it exactly
    as on an installed system."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.makedirs(dest)
    for name in os.listdir(SYSTEM_INCLUDE):
        if name != "plugins-contrib.d":
            os.symlink(os.path.join(SYSTEM_INCLUDE, name), os.path.join(dest, name))
    contrib = os.path.join(dest, "plugins-contrib.d")
    os.makedirs(contrib)
    src = os.path.join(SYSTEM_INCLUDE, "plugins-contrib.d")
    for name in os.listdir(src):
        os.symlink(os.path.join(src, name), os.path.join(contrib, name))
    if with_sitelink:
        shutil.copy(SITELINK_CONF, os.path.join(contrib, "sitelink.conf"))
    return dest


class Icinga:
    """One Icinga 2 instance living entirely under `root`."""

    def __init__(self, root, include_dir=None):
        self.root = os.path.abspath(root)
        self.etc = os.path.join(self.root, "etc")
        self.data = os.path.join(self.root, "data")
        self.log_dir = os.path.join(self.root, "log")
        for d in (self.etc, self.data, self.log_dir, self.path("cache"), self.path("spool"),
                  self.path("run")):
            os.makedirs(d, exist_ok=True)
        self.include_dir = include_dir or packaged_include_dir(self.path("include"))

    def path(self, *p):
        return os.path.join(self.root, *p)

    def flags(self):
        d = {
            "ConfigDir": self.etc,
            "DataDir": self.data,
            "CacheDir": self.path("cache"),
            "LogDir": self.log_dir,
            "SpoolDir": self.path("spool"),
            "InitRunDir": self.path("run"),
            "ZonesDir": os.path.join(self.etc, "zones.d"),
            "IncludeConfDir": self.include_dir,
            # Icinga switches to RunAsUser; stay whoever runs the test.
            "RunAsUser": pwd.getpwuid(os.getuid()).pw_name,
            "RunAsGroup": grp.getgrgid(os.getgid()).gr_name,
        }
        return [f"-DConfiguration.{k}={v}" for k, v in d.items()]

    def cli(self, *args, timeout=120):
        return subprocess.run([ICINGA2] + list(args) + self.flags(), capture_output=True,
                              text=True, timeout=timeout)

    def validate(self, config=None):
        p = subprocess.run([ICINGA2, "daemon", "-C", "-c", config or os.path.join(self.etc, "icinga2.conf")]
                           + self.flags(), capture_output=True, text=True, timeout=120)
        return p

    def write(self, rel, text):
        f = os.path.join(self.etc, rel)
        os.makedirs(os.path.dirname(f), exist_ok=True)
        with open(f, "w") as fh:
            fh.write(text)
        return f

    def daemon_cmd(self):
        return [ICINGA2, "daemon", "-c", os.path.join(self.etc, "icinga2.conf")] + self.flags()

    def plugin_dir(self):
        return link_plugins(self.path("plugins"))


def link_plugins(d):
    """A plugin directory as on an installed system: the built plugins next
    to the monitoring-plugins (the ITL's hostalive needs check_ping), as links."""
    os.makedirs(d, exist_ok=True)
    for src in ("/usr/lib/nagios/plugins", os.path.join(BUILD, "bin")):
        for name in os.listdir(src):
            link = os.path.join(d, name)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(os.path.join(src, name), link)
    return d


def nagios_main_cfg(root, cfg_dirs, cfg_files, user, group, extra=None):
    """A nagios.cfg keeping every file Nagios writes under `root`."""
    os.makedirs(os.path.join(root, "checkresults"), exist_ok=True)
    with open(os.path.join(root, "resource.cfg"), "w") as fh:
        fh.write((extra or {}).pop("resource", "$USER1$=/usr/lib/nagios/plugins\n"))
    lines = [f"log_file={root}/nagios.log"]
    lines += [f"cfg_dir={d}" for d in cfg_dirs]
    lines += [f"cfg_file={f}" for f in cfg_files]
    for k, v in {"resource_file": "resource.cfg", "object_cache_file": "objects.cache",
                 "precached_object_file": "objects.precache", "status_file": "status.dat",
                 "command_file": "nagios.cmd", "lock_file": "nagios.lock", "temp_file": "nagios.tmp",
                 "check_result_path": "checkresults", "state_retention_file": "retention.dat"}.items():
        lines.append(f"{k}={root}/{v}")
    lines += [f"temp_path={root}", f"nagios_user={user}", f"nagios_group={group}",
              "illegal_macro_output_chars=`~$&|'\"<>", "check_external_commands=1",
              "retain_state_information=0", "use_syslog=0"]
    lines += [f"{k}={v}" for k, v in (extra or {}).items()]
    f = os.path.join(root, "nagios.cfg")
    with open(f, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return f


def instantiated(output):
    """{type: count} from the 'Instantiated N Types.' lines of a validation."""
    out = {}
    for m in re.finditer(r"Instantiated (\d+) (\w+)\.", output):
        out[m.group(2)] = int(m.group(1))
    return out


def itl_command_names():
    names = set()
    for dirpath, _, files in os.walk(SYSTEM_INCLUDE):
        for f in files:
            with open(os.path.join(dirpath, f), errors="replace") as fh:
                names.update(re.findall(r'object\s+(?:CheckCommand|NotificationCommand|EventCommand)\s+"([^"]+)"',
                                        fh.read()))
    return names


# ---------------------------------------------------------------- reader
def _block(text, start):
    """The text between the brace at `start` and its partner."""
    depth = 0
    i = start
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    raise ValueError("unbalanced braces")


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"(?m)^\s*//.*$", "", text)


def _read_arguments(body, out):
    am = re.search(r"arguments\s*\+?=\s*\{", body)
    if not am:
        return
    args = _block(body, am.end() - 1)
    for a in re.finditer(r'"([^"]+)"\s*=\s*\{', args):
        inner = _block(args, a.end() - 1)
        fields = {}
        for f in re.finditer(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|\{\{.*?\}\}|function\(\)[^{]*\{[^}]*\}|\S+)',
                             inner, flags=re.S):
            fields.setdefault(f.group(1), f.group(2))
        out[a.group(1)] = fields


def read_templates(path=SITELINK_CONF):
    """{template: raw text of its arguments block} of the CheckCommand
    templates in the file."""
    text = _strip_comments(open(path).read())
    return {m.group(1): _block(text, m.end() - 1)
            for m in re.finditer(r'template\s+CheckCommand\s+"([^"]+)"\s*\{', text)}


def read_commands(path=SITELINK_CONF):
    """{command: {"arguments": {key: {field: raw}}, "vars": {name: raw},
    "env": {name: raw}, "imports": [name]}} from an ITL-style file (enough for
    our own file). A command's arguments include those of the file's own
    templates it imports, with the template's `"...$" + prefix + "_...$"`
    variables written out for that command, as Icinga builds them
    (test_conf_validate.py compares this reading with Icinga's own)."""
    text = _strip_comments(open(path).read())
    templates = read_templates(path)
    out = {}
    for m in re.finditer(r'object\s+CheckCommand\s+"([^"]+)"\s*\{', text):
        name = m.group(1)
        body = _block(text, m.end() - 1)
        cmd = {"arguments": {}, "vars": {}, "env": {}, "command": "",
               "imports": re.findall(r'(?m)^\s*import\s+"([^"]+)"', body)}
        cm = re.search(r"command\s*=\s*\[(.*?)\]", body)
        cmd["command"] = cm.group(1).strip() if cm else ""
        for imp in cmd["imports"]:
            if imp in templates:
                _read_arguments(templates[imp].replace('$" + prefix + "_', f'${name}_'), cmd["arguments"])
        _read_arguments(body, cmd["arguments"])
        em = re.search(r"env\s*=\s*\{", body)
        if em:
            for e in re.finditer(r'"([^"]+)"\s*=\s*"([^"]*)"', _block(body, em.end() - 1)):
                cmd["env"][e.group(1)] = e.group(2)
        for v in re.finditer(r"(?m)^\s*vars\.(\w+)\s*=\s*(.+?)\s*$", body):
            cmd["vars"][v.group(1)] = v.group(2)
        out[name] = cmd
    return out


def macros_of(text):
    return set(re.findall(r"\$(\w+)\$", text))


def help_options(help_text):
    """Option names a plugin's --help lists: {'--tunnel', '-w', ...}."""
    opts = set()
    for line in help_text.splitlines():
        m = re.match(r"^\s+(-\w)?(?:\s*\[\s*(--[\w-]+)\s*\]|,?\s*(--[\w-]+))?", line)
        if not m:
            continue
        for g in m.groups():
            if g:
                opts.add(g)
    return opts


# ---------------------------------------------------------------- lab
LAB_ICINGA = os.path.join(SOURCE, "tests", "lab", "lab-icinga")


def lab_icinga(*args, timeout=120, env=None):
    full = dict(os.environ)
    full.update(env or {})
    p = subprocess.run([LAB_ICINGA] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=timeout, env=full)
    if p.returncode != 0:
        raise AssertionError(f"lab-icinga {' '.join(map(str, args))} failed ({p.returncode}):\n"
                             f"{p.stdout}\n{p.stderr}")
    return p


class IcingaApi:
    """The REST API of an instance inside a lab namespace, through curl run
    in that namespace, verifying the instance's own CA."""

    def __init__(self, ns, ic, cn, password, port=5665):
        self.ns, self.ic, self.cn, self.port = ns, ic, cn, port
        # The credentials go to curl in a file, not on its command line.
        self.curl_cfg = ic.path("curl.cfg")
        fd = os.open(self.curl_cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f'user = "root:{password}"\n')

    def request(self, method, path, body=None, timeout=30):
        cmd = ["ip", "netns", "exec", self.ns, "curl", "-sS", "--max-time", str(timeout - 5),
               "-K", self.curl_cfg, "--cacert", os.path.join(self.ic.data, "certs", "ca.crt"),
               "--resolve", f"{self.cn}:{self.port}:127.0.0.1",
               "-H", "Accept: application/json", "-X", method]
        if body is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        cmd.append(f"https://{self.cn}:{self.port}/v1/{path}")
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        assert p.returncode == 0, f"curl {method} {path}: {p.stderr}"
        return json.loads(p.stdout)

    def service(self, host, svc):
        r = self.request("GET", f"objects/services/{host}!{svc}")
        assert "results" in r, r
        return r["results"][0]["attrs"]

    def endpoint(self, name):
        return self.request("GET", f"objects/endpoints/{name}")["results"][0]["attrs"]

    def force(self, host, svc, timeout=60):
        """Run the service's check now and return its attributes once the new
        result is in."""
        t0 = time.time()
        r = self.request("POST", "actions/reschedule-check", {
            "type": "Service", "filter": "host.name == h && service.name == s",
            "filter_vars": {"h": host, "s": svc}, "force": True})
        assert r.get("results") and r["results"][0]["code"] == 200, r
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            a = self.service(host, svc)
            cr = a.get("last_check_result") or {}
            if cr.get("schedule_end", 0) >= t0:
                return a
            time.sleep(0.3)
        raise AssertionError(f"no new check result for {host}!{svc} within {timeout} s")


def result_perf(attrs):
    """Perfdata of a service's last result, parsed by the shared parser."""
    from sitelink_test import parse_perfdata
    return parse_perfdata(" ".join(attrs["last_check_result"]["performance_data"]))
