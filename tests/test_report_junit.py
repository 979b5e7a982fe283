"""JUnit XML (harness/report/junit.py): one mapping of each verdict whatever pytest phase it was
reached in, and the properties verdict, profile, wire_log, remarks on every OCPP testcase."""

from __future__ import annotations

import xml.etree.ElementTree as ET


CASES = """
import pytest
from harness.cases import case
from harness.verdicts import Inconclusive

@pytest.fixture
def stuck():
    raise Inconclusive("Idle: the charge point could not be brought idle")

@pytest.fixture
def broken():
    raise RuntimeError("the harness broke in set-up")

@case("TC_970_CS", "Passes", profile="Core")
async def test_tc_970_cs(pics):
    pass

@case("TC_971_CS", "Fails", profile="Core")
async def test_tc_971_cs(pics):
    assert False, "step 2: expected Accepted, got Rejected (wire log line 7)"

@case("TC_972_CS", "Inconclusive in the call", profile="Core")
async def test_tc_972_cs(pics):
    raise Inconclusive("the operator did not confirm within 120 s")

@case("TC_973_CS", "Inconclusive in the set-up", profile="Core")
async def test_tc_973_cs(stuck):
    pass

@case("TC_974_CS", "Harness error in the call", profile="Core")
async def test_tc_974_cs(pics):
    raise RuntimeError("the harness broke \\x1b in the call")

@case("TC_975_CS", "Harness error in the set-up", profile="Core")
async def test_tc_975_cs(broken):
    pass

@case("TC_976_CS", "Not applicable", profile="Core",
      na_when=((lambda pics: True, "the charge point has no such thing"),))
async def test_tc_976_cs(pics):
    pass
"""

EXPECTED = {
    "TC_970_CS": ("PASS", None), "TC_971_CS": ("FAIL", "failure"),
    "TC_972_CS": ("INCONCLUSIVE", "error"), "TC_973_CS": ("INCONCLUSIVE", "error"),
    "TC_974_CS": ("ERROR", "error"), "TC_975_CS": ("ERROR", "error"),
    "TC_976_CS": ("N/A", "skipped"),
}


def test_each_verdict_maps_to_one_junit_outcome_in_any_phase(pytester):
    pytester.makepyfile(test_cases=CASES)
    junit = pytester.path / "junit.xml"
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-report",
                                  str(pytester.path / "out"), "--junitxml", str(junit), timeout=60)
    root = ET.parse(junit).getroot()  # still well-formed XML, with an ESC in a reason
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"),
            suite.get("skipped")) == ("7", "1", "4", "1")
    seen = {}
    for case in root.iter("testcase"):
        case_id = case.get("name").split(" ")[0]
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcomes = [c for c in case if c.tag in ("failure", "error", "skipped")]
        seen[case_id] = (props["verdict"], outcomes[0].tag if outcomes else None)
        assert len(outcomes) <= 1, case_id
        assert props["profile"] == "Core" and "remarks" in props and "wire_log" in props
        if outcomes:
            assert outcomes[0].get("type") == props["verdict"]
    assert seen == EXPECTED
    failure = next(c for c in root.iter("testcase") if c.get("name").startswith("TC_971_CS"))
    assert failure.find("failure").get("message") == (
        "step 2: expected Accepted, got Rejected (wire log line 7)")
    error = next(c for c in root.iter("testcase") if c.get("name").startswith("TC_974_CS"))
    assert "#x1B" in error.find("error").get("message")
    assert "Traceback" in error.find("error").text or "raise RuntimeError" in error.find("error").text
