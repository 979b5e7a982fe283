"""The pytest front end, run as a user runs it: a pytest subprocess over conformance test cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def report(directory: Path) -> dict:
    return json.loads((directory / "report.json").read_text())


def test_help_lists_the_options(pytester):
    result = run(pytester, "--help")
    for option in ("--ocpp-sut", "--ocpp-pics", "--ocpp-dut", "--ocpp-listen", "--ocpp-csms-url",
                   "--ocpp-driver", "--ocpp-report"):
        result.stdout.fnmatch_lines([f"*{option}*"])


def test_markers_are_declared(pytester):
    result = run(pytester, "--markers")
    for marker in ("core", "firmware_management", "local_auth_list_management", "reservation",
                   "smart_charging", "remote_trigger"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{marker}:*"])


CASES = """
from harness.cases import case
from harness.verdicts import Inconclusive

@case("TC_900_CS", "Smart thing", profile="SmartCharging")
async def test_tc_900_cs(pics):
    raise AssertionError("must not run: N/A")

@case("TC_901_CS", "Fixed cable thing", profile="Core",
      na_when=((lambda pics: not pics.features.fixed_cable, "the charge point has no fixed cable"),))
async def test_tc_901_cs(pics):
    raise AssertionError("must not run: N/A")

@case("TC_902_CS", "Operator away", profile="Core")
async def test_tc_902_cs(pics):
    raise Inconclusive("the operator did not plug in the cable within 1 s")

@case("TC_903_CS", "Wrong status", profile="Core")
async def test_tc_903_cs(pics):
    assert "Rejected" == "Accepted", "step 2: expected Accepted"

@case("TC_904_CS", "Fine", profile="Core")
async def test_tc_904_cs(pics):
    assert pics.dut.sut == "cs"

@case("TC_905_CSMS", "Other side", profile="Core")
async def test_tc_905_csms(pics):
    raise AssertionError("must be deselected with --ocpp-sut cs")
"""


def test_verdicts_na_and_selection(pytester, tmp_path):
    pics = (ROOT / "harness/sim/default_cs.toml").read_text()
    pics = pics.replace('"SmartCharging", ', "").replace(', "SmartCharging"', "").replace(
        "SmartCharging,", "")
    pytester.path.joinpath("pics.toml").write_text(pics)
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-pics", "pics.toml", "--ocpp-report", str(out),
                 "-rs")
    result.assert_outcomes(passed=1, failed=2, skipped=2, deselected=1)
    result.stdout.fnmatch_lines(["*N/A: the PICS does not list the SmartCharging profile*"])
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in report(out)["test_cases"]}
    assert verdicts["TC_900_CS"] == ("N/A", "N/A: the PICS does not list the SmartCharging profile")
    assert verdicts["TC_901_CS"][0] == "N/A"
    assert verdicts["TC_902_CS"][0] == "INCONCLUSIVE"
    assert "operator did not plug in" in verdicts["TC_902_CS"][1]
    assert verdicts["TC_903_CS"][0] == "FAIL" and "step 2" in verdicts["TC_903_CS"][1]
    assert verdicts["TC_904_CS"] == ("PASS", "")
    data = report(out)
    assert data["profiles"]["Core"] == "Fail" and data["profiles"]["SmartCharging"] == "N/A"
    assert data["certificate"] == "None" and data["complete"] is True


def test_keyword_selection_by_octt_id(pytester, tmp_path):
    pytester.makepyfile(test_cases=CASES)
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(tmp_path), "-k", "TC_904")
    result.assert_outcomes(passed=1, deselected=5)


def test_pics_error_names_key_and_file(pytester, tmp_path):
    pics = (ROOT / "harness/sim/default_cs.toml").read_text().replace(
        "response_timeout = 5", "response_timeout = \"soon\"")
    pytester.path.joinpath("bad.toml").write_text(pics)
    pytester.makepyfile(test_cases=CASES)
    result = run(pytester, "--ocpp-pics", "bad.toml", "--ocpp-report", str(tmp_path))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*bad.toml*timing.response_timeout*"])


@pytest.mark.parametrize("sut", ["cs", "csms"])
def test_cold_boot_end_to_end_against_the_simulator(pytester, tmp_path, sut):
    out = tmp_path / sut
    case_file = ROOT / "testcases" / sut / "core" / "test_tc_001_cold_boot.py"
    result = run(pytester, str(case_file), "--ocpp-sut", sut, "--ocpp-report", str(out),
                 f"--rootdir={ROOT}")
    result.assert_outcomes(passed=1)
    data = report(out)
    case_id = f"TC_001_{sut.upper()}"
    assert [(c["id"], c["verdict"]) for c in data["test_cases"]] == [(case_id, "PASS")]
    wire = out / "wire" / f"{case_id}.jsonl"
    assert data["test_cases"][0]["wire_log"] == str(wire)
    actions = [json.loads(line)["frame"][2] for line in wire.read_text().splitlines()
               if json.loads(line).get("frame", [0])[0] == 2]
    assert "BootNotification" in actions and "Heartbeat" in actions
    validate = subprocess.run([sys.executable, "-m", "harness", "validate", str(wire)],
                              capture_output=True, text=True, timeout=60)
    assert validate.returncode == 0, validate.stdout + validate.stderr
