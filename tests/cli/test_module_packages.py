# SPDX-License-Identifier: GPL-2.0-or-later
"""A backend whose module package is not installed is UNKNOWN naming the
package to install (the packages are split by weight: packaging/README.md)."""
import os
import shutil

import pytest

from sitelink_test import check_conventions, plugin_path, run

# backend -> (plugin, module, package, arguments that reach the module)
CASES = {
    "postgresql": ("check_replication_lag", "sitelink_pgsql", "sitelink-replication-postgresql",
                   ["--backend", "postgresql", "-H", "127.0.0.1", "-p", "9"]),
    "mysql": ("check_replication_lag", "sitelink_mysql", "sitelink-replication-mysql",
              ["--backend", "mysql", "-H", "127.0.0.1", "-P", "9"]),
    "aws": ("check_vpn_tunnel_up", "sitelink_cloud", "sitelink-vpn-cloud",
            ["--backend", "aws", "--vpn-connection-id", "vpn-0123456789abcdef0", "--region", "eu-west-1"]),
}
SERVICES = {"check_replication_lag": "REPLICATION_LAG", "check_vpn_tunnel_up": "VPN_TUNNEL"}
# Where an installed package puts the modules (SITELINK_MODULE_DIR of the
# package builds); a machine with them installed cannot run this test.
INSTALLED = ["/usr/lib/sitelink", "/usr/lib64/sitelink", "/usr/lib/x86_64-linux-gnu/sitelink"]


@pytest.mark.parametrize("backend", sorted(CASES))
def test_missing_module_names_its_package(backend, tmp_path):
    plugin, module, package, args = CASES[backend]
    if any(os.path.exists(f"{d}/{module}.so") for d in INSTALLED):
        pytest.skip(f"{module} is installed on this machine")
    # The plugin alone, without the build tree's modules beside it.
    (tmp_path / "bin").mkdir()
    exe = str(tmp_path / "bin" / plugin)
    shutil.copy2(plugin_path(plugin), exe)
    r = run(exe, args + ["-t", "5"], env={"SITELINK_MODULE_DIR": str(tmp_path / "none"),
                                          "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"})
    check_conventions(r, SERVICES[plugin])
    assert r.rc == 3 and r.state == "UNKNOWN", str(r)
    assert r.summary == f"backend module {module} is not installed (install the package {package})", str(r)
