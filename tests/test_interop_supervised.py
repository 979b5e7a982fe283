"""The second independent charge point (interop/supervised_cp.py) shows legal behaviour our
simulator does not by default, and the cases take those branches on it, through the HTTP driver
against separate processes: a Reset ends the firmware process and its rig restarts it (TC_013,
TC_015: the reboot is a new process, seconds later); no cable lock (TC_017_1 NotSupported, TC_024
N/A from the PICS); the EV leaves with the cable and the connector goes Charging -> Available
without Finishing (TC_005_1, TC_005_2); no authorization cache (TC_061 N/A). The whole Core suite
against it is in docs/interop.md."""

from __future__ import annotations

import json
import subprocess

import pytest

from interop.launch import (ROOT, SUPERVISED_PICS, free_port, pytest_args,
                            supervised_charge_point)

PASS = ("TC_013_CS", "TC_015_CS", "TC_017_1_CS", "TC_005_1_CS", "TC_005_2_CS")
NA = ("TC_024_CS", "TC_061_CS")
RUN_TIMEOUT_S = 150


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("supervised")
    log = report_dir / "implementation.log"
    port = free_port()
    with supervised_charge_point(port, log) as control:
        result = subprocess.run(
            pytest_args("cs", report_dir, select=" or ".join(PASS + NA), external={
                "pics": str(SUPERVISED_PICS), "driver": control, "listen": f"127.0.0.1:{port}"}),
            cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    report = report_dir / "report.json"
    assert report.is_file(), f"the run wrote no report.json:\n{result.stdout[-3000:]}"
    cases = {c["id"]: (c["verdict"], c["reason"])
             for c in json.loads(report.read_text())["test_cases"]}
    return cases, log, result.stdout, report_dir


def _frames(report_dir, case_id):
    for line in (report_dir / "wire" / f"{case_id}.jsonl").read_text().splitlines():
        frame = json.loads(line).get("frame")
        if isinstance(frame, list):
            yield frame


def test_legal_branches_pass_on_the_second_charge_point(run):
    cases, log, output, _ = run
    wrong = {case: cases.get(case) for case in PASS if (cases.get(case) or ("",))[0] != "PASS"}
    assert not wrong, f"not PASS: {wrong}\nimplementation log: {log}\n{output[-3000:]}"
    wrong = {case: cases.get(case) for case in NA if (cases.get(case) or ("",))[0] != "N/A"}
    assert not wrong, f"not N/A: {wrong}\n{output[-3000:]}"


def test_the_firmware_really_exited_and_was_restarted(run):
    _, log, _, _ = run
    text = log.read_text()
    # TC_013 and TC_015 each reset it once
    assert text.count("firmware ended (Reset)") >= 2, text[-3000:]


def test_the_wire_shows_the_other_branches(run):
    cases, _, _, report_dir = run
    assert cases["TC_024_CS"][1].startswith("N/A: the PICS says the connectors have no cable lock")
    statuses = [f[3]["status"] for f in _frames(report_dir, "TC_005_1_CS")
                if f[0] == 2 and f[2] == "StatusNotification" and f[3]["connectorId"] == 1]
    assert "Charging" in statuses and "Finishing" not in statuses, statuses
    unlock = [f for f in _frames(report_dir, "TC_017_1_CS") if f[0] == 3]
    assert {"status": "NotSupported"} in [f[2] for f in unlock]
