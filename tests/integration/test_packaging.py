# SPDX-License-Identifier: GPL-2.0-or-later
"""The .deb and .rpm packages: lint, split, install, least privilege, use, purge.

The packages are built once per ctest run by the `packages.build` fixture
(packaging/CMakeLists.txt: packaging/build-packages, from the built tree, into
<build>/packages); this file only consumes them. It installs the .debs on this
machine (root) and purges them at the end, whatever happened in between.

The packages are split by weight (packaging/README.md): sitelink-common, one
package per plugin, one per heavy backend module, the metapackage sitelink.

The `nagios` user is not created by sitelink: like Debian's
monitoring-plugins, the package leaves that to the monitoring daemon that runs
the plugins (icinga2-common, nagios4-common), which scripts/packages/conf.txt
installs. A machine without the user fails here with a message saying so.
"""
import glob
import grp
import json
import os
import pwd
import re
import shutil
import grp
import stat
import subprocess
import tempfile
import time

import pytest

from sitelink_test import BUILD, SOURCE, parse_output
import sitelink_icinga as si

PACKAGES = os.environ.get("SITELINK_PACKAGES", os.path.join(BUILD, "packages"))
DEB_PLUGIN_DIR = "/usr/lib/nagios/plugins"
RPM_PLUGIN_DIR = "/usr/lib64/nagios/plugins"
RAW_SOCKET_PLUGINS = {"check_cross_site_ping", "check_tunnel_traffic"}
# Plugins only the monitoring group may run (0750 root:nagios): the capturer
# sees any interface's traffic. check_cross_site_ping stays 0755 like check_icmp.
GROUP_ONLY_PLUGINS = {"check_tunnel_traffic"}
ICINGA_FILE = "/usr/share/icinga2/include/plugins-contrib.d/sitelink.conf"
NAGIOS_FILE = "/etc/nagios-plugins/config/sitelink.cfg"
APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-y", "-q", "--no-install-recommends"]
# package -> what it holds, the same in both formats
PACKAGES_SPLIT = {
    "sitelink": set(),
    "sitelink-common": {ICINGA_FILE, NAGIOS_FILE, "/etc/sitelink/runbooks.json"},
    "sitelink-vpn-tunnel-up": {DEB_PLUGIN_DIR + "/check_vpn_tunnel_up"},
    "sitelink-vpn-cloud": {"/usr/lib/sitelink/sitelink_cloud.so"},
    "sitelink-cross-site-ping": {DEB_PLUGIN_DIR + "/check_cross_site_ping"},
    "sitelink-tunnel-traffic": {DEB_PLUGIN_DIR + "/check_tunnel_traffic"},
    "sitelink-replication": {DEB_PLUGIN_DIR + "/check_replication_lag"},
    "sitelink-replication-postgresql": {"/usr/lib/sitelink/sitelink_pgsql.so"},
    "sitelink-replication-mysql": {"/usr/lib/sitelink/sitelink_mysql.so"},
}
# The libraries only the module packages may pull (Debian, rpm sonames).
HEAVY_DEB = ("libpq", "libmariadb", "libcurl")
HEAVY_SONAMES = ("libpq.so", "libmariadb.so", "libcurl.so")


def sh(cmd, timeout=300, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def cmake_version():
    text = open(os.path.join(SOURCE, "CMakeLists.txt")).read()
    m = re.search(r"project\(sitelink VERSION ([0-9.]+)", text)
    assert m, "no project(sitelink VERSION ...) in CMakeLists.txt"
    return m.group(1)


def one(pattern):
    found = [f for f in glob.glob(os.path.join(PACKAGES, pattern))
             if "dbgsym" not in f and "debuginfo" not in f and "debugsource" not in f]
    assert len(found) == 1, (f"expected one {pattern} in {PACKAGES}, found {found}: the packages.build "
                             "fixture (packaging/build-deb, packaging/build-rpm) did not produce it")
    return found[0]


@pytest.fixture(scope="module")
def debs():
    """{package name: .deb file} of every package (no debug symbols)."""
    return {name: one(f"{name}_*.deb") for name in PACKAGES_SPLIT}


@pytest.fixture(scope="module")
def rpms():
    return {name: one(f"{name}-[0-9]*.rpm") for name in PACKAGES_SPLIT}


def all_deb_paths(debs):
    out = {}
    for f in debs.values():
        out.update(deb_paths(f))
    return out


def deb_paths(deb_file):
    """{path: mode string} of the files in the .deb."""
    out = {}
    for line in sh(["dpkg-deb", "-c", deb_file]).stdout.splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(" -> ")[0]
        out[path[1:].rstrip("/") or "/"] = fields[0]
    return out


def rpm_query(rpm_file, fmt):
    return sh(["rpm", "-qp", "--qf", fmt, rpm_file]).stdout


def run_as(user, cmd, netns=None, timeout=60):
    """Runs cmd as `user` with no inheritable capabilities: whatever the
    plugin can do, it gets from its own file capabilities."""
    pw = pwd.getpwnam(user)
    full = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups",
            "--inh-caps=-all", "--reset-env"] + cmd
    if netns:
        full = ["ip", "netns", "exec", netns] + full
    start = time.monotonic()
    p = subprocess.run(full, capture_output=True, text=True, timeout=timeout, cwd="/",
                       stdin=subprocess.DEVNULL)
    p.elapsed = time.monotonic() - start
    p.service, p.state, p.summary, p.perf, p.lines = parse_output(p.stdout)
    return p


@pytest.fixture
def open_tmp():
    """A directory the nagios user can reach (pytest's own is root-only)."""
    d = tempfile.mkdtemp(prefix="sitelink-pkg.", dir="/tmp")
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def nagios_user():
    try:
        pwd.getpwnam("nagios")
    except KeyError:
        pytest.fail("no 'nagios' user: install icinga2 or nagios4 (scripts/packages/conf.txt), whose "
                    "packages create it; sitelink runs as that user but does not own it")
    return "nagios"


# ------------------------------------------------------------------ lint
def test_lintian_no_errors_no_warnings_no_overrides(debs):
    changes = one("sitelink_*.changes")
    assert not glob.glob(os.path.join(SOURCE, "packaging", "debian", "*lintian-overrides")), \
        "no lintian override: every binary links glibc dynamically"
    p = sh(["lintian", "--info", "--fail-on", "error,warning", changes], check=False, timeout=600)
    tags = [line for line in p.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    assert tags == [] and p.returncode == 0, p.stdout + p.stderr
    assert "overridden" not in p.stdout, p.stdout
    # The .changes lists every binary package, so lintian looked at them all.
    listed = open(changes).read()
    for f in debs.values():
        assert os.path.basename(f) in listed, f


def test_rpmlint_no_errors(rpms):
    # rpmlint's default configuration; the filters (packaging/rpm/sitelink.rpmlintrc)
    # are no-signature (test packages are unsigned) and check_tunnel_traffic's
    # 0750 root:nagios (SECURITY.md), nothing for static linking: every binary
    # links glibc dynamically.
    rc = os.path.join(SOURCE, "packaging", "rpm", "sitelink.rpmlintrc")
    filters = re.findall(r"^addFilter\((.*)\)", open(rc).read(), flags=re.M)
    assert filters == ['"no-signature"',
                       '"non-standard-executable-perm /usr/lib(64)?/nagios/plugins/check_tunnel_traffic 750"',
                       '"non-readable /usr/lib(64)?/nagios/plugins/check_tunnel_traffic 750"'], filters
    p = sh(["rpmlint", "-r", rc] + sorted(rpms.values()), check=False, timeout=600)
    summary = re.search(r"(\d+) errors?, (\d+) warnings?", p.stdout)
    assert summary, p.stdout + p.stderr
    assert summary.group(1) == "0" and p.returncode == 0, p.stdout + p.stderr


# ------------------------------------------------------------- contents
def test_versions_agree(debs, rpms):
    v = cmake_version()
    for f in debs.values():
        assert sh(["dpkg-deb", "-f", f, "Version"]).stdout.strip() == v, f
    for f in rpms.values():
        assert rpm_query(f, "%{VERSION}") == v, f


def rpm_files(rpm_file):
    """Files (not directories) of an .rpm, on the .deb's paths."""
    out = set()
    for line in rpm_query(rpm_file, "[%{FILENAMES} %{FILEMODES:perms}\n]").splitlines():
        path, perms = line.split()
        # rpm's /usr/lib/.build-id links are its own bookkeeping (debuginfo lookup).
        if perms.startswith("d") or path.startswith("/usr/lib/.build-id/"):
            continue
        for a, b in [(RPM_PLUGIN_DIR, DEB_PLUGIN_DIR), ("/usr/lib64/sitelink", "/usr/lib/sitelink")]:
            if path.startswith(a):
                path = b + path[len(a):]
        out.add(re.sub(r"\.gz$", "", path))
    return out - {"/usr/share/licenses/sitelink-common/copyright"}


def deb_files(deb_file, name):
    d = {re.sub(r"\.gz$", "", p) for p, mode in deb_paths(deb_file).items() if not mode.startswith("d")}
    # Debian's changelog and copyright in every package's doc directory.
    return d - {f"/usr/share/doc/{name}/changelog", f"/usr/share/doc/{name}/copyright",
                f"/usr/share/doc/{name}/changelog.Debian"}


def test_split_by_weight_same_in_both_formats(debs, rpms):
    """Every file is in the same package in both formats; each package holds
    what its name says; the metapackage holds nothing and needs them all."""
    for name in PACKAGES_SPLIT:
        d, r = deb_files(debs[name], name), rpm_files(rpms[name])
        assert d == r, (name, sorted(d ^ r))
        assert PACKAGES_SPLIT[name] <= d, (name, sorted(d))
    assert deb_files(debs["sitelink"], "sitelink") == set()
    meta = sh(["dpkg-deb", "-f", debs["sitelink"], "Depends"]).stdout
    rmeta = rpm_query(rpms["sitelink"], "[%{REQUIRES}\n]").split()
    for name in PACKAGES_SPLIT:
        if name != "sitelink":
            assert re.search(rf"\b{name} \(= ", meta), (name, meta)
            assert name in rmeta or f"{name}(x86-64)" in rmeta, (name, rmeta)
    # A plugin's man page goes with the plugin.
    for name, plugin in (("sitelink-vpn-tunnel-up", "check_vpn_tunnel_up"),
                         ("sitelink-cross-site-ping", "check_cross_site_ping"),
                         ("sitelink-tunnel-traffic", "check_tunnel_traffic"),
                         ("sitelink-replication", "check_replication_lag")):
        assert f"/usr/share/man/man1/{plugin}.1" in deb_files(debs[name], name), name


def deb_closure(deb_file):
    """Every package the .deb's Depends pull, recursively (apt-cache)."""
    depends = sh(["dpkg-deb", "-f", deb_file, "Depends"]).stdout
    names = {re.split(r"[ (:]", alt.strip())[0] for part in depends.split(",") for alt in part.split("|")}
    names = {n for n in names if n and not n.startswith("sitelink")}
    if not names:
        return set()
    p = sh(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
            "--no-breaks", "--no-replaces", "--no-enhances"] + sorted(names))
    return names | {line.strip() for line in p.stdout.splitlines() if not line.startswith(" ")}


def test_tunnel_check_alone_pulls_no_database_or_http_client(debs, rpms):
    for name in ("sitelink-common", "sitelink-vpn-tunnel-up", "sitelink-cross-site-ping",
                 "sitelink-tunnel-traffic", "sitelink-replication"):
        closure = deb_closure(debs[name])
        assert not [p for p in closure if p.startswith(HEAVY_DEB)], (name, sorted(closure))
        requires = rpm_query(rpms[name], "[%{REQUIRES}\n]")
        assert not any(s in requires for s in HEAVY_SONAMES), (name, requires)
    # ...and the module packages do pull them (the check can fail).
    for name, lib in (("sitelink-replication-postgresql", "libpq"), ("sitelink-replication-mysql", "libmariadb"),
                      ("sitelink-vpn-cloud", "libcurl")):
        assert lib in sh(["dpkg-deb", "-f", debs[name], "Depends"]).stdout, name
        assert lib + ".so" in rpm_query(rpms[name], "[%{REQUIRES}\n]"), name


def test_upgrade_from_the_single_package_is_declared(debs, rpms):
    """0.1.0 shipped everything in `sitelink`: every split package takes its
    files over (Replaces + Breaks; rpm: Obsoletes)."""
    for name, f in debs.items():
        if name == "sitelink":
            continue
        for field in ("Replaces", "Breaks"):
            assert "sitelink (<< 0.2.0~)" in sh(["dpkg-deb", "-f", f, field]).stdout, (name, field)
        assert "sitelink < 0.2.0" in rpm_query(rpms[name], "[%{OBSOLETENAME} %{OBSOLETEFLAGS:depflags} "
                                                           "%{OBSOLETEVERSION}\n]"), name


def test_every_binary_links_glibc_dynamically(debs):
    for name, f in debs.items():
        with tempfile.TemporaryDirectory() as d:
            sh(["dpkg-deb", "-x", f, d])
            for root, _, files in os.walk(d):
                for fn in files:
                    path = os.path.join(root, fn)
                    if open(path, "rb").read(4) != b"\x7fELF":
                        continue
                    dyn = sh(["readelf", "-d", path]).stdout
                    assert "libc.so.6" in dyn, f"{name}: {path[len(d):]} does not link glibc dynamically"
    assert not sh(["dpkg-deb", "-f", debs["sitelink-cross-site-ping"], "Built-Using"], check=False).stdout.strip()


def test_same_files_in_both_formats(debs, rpms):
    """Same plugins, modules, man pages and configuration in both formats,
    modulo the library directory and compression of docs."""
    d = set().union(*(deb_files(f, name) for name, f in debs.items()))
    r = set().union(*(rpm_files(f) for f in rpms.values()))
    assert d == r
    plugins = {os.path.basename(p) for p in d if p.startswith(DEB_PLUGIN_DIR + "/")}
    assert "check_replication_lag" in plugins
    for p in plugins:
        assert f"/usr/share/man/man1/{p}.1" in d, f"no man page for {p}"
    assert NAGIOS_FILE in d and ICINGA_FILE in d
    assert "/usr/share/doc/sitelink/examples/runbooks.example.json" in d
    assert "/etc/sitelink/runbooks.json" in d
    assert "/usr/share/doc/sitelink/examples/icinga2/single/services.conf" in d
    assert "/usr/share/doc/sitelink/examples/nagios4/single/sitelink-example.cfg" in d


def test_no_setuid_and_capabilities_only_for_raw_sockets(debs, rpms):
    for path, mode in all_deb_paths(debs).items():
        assert "s" not in mode and "S" not in mode, f"{path} {mode} in the .deb"
    lines = "".join(rpm_query(f, "[%{FILEMODES:perms} %{FILEGROUPNAME} %{FILENAMES} %{FILECAPS}\n]")
                    for f in rpms.values())
    for line in lines.splitlines():
        perms, group, path, *caps = line.split(" ", 3)
        assert "s" not in perms and "S" not in perms, line
        name = os.path.basename(path)
        if path.startswith(RPM_PLUGIN_DIR + "/"):
            expect_perms, expect_group = ("-rwxr-x---", "nagios") if name in GROUP_ONLY_PLUGINS else ("-rwxr-xr-x", "root")
            assert (perms, group) == (expect_perms, expect_group), line
        expect = "cap_net_raw=ep" if path.startswith(RPM_PLUGIN_DIR + "/") and name in RAW_SOCKET_PLUGINS else ""
        assert (caps[0].strip().replace("(none)", "") if caps else "") == expect, line


# ---------------------------------------------------------- rpm install
def test_rpm_installs_into_a_root_and_verifies(rpms, tmp_path):
    root = str(tmp_path / "root")
    os.makedirs(root)
    sh(["rpm", "--root", root, "--initdb"])
    # An empty root has no shell for the %pre scriptlet (which creates the
    # nagios group): give it the group file a real system would have.
    os.makedirs(root + "/etc", exist_ok=True)
    with open(root + "/etc/group", "w") as fh:
        fh.write("root:x:0:\nnagios:x:979:\n")
    with open(root + "/etc/passwd", "w") as fh:
        fh.write("root:x:0:0:root:/root:/bin/sh\n")
    sh(["rpm", "--root", root, "-i", "--nodeps", "--noscripts"] + sorted(rpms.values()))
    # The files, modes, digests and capabilities; not the dependencies,
    # which an empty root cannot satisfy (hence -i --nodeps above).
    verify = ["rpm", "--root", root, "-V", "--nodeps"] + sorted(rpms)
    v = sh(verify, check=False)
    assert v.returncode == 0 and v.stdout == "", v.stdout + v.stderr
    plugins = sorted(os.listdir(root + RPM_PLUGIN_DIR))
    assert "check_replication_lag" in plugins
    for name in plugins:
        st = os.stat(os.path.join(root + RPM_PLUGIN_DIR, name))
        if name in GROUP_ONLY_PLUGINS:
            assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o750, 979), (name, oct(st.st_mode), st.st_gid)
        caps = sh(["getcap", os.path.join(root + RPM_PLUGIN_DIR, name)]).stdout
        if name in RAW_SOCKET_PLUGINS:
            assert "cap_net_raw=ep" in caps, caps
        else:
            assert caps == "", caps
    assert os.path.isdir(root + "/etc/sitelink")
    # rpm -V is able to fail: a changed mode and a dropped capability show.
    raw = sorted(RAW_SOCKET_PLUGINS & set(plugins))
    victim = os.path.join(root + RPM_PLUGIN_DIR, raw[0] if raw else "check_replication_lag")
    sh(["setcap", "-r", victim], check=False)
    os.chmod(victim, 0o700)
    v = sh(verify, check=False)
    assert v.returncode != 0 and victim[len(root):] in v.stdout, v.stdout
    sh(["rpm", "--root", root, "-e", "--nodeps"] + sorted(rpms))
    assert not os.path.exists(root + RPM_PLUGIN_DIR + "/check_replication_lag")


# ---------------------------------------------------------- deb install
def is_installed(name):
    status = sh(["dpkg-query", "-W", "-f=${Status}", name], check=False).stdout
    return "installed" in status and "not-installed" not in status


@pytest.fixture(scope="module")
def installed(debs):
    """All the .debs installed on this machine; purged at the end in any case."""
    if os.geteuid() != 0:
        pytest.fail("installing the .deb needs root; CI runs the lab tests as root")
    assert not any(is_installed(n) for n in PACKAGES_SPLIT), \
        "a sitelink package is already installed on this machine; this test installs and purges its own"
    paths = all_deb_paths(debs)
    existed_before = {p for p in paths if os.path.lexists(p)}
    state = {"paths": paths, "existed_before": existed_before, "purged": False, "debs": debs}
    try:
        sh(APT + ["install"] + sorted(debs.values()), timeout=900)
        yield state
    finally:
        if not state["purged"]:
            sh(APT + ["purge"] + sorted(PACKAGES_SPLIT), timeout=900, check=False)


def installed_plugins(state):
    return sorted(os.path.basename(p) for p, mode in state["paths"].items()
                  if p.startswith(DEB_PLUGIN_DIR + "/") and not mode.startswith("d"))


def test_deb_installed_files_and_capabilities(installed):
    plugins = installed_plugins(installed)
    assert "check_replication_lag" in plugins
    for name in plugins:
        path = os.path.join(DEB_PLUGIN_DIR, name)
        st = os.stat(path)
        assert not st.st_mode & (stat.S_ISUID | stat.S_ISGID), path
        assert st.st_uid == 0 and not st.st_mode & stat.S_IWOTH, path
        if name in GROUP_ONLY_PLUGINS:
            assert stat.S_IMODE(st.st_mode) == 0o750, (path, oct(st.st_mode))
            assert st.st_gid == grp.getgrnam("nagios").gr_gid, (path, st.st_gid)
        else:
            assert stat.S_IMODE(st.st_mode) == 0o755, (path, oct(st.st_mode))
        caps = sh(["getcap", path]).stdout
        if name in RAW_SOCKET_PLUGINS:
            assert "cap_net_raw=ep" in caps, f"postinst did not set the capability on {path}: {caps!r}"
        else:
            assert caps == "", caps
    assert os.path.isdir("/etc/sitelink")
    conffiles = open("/var/lib/dpkg/info/sitelink-common.conffiles").read().split()
    if NAGIOS_FILE in installed["paths"]:
        assert NAGIOS_FILE in conffiles
    # The example catalog at the default path: an example's --runbook ID
    # resolves without any copying (no UNKNOWN from configuration).
    assert "/etc/sitelink/runbooks.json" in conffiles
    with open("/etc/sitelink/runbooks.json") as fh:
        assert "dr-vpn" in json.load(fh)["runbooks"]
    old = tempfile.NamedTemporaryFile("w", suffix=".hb", delete=False)
    old.write(f"{int(time.time()) - 2000}\n")
    old.close()
    os.chmod(old.name, 0o644)
    p = run_as(nagios_user(), [os.path.join(DEB_PLUGIN_DIR, "check_replication_lag"), "--backend", "file",
                               "--file", old.name, "--runbook", "dr-vpn"])
    os.unlink(old.name)
    assert p.returncode == 2 and "Impact: Replication and file sync" in p.stdout, p.stdout + p.stderr
    assert "Runbook: Site-to-site VPN between the live site" in p.stdout, p.stdout


def test_every_plugin_help_and_version_as_nagios(installed):
    user = nagios_user()
    version = cmake_version()
    plugins = installed_plugins(installed)
    assert plugins
    for name in plugins:
        path = os.path.join(DEB_PLUGIN_DIR, name)
        for opt in ("--help", "--version"):
            p = run_as(user, [path, opt])
            assert p.returncode == 3, f"{name} {opt}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
            assert p.stdout.splitlines()[0].startswith(f"{name} {version}"), p.stdout
            assert p.stderr == "", p.stderr
        man = sh(["man", "-P", "cat", "-l", f"/usr/share/man/man1/{name}.1.gz"],
                 env={**os.environ, "MANWIDTH": "80"}).stdout
        assert f"sitelink {version}" in man and "SYNOPSIS" in man, man[-400:]


def test_capturer_refuses_users_outside_the_monitoring_group(installed):
    """check_tunnel_traffic (which can capture any interface) is for the
    monitoring group only; check_cross_site_ping stays usable by anyone."""
    if "check_tunnel_traffic" not in installed_plugins(installed):
        pytest.skip("check_tunnel_traffic is not in this build (no libpcap)")
    nobody = pwd.getpwnam("nobody")
    assert "nagios" not in [g.gr_name for g in grp.getgrall() if "nobody" in g.gr_mem]
    # runuser, not run_as: setpriv keeps root's capabilities (DAC override
    # included) until its own execve, so the file mode would not be tested.
    p = subprocess.run(["runuser", "-u", "nobody", "--", os.path.join(DEB_PLUGIN_DIR, "check_tunnel_traffic"),
                        "--version"], capture_output=True, text=True, timeout=60, cwd="/")
    assert p.returncode != 0 and "Permission denied" in p.stderr, (nobody, p.returncode, p.stdout, p.stderr)
    p = run_as("nobody", [os.path.join(DEB_PLUGIN_DIR, "check_cross_site_ping"), "--version"])
    assert p.returncode == 3 and p.stdout.startswith("check_cross_site_ping "), p.stdout + p.stderr
    p = run_as(nagios_user(), [os.path.join(DEB_PLUGIN_DIR, "check_tunnel_traffic"), "--version"])
    assert p.returncode == 3 and p.stdout.startswith("check_tunnel_traffic "), p.stdout + p.stderr


def test_replication_check_as_nagios(installed, open_tmp):
    """A real check as nagios: a fresh heartbeat is OK, an old one CRITICAL."""
    user = nagios_user()
    hb = os.path.join(open_tmp, "heartbeat")
    with open(hb, "w") as fh:
        fh.write(f"{int(time.time()) - 5}\n")
    os.chmod(hb, 0o644)
    exe = os.path.join(DEB_PLUGIN_DIR, "check_replication_lag")
    p = run_as(user, [exe, "--backend", "file", "--file", hb])
    assert p.returncode == 0 and p.service == "REPLICATION_LAG", p.stdout + p.stderr
    assert 0 <= p.perf["age"].value < 60
    with open(hb, "w") as fh:
        fh.write(f"{int(time.time()) - 3600}\n")
    p = run_as(user, [exe, "--backend", "file", "--file", hb])
    assert p.returncode == 2 and p.perf["age"].value >= 3600, p.stdout + p.stderr


def test_ping_as_nagios_uses_the_capability(installed, lab, open_tmp):
    """The installed check_cross_site_ping, run as nagios inside site A,
    reaches site B's WAN address: the ICMP socket comes from cap_net_raw.
    The same binary without the capability cannot open it."""
    exe = os.path.join(DEB_PLUGIN_DIR, "check_cross_site_ping")
    assert os.path.exists(exe), ("check_cross_site_ping is not in the package: the plugin has not "
                                 "landed, or the package was built before it did")
    user = nagios_user()
    ns, target = lab["LAB_NS_A"], lab["LAB_WAN_B"]
    p = run_as(user, [exe, "-H", target, "-n", "3", "-i", "200ms", "-t", "10"], netns=ns, timeout=30)
    assert p.returncode == 0 and p.service == "CROSS_SITE_PING", p.stdout + p.stderr
    assert p.stderr == ""
    assert any(k.endswith("pl") and v.value == 0 for k, v in p.perf.items()), p.stdout
    assert any(k.endswith("rta") and v.value is not None and v.value > 0 for k, v in p.perf.items()), p.stdout

    plain = os.path.join(open_tmp, "check_cross_site_ping")
    shutil.copy(exe, plain)  # a copy carries no file capability
    os.chmod(plain, 0o755)
    assert sh(["getcap", str(plain)]).stdout == ""
    q = run_as(user, [str(plain), "-H", target, "-n", "3", "-i", "200ms", "-t", "10"], netns=ns, timeout=30)
    assert q.returncode == 3 and "CAP_NET_RAW" in q.stdout, q.stdout + q.stderr


def test_backend_without_its_package_names_it(installed, open_tmp):
    """Removing the PostgreSQL module's package (and so the metapackage)
    leaves the plugin working and the backend UNKNOWN naming the package."""
    exe = os.path.join(DEB_PLUGIN_DIR, "check_replication_lag")
    sh(["dpkg", "-r", "sitelink", "sitelink-replication-postgresql"], timeout=300)
    try:
        p = run_as(nagios_user(), [exe, "--backend", "postgresql", "-H", "127.0.0.1", "-p", "9", "-t", "5"])
        assert p.returncode == 3, p.stdout + p.stderr
        assert p.summary == ("backend module sitelink_pgsql is not installed "
                             "(install the package sitelink-replication-postgresql)"), p.stdout
        # The other backends still work.
        p = run_as(nagios_user(), [exe, "--backend", "mysql", "-H", "127.0.0.1", "-P", "9", "-t", "5"])
        assert p.returncode == 2 and "not installed" not in p.stdout, p.stdout + p.stderr
    finally:
        sh(APT + ["install", installed["debs"]["sitelink-replication-postgresql"], installed["debs"]["sitelink"]],
           timeout=900)


# ------------------------------------------------ monitoring configuration
def icinga_config(tmp_path, commands):
    body = 'object Host "sitelink-host" { check_command = "dummy"; address = "192.0.2.2" }\n'
    for c in commands:
        body += f'object Service "{c}" {{ host_name = "sitelink-host"; check_command = "{c}" }}\n'
    ic = si.Icinga(str(tmp_path / "icinga"), include_dir=si.SYSTEM_INCLUDE)
    head = 'const PluginDir = "/usr/lib/nagios/plugins"\nconst PluginContribDir = "/usr/lib/nagios/plugins"\n' \
           'const ManubulonPluginDir = "/usr/lib/nagios/plugins"\nconst NodeName = "validate"\n'
    f = ic.write("icinga2.conf", head + "include <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n" + body)
    return ic, f


def nagios_config(tmp_path):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return si.nagios_main_cfg(str(tmp_path), [si.NAGIOS_PLUGIN_CONFIG], [si.NAGIOS_EXAMPLE], user, group)


def test_icinga_and_nagios_load_the_installed_files(installed, tmp_path):
    assert os.path.exists(ICINGA_FILE), "the package installed no Icinga 2 file (icinga-conf/sitelink.conf)"
    assert os.path.exists(NAGIOS_FILE), "the package installed no Nagios file (nagios-conf/)"
    commands = sorted(si.read_commands(ICINGA_FILE))
    assert commands, ICINGA_FILE
    ic, f = icinga_config(tmp_path / "i", commands)
    p = ic.validate(f)
    assert p.returncode == 0, p.stdout + p.stderr
    assert si.instantiated(p.stdout)["Services"] == len(commands), p.stdout

    p = sh([si.NAGIOS4, "-v", nagios_config(str(tmp_path / "n"))], check=False, timeout=60)
    assert p.returncode == 0, p.stdout
    assert re.search(r"Total Warnings:\s+0", p.stdout) and re.search(r"Total Errors:\s+0", p.stdout), p.stdout


# ----------------------------------------------------------------- purge
def test_purge_leaves_nothing_behind(installed, tmp_path):
    sh(APT + ["purge"] + sorted(PACKAGES_SPLIT), timeout=900)
    installed["purged"] = True
    for name in PACKAGES_SPLIT:
        assert not is_installed(name), name
        assert glob.glob(f"/var/lib/dpkg/info/{name}.*") == [], name
    left = sorted(p for p in installed["paths"]
                  if p not in installed["existed_before"] and os.path.lexists(p))
    assert left == [], left
    for p in ("/etc/sitelink", NAGIOS_FILE, ICINGA_FILE, "/usr/share/doc/sitelink"):
        assert not os.path.lexists(p), p

    # Without the package, the same monitoring configuration no longer
    # loads: the validations above really depended on the installed files.
    commands = sorted(si.read_commands(si.SITELINK_CONF))
    ic, f = icinga_config(tmp_path / "i", commands)
    p = ic.validate(f)
    assert p.returncode != 0 and "does not exist" in p.stdout, p.stdout
    p = sh([si.NAGIOS4, "-v", nagios_config(str(tmp_path / "n"))], check=False, timeout=60)
    assert p.returncode != 0, p.stdout
