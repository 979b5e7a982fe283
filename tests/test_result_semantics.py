"""What a run's verdicts imply, on real runs (harness/report/model.py states the rules): a
profile is Pass only when every applicable case ran and passed, Fail only when a case FAILed,
Incomplete otherwise; a certificate only from a complete run; the same words in the terminal,
report.json and the HTML title."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=110)


def core_only_pics(pytester: pytest.Pytester) -> str:
    """A Core-only charge point (a certificate's PICS)."""
    return str(ROOT / "examples/pics/taeseongcontech-tsct-1100a.toml")


def results(out: Path) -> tuple[dict, str]:
    return (json.loads((out / "report.json").read_text()),
            (out / "report.html").read_text())


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


@pytest.mark.parametrize("selection", ["-k", "file"])
def test_a_partial_run_implies_no_certificate(pytester, tmp_path, selection):
    """One Core case of the real suite, selected by -k or by naming its file: the applicable set
    is still every Core case the PICS allows."""
    out = tmp_path / "out"
    target = (["testcases", "-k", "TC_003_CS"] if selection == "-k" else
              ["testcases/cs/core/test_tc_003_charging_plugin_first.py"])
    pytester.chdir()
    result = run(pytester, *[str(ROOT / t) if t.startswith("testcases") else t for t in target],
                 f"--rootdir={ROOT}", "--ocpp-pics", core_only_pics(pytester),
                 "--ocpp-report", str(out))
    result.assert_outcomes(passed=1)
    data, page = results(out)
    core = data["profile_results"]["Core"]
    assert core["ran"] == 1 and core["applicable"] > 40 and core["not_run"] == core["applicable"] - 1
    assert data["profiles"]["Core"] == "Incomplete" and data["certificate"] == "None"
    note = f"partial: 1 of {core['applicable']} applicable Core cases ran; no certificate implied"
    assert data["certificate_note"] == note
    assert note in title(page)
    result.stdout.fnmatch_lines([f"certificate: None ({note})",
                                 f"*Core*Incomplete*1 PASS, {core['not_run']} not run"])
    assert "Subset" not in result.stdout.str()


CASES = """
from harness.cases import case
from harness.verdicts import Inconclusive

@case("TC_950_CS", "Fine", profile="Core")
async def test_tc_950_cs(pics):
    assert pics.dut.sut == "cs"

@case("TC_951_CS", "Also fine", profile="Core")
async def test_tc_951_cs(pics):
    {second}
"""


@pytest.mark.parametrize("second, verdict, result, note", [
    ("pass", "PASS", "Pass", "Subset: Core passed"),
    ("raise AssertionError('step 2: expected Accepted, got Rejected')", "FAIL", "Fail",
     "no certificate implied: Core Fail (1 FAILed case)"),
    ("raise Inconclusive('the operator did not plug in the cable within 60 s')", "INCONCLUSIVE",
     "Incomplete", "incomplete: 2 of 2 applicable Core cases ran (1 INCONCLUSIVE); "
                   "no certificate implied"),
    ("raise RuntimeError('the harness broke')", "ERROR", "Incomplete",
     "incomplete: 2 of 2 applicable Core cases ran (1 harness ERROR); no certificate implied"),
])
def test_an_inconclusive_or_a_harness_error_is_neither_pass_nor_fail(pytester, tmp_path, second,
                                                                    verdict, result, note):
    pytester.makepyfile(test_cases=CASES.format(second=second))
    out = tmp_path / "out"
    outcome = run(pytester, "--ocpp-pics", core_only_pics(pytester), "--ocpp-report", str(out))
    data, page = results(out)
    assert [c["verdict"] for c in data["test_cases"]] == ["PASS", verdict]
    assert data["profiles"]["Core"] == result
    assert data["certificate"] == ("Subset" if verdict == "PASS" else "None")
    assert data["certificate_note"] == note and note in title(page)
    outcome.stdout.fnmatch_lines([f"certificate: {data['certificate']} ({note})"])
    if verdict == "ERROR":
        outcome.stdout.fnmatch_lines(["*Core*Incomplete*1 PASS, 1 harness ERROR"])
        assert "harness ERROR" in page and "not a verdict on the device" in page
