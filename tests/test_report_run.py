"""The reports a real pytest run writes: report.json valid against harness/report/report.schema.json,
report.html beside it (also for an interrupted or crashed run, marked incomplete), the device's
configuration read at the end of the run, and JUnit XML carrying the OCTT ids."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "harness/report/report.schema.json").read_text())


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=110)


def valid_report(directory: Path) -> dict:
    data = json.loads((directory / "report.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    return data


def test_the_schema_is_a_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_rejects_what_design_forbids():
    validator = jsonschema.Draft202012Validator(SCHEMA)
    good = {"dut": {"vendor": "V", "model": "M", "firmware_version": "1", "charge_point_id": "C"},
            "sut": "cs", "tool_version": "0.1.0", "started": "2026-01-01T00:00:00Z",
            "finished": "", "complete": False, "certificate": "Subset",
            "profiles": dict.fromkeys(("Core", "FirmwareManagement", "LocalAuthListManagement",
                                       "Reservation", "SmartCharging", "RemoteTrigger"), "N/A"),
            "measurements": [], "configuration": {}, "test_cases": []}
    validator.validate(good)
    for broken in ({"certificate": "Partial"}, {"sut": "ev"},
                   {"test_cases": [{"id": "TC_1", "name": "", "profile": "Core",
                                    "verdict": "PASS", "reason": "", "duration_s": 0,
                                    "wire_log": None}]},
                   {"measurements": [{"name": "x", "pics_s": -1, "measured_s": None,
                                      "samples": [], "ok": None}]}):
        assert not validator.is_valid({**good, **broken}), broken


@pytest.fixture
def hostile_pics(pytester: pytest.Pytester) -> str:
    """The simulator's PICS with a vendor string that is markup: the charge point sends it in
    BootNotification, so it reaches the report through the frames as well as through the PICS."""
    text = (ROOT / "harness/sim/default_cs.toml").read_text().replace(
        'vendor = "OCPPHarness"', 'vendor = "<script>x</script>"')
    pytester.path.joinpath("hostile.toml").write_text(text)
    return "hostile.toml"


def test_a_real_run_writes_schema_valid_json_html_and_junit(pytester, tmp_path, hostile_pics):
    out = tmp_path / "out"
    cases = [str(ROOT / "testcases/cs/core" / name) for name in
             ("test_tc_001_cold_boot.py", "test_tc_019_retrieve_configuration.py")]
    result = run(pytester, *cases, "--ocpp-pics", hostile_pics, "--ocpp-report", str(out),
                 f"--rootdir={ROOT}", "--junitxml", str(tmp_path / "junit.xml"))
    result.assert_outcomes(passed=2)
    data = valid_report(out)
    assert data["complete"] is True
    assert [c["id"] for c in data["test_cases"]] == ["TC_001_CS", "TC_019_CS"]
    # The configuration is the device's own answer at the end of the run, not the PICS.
    source = data["configuration_source"]
    assert source["how"] == "end-of-run", source
    assert Path(source["wire_log"]).name == "END_OF_RUN_GetConfiguration.jsonl"
    assert data["configuration"]["SupportedFeatureProfiles"].startswith("Core,")
    assert data["limits"]["milliseconds_in_timestamps"]["value"] == "Yes"
    assert data["limits"]["milliseconds_in_timestamps"]["seen"] > 0
    page = (out / "report.html").read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "BootNotification.req" in page and "INCOMPLETE RUN" not in page
    # JUnit: one testcase per OCTT case, its name starting with the OCTT id.
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    names = sorted(c.get("name") for c in cases)
    assert names == ["TC_001_CS Cold Boot Charge Point", "TC_019_CS Retrieve configuration"]


INTERRUPTED = """
import os
from harness.cases import case

@case("TC_904_CS", "Fine", profile="Core")
async def test_tc_904_cs(pics):
    assert pics.dut.sut == "cs"

@case("TC_906_CS", "Stops the run", profile="Core")
async def test_tc_906_cs(pics):
    {stop}

@case("TC_907_CS", "Never runs", profile="Core")
async def test_tc_907_cs(pics):
    raise AssertionError("must not run")
"""


@pytest.mark.parametrize("how, stop", [
    ("ctrl-c", "raise KeyboardInterrupt"),
    ("crash", "os._exit(3)"),
])
def test_an_interrupted_run_keeps_json_and_html_marked_incomplete(pytester, tmp_path, how, stop):
    pytester.makepyfile(test_cases=INTERRUPTED.format(stop=stop))
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out))
    assert result.ret != 0
    data = valid_report(out)
    assert data["complete"] is False
    assert [(c["id"], c["verdict"]) for c in data["test_cases"]] == [("TC_904_CS", "PASS")]
    page = (out / "report.html").read_text()
    assert "INCOMPLETE RUN" in page and "TC_904_CS" in page and "TC_907_CS" not in page


def test_a_profile_declared_but_not_run_is_incomplete(pytester, tmp_path):
    pytester.makepyfile(test_cases=INTERRUPTED.format(stop="pass"))
    out = tmp_path / "out"
    run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out)).assert_outcomes(passed=2,
                                                                                  failed=1)
    data = valid_report(out)
    # Declared, but no case of it is known: nothing was shown to pass or not to apply.
    assert data["profiles"]["Reservation"] == "Incomplete"
    assert data["profile_results"]["Reservation"]["applicable"] == 0
    assert data["profile_results"]["Core"]["counts"] == {"PASS": 2, "FAIL": 1}
    assert data["profiles"]["Core"] == "Fail" and data["certificate"] == "None"
    assert data["certificate_note"].startswith("partial: Core Fail (1 FAILed case); no ")
