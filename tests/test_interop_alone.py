"""`python -m interop.run --alone` (interop/alone.py): each case run alone against a freshly started
implementation and compared with the full run. One real, bounded run of two central-system cases
(against the ocpp-library central system, ~5 s on an idle machine), so the mode cannot rot, and the
comparison and the document block it writes, on made-up reports."""

from __future__ import annotations

import json

import pytest

from interop import alone, run
from interop.analysis import NOTES

CASES = ("TC_001_CSMS", "TC_003_CSMS")


@pytest.mark.timeout(90)
def test_alone_runs_each_case_on_its_own_against_a_fresh_central_system(tmp_path, capsys):
    doc = tmp_path / "interop.md"
    doc.write_text("# title\n\n" + NOTES)
    code = run.main(["--alone", "--target", "csms-ocpp-library", "-k", " or ".join(CASES),
                     "--jobs", "2", "--reports", str(tmp_path / "r"), "--doc", str(doc)])
    out = capsys.readouterr().out
    assert code == 0, out
    full = run.load(tmp_path / "r" / "csms-ocpp-library")
    assert set(full) == set(CASES), out
    for case_id in CASES:  # one run each, holding that case only, with the device's own log
        directory = tmp_path / "r" / "csms-ocpp-library-alone" / case_id
        report = json.loads((directory / "report.json").read_text())
        assert [c["id"] for c in report["test_cases"]] == [case_id]
        assert (directory / "device.log").is_file()
        assert f"alone csms-ocpp-library {case_id}: " in out
    text = doc.read_text()
    assert text.index(alone.BEGIN) < text.index(alone.END) < text.index(NOTES.splitlines()[0])
    assert "2 cases run alone" in text and "| csms-ocpp-library: full run |" in out
    assert "Run by `python -m interop.run --alone --target csms-ocpp-library" in text
    verdicts = [c["verdict"] for c in full.values()]
    assert f"| PASS | {verdicts.count('PASS')} | " in out


def _case(case_id: str, verdict: str, reason: str = "") -> dict:
    return {"id": case_id, "name": case_id, "verdict": verdict, "reason": reason}


def test_a_verdict_that_differs_alone_is_listed_with_both_verdicts_and_the_alone_reason(tmp_path):
    full = {"csms-ocpp-library": {
        "TC_A": _case("TC_A", "PASS"),
        "TC_B": _case("TC_B", "INCONCLUSIVE", "Idle: connector 1 stays 'Preparing'"),
        "TC_C": _case("TC_C", "N/A", "not in the PICS"),
        "TC_D": _case("TC_D", "FAIL", "step 2: NotImplemented (wire log lines 3, 4)")}}
    ran: list[str] = []

    def run_case(key, case_id, directory):
        ran.append(case_id)
        directory.mkdir(parents=True)
        verdict = "PASS" if case_id == "TC_B" else "FAIL"
        reason = ("step 2: NotImplemented (wire log lines 8, 9)" if case_id == "TC_D"
                  else "alone | <b>reason</b>")
        (directory / "report.json").write_text(json.dumps(
            {"test_cases": [_case(case_id, verdict, reason)]}))
        return 0.0, ""

    results = alone.run_alone(["csms-ocpp-library"], full, tmp_path, jobs=2, run_case=run_case,
                              load=run.load, progress=lambda line: None)
    assert sorted(ran) == ["TC_A", "TC_B", "TC_D"]  # the N/A one is not run alone
    result = results["csms-ocpp-library"]
    assert result.different() == ["TC_A", "TC_B"]
    assert result.same_reason() == ["TC_D"]
    assert result.alone_counts() == {"PASS": 1, "FAIL": 2, "N/A": 1}
    text = alone.block(results, {"suite": {"csms-ocpp-library": "lib"}})
    assert "#### TC_B: full run INCONCLUSIVE, alone PASS" in text
    assert "- Reason (full run): Idle: connector 1 stays 'Preparing'" in text
    assert "- Reason (alone): alone \\| <b>reason</b>" in text  # a table-safe cell
    assert "| PASS | 1 | 1 |" in text and "| INCONCLUSIVE | 1 | 0 |" in text
    assert "| FAIL | 1 | 2 |" in text
    assert "3 cases run alone, 1 with the full run's verdict, 2 different" in text


def test_an_alone_run_without_a_report_is_a_difference_with_its_output(tmp_path):
    full = {"k": {"TC_A": _case("TC_A", "PASS")}}
    results = alone.run_alone(["k"], full, tmp_path, jobs=1, load=run.load,
                              run_case=lambda *a: (0.0, "collected 0 items\nboom"),
                              progress=lambda line: None)
    case = results["k"].alone["TC_A"]
    assert case["verdict"] == "no report" and "boom" in case["reason"]
    assert results["k"].different() == ["TC_A"]


def test_the_full_rewrite_keeps_the_alone_block_and_the_verdict_reader_ignores_it():
    block = (f"{alone.BEGIN}\n\n<!-- section: alone -->\n\n| verdict | x: full run | x: alone |\n"
             f"|---|---|---|\n| PASS | 1 | 1 |\n{alone.END}\n")
    results = {"cs-simulator": {"TC_A": _case("TC_A", "PASS")}}
    spec = run.Section("cs", "t", ("cs-simulator",))
    first = run.document(results, {}, (spec,), alone_block=block)
    again = run.document(results, {}, (spec,), alone_block=alone.kept_block(first))
    assert first == again and first.index(alone.END) < first.index(NOTES.splitlines()[0])
    assert run.documented_verdicts(first)["cs"] == {"simulator": {"TC_A": "PASS"}}
    replaced = alone.with_block(first, block.replace("| 1 | 1 |", "| 1 | 0 |"), "")
    assert replaced.count(alone.BEGIN) == 1 and "| 1 | 0 |" in replaced
    assert replaced.replace("| 1 | 0 |", "| 1 | 1 |") == first


def test_an_incomplete_full_run_is_not_compared(tmp_path, capsys):
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "report.json").write_text(json.dumps(  # a run killed after one case
        {"complete": False, "test_cases": [_case("TC_A", "PASS")]}))

    def never(*args):
        raise AssertionError("nothing is run")

    code = alone.main(["k"], tmp_path, tmp_path / "doc.md", jobs=1, rerun_full=False, command="c",
                      notes_heading="", run_full=never, run_case=never, load=run.load,
                      suites={"s": {"k": "k"}})
    assert code == 2 and "incomplete" in capsys.readouterr().out
    assert not (tmp_path / "doc.md").exists()
