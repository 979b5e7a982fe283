import os

import pytest
from hypothesis import settings

# A deterministic hypothesis profile for CI (hypothesis is in the test extra).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

pytest_plugins = ["pytester"]

# A hung harness test is a bug to see, not to wait for. (Only here: conformance test cases wait
# as long as the device's PICS timeouts say, which can be minutes for a reboot.)
TEST_TIMEOUT_S = 120


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))
