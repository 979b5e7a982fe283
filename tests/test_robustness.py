"""Issue 11 items 5 and 6, against real runs: the Robustness cases, violation vs remark,
--ocpp-strict, and waivers (--ocpp-waivers).

The runs are pytest subprocesses, as a user runs the harness: over the shipped test cases against
the embedded simulators (``-k`` one case, a seeded fault where the case must catch it), or over a
few pure cases written here for the waiver semantics.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

from harness import waivers
from harness.findings import REMARK, VIOLATION
from harness.protocol import Checker
from harness.session import _only_tolerable

ROOT = Path(__file__).resolve().parents[1]


def suite(tmp_path: Path, sut: str, *args: str, name: str = "out") -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / name
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "testcases"), "--ocpp-sut", sut,
         "--ocpp-report", str(out), "-p", "no:cacheprovider", "-q", *args],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    data = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return proc, data


def verdicts(data: dict) -> dict[str, tuple[str, str, list]]:
    return {c["id"]: (c["verdict"], c["reason"], c.get("remarks", [])) for c in data["test_cases"]}


# --- the Robustness pseudo-profile ----------------------------------------------------------------

def test_robustness_cases_pass_the_reference_simulators_and_stay_out_of_the_certificate(tmp_path):
    proc, data = suite(tmp_path, "csms", "-m", "robustness or core", "-k",
                       "RB_ or TC_001_CSMS or TC_088")
    assert proc.returncode == 0, proc.stdout[-3000:]
    found = verdicts(data)
    robustness = {k: v for k, v in found.items() if k.startswith("RB_") or k == "TC_088_CSMS"}
    assert len(robustness) == 9 and {v[0] for v in robustness.values()} == {"PASS"}
    assert data["robustness"] == {"result": "Pass", "in_certificate": False,
                                  "counts": {"PASS": 9}}
    assert "Robustness" not in data["profiles"] and "Robustness" not in data["profile_results"]
    assert "Robustness               Pass       9 PASS (outside the certificate)" in proc.stdout


def test_a_core_only_device_runs_them_and_is_asked_an_action_outside_its_profiles(tmp_path):
    pics = ROOT / "examples/pics/taeseongcontech-tsct-1100a.toml"
    proc, data = suite(tmp_path, "cs", "--ocpp-pics", str(pics), "-k", "RB_002_CS or RB_008_CS")
    assert proc.returncode == 0, proc.stdout[-3000:]
    found = verdicts(data)
    assert found["RB_002_CS"][0] == "PASS"
    assert found["RB_008_CS"][0] == "N/A"  # needs SmartCharging
    wire = (tmp_path / "out/wire/RB_002_CS.jsonl").read_text()
    # Step 3-4: CancelReservation (Reservation is not declared) answered NotSupported.
    assert '"CancelReservation"' in wire and '"NotSupported"' in wire


@pytest.mark.parametrize("sut, fault, failing", [
    ("cs", "callerror_codes_reversed", {"RB_001_CS", "RB_002_CS"}),
    ("csms", "protocol_error_for_everything",
     {"RB_001_CSMS", "RB_002_CSMS", "RB_004_CSMS", "RB_005_CSMS", "RB_006_CSMS"}),
])
def test_wrong_callerror_codes_fail(tmp_path, sut, fault, failing):
    proc, data = suite(tmp_path, sut, "-m", "robustness", "-k", "RB_", "--ocpp-sim-fault", fault)
    assert proc.returncode == 1
    found = verdicts(data)
    assert {k for k, v in found.items() if v[0] == "FAIL"} == failing, found
    assert {v[0] for k, v in found.items() if k not in failing} == {"PASS"}
    assert all("expected" in found[k][1] and "§4.2.3" in found[k][1] for k in failing)
    if fault == "protocol_error_for_everything":
        # A missing field answered ProtocolError: a reading of "payload incomplete", a remark.
        verdict, _, remarks = found["RB_003_CSMS"]
        assert verdict == "PASS" and "the closer code is OccurenceConstraintViolation" in remarks[0]


def test_composite_sentinel_fails(tmp_path):
    proc, data = suite(tmp_path, "cs", "-k", "RB_008_CS", "--ocpp-sim-fault",
                       "composite_negative_sentinel")
    verdict, reason, _ = verdicts(data)["RB_008_CS"]
    assert verdict == "FAIL", reason
    assert "limit -1, a negative charging rate" in reason and "numberPhases -1" in reason


# --- violation and remark -------------------------------------------------------------------------

STOP = ('[2,"s1","StopTransaction",{"meterStop":10,"timestamp":"2026-01-01T00:00:00Z",'
        '"transactionId":1,"transactionData":[{"timestamp":"2026-01-01T00:00:00Z",'
        '"sampledValue":[]}]}]')
METER = ('[2,"m1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":'
         '"2026-01-01T00:00:00Z","sampledValue":[]}]}]')


def test_errata_row_s1_is_a_remark_and_the_same_rule_in_meter_values_a_violation():
    stop = Checker().check("cp", STOP).findings
    assert [(f.rule, f.severity) for f in stop] == [("minItems", REMARK)]
    assert "ERRATA.md S1" in stop[0].message
    assert _only_tolerable(stop)  # the harness answers the StopTransaction normally
    assert not _only_tolerable(stop, strict=True)
    meter = Checker().check("cp", METER).findings
    assert [(f.rule, f.severity) for f in meter] == [("minItems", VIOLATION)]


def test_errata_row_d1_integral_number_in_a_security_message_is_a_remark():
    text = '[2,"g1","GetLog",{"logType":"DiagnosticsLog","requestId":1.0,"log":{"remoteLocation":"ftp://x/y"}}]'
    findings = Checker().check("csms", text).findings
    assert [(f.rule, f.severity) for f in findings] == [("type", REMARK)]
    core = Checker().check("csms", '[2,"c1","UnlockConnector",{"connectorId":1.0}]').findings
    assert [(f.rule, f.severity) for f in core] == [("type", VIOLATION)]


def test_remark_is_reported_and_fails_only_under_strict(tmp_path):
    # The errata's spelling of a CALLERROR code: accepted, the spelling reported as a remark.
    args = ("-k", "RB_003_CS", "--ocpp-sim-fault", "misspelt_error_code")
    junit = tmp_path / "junit.xml"
    proc, data = suite(tmp_path, "cs", *args, f"--junitxml={junit}")
    assert proc.returncode == 0, proc.stdout[-3000:]
    verdict, _, remarks = verdicts(data)["RB_003_CS"]
    assert verdict == "PASS" and len(remarks) == 1
    assert "'OccurrenceConstraintViolation' is accepted as 'OccurenceConstraintViolation'" \
        in remarks[0]
    assert data["remarks"] == {"total": 1, "cases": {"RB_003_CS": 1}}
    assert "remarks: 1 in 1 case(s) (RB_003_CS); not FAILs" in proc.stdout
    properties = [p.attrib for p in ET.parse(junit).iter("property")]
    assert any(p["name"] == "ocpp_remark" and "OccurrenceConstraintViolation" in p["value"]
               for p in properties)
    html = (tmp_path / "out/report.html").read_text()
    assert "OccurrenceConstraintViolation" in html
    wire = (tmp_path / "out/wire/RB_003_CS.jsonl").read_text()
    assert '"severity":"remark"' in wire

    proc, data = suite(tmp_path, "cs", *args, "--ocpp-strict", name="strict")
    assert proc.returncode == 1
    verdict, reason, _ = verdicts(data)["RB_003_CS"]
    assert verdict == "FAIL" and "OccurrenceConstraintViolation" in reason


def test_offline_validator_prints_a_remark_and_exits_0_for_remarks_only(tmp_path):
    log = tmp_path / "stop.jsonl"
    log.write_text(json.dumps({"ts": "2026-01-01T00:00:00.000Z", "mono": 1.0, "from": "cp",
                               "frame": json.loads(STOP)}) + "\n" +
                   json.dumps({"ts": "2026-01-01T00:00:00.010Z", "mono": 1.01, "from": "csms",
                               "frame": [3, "s1", {}]}) + "\n")
    proc = subprocess.run([sys.executable, "-m", "harness", "validate", str(log)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "minItems" in proc.stdout and "(remark)" in proc.stdout
    assert proc.returncode == 0, proc.stdout


# --- waivers --------------------------------------------------------------------------------------

PURE = '''
from harness.cases import case

@case("TC_903_CS", "Wrong status", profile="Core")
async def test_tc_903_cs(pics):
    assert "Rejected" == "Accepted", "step 2: expected Accepted"

@case("TC_904_CS", "Fine", profile="Core")
async def test_tc_904_cs(pics):
    assert pics.dut.sut == "cs"
'''


def _waivers(path: Path, *entries: tuple[str, str, date | str]) -> Path:
    text = "".join(f'[[waiver]]\ncase = "{c}"\nreason = "{r}"\nexpires = {e}\n\n'
                   for c, r, e in entries)
    path.write_text(text)
    return path


def run_pure(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict]:
    pytester.makepyfile(test_cases=PURE)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-sut", "cs",
                                           "--ocpp-report", str(out), "-rxXs", *args, timeout=120)
    data = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return result, data


TOMORROW = date.today() + timedelta(days=2)


def test_a_waived_fail_keeps_its_fail_but_the_run_is_green(pytester):
    file = _waivers(pytester.path / "w.toml", ("TC_903_CS", "known: FW-812", TOMORROW))
    result, data = run_pure(pytester, "--ocpp-waivers", str(file), "--junitxml=junit.xml")
    assert result.ret == 0
    properties = [p.attrib for p in ET.parse(pytester.path / "junit.xml").iter("property")]
    assert {"name": "ocpp_waiver", "value": f"waived: known: FW-812 (until {TOMORROW})"} \
        in properties
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*TC_903_CS*FAIL*waived (known: FW-812): step 2*",
                                 "waiver: TC_903_CS FAIL (waived): known: FW-812 (until *)",
                                 "*waived until*known: FW-812*"])
    case = {c["id"]: c for c in data["test_cases"]}["TC_903_CS"]
    assert case["verdict"] == "FAIL" and "expected Accepted" in case["reason"]
    assert case["waiver"] == {"reason": "known: FW-812", "expires": TOMORROW.isoformat(),
                              "status": "waived"}
    assert data["profiles"]["Core"] == "Fail" and data["certificate"] == "None"
    assert data["waived"] == [{"id": "TC_903_CS", "verdict": "FAIL", "reason": "known: FW-812",
                               "expires": TOMORROW.isoformat(), "status": "waived"}]


def test_an_unexpected_pass_of_a_waived_case_fails_the_run(pytester):
    file = _waivers(pytester.path / "w.toml", ("TC_904_CS", "was broken", TOMORROW))
    result, data = run_pure(pytester, "--ocpp-waivers", str(file), "-k", "TC_904")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*unexpected PASS: TC_904_CS is waived*remove the waiver*"])
    case = {c["id"]: c for c in data["test_cases"]}["TC_904_CS"]
    assert case["verdict"] == "PASS" and case["waiver"]["status"] == "unexpected-pass"


def test_an_expired_waiver_warns_and_is_not_applied(pytester):
    file = _waivers(pytester.path / "w.toml", ("TC_903_CS", "old", date(2020, 1, 1)),
                    ("TC_999_CS", "typo", TOMORROW))
    result, data = run_pure(pytester, "--ocpp-waivers", str(file))
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the waiver of TC_903_CS expired on 2020-01-01*",
                                 "*waiver 2 names TC_999_CS, which no collected test case has*"])
    assert {c["id"]: c for c in data["test_cases"]}["TC_903_CS"]["waiver"] is None


@pytest.mark.parametrize("text, message", [
    ('[[waiver]]\ncase = "TC_903_CS"\nreason = "x"\n', "waiver 1: 'expires' is missing"),
    ('[[waiver]]\ncase = "TC_903"\nreason = "x"\nexpires = 2030-01-01\n',
     "waiver 1: case must be a test case id"),
    ('[[waiver]]\ncase = "TC_903_CS"\nreason = ""\nexpires = 2030-01-01\n',
     "reason must be a non-empty string"),
    ('[[waiver]]\ncase = "TC_903_CS"\nreason = "x"\nexpires = "2030-01-01"\n',
     "expires must be a TOML date such as 2027-03-31 (unquoted)"),
    ('[[waiver]]\ncase = "TC_903_CS"\nreason = "x"\nexpires = 2030-01-01\nowner = "me"\n',
     "unknown key(s) owner"),
    ('[[waiver]]\ncase = "TC_903_CS"\nreason = "x"\nexpires = 2030-01-01\n' * 2,
     "waiver 2: TC_903_CS is already waived by waiver 1"),
    ('waivers = 1\n', "unknown top-level key(s) waivers"),
    ('[[waiver]\n', "not valid TOML"),
])
def test_a_bad_waiver_file_is_a_precise_usage_error(tmp_path, text, message):
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(waivers.WaiverError) as info:
        waivers.load(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_a_bad_waiver_file_stops_the_run_with_exit_4(pytester):
    (pytester.path / "w.toml").write_text('[[waiver]]\ncase = "TC_903_CS"\n')
    result, _ = run_pure(pytester, "--ocpp-waivers", str(pytester.path / "w.toml"))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*waiver 1: 'reason' is missing*"])
