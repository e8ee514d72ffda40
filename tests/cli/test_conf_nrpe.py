# SPDX-License-Identifier: GPL-2.0-or-later
"""nagios-conf/nrpe/: the nrpe.d commands are fixed (no argument passing) and
take their parameters from sections of the example sitelink.ini that exist
and name options the plugins have; check_by_ssh and MRPE run the same
command lines; the check_nrpe and check_by_ssh services load in Nagios 4 in
place of the example's local ones. No lab, no root. The round trip through
a real nrpe is tests/integration/test_nrpe.py."""
import grp
import os
import pwd
import re
import subprocess

import pytest

from sitelink_icinga import (NAGIOS4, NAGIOS_COMMANDS, NAGIOS_CONF, NAGIOS_EXAMPLE, NAGIOS_PLUGIN_CONFIG, PLUGINS,
                             help_options, nagios_main_cfg)
from sitelink_test import plugin_path

NRPE_DIR = os.path.join(NAGIOS_CONF, "nrpe")
INI = "/etc/sitelink/sitelink.ini"
PLUGIN_DIR = "/usr/lib/nagios/plugins"


def nrpe_commands():
    """{command name: command line} of nrpe.d/sitelink.cfg; every other
    line is a comment or blank."""
    out = {}
    for line in open(os.path.join(NRPE_DIR, "sitelink.cfg")).read().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"command\[(\w+)\]=(.+)", line)
        assert m, f"not an nrpe command line: {line!r}"
        out[m.group(1)] = m.group(2)
    return out


def read_ini(path):
    """{section: [(key, value)]} keeping repeated keys, as the plugins read
    them (key=value or key alone, # and ; comments)."""
    sections, cur = {}, None
    for n, line in enumerate(open(path).read().splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", s)
        if m:
            cur = sections.setdefault(m.group(1), [])
            continue
        assert cur is not None, f"{path}:{n}: option outside a section"
        key, _, value = s.partition("=")
        assert re.fullmatch(r"[a-z][a-z0-9-]*", key.strip()), f"{path}:{n}: {key!r}"
        cur.append((key.strip(), value.strip()))
    return sections


def parsed(line):
    m = re.fullmatch(rf"{PLUGIN_DIR}/(check_\w+) --extra-opts=([\w-]+)@{re.escape(INI)}", line)
    assert m, f"not a fixed --extra-opts command: {line}"
    return m.group(1), m.group(2)


def test_nrpe_commands_are_fixed_and_use_extra_opts():
    cmds = nrpe_commands()
    assert len(cmds) >= 2
    for name, line in cmds.items():
        assert name.startswith("sitelink_"), name
        assert "$ARG" not in line and "$" not in line, f"{name}: argument passing"
        plugin, _ = parsed(line)
        assert plugin in PLUGINS.values(), line


@pytest.mark.parametrize("name", sorted(nrpe_commands()))
def test_ini_sections_exist_and_name_plugin_options(name):
    plugin, section = parsed(nrpe_commands()[name])
    ini = read_ini(os.path.join(NRPE_DIR, "sitelink.ini"))
    assert section in ini and ini[section], f"{name}: no section [{section}]"
    offered = help_options(subprocess.run([plugin_path(plugin), "--help"], capture_output=True, text=True,
                                          timeout=10).stdout)
    for key, _ in ini[section]:
        assert f"--{key}" in offered, f"[{section}] {key}: not a long option of {plugin}"
        assert "password" not in key, key


def test_every_ini_section_is_used():
    used = {parsed(line)[1] for line in nrpe_commands().values()}
    assert set(read_ini(os.path.join(NRPE_DIR, "sitelink.ini"))) == used


def test_mrpe_and_by_ssh_run_the_nrpe_command_lines():
    cmds = nrpe_commands()
    mrpe = {}
    for line in open(os.path.join(NRPE_DIR, "mrpe.cfg")).read().splitlines():
        if line.strip() and not line.startswith("#"):
            name, cmd = line.split(" ", 1)
            mrpe[name] = cmd
    assert mrpe == cmds
    ssh = re.findall(r"check_command\s+sitelink_by_ssh!(.+)", open(os.path.join(NRPE_DIR, "sitelink-by-ssh.cfg")).read())
    assert sorted(ssh) == sorted(cmds.values())
    nrpe = re.findall(r"check_command\s+sitelink_nrpe!(\w+)",
                      open(os.path.join(NRPE_DIR, "sitelink-nrpe-services.cfg")).read())
    assert sorted(nrpe) == sorted(cmds)


def without_local_gateway_services(tmp_path):
    """The single example minus the two services that must run on the
    gateway (vpn-dr, traffic-dr), which the NRPE and SSH files replace."""
    text = open(NAGIOS_EXAMPLE).read()
    blocks = re.findall(r"define service \{.*?\n\}\n", text, flags=re.S)
    gone = [b for b in blocks if re.search(r"service_description\s+(vpn-dr|traffic-dr)\n", b)]
    assert len(gone) == 2
    for b in gone:
        text = text.replace(b, "")
    f = tmp_path / "example.cfg"
    f.write_text(text)
    return str(f)


@pytest.mark.parametrize("services", ["sitelink-nrpe-services.cfg", "sitelink-by-ssh.cfg"])
def test_nagios_services_validate(tmp_path, services):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    cfg = nagios_main_cfg(str(tmp_path), [NAGIOS_PLUGIN_CONFIG], [NAGIOS_COMMANDS, without_local_gateway_services(tmp_path),
                                             os.path.join(NRPE_DIR, services)], user, group)
    p = subprocess.run([NAGIOS4, "-v", cfg], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert re.search(r"Total Warnings:\s+0", p.stdout) and re.search(r"Total Errors:\s+0", p.stdout), p.stdout
    # the two replacements are back, and the example's dependencies on vpn-dr resolve
    assert re.search(r"Checked 4 services", p.stdout), p.stdout
