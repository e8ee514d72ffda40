# SPDX-License-Identifier: GPL-2.0-or-later
"""The Icinga Director basket (icinga-conf/director/sitelink-basket.json)
against icinga-conf/sitelink.conf: every argument with the same description,
a data field for every variable (with the default), every field and data
list used, the enumerations' values the ones the descriptions name. Cheap
and structural; tests/lab/lab-director restores it into a real Director and
loads the rendered configuration in Icinga 2."""
import json
import os
import re
import subprocess

import pytest

from sitelink_icinga import ICINGA_CONF, PLUGINS, macros_of, read_commands
from sitelink_test import SOURCE

BASKET = os.path.join(ICINGA_CONF, "director", "sitelink-basket.json")
DT = "Icinga\\Module\\Director\\DataType\\DataType"


@pytest.fixture(scope="module")
def basket():
    with open(BASKET) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def commands():
    return read_commands()


def unquote(raw):
    try:
        return json.loads(raw.strip())
    except ValueError:
        return raw.strip()


def test_basket_is_generated_from_sitelink_conf():
    p = subprocess.run([os.path.join(SOURCE, "scripts", "director-basket"), "--check"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def test_types(basket):
    assert set(basket) == {"DataList", "Datafield", "ExternalCommand", "ServiceTemplate"}
    assert set(basket["ExternalCommand"]) == set(PLUGINS)


def test_every_argument_with_its_description(basket, commands):
    for name, cmd in commands.items():
        got = basket["ExternalCommand"][name]
        assert got["object_type"] == "external_object" and got["methods_execute"] == "PluginCheck"
        assert got["command"] == f"PluginContribDir + /{PLUGINS[name]}"
        assert set(got["arguments"]) == set(cmd["arguments"]), name
        for key, arg in cmd["arguments"].items():
            b = got["arguments"][key]
            assert b["description"] == unquote(arg["description"]), f"{name} {key}"
            if "value" in arg:
                assert b["value"] == unquote(arg["value"]), f"{name} {key}"
            assert b.get("repeat_key", False) == (arg.get("repeat_key") == "true"), f"{name} {key}"
            assert b.get("skip_key", False) == (arg.get("skip_key") == "true"), f"{name} {key}"
            assert b.get("required", False) == (arg.get("required") == "true"), f"{name} {key}"
            if "set_if" in arg:
                # the same variables decide it
                assert macros_of(b["set_if"]) == macros_of(arg["set_if"]), f"{name} {key}"
        assert got["vars"] == {k: unquote(v) for k, v in cmd["vars"].items()}, name


def test_a_field_for_every_variable_with_its_default(basket, commands):
    fields = {f["varname"]: f for f in basket["Datafield"].values()}
    for name, cmd in commands.items():
        used = set()
        for arg in cmd["arguments"].values():
            used |= {m for m in macros_of(arg.get("value", "") + arg.get("set_if", "")) if m.startswith(name)}
        for val in cmd["env"].values():
            used |= macros_of(val)
        linked = {basket["Datafield"][str(f["datafield_id"])]["varname"]
                  for f in basket["ExternalCommand"][name]["fields"]}
        assert linked == used, f"{name}: {linked ^ used}"
        for var in used:
            f = fields[var]
            assert f["description"] and f["caption"], var
            if var in cmd["vars"]:
                default = unquote(cmd["vars"][var])
                shown = json.dumps(default) if isinstance(default, bool) else str(default)
                assert f"(default: {shown})" in f["description"], f"{var}: {f['description']}"
    assert len(fields) == len(basket["Datafield"])  # one field per variable


def test_every_field_and_list_is_used(basket):
    linked = {f["datafield_id"] for c in basket["ExternalCommand"].values() for f in c["fields"]}
    assert {int(k) for k in basket["Datafield"]} == linked
    for k, f in basket["Datafield"].items():
        assert f["originalId"] == k
    lists = {f["settings"]["datalist"] for f in basket["Datafield"].values() if f["datatype"] == DT + "Datalist"}
    assert lists == set(basket["DataList"])


def test_enumerations_match_the_descriptions(basket, commands):
    """A data list offers exactly the values its argument's description (from
    the plugin's --help) names."""
    seen = 0
    for f in basket["Datafield"].values():
        if f["datatype"] != DT + "Datalist":
            continue
        entries = [e["entry_name"] for e in basket["DataList"][f["settings"]["datalist"]]["entries"]]
        seen += 1
        if f["settings"]["datalist"] == "sitelink_states":
            assert entries == ["ok", "warning", "critical", "unknown"]
            continue
        desc = f["description"].lower()
        for e in entries:
            assert re.search(rf"(?<![\w-]){re.escape(e)}(?![\w-])", desc), f"{f['varname']}: {e} not in {desc!r}"
    assert seen >= 6
    backends = [e["entry_name"] for e in basket["DataList"]["sitelink_vpn_backends"]["entries"]]
    assert backends == ["strongswan", "openvpn", "wireguard", "aws", "aws-route", "aws-eip", "openstack", "azure",
                        "gcp", "vcd"]


def test_types_of_fields(basket, commands):
    fields = {f["varname"]: f for f in basket["Datafield"].values()}
    for name, cmd in commands.items():
        for key, arg in cmd["arguments"].items():
            if arg.get("repeat_key") == "true":
                var = macros_of(arg["value"]).pop()
                assert fields[var]["datatype"] == DT + "Array", var
            m = re.fullmatch(r'"\$(\w+)\$"', arg.get("set_if", "").strip())
            if m and "value" not in arg:
                assert fields[m.group(1)]["datatype"] == DT + "Boolean", m.group(1)


def test_service_templates(basket):
    tpl = basket["ServiceTemplate"]
    assert {t["check_command"] for t in tpl.values()} == set(PLUGINS)
    for name, t in tpl.items():
        assert t["object_type"] == "template" and name == t["object_name"]
        assert t["check_command"] == name.replace("-", "_")
