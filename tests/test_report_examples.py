"""examples/pics: the five certificates as PICS. Each loads, says what its certificate printed, and
one runs against the reference simulator, which must report the certificate's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import pics

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "pics"
ALL = ("Core", "FirmwareManagement", "LocalAuthListManagement", "Reservation", "SmartCharging",
       "RemoteTrigger")

# name: (sut, model, firmware, certificate, (triggered, response, remote start | authorize))
CERTIFICATES = {
    "taeseongcontech-tsct-1100a": ("cs", "TSCT-1100A", "v1.0.0", "Subset", (30, 60, 5)),
    "seoul-electronics-evsp007-1chb": ("cs", "EVSP007-1CHB", "1.0.0", "Subset", (90, 5, 5)),
    "js-tech-jst-con-03": ("cs", "JST-CON-03", "03.01.01", "Subset", (5, 20, 5)),
    "ecarplug-ac-cpt-ocpp": ("cs", "AC/CPT_OCPP", "1.0.0", "Full", (60, 60, 60)),
    "cs-technology-charge-q-csms": ("csms", "CHARGE-Q-CSMS", "v1.0.0", "Full", (60, 60, 60)),
}


TEMPLATES = ("real-charge-point", "real-csms")
"""Not certificates: the templates a lab starts a real device's PICS from (README)."""


def test_one_pics_per_certificate():
    assert sorted(p.stem for p in EXAMPLES.glob("*.toml")) == sorted([*CERTIFICATES, *TEMPLATES])


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_templates_load_and_give_the_operator_time(name):
    p = pics.load(EXAMPLES / f"{name}.toml")
    assert p.dut.sut == ("cs" if name == "real-charge-point" else "csms")
    assert p.operator.timeout == 120 and p.timing.response_timeout == 30
    assert "CHANGE" in (EXAMPLES / f"{name}.toml").read_text()


@pytest.mark.parametrize("name", sorted(CERTIFICATES))
def test_each_pics_says_what_its_certificate_printed(name):
    sut, model, firmware, certificate, (triggered, response, third) = CERTIFICATES[name]
    p = pics.load(EXAMPLES / f"{name}.toml")
    assert (p.dut.sut, p.dut.model, p.dut.firmware_version) == (sut, model, firmware)
    assert p.features.profiles == (ALL if certificate == "Full" else ("Core",))
    assert p.timing.triggered_function_timeout == triggered
    assert p.timing.response_timeout == response
    assert (p.timing.remote_start_response if sut == "cs" else p.timing.authorize_response) \
        == third
    if sut == "cs":
        # Every charge point certificate prints these (the CSMS one prints no configuration).
        for key in ("HeartbeatInterval", "MeterValueSampleInterval", "ConnectionTimeOut"):
            assert key in p.configuration, key


def test_an_example_runs_against_the_simulator_with_its_configuration(pytester, tmp_path):
    out = tmp_path / "out"
    case = ROOT / "testcases/cs/core/test_tc_019_retrieve_configuration.py"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", str(case), f"--rootdir={ROOT}", "--ocpp-report", str(out),
        "--ocpp-pics", str(EXAMPLES / "taeseongcontech-tsct-1100a.toml"), timeout=110)
    result.assert_outcomes(passed=1)
    data = json.loads((out / "report.json").read_text())
    assert data["configuration_source"]["how"] == "end-of-run"
    declared = pics.load(EXAMPLES / "taeseongcontech-tsct-1100a.toml").configuration
    differ = {k: (v, data["configuration"].get(k)) for k, v in declared.items()
              if data["configuration"].get(k) != v}
    assert not differ, f"the simulator does not report the PICS's configuration: {differ}"
    assert data["profile_results"]["Reservation"]["result"] == "N/A"


def test_a_charge_point_taking_one_key_per_get_configuration_is_prepared_within_its_limit(
        pytester, tmp_path):
    """JS Tech declares GetConfigurationMaxKeys 1: the configuration preparations (TC_005_2 reads
    three keys) and TC_019's known + unknown key request stay within it, so none of them meets the
    device's rightful CALLERROR."""
    out = tmp_path / "out"
    cases = [ROOT / "testcases/cs/core/test_tc_019_retrieve_configuration.py",
             ROOT / "testcases/cs/core/test_tc_005_ev_side_disconnected.py"]
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", *map(str, cases), "-k", "TC_019 or TC_005_2",
        f"--rootdir={ROOT}", "--ocpp-report", str(out),
        "--ocpp-pics", str(EXAMPLES / "js-tech-jst-con-03.toml"), timeout=110)
    data = json.loads((out / "report.json").read_text())
    verdicts = {t["id"]: t["verdict"] for t in data["test_cases"]}
    assert verdicts == {"TC_019_CS": "PASS", "TC_005_2_CS": "PASS"}, data["test_cases"]
    wire = (out / "wire" / "TC_005_2_CS.jsonl").read_text().splitlines()
    asked = [json.loads(line)["frame"][3]["key"] for line in wire
             if '"GetConfiguration"' in line and json.loads(line).get("from") == "csms"]
    assert asked and all(len(keys) == 1 for keys in asked), asked
