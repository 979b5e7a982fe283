"""The lint rule that forbids a fixed sleep in the test cases and the states (pyproject.toml
[tool.ruff.lint.flake8-tidy-imports.banned-api]): it bites there, and only there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SLEEPS = ("import asyncio\nimport time\nfrom asyncio import sleep\n\n\n"
          "async def wait():\n    await asyncio.sleep(1)\n    time.sleep(1)\n    await sleep(1)\n")


def ruff(filename: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format",
                           "concise", "--stdin-filename", filename, "-"], input=SLEEPS, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("filename", ["testcases/cs/core/test_tc_999_probe.py",
                                      "harness/states/probe.py"])
def test_a_fixed_sleep_is_refused_in_cases_and_states(filename):
    run = ruff(filename)
    assert run.returncode == 1
    flagged = sorted(int(line.split(":")[1]) for line in run.stdout.splitlines() if "TID251" in line)
    assert flagged == [3, 7, 8], run.stdout  # from asyncio import sleep, asyncio.sleep, time.sleep


@pytest.mark.parametrize("filename", ["harness/sim/probe.py", "tests/test_probe.py"])
def test_elsewhere_a_sleep_is_allowed(filename):
    run = ruff(filename)
    assert run.returncode == 0, run.stdout + run.stderr
