"""harness.profiles: the profile list and the certificate rule, importable without pytest."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.profiles import PROFILE_MARKERS, certificate


@pytest.mark.parametrize("module", ["harness.report.model", "harness.timing", "harness.profiles"])
def test_imports_without_pytest(module):
    """The report model and the timing recorder are the engine's: no pytest behind them."""
    code = (f"import sys, {module}; "
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')); "
            "print(loaded); sys.exit(1 if loaded else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{module} pulls in {run.stdout.strip()} {run.stderr[-500:]}"


def _results(**overrides: str) -> dict:
    return {p: {"result": overrides.get(p, "Pass")} for p in PROFILE_MARKERS}


@pytest.mark.parametrize("overrides, expected", [
    ({}, "Full"),
    ({"SmartCharging": "Fail"}, "Subset"),
    ({"Reservation": "N/A"}, "Subset"),
    ({"Core": "Fail"}, "None"),
    ({"RemoteTrigger": "Incomplete"}, "None"),
])
def test_certificate(overrides, expected):
    assert certificate(_results(**overrides)) == expected
