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


def test_one_pics_per_certificate():
    assert sorted(p.stem for p in EXAMPLES.glob("*.toml")) == sorted(CERTIFICATES)


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
