"""Reusable state Idle (harness/states/idle.py), run as a user runs the suite: a case that fails
half-way leaves the charge point dirty, and the next case still starts from an idle device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = """
from harness.cases import case
from harness.states import cs

@case("TC_901_CS", "Fails with the cable in and a transaction running", profile="Core")
async def test_tc_901_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    await cs.authorized(cp, driver, pics)
    tx = cs.Tx(cs.connector_under_test(pics), cs.valid_tag(pics))
    await cs.start_after_plug_in(cp, driver, pics, tx)
    assert False, "step 9: a failure that leaves the transaction running"

@case("TC_902_CS", "Fails with an authorization pending", profile="Core")
async def test_tc_902_cs(cp, driver, pics):
    await cs.authorized(cp, driver, pics)
    assert False, "step 3: a failure that leaves the idTag authorized, no cable"

@case("TC_903_CS", "Needs an idle charge point", profile="Core")
async def test_tc_903_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    async with cs.charging(cp, driver, pics) as tx:
        assert tx.transaction_id is not None
    others = cs.requests_of(cp, "StopTransaction",
                            lambda p: p.get("transactionId") != tx.transaction_id)
    assert not others, "the clean-up's StopTransaction is not among the case's requests"

@case("TC_904_CS", "After a clean case", profile="Core")
async def test_tc_904_cs(cp, driver, pics):
    await cs.booted(cp, pics)
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_a_failed_case_does_not_fail_the_next_ones(pytester, tmp_path):
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-p", "no:randomly")
    verdicts = {c["id"]: (c["verdict"], c["reason"])
                for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert verdicts["TC_901_CS"][0] == "FAIL" and "step 9" in verdicts["TC_901_CS"][1]
    assert verdicts["TC_902_CS"][0] == "FAIL" and "step 3" in verdicts["TC_902_CS"][1], verdicts
    assert verdicts["TC_903_CS"] == ("PASS", ""), verdicts
    assert verdicts["TC_904_CS"] == ("PASS", ""), verdicts
    # The clean-up is in the wire log of the case it prepared.
    wire = (out / "wire" / "TC_902_CS.jsonl").read_text()
    assert "RemoteStopTransaction" in wire or "StopTransaction" in wire
    result.assert_outcomes(passed=2, failed=2)


def test_an_idle_device_costs_no_traffic(pytester, tmp_path):
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-k", "TC_903 or TC_904")
    result.assert_outcomes(passed=2, deselected=2)
    frames = [json.loads(line) for line in
              (out / "wire" / "TC_904_CS.jsonl").read_text().splitlines()]
    sent = [f["frame"][2] for f in frames if f.get("from") == "csms" and f["frame"][0] == 2]
    assert sent == [], f"the harness sent {sent} to a charge point it saw idle"
