"""Conformance under load: chosen CSMS test cases run against the central system while the swarm
runs (``python -m harness load ... --cases "-k 'TC_001_CSMS or TC_003_CSMS'"``).

The cases are the conformance suite's own, run as a user would run them against an external
central system, in a process of their own (the suite is asyncio, the swarm gevent):

    pytest testcases --ocpp-sut csms --ocpp-dut external --ocpp-csms-url URL \\
        [--ocpp-pics PICS] [--ocpp-driver DRIVER] --ocpp-report REPORT/cases <--cases arguments>

started once the swarm has ramped up (``--users / --spawn-rate`` seconds, at most half the run).
The swarm keeps running until they end (bounded by ``--cases-timeout``), so every case runs under
the load. Their verdicts (from the suite's report.json) go into the load run's report.json under
``cases``, beside the load figures: a case that FAILs under load is a missed objective of the
run; a suite that could not run or did not finish makes the run INCONCLUSIVE.

The cases connect as the PICS's ``dut.charge_point_id`` (not one of the swarm's identities).
Cases that change what the CSMS does for every charge point (its boot policy, a reset of every
connection) disturb the swarm as much as the swarm disturbs them: choose cases that act on their
own charge point.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The checkout holding testcases/ (the suite runs from there)."""


class CasesRun:
    def __init__(self, selection: str, csms_url: str, report: Path, pics: str | None = None,
                 driver: str | None = None):
        self.report = report / "cases"
        self.command = [sys.executable, "-m", "pytest", "testcases", "--ocpp-sut", "csms",
                        "--ocpp-dut", "external", "--ocpp-csms-url", csms_url,
                        "--ocpp-report", str(self.report), "-p", "no:cacheprovider", "-q"]
        if pics:
            self.command += ["--ocpp-pics", str(Path(pics).resolve())]
        if driver:
            self.command += ["--ocpp-driver", driver]
        self.command += shlex.split(selection)
        self.process: subprocess.Popen | None = None
        self.exit: int | None = None
        self.timed_out = False

    def start(self) -> None:
        self.report.mkdir(parents=True, exist_ok=True)
        log = (self.report / "pytest.log").open("w", encoding="utf-8")
        self.process = subprocess.Popen(self.command, cwd=ROOT, stdout=log,
                                        stderr=subprocess.STDOUT)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float) -> None:
        """Until the suite ends, at most ``timeout`` seconds; then it is stopped."""
        if self.process is None:
            return
        try:
            self.exit = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def summary(self) -> dict[str, Any]:
        """The verdicts for report.json."""
        out: dict[str, Any] = {"command": " ".join(shlex.quote(c) for c in self.command[1:]),
                               "exit": self.exit, "timed_out": self.timed_out,
                               "report": str(self.report / "report.json"),
                               "log": str(self.report / "pytest.log"), "verdicts": [],
                               "counts": {}}
        path = self.report / "report.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return out
        counts: dict[str, int] = {}
        for case in data.get("test_cases", []):
            verdict = case.get("verdict")
            counts[verdict] = counts.get(verdict, 0) + 1
            out["verdicts"].append({"id": case.get("id"), "verdict": verdict,
                                    "reason": (case.get("reason") or "")[:300],
                                    "duration_s": case.get("duration_s")})
        out["counts"] = counts
        return out
