import pytest

pytest_plugins = ["pytester"]

# A hung harness test is a bug to see, not to wait for. (Only here: conformance test cases wait
# as long as the device's PICS timeouts say, which can be minutes for a reboot.)
TEST_TIMEOUT_S = 120


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT_S))
