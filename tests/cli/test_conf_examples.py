# SPDX-License-Identifier: GPL-2.0-or-later
"""Every worked example (icinga-conf/examples/*, nagios-conf/examples/*)
loads in the real Icinga 2 (with the ITL and plugins-contrib) and Nagios 4,
and every service names a runbook entry of the example catalog that exists,
with notes_url that entry's URL and notes one of its impact lines. Needs the
packages icinga2 and nagios4, no lab and no root."""
import grp
import json
import os
import pwd
import re
import subprocess

import pytest

from sitelink_icinga import (ICINGA_CONF, NAGIOS4, NAGIOS_COMMANDS, NAGIOS_CONF, NAGIOS_PLUGIN_CONFIG, Icinga,
                             instantiated, nagios_main_cfg, packaged_include_dir)
from sitelink_test import SOURCE

CATALOG = os.path.join(SOURCE, "packaging", "runbooks.example.json")
ICINGA_EXAMPLES = os.path.join(ICINGA_CONF, "examples")
NAGIOS_EXAMPLES = os.path.join(NAGIOS_CONF, "examples")
# distributed/ is the single example split over zones (test_conf_validate.py)
FOLDERS = sorted(d for d in os.listdir(ICINGA_EXAMPLES) if d != "distributed")
SHARED = ("templates.conf", "services.conf", "dependencies.conf", "notifications.conf")

CONSTANTS = """
const PluginDir = "/usr/lib/nagios/plugins"
const PluginContribDir = "/usr/lib/nagios/plugins"
const ManubulonPluginDir = "/usr/lib/nagios/plugins"
const NodeName = "validate"
"""


def catalog():
    return json.load(open(CATALOG))["runbooks"]


def impact_lines(entry):
    imp = entry.get("impact", [])
    if isinstance(imp, list):
        return imp
    return [line for lines in imp.values() for line in lines]


def icinga_objects(tmp_path, folder):
    """Validates the folder and returns (validation output, services as
    dictionaries of the attributes `icinga2 object list` prints)."""
    ic = Icinga(str(tmp_path / "icinga"), include_dir=packaged_include_dir(str(tmp_path / "include")))
    f = ic.write("icinga2.conf", CONSTANTS + "include <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n"
                 f'include "{os.path.join(ICINGA_EXAMPLES, folder)}/*.conf"\n')
    p = ic.validate(f)
    assert p.returncode == 0, p.stdout + p.stderr
    listing = ic.cli("object", "list", "--type", "Service")
    assert listing.returncode == 0, listing.stderr
    services = {}
    for block in re.split(r"^Object '", listing.stdout, flags=re.M)[1:]:
        name = block.split("'", 1)[0]
        attrs = dict(re.findall(r'^\s+\* (\w+) = (.*)$', block, flags=re.M))
        services[name] = {k: json.loads(v) if v.startswith('"') or v[:1].isdigit() else v
                          for k, v in attrs.items()}
    return p.stdout, services


@pytest.fixture(scope="module")
def icinga_examples(tmp_path_factory):
    return {f: icinga_objects(tmp_path_factory.mktemp(f), f) for f in FOLDERS}


def test_every_icinga_example_has_a_nagios_twin():
    assert len(FOLDERS) >= 5, FOLDERS
    assert FOLDERS == sorted(os.listdir(NAGIOS_EXAMPLES))


def test_shared_files_are_the_same_everywhere():
    """Each folder is complete on its own (copy one and go); the generic
    files must not drift apart."""
    for name in SHARED:
        texts = {f: open(os.path.join(ICINGA_EXAMPLES, f, name)).read() for f in FOLDERS}
        assert len(set(texts.values())) == 1, f"{name} differs between {sorted(texts)}"


@pytest.mark.parametrize("folder", FOLDERS)
def test_icinga_example_validates(folder, icinga_examples):
    out, services = icinga_examples[folder]
    n = instantiated(out)
    assert n["Services"] == len(services) >= 2, out
    assert n["Hosts"] >= 2 and n["Dependencies"] >= 1 and n["Notifications"] >= 2, out
    assert "critical/" not in out


@pytest.mark.parametrize("folder", FOLDERS)
def test_icinga_services_point_at_their_own_runbook(folder, icinga_examples):
    entries = catalog()
    for name, s in icinga_examples[folder][1].items():
        rb = s.get(s["check_command"] + "_runbook")
        assert rb in entries, f"{folder} {name}: runbook {rb!r} is not in {CATALOG}"
        assert s["notes_url"] == entries[rb]["url"], f"{folder} {name}: notes_url is not {rb}'s URL"
        assert s["notes"] in impact_lines(entries[rb]), f"{folder} {name}: notes are not an impact line of {rb}"


def test_icinga_tunnel_timing(icinga_examples):
    """The intervals bench/time-to-page measures: a local tunnel every 5 s
    with one 5 s retry, a cloud tunnel once a minute, dependents slower than
    their parent."""
    _, single = icinga_examples["single"]
    vpn = single["gw-a!vpn-dr"]
    assert (vpn["check_interval"], vpn["retry_interval"], vpn["max_check_attempts"]) == (5, 5, 2)
    ping = single["db-b!ping-dr"]
    assert ping["max_check_attempts"] > vpn["max_check_attempts"]
    _, aws = icinga_examples["aws-active-passive"]
    assert aws["aws-vpn-payments!vpn-payment-status"]["check_interval"] == 60


def test_every_catalog_entry_is_used(icinga_examples):
    used = set()
    for _, services in icinga_examples.values():
        used |= {s.get(s["check_command"] + "_runbook") for s in services.values()}
    assert used == set(catalog()), f"unused entries: {set(catalog()) - used}"
    for rid, e in catalog().items():
        assert e.get("title") and e.get("url"), rid
        assert isinstance(e["impact"], dict) and {"warning", "critical", "unknown"} <= set(e["impact"]), rid
        assert any("Still working" in line for line in e["impact"]["critical"]), f"{rid}: what keeps working?"


# ------------------------------------------------------------------ Nagios
def nagios_files(folder):
    d = os.path.join(NAGIOS_EXAMPLES, folder)
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".cfg")]


def test_nagios_shared_part_is_the_same_everywhere():
    shared = set()
    for folder in FOLDERS:
        text = "".join(open(f).read() for f in nagios_files(folder))
        part = re.search(r"^# -+ shared\n(.*?)^# -+ this example\n", text, flags=re.S | re.M)
        assert part, f"{folder}: no shared part"
        shared.add(part.group(1))
    assert len(shared) == 1


@pytest.mark.parametrize("folder", FOLDERS)
def test_nagios_example_validates(folder, tmp_path):
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    cfg = nagios_main_cfg(str(tmp_path), [NAGIOS_PLUGIN_CONFIG], [NAGIOS_COMMANDS] + nagios_files(folder), user, group)
    p = subprocess.run([NAGIOS4, "-v", cfg], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout
    assert re.search(r"Total Warnings:\s+0", p.stdout) and re.search(r"Total Errors:\s+0", p.stdout), p.stdout
    assert int(re.search(r"Checked (\d+) services", p.stdout).group(1)) >= 2


@pytest.mark.parametrize("folder", FOLDERS)
def test_nagios_services_point_at_their_own_runbook(folder):
    entries = catalog()
    text = "".join(open(f).read() for f in nagios_files(folder))
    blocks = re.findall(r"define service \{(.*?)\}", text, flags=re.S)
    assert blocks
    for block in blocks:
        if re.search(r"^\s+register\s+0", block, flags=re.M):
            continue
        f = dict(re.findall(r"^\s+(\w+)\s+(.+?)\s*$", block, flags=re.M))
        rb = f.get("_SITELINK_RUNBOOK")
        where = f"{folder} {f.get('host_name')}/{f.get('service_description')}"
        assert rb in entries, f"{where}: runbook {rb!r} is not in the catalog"
        assert f["notes_url"] == entries[rb]["url"], where
        assert f["notes"] in impact_lines(entries[rb]), where


def test_every_icinga_service_links_its_graph(icinga_examples):
    """action_url (the graph icon in Icinga Web) on every sitelink service,
    naming the service's own host and service."""
    for folder, (_, services) in icinga_examples.items():
        assert services, folder
        for name, attrs in services.items():
            url = attrs.get("action_url", "")
            assert "$host.name$" in url and "$service.name$" in url, f"{folder} {name}: {url!r}"
