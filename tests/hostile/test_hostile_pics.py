"""Hostile PICS files (issue 13, defects 3, 6 and 10), the harness run as users run it (pytest on
testcases, in a subprocess): a PICS nested deeper than the TOML reader goes and PICS paths that
leave the PICS folder are one usage line (exit code 4, no INTERNALERROR, no report, the file never
served); a central system's real vendor name (over 20 characters) is not the harness's own
chargePointVendor, so TC_001_CSMS PASSes against the embedded central system.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CS_CASE = "testcases/cs/core/test_tc_001_cold_boot.py"
CSMS_CASE = "testcases/csms/core/test_tc_001_cold_boot.py"
pytestmark = pytest.mark.timeout(300)
"""A harness run is ~10 s on a quiet machine; over 120 s was seen at load average 25 on 2 cores."""


def harness(pics: Path, case: str, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", case, "--ocpp-pics", str(pics), "--ocpp-report",
         str(out), "-p", "no:cacheprovider", "-o", "addopts=", f"--rootdir={ROOT}", "-q", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=280, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("name, files", [
    ("parent", 'firmware = "../secret/lab-key.txt"'),
    ("absolute", 'firmware = "{secret}"'),
])
def test_a_pics_path_outside_its_folder_is_a_usage_error(tmp_path, name, files):
    (tmp_path / "secret").mkdir()
    secret = tmp_path / "secret" / "lab-key.txt"
    secret.write_text("LAB-PRIVATE-KEY-MATERIAL\n")
    lab = tmp_path / "lab"
    lab.mkdir()
    text = (ROOT / "harness/sim/default_cs.toml").read_text()
    (lab / "pics.toml").write_text(text + "\n[files]\n" + files.format(secret=secret) + "\n")
    run = harness(lab / "pics.toml", CS_CASE, tmp_path / "out")
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
    assert run.returncode == 4 and len(errors) == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "files.firmware" in errors[0] and "outside the PICS folder" in errors[0], errors
    assert "--ocpp-allow-paths" in errors[0]
    assert "INTERNALERROR" not in run.stdout + run.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_a_pics_nested_past_the_toml_reader_is_a_usage_error(tmp_path):
    text = (ROOT / "harness/sim/default_cs.toml").read_text()
    (tmp_path / "pics.toml").write_text(text + "\n[hostile]\ndeep = " + "[" * 5000 + "]" * 5000
                                        + "\n")
    run = harness(tmp_path / "pics.toml", CS_CASE, tmp_path / "out")
    errors = [line for line in run.stderr.splitlines() if line.startswith("ERROR: ")]
    assert run.returncode == 4 and len(errors) == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "nested deeper than the TOML reader goes" in errors[0], errors
    assert "INTERNALERROR" not in run.stdout + run.stderr and "RecursionError" not in run.stderr


def test_the_harness_charge_point_keeps_its_own_vendor(tmp_path):
    vendor = "A Real Central System Vendor GmbH & Co. KG"  # 42 characters: CiString20 would refuse
    text = (ROOT / "harness/sim/default_csms.toml").read_text()
    assert 'vendor = "OCPPHarness"' in text
    (tmp_path / "pics.toml").write_text(text.replace('vendor = "OCPPHarness"',
                                                     f'vendor = "{vendor}"', 1))
    out = tmp_path / "out"
    run = harness(tmp_path / "pics.toml", CSMS_CASE, out, "--ocpp-sut", "csms")
    report = json.loads((out / "report.json").read_text())
    case = report["test_cases"][0]
    assert (case["id"], case["verdict"]) == ("TC_001_CSMS", "PASS"), (case, run.stdout[-2000:])
    boots = [line for line in (out / "wire" / "TC_001_CSMS.jsonl").read_text().splitlines()
             if '"BootNotification"' in line]
    assert boots and vendor not in boots[0] and '"chargePointVendor":"OCPPHarness"' in \
        boots[0].replace(" ", ""), boots[:1]
