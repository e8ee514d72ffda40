# SPDX-License-Identifier: GPL-2.0-or-later
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))

import pytest  # noqa: E402


@pytest.fixture(scope="module")
def server():
    """tests/tools/cloud_server.py, one per test module (cloud backend tests)."""
    from cloud_lab import CloudServer
    s = CloudServer()
    yield s
    s.stop()
