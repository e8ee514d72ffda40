# SPDX-License-Identifier: GPL-2.0-or-later
"""icinga-conf/ and nagios-conf/ load in the real Icinga 2 and Nagios 4, next
to the ITL and the Debian plugin configuration, and agree with the plugins'
own --help. Needs the packages icinga2 and nagios4 (scripts/packages/conf.txt),
no lab and no root."""
import grp
import os
import pwd
import re
import shutil
import subprocess
import time

import pytest

from sitelink_icinga import (DISTRIBUTED, ICINGA_CONF, NAGIOS4, NAGIOS_COMMANDS, NAGIOS_EXAMPLE,
                             NAGIOS_PLUGIN_CONFIG, PLUGINS, nagios_main_cfg, SINGLE, SITELINK_CONF, Icinga,
                             help_options, instantiated, itl_command_names, macros_of,
                             packaged_include_dir, read_commands, read_templates, _strip_comments)
from sitelink_test import SOURCE, plugin_path

CONSTANTS = """
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
"""

# Options of the issues' interfaces that a plugin does not accept yet. Each
# entry must disappear as soon as the plugin's --help lists it (the test
# below fails then), so this list only ever shrinks.
PENDING = {}

# Options that only repeat another one under a second name (MySQL's -P/-u
# spelling of --port/--username, the Monitoring Plugins' --use-ipv4/--use-ipv6
# spelling of -4/-6, check_icmp's -b for --size): the CheckCommand passes the
# long name.
ALIASES = {"sitelink_replication_lag": {"-P", "-u"}, "sitelink_cross_site_ping": {"--use-ipv4", "--use-ipv6", "-b"}}


@pytest.fixture(scope="module")
def commands():
    return read_commands()


def icinga_validate(tmp_path, body, with_sitelink=True, node="validate", zone=None):
    inc = packaged_include_dir(str(tmp_path / "include"), with_sitelink=with_sitelink)
    ic = Icinga(str(tmp_path / "icinga"), include_dir=inc)
    head = CONSTANTS + f'const NodeName = "{node}"\n'
    if zone:
        head += f'const ZoneName = "{zone}"\n'
    f = ic.write("icinga2.conf", head + "include <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n" + body)
    return ic, ic.validate(f)


def test_packaged_file_loads_with_itl_and_contrib(tmp_path, commands):
    _, base = icinga_validate(tmp_path / "without", "", with_sitelink=False)
    assert base.returncode == 0, base.stdout + base.stderr
    _, p = icinga_validate(tmp_path / "with", "")
    assert p.returncode == 0, p.stdout + p.stderr
    # Loaded through <plugins-contrib>, as from the package, and adding
    # exactly our four commands (a clash would be a fatal redefinition).
    assert instantiated(p.stdout)["CheckCommands"] == instantiated(base.stdout)["CheckCommands"] + 4
    assert set(commands) == set(PLUGINS)


def test_no_name_clash_with_itl(commands):
    itl = itl_command_names()
    assert len(itl) > 100  # the ITL really was read
    for name in commands:
        assert name.startswith("sitelink_"), name
        assert name not in itl, name


def test_a_clash_would_be_caught(tmp_path):
    """The validation is able to fail: the same file with one command renamed
    to an ITL name is refused by Icinga."""
    clash = tmp_path / "clash.conf"
    clash.write_text(open(SITELINK_CONF).read().replace('"sitelink_cross_site_ping"', '"icmp"'))
    _, p = icinga_validate(tmp_path, f'include "{clash}"\n', with_sitelink=False)
    assert p.returncode != 0
    assert "Object 'icmp' of type 'CheckCommand' re-defined" in p.stdout, p.stdout


def test_itl_style(commands):
    for name, cmd in commands.items():
        assert cmd["command"] == f'PluginContribDir + "/{PLUGINS[name]}"', name
        assert cmd["arguments"], name
        for key, arg in cmd["arguments"].items():
            assert arg.get("description", '""') != '""', f"{name} {key}: no description"
            refs = macros_of(arg.get("value", "") + arg.get("set_if", ""))
            assert refs, f"{name} {key}: neither value nor set_if"
            for m in refs:
                assert m.startswith(name + "_"), f"{name} {key}: variable {m} not prefixed"
            if "value" not in arg:
                # A switch: set_if, never a dangling value.
                assert "set_if" in arg, f"{name} {key}"
        for var in cmd["vars"]:
            if var in ("check_ipv4", "check_ipv6"):
                continue  # the ITL's "ipv4-or-ipv6" switches (test_host_address_is_check_address)
            assert var.startswith(name + "_"), f"{name}: default for {var}"
        for env, val in cmd["env"].items():
            for m in macros_of(val):
                assert m.startswith(name + "_"), f"{name} env {env}"
    # the ITL's $check_address$ defaults where a host applies
    assert commands["sitelink_cross_site_ping"]["vars"]["sitelink_cross_site_ping_address"] == '"$check_address$"'
    assert commands["sitelink_replication_lag"]["vars"]["sitelink_replication_lag_address"] == '"$check_address$"'
    assert commands["sitelink_tunnel_traffic"]["vars"]["sitelink_tunnel_traffic_address"] == '"$check_address$"'


COMMON = {"-t", "-v", "-vv", "-vvv", "--runbook", "--runbook-file", "--impact", "--action", "--runbook-url"}


def test_no_plugindir():
    """PluginDir belongs to the Monitoring Plugins; third-party commands use
    PluginContribDir (a site may keep them elsewhere)."""
    text = open(SITELINK_CONF).read()
    assert not re.search(r"\bPluginDir\b", re.sub(r"/\*.*?\*/", "", text, flags=re.S))
    assert text.count("PluginContribDir + ") == len(PLUGINS)


def test_host_address_is_check_address(commands):
    """Every address that defaults from the host is the ITL's $check_address$
    (address, or address6 on an IPv6-only host), and a command with -4/-6
    drives the ITL's check_ipv4/check_ipv6 with them, as "tcp" and "http" do."""
    defaults = 0
    for name, cmd in commands.items():
        for var, default in cmd["vars"].items():
            assert "$address$" not in default and "$address6$" not in default, f"{name}: {var}"
            if default == '"$check_address$"':
                defaults += 1
                assert "ipv4-or-ipv6" in cmd["imports"], name
        if "ipv4-or-ipv6" in cmd["imports"]:
            assert any(d == '"$check_address$"' for d in cmd["vars"].values()), name
        for switch, itl in (("-4", "check_ipv4"), ("-6", "check_ipv6")):
            if switch in cmd["arguments"]:
                assert cmd["vars"][itl] == cmd["arguments"][switch]["set_if"], f"{name} {switch}"
    assert defaults == 3


def test_common_arguments_come_from_one_template(commands):
    """-t, -v and the runbook block are written once, in "sitelink-common",
    which all four commands import; no command repeats them."""
    text = _strip_comments(open(SITELINK_CONF).read())
    templates = read_templates()
    assert set(templates) == {"sitelink-common"}
    for key in COMMON:
        assert text.count(f'"{key}" = {{') == 1, key
    for name, cmd in commands.items():
        assert cmd["imports"][0] == "sitelink-common", name
        assert COMMON <= set(cmd["arguments"]), name


def test_icinga_builds_the_commands_as_read(tmp_path, commands):
    """Icinga's own view of the loaded commands (`object list`) has exactly
    the arguments the test reader finds, the template expanded per command."""
    ic, p = icinga_validate(tmp_path, "")
    assert p.returncode == 0, p.stdout + p.stderr
    for name, cmd in commands.items():
        out = ic.cli("object", "list", "--type", "CheckCommand", "--name", name).stdout
        templates = re.search(r"\* templates = \[ (.*) \]", out).group(1)
        assert '"sitelink-common"' in templates.split(", "), out
        keys = set(re.findall(r"^    \* (-[\w-]+)$", out, flags=re.M))
        assert keys == set(cmd["arguments"]), f"{name}: {keys ^ set(cmd['arguments'])}"
        for key, arg in cmd["arguments"].items():
            if "value" in arg:
                assert f'      * value = {arg["value"]}' in out, f"{name} {key}"


def test_switches_default_to_false(commands):
    """ITL style: a switch (set_if on a plain variable) has an explicit
    `false` default, so `icinga2 object list` shows it off rather than unset."""
    switches = 0
    for name, cmd in commands.items():
        for key, arg in cmd["arguments"].items():
            m = re.fullmatch(r'"\$(\w+)\$"', arg.get("set_if", "").strip())
            if m and "value" not in arg:
                switches += 1
                assert cmd["vars"].get(m.group(1)) == "false", f"{name} {key}: no false default for {m.group(1)}"
    assert switches >= 4  # --insecure, --paced, -4, -6


def test_address_variables_follow_itl_names(commands):
    """Host names and addresses are `..._address` (ITL), never `..._host` or
    `..._peer`."""
    for name, cmd in commands.items():
        for arg in cmd["arguments"].values():
            for m in macros_of(arg.get("value", "")):
                assert not re.search(r"_(host|peer)$", m), f"{name}: {m} should end in _address"


@pytest.mark.parametrize("command", sorted(PLUGINS))
def test_arguments_match_plugin_help(command, commands):
    plugin = PLUGINS[command]
    exe = plugin_path(plugin)
    if not os.path.isdir(os.path.join(SOURCE, "plugins", plugin)):
        pytest.skip(f"{plugin} is not in the tree yet")
    assert os.access(exe, os.X_OK), f"{exe} not built"
    h = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    assert h.returncode == 3
    offered = help_options(h.stdout)
    assert {"-t", "--runbook", "-v"} <= offered, h.stdout
    pending = PENDING.get(command, set())
    landed = pending & offered
    assert not landed, f"{command}: {sorted(landed)} landed in {plugin}; drop them from PENDING"
    ours = set()
    for key in commands[command]["arguments"]:
        key = "-v" if re.fullmatch(r"-v+", key) else key
        ours.add(key)
        if key not in pending:
            assert key in offered, f"{command}: {key} is not an option of {plugin}"
    # Every option of the plugin is reachable from Icinga, except the ones an
    # operator never sets in a CheckCommand.
    missing = offered - ours - {"-h", "--help", "-V", "--version", "--verbose", "--timeout",
                                "--warning", "--critical"}
    long_of_short = re.findall(r"(-\w) \[ (--[\w-]+) \]", h.stdout)
    missing -= {lng for short, lng in long_of_short if short in ours}
    missing -= ALIASES.get(command, set())
    assert not missing, f"{command}: no argument for {sorted(missing)}"


def test_readme_documents_every_variable(commands):
    readme = open(os.path.join(ICINGA_CONF, "README.md")).read()
    for name, cmd in commands.items():
        assert f"### {name}" in readme, name
        section = readme.split(f"### {name}", 1)[1].split("\n### ", 1)[0]
        documented = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.M))
        used = set()
        for arg in cmd["arguments"].values():
            used |= macros_of(arg.get("value", "") + arg.get("set_if", ""))
        for val in cmd["env"].values():
            used |= macros_of(val)
        assert used == documented, f"{name}: undocumented {used - documented}, stale {documented - used}"
        for var, default in cmd["vars"].items():
            if var in ("check_ipv4", "check_ipv6"):
                continue  # the ITL's, documented under Conventions
            row = re.search(rf"^\| `{var}` \|.*$", section, flags=re.M).group(0)
            assert default.strip('"') in row, f"{name}: default of {var} not in README"


def test_single_example_validates(tmp_path):
    _, p = icinga_validate(tmp_path, f'include "{SINGLE}/*.conf"\n')
    assert p.returncode == 0, p.stdout + p.stderr
    n = instantiated(p.stdout)
    # vpn, traffic, ping, replication; a host dependency and one per dependent service
    # (ping, replication, and traffic on its tunnel)
    assert n["Services"] == 4 and n["Dependencies"] == 4, p.stdout


def test_distributed_example_validates(tmp_path):
    """The master's view: zones, the master zone's objects with the single
    example's rules, and an ApiListener with real certificates."""
    inc = packaged_include_dir(str(tmp_path / "include"))
    ic = Icinga(str(tmp_path / "master"), include_dir=inc)
    setup = ic.cli("api", "setup", "--cn", "master1.example.org")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy(os.path.join(DISTRIBUTED, "zones.conf"), ic.etc)
    zd = os.path.join(ic.etc, "zones.d", "master")
    os.makedirs(zd, exist_ok=True)
    shutil.copy(os.path.join(DISTRIBUTED, "zones.d", "master", "hosts.conf"), zd)
    for f in ("templates.conf", "services.conf", "dependencies.conf"):
        shutil.copy(os.path.join(SINGLE, f), zd)
    f = ic.write("icinga2.conf", CONSTANTS + 'const NodeName = "master1.example.org"\nconst ZoneName = "master"\n'
                 'include "zones.conf"\ninclude <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n'
                 'object ApiListener "api" { accept_commands = true }\n')
    p = ic.validate(f)
    assert p.returncode == 0, p.stdout + p.stderr
    n = instantiated(p.stdout)
    assert n["Zones"] == 4 and n["Endpoints"] == 3 and n["Services"] == 2, p.stdout


def test_agent_config_validates(tmp_path):
    inc = packaged_include_dir(str(tmp_path / "include"))
    ic = Icinga(str(tmp_path / "agent"), include_dir=inc)
    setup = ic.cli("api", "setup", "--cn", "agent-a.example.org")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    shutil.copy(os.path.join(DISTRIBUTED, "zones.conf"), ic.etc)
    shutil.copy(os.path.join(DISTRIBUTED, "icinga2-agent.conf"), os.path.join(ic.etc, "icinga2.conf"))
    ic.write("constants.conf", CONSTANTS + 'const NodeName = "agent-a.example.org"\nconst ZoneName = "site-a"\n')
    ic.write("features-enabled/api.conf", 'object ApiListener "api" { accept_commands = true\n accept_config = true }\n')
    p = ic.validate()
    assert p.returncode == 0, p.stdout + p.stderr
    assert instantiated(p.stdout)["CheckCommands"] > 200


# ------------------------------------------------------------------ Nagios
def nagios_cfg(tmp_path, *cfg_files):
    # Nagios drops privileges to nagios_user when started as root; stay
    # whoever runs the test, so it can read the test's private directory.
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return nagios_main_cfg(str(tmp_path), [NAGIOS_PLUGIN_CONFIG], cfg_files, user, group)


def test_nagios_validates(tmp_path):
    p = subprocess.run([NAGIOS4, "-v", nagios_cfg(tmp_path, NAGIOS_COMMANDS, NAGIOS_EXAMPLE)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert re.search(r"Total Warnings:\s+0", p.stdout) and re.search(r"Total Errors:\s+0", p.stdout), p.stdout
    assert re.search(r"Checked 4 services", p.stdout), p.stdout


def test_nagios_validation_can_fail(tmp_path):
    """Loading the command file twice is a duplicate definition Nagios refuses:
    the same would happen with a name Debian's plugin config already uses."""
    dup = tmp_path / "dup.cfg"
    dup.write_text(open(NAGIOS_COMMANDS).read())
    p = subprocess.run([NAGIOS4, "-v", nagios_cfg(tmp_path, NAGIOS_COMMANDS, str(dup))],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "Duplicate definition" in p.stdout, p.stdout


def nagios_commands():
    text = open(NAGIOS_COMMANDS).read()
    return dict(re.findall(r"command_name\s+(\S+)\s*\n\s*command_line\s+(.+)", text))


def test_nagios_commands_style():
    cmds = nagios_commands()
    assert set(cmds) == set(PLUGINS)
    debian = set()
    for f in os.listdir(NAGIOS_PLUGIN_CONFIG):
        debian |= set(re.findall(r"command_name\s+(\S+)", open(os.path.join(NAGIOS_PLUGIN_CONFIG, f)).read()))
    assert len(debian) > 50
    for name, line in cmds.items():
        assert name not in debian
        assert line.startswith(f"$USER1$/{PLUGINS[name]} "), line
        assert "$_SERVICESITELINK_OPTIONS$" in line and "$_SERVICESITELINK_TIMEOUT$" in line
        # every macro a service fills in is set by the example's template or its services
        example = open(NAGIOS_EXAMPLE).read()
        for m in re.findall(r"\$_SERVICE(\w+)\$", line):
            assert re.search(rf"^\s+_{m}\s", example, flags=re.M), f"{name}: _{m} never set"


@pytest.mark.parametrize("command", sorted(PLUGINS))
def test_nagios_options_match_plugin_help(command):
    plugin = PLUGINS[command]
    exe = plugin_path(plugin)
    if not os.path.isdir(os.path.join(SOURCE, "plugins", plugin)):
        pytest.skip(f"{plugin} is not in the tree yet")
    offered = help_options(subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10).stdout)
    line = nagios_commands()[command]
    example = open(NAGIOS_EXAMPLE).read()
    used = set(re.findall(r"(?<![\w$])(--?[a-zA-Z][\w-]*)", line.split(" ", 1)[1]))
    # options the example services pass through _SITELINK_OPTIONS
    for block in re.findall(r"define service \{(.*?)\}", example, flags=re.S):
        if re.search(rf"check_command\s+{command}\s", block):
            m = re.search(r"_SITELINK_OPTIONS\s+(.+)", block)
            used |= set(re.findall(r"(?<!\S)(--?[a-zA-Z][\w-]*)", m.group(1))) if m else set()
    assert used and used <= offered, f"{command}: {sorted(used - offered)} not options of {plugin}"


def test_running_icinga_builds_the_command_line(tmp_path):
    """A real Icinga 2 daemon runs the commands: the plugin is taken from
    PluginContribDir (here not PluginDir), an IPv6-only host gets its address6
    through $check_address$, the *_ipv4 switch brings back its address, and
    the shared -t/-v/runbook arguments carry each command's own variables. The
    "plugins" record their argument vector (Icinga's command line is what is
    tested, not the plugins)."""
    contrib = tmp_path / "contrib"
    contrib.mkdir()
    log = tmp_path / "argv"
    for plugin in PLUGINS.values():
        f = contrib / plugin
        f.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0 $*" >>"{log}"\necho "OK - recorded"\n')
        f.chmod(0o755)
    body = """
object Host "v6only" { address6 = "2001:db8::6"; check_command = "dummy"; enable_active_checks = false }
object Host "dual" { address = "192.0.2.4"; address6 = "2001:db8::4"; check_command = "dummy"
  enable_active_checks = false }
template Service "rec" { check_interval = 1s; retry_interval = 1s }
object Service "ping" { import "rec"; host_name = "v6only"; check_command = "sitelink_cross_site_ping"
  vars.sitelink_cross_site_ping_timeout = 7; vars.sitelink_cross_site_ping_verbose = 2
  vars.sitelink_cross_site_ping_runbook = "link-a" }
object Service "ping6" { import "rec"; host_name = "dual"; check_command = "sitelink_cross_site_ping"
  vars.sitelink_cross_site_ping_ipv6 = true }
object Service "lag" { import "rec"; host_name = "v6only"; check_command = "sitelink_replication_lag"
  vars.sitelink_replication_lag_backend = "mysql"; vars.sitelink_replication_lag_verbose = 1 }
object Service "traffic" { import "rec"; host_name = "v6only"; check_command = "sitelink_tunnel_traffic"
  vars.sitelink_tunnel_traffic_runbook_url = "https://runbooks.example.org/x" }
object Service "vpn" { import "rec"; host_name = "dual"; check_command = "sitelink_vpn_tunnel_up"
  vars.sitelink_vpn_tunnel_up_impact = [ "i1", "i2" ]; vars.sitelink_vpn_tunnel_up_verbose = 3 }
"""
    inc = packaged_include_dir(str(tmp_path / "include"))
    ic = Icinga(str(tmp_path / "icinga"), include_dir=inc)
    head = CONSTANTS.replace('PluginContribDir = "/usr/lib/nagios/plugins"', f'PluginContribDir = "{contrib}"')
    ic.write("icinga2.conf", head + 'const NodeName = "run"\ninclude <itl>\ninclude <plugins>\n'
             'include <plugins-contrib>\nobject CheckerComponent "checker" {}\n' + body)
    daemon = subprocess.Popen(ic.daemon_cmd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen = {}
        for _ in range(200):
            if log.exists():
                for line in log.read_text().splitlines():
                    exe, _, args = line.partition(" ")
                    seen.setdefault(os.path.basename(exe), set()).add(args)
            if len(seen) == 4 and len(seen["check_cross_site_ping"]) >= 2:
                break
            time.sleep(0.1)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    assert set(seen) == set(PLUGINS.values()), seen
    assert seen["check_cross_site_ping"] == {
        "-H 2001:db8::6 --runbook link-a -c 500,60% -t 7 -vv -w 200,20%",
        "-H 2001:db8::4 -6 -c 500,60% -w 200,20%"}, seen
    assert seen["check_replication_lag"] == {"--backend mysql -H 2001:db8::6 -v"}, seen
    assert seen["check_tunnel_traffic"] == {"--peer 2001:db8::6 --runbook-url https://runbooks.example.org/x"}, seen
    assert seen["check_vpn_tunnel_up"] == {"--backend strongswan --impact i1 --impact i2 -vvv"}, seen
