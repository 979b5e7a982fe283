"""A report a lab can hand over: the PICS [lab] block and a Statement of Approval with empty
signature fields, as the certificates have; the PICS named with its SHA-256; paths relative to the
report, wire logs linked; the frame a FAIL reason cites drawn red."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from harness.report.html import cited_lines

ROOT = Path(__file__).resolve().parents[1]

LAB = """
[lab]
test_laboratory = "Example Test Lab <GmbH>"
location = "Arnhem, The Netherlands"
test_execution_location = "Vendor premises (Seoul, Korea)"
report_reference = "ETL-OCPP16-2026-017"
tester = "J. Jansen"
"""


@pytest.fixture(scope="module")
def handed_over(tmp_path_factory) -> tuple[Path, dict, str, Path]:
    """One run with a FAIL that cites a wire-log line (the simulator's wrong_stop_reason fault)."""
    import subprocess
    import sys

    work = tmp_path_factory.mktemp("handover")
    pics = work / "lab.toml"
    pics.write_text((ROOT / "harness/sim/default_cs.toml").read_text() + LAB)
    out = work / "out"
    subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "testcases"), f"--rootdir={ROOT}",
                    "-p", "no:cacheprovider", "-q", "-k", "TC_015_CS", "--ocpp-pics", str(pics),
                    "--ocpp-sim-fault", "wrong_stop_reason", "--ocpp-report", str(out)],
                   cwd=work, capture_output=True, text=True, timeout=120)
    data = json.loads((out / "report.json").read_text())
    return out, data, (out / "report.html").read_text(), pics


def test_the_lab_block_and_the_statement_of_approval(handed_over):
    out, data, page, pics = handed_over
    assert data["lab"]["report_reference"] == "ETL-OCPP16-2026-017"
    for row in ("<th>Test laboratory</th><td>Example Test Lab &lt;GmbH&gt;</td>",
                "<th>Location</th><td>Arnhem, The Netherlands</td>",
                "<th>Test execution location</th><td>Vendor premises (Seoul, Korea)</td>",
                "<th>Test Report Reference</th><td>ETL-OCPP16-2026-017</td>"):
        assert row in page, row
    approval = page[page.index('<section id="approval">'):page.index('<section id="cases">')]
    assert "Statement of Approval" in approval
    assert approval.count('<tr class="signature"><th>Signature</th>') == 2  # vendor, laboratory
    assert "<th>Vendor</th>" in approval and "<th>Test laboratory</th>" in approval
    assert "J. Jansen" in approval and "OCPPHarness" in approval


def test_the_pics_is_named_with_its_sha256_and_paths_are_relative(handed_over):
    out, data, page, pics = handed_over
    digest = hashlib.sha256(pics.read_bytes()).hexdigest()
    assert data["dut"]["pics_sha256"] == digest
    assert f'<span class="mono" id="pics-sha256">{digest}</span>' in page
    assert '<span class="mono">../lab.toml</span>' in page
    assert '<a href="wire/TC_015_CS.jsonl"><code>wire/TC_015_CS.jsonl</code></a>' in page
    assert str(out) not in page  # no absolute path of the lab's machine in the hand-over


def test_the_frame_a_fail_cites_is_drawn_red(handed_over):
    out, data, page, pics = handed_over
    (case,) = data["test_cases"]
    assert case["verdict"] == "FAIL" and "(wire log line" in case["reason"]
    (line,) = cited_lines(case["reason"])
    svg = re.search(r'<g class="finding">\s*<text class="t"[^>]*>[^<]*</text>\s*<line[^>]*/>\s*'
                    r'<polygon[^>]*/>\s*<text[^>]*>(\d+): ', page)
    assert svg and int(svg.group(1)) == line
    assert f"the reason cites line {line}, drawn red" in page


@pytest.mark.parametrize("reason, lines", [
    ("step 3: reason 'Other' (wire log line 24)", {24}),
    ("answered in 453.5 ms, PICS declares 0.3 s (wire lines 2, 11)", {2, 11}),
    ("no line cited", set()),
])
def test_cited_lines(reason, lines):
    assert cited_lines(reason) == lines
