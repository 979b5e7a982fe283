"""The Security functionality of the report (issue 15 step 4): its own result by the profiles'
rules, beside the certificate and never counted in it; shown in report.json and report.html."""

from __future__ import annotations

from harness.profiles import PROFILE_MARKERS
from harness.report.html import render
from harness.report.model import CaseResult, RunReport

DUT = {"vendor": "V", "model": "M", "firmware_version": "1", "charge_point_id": "CP1",
       "pics": "pics.toml"}


def _report(security: list[tuple[str, str]], declared_security: bool = True) -> RunReport:
    cases = [CaseResult(f"TC_{n:03d}_CS", "x", profile, "PASS")
             for n, profile in enumerate(PROFILE_MARKERS, start=900)]
    cases += [CaseResult(case_id, "security case", "Security", verdict)
              for case_id, verdict in security]
    return RunReport(dut=DUT, sut="cs", started="2026-01-01T00:00:00Z",
                     finished="2026-01-01T00:01:00Z", complete=True,
                     declared_profiles=tuple(PROFILE_MARKERS)
                     + (("Security",) if declared_security else ()), test_cases=cases)


def test_security_fail_leaves_the_certificate_full():
    report = _report([("TC_085_CS", "PASS"), ("TC_073_CS", "FAIL")])
    assert report.certificate() == "Full"
    security = report.functionalities()["Security"]
    assert security["result"] == "Fail" and security["in_certificate"] is False
    assert security["counts"] == {"PASS": 1, "FAIL": 1}
    assert "Security" not in report.profile_results()
    assert "White Paper, edition 2" in security["document"]


def test_security_pass_and_not_applicable():
    assert _report([("TC_085_CS", "PASS")]).functionalities()["Security"]["result"] == "Pass"
    none = _report([("TC_085_CS", "N/A")], declared_security=False)
    assert none.functionalities()["Security"]["result"] == "N/A"
    assert none.certificate() == "Full"


def test_security_row_in_the_html_only_when_it_applies():
    shown = render(_report([("TC_085_CS", "PASS"), ("TC_073_CS", "FAIL")]).to_json())
    assert 'id="functionality-Security"' in shown and "outside the certificate" in shown
    hidden = render(_report([("TC_085_CS", "N/A")], declared_security=False).to_json())
    assert 'id="functionality-Security"' not in hidden


def test_security_row_in_the_print_layout():
    from harness.report.pdf import render_html
    page = render_html(_report([("TC_085_CS", "PASS")]).to_json(), "summary")
    assert 'id="functionality-Security"' in page and "Beside the certificate" in page
