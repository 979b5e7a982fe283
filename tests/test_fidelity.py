"""Verdict fidelity: the seeded-fault catalogue is sound, the runner judges reports right, and
every entry marked fast is caught by its intended test case with its symptom (the fast subset of
``make fidelity``; each entry is one pytest subprocess against the faulted simulator)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.fidelity import catalogue
from harness.fidelity.catalogue import Entry
from harness.fidelity.report import render
from harness.fidelity.runner import ROOT, CaseVerdict, Run, campaign, differences, judge

ENTRIES = catalogue.load()
FAST = [entry for entry in ENTRIES if entry.fast]
JOBS = 8
"""Subprocesses at a time: they mostly wait on protocol timeouts, so more than the cores."""


def _declared_cases() -> dict[str, str]:
    """Every test case id declared in testcases/ (OCTT ids, and the harness's RB_ ids of the
    Robustness cases), with its profile."""
    found: dict[str, str] = {}
    pattern = re.compile(r'@case\("((?:TC|RB)_\w+)",.*?profile="(\w+)"', re.S)
    for path in (ROOT / "testcases").rglob("test_*.py"):
        for case_id, profile in pattern.findall(path.read_text()):
            found[case_id] = profile
    return found


# --- the catalogue -------------------------------------------------------------------------------

def test_catalogue_is_sound():
    assert catalogue.check(ENTRIES) == []


def test_intended_cases_exist():
    declared = _declared_cases()
    missing = sorted({(e.id, c) for e in ENTRIES for c in e.after + e.cases if c not in declared})
    assert not missing, f"entries naming test cases that do not exist: {missing}"


def test_core_coverage_one_case_in_three():
    declared = _declared_cases()
    core = {c for c, profile in declared.items() if profile == "Core"}
    covered = {c for e in ENTRIES if not e.known_miss for c in e.cases if c in core}
    assert len(covered) * 3 >= len(core), (len(covered), len(core))
    assert len(covered) >= 28


def test_check_flags_a_broken_entry():
    bad = [Entry("cs-x", "cs", "no_such_fault", "d", ("TC_001_CSMS",), "("),
           Entry("cs-x", "csms", "accept_blocked_idtag", "two\nlines", (), " ",
                 collateral={"TC_0*": ""}),
           Entry("cs-y", "cs", "wrong_value", "d", ("TC_001_CS",), "x",
                 params={"action": "A", "field": "f", "value": "a,b"})]
    problems = "\n".join(catalogue.check(bad))
    for expected in ("unknown simulator fault", "TC_001_CSMS is not a test case of SUT cs",
                     "not a regex", "duplicate id", "start with 'csms-'", "one line",
                     "no intended test case", "symptom is empty", "needs a reason",
                     "expected key=value, found 'b'"):
        assert expected in problems


# --- judging -------------------------------------------------------------------------------------

ENTRY = Entry("cs-demo", "cs", "wrong_stop_reason", "stops with reason Other", ("TC_012_CS",),
              r"reason is 'Other', expected 'Remote'", collateral={"TC_015_*": "also stops"})
FAILED = CaseVerdict("FAIL", "AssertionError: step 3: StopTransaction.req reason is 'Other', "
                             "expected 'Remote'\nassert 'Other' == 'Remote'")
BASELINE = {"TC_012_CS": CaseVerdict("PASS", ""), "TC_001_CS": CaseVerdict("PASS", ""),
            "TC_015_CS": CaseVerdict("PASS", ""), "TC_017_2_CS": CaseVerdict("N/A", "N/A: x")}


def test_judge_detects_the_symptom():
    j = judge(ENTRY, {"TC_012_CS": FAILED})
    assert j.detected and j.ok and not j.problems


@pytest.mark.parametrize("verdict", ["PASS", "ERROR", "INCONCLUSIVE", "N/A"])
def test_judge_flags_a_wrong_verdict(verdict):
    j = judge(ENTRY, {"TC_012_CS": CaseVerdict(verdict, FAILED.reason)})
    assert not j.detected and not j.ok
    assert j.problems == [f"TC_012_CS is {verdict}, expected FAIL"]


def test_judge_flags_a_wrong_reason():
    j = judge(ENTRY, {"TC_012_CS": CaseVerdict("FAIL", "DeviceTimeout: no answer to Reset")})
    assert not j.detected and "does not match" in j.problems[0]


def test_judge_flags_a_case_that_did_not_run():
    j = judge(ENTRY, {"TC_001_CS": CaseVerdict("PASS", "")})
    assert not j.detected and j.problems == ["TC_012_CS did not run"]


def test_judge_full_mode_compares_other_cases_with_the_baseline():
    intended = {"TC_012_CS": FAILED}
    suite = {**BASELINE, "TC_012_CS": CaseVerdict("FAIL", "dirty state"),
             "TC_001_CS": CaseVerdict("FAIL", "boom"),
             "TC_015_CS": CaseVerdict("FAIL", "collateral, declared")}
    del suite["TC_017_2_CS"]
    j = judge(ENTRY, intended, suite, BASELINE)
    assert j.detected and not j.ok  # detection is judged on the intended run alone
    assert j.problems == ["TC_001_CS changed PASS -> FAIL: boom",
                          "TC_017_2_CS did not run (baseline N/A)"]
    assert j.collateral_seen == ["TC_015_CS"]
    assert judge(ENTRY, intended, {**BASELINE, "TC_012_CS": FAILED}, BASELINE).ok


def test_judge_full_mode_accepts_other_cases_naming_the_same_bug():
    entry = Entry(**{**ENTRY.__dict__, "also": r"StopTransaction reason Other"})
    suite = {**BASELINE, "TC_001_CS": FAILED,  # matches the symptom
             "TC_015_CS": CaseVerdict("FAIL", "step 2: StopTransaction reason Other"),  # also
             "TC_017_2_CS": CaseVerdict("ERROR", FAILED.reason)}  # an ERROR is never a catch
    j = judge(entry, {"TC_012_CS": FAILED}, suite, BASELINE)
    assert j.also_caught == ["TC_001_CS", "TC_015_CS"]
    assert j.problems == [f"TC_017_2_CS changed N/A -> ERROR: {' '.join(FAILED.reason.split())}"]


def test_judge_alone_mode_compares_the_intended_cases_full_run_with_alone():
    """The property behind the Idle state: an intended case BLOCKED (or INCONCLUSIVE) in the full
    run while it FAILs alone is a problem; the same verdict both ways is not; BLOCKED cases of the
    full run are counted."""
    blocked = CaseVerdict("BLOCKED", "not run: the device stayed Preparing (connector 1) since "
                                     "TC_010_CS failed")
    suite = {**BASELINE, "TC_012_CS": blocked, "TC_015_CS": blocked}
    j = judge(ENTRY, {"TC_012_CS": FAILED}, suite, BASELINE, alone=True)
    assert j.detected and not j.ok and not j.alone_same
    assert j.alone_vs_full == {"TC_012_CS": ("FAIL", "BLOCKED")}
    assert j.problems[0].startswith("TC_012_CS is BLOCKED in the full run but FAIL alone")
    assert j.blocked == ["TC_012_CS", "TC_015_CS"]
    same = judge(ENTRY, {"TC_012_CS": FAILED}, {**BASELINE, "TC_012_CS": FAILED}, BASELINE,
                 alone=True)
    assert same.ok and same.alone_same and same.alone_vs_full == {"TC_012_CS": ("FAIL", "FAIL")}
    assert same.same_as_baseline == 3
    # Without alone mode the intended case's full-run verdict is not judged (as before).
    assert judge(ENTRY, {"TC_012_CS": FAILED}, {**BASELINE, "TC_012_CS": blocked}, BASELINE).ok


def test_known_miss_is_ok_only_while_missed():
    miss = Entry("cs-miss", "cs", "wrong_stop_reason", "d", ("TC_012_CS",), "never",
                 known_miss="the case does not look")
    assert judge(miss, {"TC_012_CS": CaseVerdict("PASS", "")}).ok
    assert not judge(Entry(**{**miss.__dict__, "symptom": "Other"}), {"TC_012_CS": FAILED}).ok


def test_stability_differences_name_the_case_and_the_runs():
    def run(name, sut, **verdicts):
        return Run(sut, Path(name), {k: CaseVerdict(v, "why") for k, v in verdicts.items()})
    same = [run("a", "cs", TC_001_CS="PASS"), run("b", "cs", TC_001_CS="PASS")]
    assert differences(same) == []
    flaky = same + [run("c", "cs", TC_001_CS="FAIL"), Run("csms", Path("d"), error="timeout")]
    out = differences(flaky)
    assert out[0] == "d: timeout"
    assert out[1].startswith("cs TC_001_CS: a=PASS, b=PASS, c=FAIL (why)")


def test_report_lists_every_entry_and_the_totals():
    judgements = [judge(ENTRY, {"TC_012_CS": FAILED}),
                  judge(Entry(**{**ENTRY.__dict__, "id": "cs-other"}), {})]
    judgements[0].also_caught = ["TC_015_CS"]
    text = render(judgements, full=True, elapsed_s=3, jobs=2)
    assert "| cs-demo | cs | `wrong_stop_reason` |" in text and "| yes | TC_015_CS |" in text
    assert "**no**" in text and "1 of 2 faults detected (50%)" in text


# --- the option --------------------------------------------------------------------------------

def _pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "testcases"), "-q",
                           "-p", "no:cacheprovider", "--co", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_sim_fault_option_needs_the_embedded_simulator(tmp_path):
    out = _pytest("--ocpp-sut", "csms", "--ocpp-dut", "external", "--ocpp-report", str(tmp_path),
                  "--ocpp-sim-fault", "accept_blocked_idtag")
    assert out.returncode == 4 and "needs --ocpp-dut sim" in out.stderr


def test_sim_fault_option_names_an_unknown_fault(tmp_path):
    out = _pytest("--ocpp-sut", "cs", "--ocpp-report", str(tmp_path),
                  "--ocpp-sim-fault", "accept_blocked_idtag")  # a CSMS fault, not a charge point's
    assert out.returncode == 4 and "unknown fault 'accept_blocked_idtag' for the charge point" \
        in out.stderr


# --- the fast subset: every fast entry caught by its intended case -------------------------------

@pytest.fixture(scope="module")
def fast_campaign(request, tmp_path_factory):
    """One concurrent campaign for the fast entries this session selected (-k narrows it)."""
    selected = {item.callspec.params["entry"].id for item in request.session.items
                if getattr(item, "originalname", "") == "test_fast_entry_caught_by_its_intended_case"}
    workdir = tmp_path_factory.mktemp("fidelity")
    judgements, _ = asyncio.run(campaign([e for e in FAST if e.id in selected], workdir, jobs=JOBS))
    return {j.entry.id: j for j in judgements}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("entry", FAST, ids=[e.id for e in FAST])
def test_fast_entry_caught_by_its_intended_case(entry, fast_campaign):
    j = fast_campaign[entry.id]
    if entry.known_miss:
        assert not j.detected, (f"{entry.id} is now detected: drop its known_miss mark "
                                f"({j.reason_seen})")
        pytest.xfail(f"known miss: {entry.known_miss}")
    assert j.detected, f"{entry.id} ({entry.cli}) not caught: {'; '.join(j.problems)}"


# --- the property behind the Idle state, fast: a short run together == each case alone ----------

CASCADES = {
    # A pending authorization the device does not end by ConnectionTimeOut (TC_004_2 FAILs on it):
    # the Idle state waits the authorization's ConnectionTimeOut out, then presents the idTag once.
    "preparing": (("ignore_connection_timeout",), ("TC_004_2_CS", "TC_005_1_CS")),
    # A case that fails with the EV suspended: a transaction open, a cable in.
    "transaction": (("wrong_status:real=SuspendedEV,sent=SuspendedEVSE",),
                    ("TC_005_3_CS", "TC_010_CS")),
    # A reservation that does not expire when TC_047 expects it: still held after the case.
    "reservation": (("reservation_expiry_shift:offset_ms=3600000",), ("TC_047_CS", "TC_048_1_CS")),
    # A firmware update left installing by a failed TC_044_1, rebooting 4 s later: without the
    # drain its reboot lands in TC_046_1 (FAIL together, PASS alone).
    "firmware": (("firmware_fake_download", "firmware_reboot_late:delay_ms=4000"),
                 ("TC_044_1_CS", "TC_046_1_CS", "TC_047_CS")),
}


@pytest.fixture(scope="module")
def cascades(tmp_path_factory):
    """Every cascade of CASCADES at once: one run of its cases together and one per case alone."""
    from harness.fidelity.runner import sequence_vs_alone

    workdir = tmp_path_factory.mktemp("cascades")

    async def all_of_them():
        return await asyncio.gather(*(
            sequence_vs_alone("cs", cases, faults, workdir / name, jobs=JOBS // 2)
            for name, (faults, cases) in CASCADES.items()))
    return dict(zip(CASCADES, asyncio.run(all_of_them())))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", list(CASCADES))
def test_a_full_run_gives_each_case_its_verdict_alone(name, cascades):
    """A case that FAILs leaves the device dirty (Preparing, a transaction, a reservation, a
    firmware update): the cases after it get the verdict they get alone on a fresh device."""
    sequence = cascades[name]
    assert sequence.differences == [], sequence.differences
    first = sequence.together.verdicts[sequence.cases[0]]
    assert first.verdict == "FAIL", first  # the fault really left the device dirty


def test_a_run_without_a_report_is_an_error_not_a_verdict(tmp_path):
    from harness.fidelity.runner import run_pytest
    run = asyncio.run(run_pytest("cs", tmp_path, faults=("no_such_fault",)))
    assert run.verdicts == {} and "no usable report.json" in run.error
    assert "unknown fault 'no_such_fault'" in run.error  # pytest's own words are kept


def test_an_inconclusive_naming_the_fault_is_explained_not_caught():
    suite = {**BASELINE, "TC_001_CS": CaseVerdict("INCONCLUSIVE", "preparation: " + FAILED.reason)}
    j = judge(ENTRY, {"TC_012_CS": FAILED}, suite, BASELINE)
    assert j.ok and j.collateral_seen == ["TC_001_CS"] and j.also_caught == []


def test_rejudge_refuses_reports_made_with_another_fault(tmp_path):
    from harness.fidelity.runner import rejudge
    (tmp_path / ENTRY.id).mkdir()
    (tmp_path / ENTRY.id / "report.json").write_text(json.dumps({"test_cases": [
        {"id": "TC_012_CS", "verdict": "FAIL", "reason": FAILED.reason}]}))
    assert rejudge([ENTRY], tmp_path, full=False)[0].ok
    (tmp_path / ENTRY.id / "fault.txt").write_text("wrong_stop_reason:reason=Local\n")
    j = rejudge([ENTRY], tmp_path, full=False)[0]
    assert not j.ok and "run the entry again" in j.problems[0]


def test_the_alone_document_replaces_the_rows_run_and_keeps_the_others():
    """render_alone: the rows of the entries run now (n of m intended cases the same, BLOCKED,
    wall time, date) replace theirs; an earlier row of another entry is kept with its date; an
    entry never run is listed as such; the totals count the rows."""
    from harness.fidelity.report import NOT_RUN, render_alone

    other = Entry(**{**ENTRY.__dict__, "id": "cs-other"})
    never = Entry(**{**ENTRY.__dict__, "id": "cs-never"})
    suite = {**BASELINE, "TC_012_CS": FAILED, "TC_013_CS": CaseVerdict("BLOCKED", "not run: x")}
    j = judge(ENTRY, {"TC_012_CS": FAILED}, suite, BASELINE, alone=True)
    j.duration_s = 41.6
    first = render_alone([j, judge(other, {"TC_012_CS": FAILED}, suite, BASELINE, alone=True)],
                         [ENTRY, other, never], previous="", when="2026-12-01 10:00",
                         command="python -m harness.fidelity --alone")
    assert "| cs-demo | cs | 1 of 1 | TC_012_CS: FAIL / FAIL |" in first
    assert "| 1 | 42 s | 2026-12-01 10:00 |" in first
    assert f"| cs-never | cs | - | - | - | - | - | {NOT_RUN} | - |" in first
    again = judge(ENTRY, {"TC_012_CS": FAILED}, {**suite, "TC_012_CS": CaseVerdict("PASS", "")},
                  BASELINE, alone=True)
    second = render_alone([again], [ENTRY, other, never], previous=first,
                          when="2026-12-03 08:00", command="python -m harness.fidelity --alone "
                          "--entry cs-demo")
    assert "| cs-demo | cs | 0 of 1 **differs** | TC_012_CS: FAIL / PASS |" in second
    assert "2026-12-01 10:00" in second.split("| cs-other |")[1].splitlines()[0]
    assert "`python -m harness.fidelity --alone --entry cs-demo`" in second
    again.every_case = {"TC_012_CS": ("FAIL", "FAIL"), "TC_013_CS": ("PASS", "BLOCKED")}
    third = render_alone([again], [ENTRY], previous="", when="w", command="c")
    assert third.split("| cs-demo |")[1].splitlines()[0].endswith(
        "| w | 1 of 2 **differs**: TC_013_CS: PASS / BLOCKED |")
    assert ("intended cases 1 of 2 with the same verdict alone and in the full run (entries "
            "that differ: 1); 2 cases BLOCKED in the full runs; entries not run by this runner "
            "yet: 1.") in second
