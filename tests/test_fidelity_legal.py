"""False-failure entries (harness/fidelity/legal.py): the section is sound, the judge applies its
rules, and every fast entry holds -- the embedded simulator given a behaviour OCPP allows (no cable
lock, Charging -> Available, a firmware that exits on Reset ...) gets no FAIL, ERROR or
INCONCLUSIVE, its branch cases PASS and the hardware's N/A cases are N/A."""

from __future__ import annotations

import asyncio
import re
import tomllib

import pytest

from harness import pics
from harness.fidelity import legal
from harness.fidelity.legal import LegalEntry, judge
from harness.fidelity.runner import ROOT, CaseVerdict

FAST = [entry for entry in legal.ENTRIES if entry.fast]
JOBS = 8


def _declared() -> set[str]:
    pattern = re.compile(r'@case\("(TC_\w+)"')
    return {case_id for path in (ROOT / "testcases").rglob("test_*.py")
            for case_id in pattern.findall(path.read_text())}


def test_section_is_sound():
    assert legal.check(legal.ENTRIES) == []


def test_named_cases_exist():
    declared = _declared()
    missing = sorted({(e.id, c) for e in legal.ENTRIES for c in e.cases + e.na
                      if c not in declared})
    assert not missing, missing


def test_check_flags_a_broken_entry():
    bad = [LegalEntry("cs-x", "cs", "two\nlines", (), behaviours=("no_such",)),
           LegalEntry("cs-legal-y", "cs", "d", ("TC_001_CSMS", "TC_001_CS"), na=("TC_001_CS",),
                      behaviours=("wrong_stop_reason",)),
           LegalEntry("cs-legal-z", "cs", "d", ("TC_001_CS",)),
           LegalEntry("cs-legal-w", "cs", "d", ("TC_001_CS",),
                      pics={"features": {"cable": "socket"}})]
    problems = "\n".join(legal.check(bad))
    for expected in ("start with 'cs-legal-'", "one line", "no case taking the other branch",
                     "unknown simulator behaviour 'no_such'", "TC_001_CSMS is not a test case",
                     "TC_001_CS cannot be both PASS and N/A",
                     "wrong_stop_reason is a bug in the fault registry",
                     "neither a PICS change nor a behaviour",
                     "features.cable: expected one of"):
        assert expected in problems, expected


def test_derived_pics_applies_the_changes_and_loads(tmp_path):
    entry = next(e for e in legal.ENTRIES if e.id == "cs-legal-no-authorization-cache")
    path = legal.derived_pics(entry, tmp_path)
    data = tomllib.loads(path.read_text())
    assert data["features"]["authorization_cache"] is False
    assert "AuthorizationCacheEnabled" not in data["configuration"]
    loaded = pics.load(path)
    assert not loaded.features.authorization_cache and loaded.dut.charge_point_id == "SIMCP001"
    fixed = pics.load(legal.derived_pics(
        next(e for e in legal.ENTRIES if e.id == "cs-legal-fixed-cable"), tmp_path / "f"))
    assert fixed.features.cable == "fixed" and fixed.features.fixed_cable


ENTRY = LegalEntry("cs-legal-demo", "cs", "d", ("TC_017_1_CS",), na=("TC_024_CS",),
                   pics={"features": {"cable": "socket_without_lock"}})


def test_judge_rules():
    ok = {"TC_017_1_CS": CaseVerdict("PASS", ""), "TC_024_CS": CaseVerdict("N/A", "N/A: no lock"),
          "TC_001_CS": CaseVerdict("PASS", "")}
    assert judge(ENTRY, ok, full=True).ok
    broken = {**ok, "TC_017_1_CS": CaseVerdict("FAIL", "UnlockConnector.conf is 'NotSupported'"),
              "TC_024_CS": CaseVerdict("INCONCLUSIVE", "lock_failure refused"),
              "TC_001_CS": CaseVerdict("ERROR", "boom")}
    problems = judge(ENTRY, broken, full=True).problems
    assert problems == [
        "TC_017_1_CS is FAIL, expected PASS: UnlockConnector.conf is 'NotSupported'",
        "TC_024_CS is INCONCLUSIVE, expected N/A: lock_failure refused",
        "TC_001_CS is ERROR on a conformant device: boom"]
    # fast form: cases outside the entry are not its business; a case that did not run is
    assert judge(ENTRY, {**ok, "TC_001_CS": CaseVerdict("FAIL", "x")}, full=False).ok
    assert judge(ENTRY, {"TC_024_CS": ok["TC_024_CS"]}, full=False).problems == [
        "TC_017_1_CS did not run"]
    narrow = LegalEntry(**{**ENTRY.__dict__, "suite": False})
    assert judge(narrow, {**ok, "TC_001_CS": CaseVerdict("FAIL", "x")}, full=True).ok


@pytest.fixture(scope="module")
def fast_results(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("legal")
    return {j.entry.id: j for j in asyncio.run(legal.campaign(FAST, workdir, jobs=JOBS))}


@pytest.mark.parametrize("entry", FAST, ids=lambda e: e.id)
def test_no_false_failure(fast_results, entry):
    judgement = fast_results[entry.id]
    assert judgement.ok, "\n".join(judgement.problems)
