"""The run's results, independent of how they are rendered (report.json now, HTML later)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

import harness
from harness.cases import PROFILE_MARKERS

VERDICTS = ("PASS", "FAIL", "N/A", "INCONCLUSIVE", "ERROR")
TEST_CASE_DOCUMENT = ("OCPP 1.6 Compliancy Testing Tool, Test Case Document, revision 2025-06 "
                      "(CS) / 2026-02 (CSMS), as catalogued in octt16/")
"""The OCTT document the test cases follow (ids, names, steps), as the certificates name theirs."""


@dataclass
class CaseResult:
    id: str
    name: str
    profile: str
    verdict: str
    reason: str = ""
    duration_s: float = 0.0
    wire_log: str | None = None


@dataclass
class Measurement:
    """One PICS timing metric over the run (filled by harness/timing.py).

    samples: [{"case", "value_s", "harness_s", "wire_log", "lines", "what"}], "lines" the 1-based
    wire-log line numbers of the frames involved; "harness_s" the harness's own processing time,
    shown apart, never counted in "value_s".
    """
    name: str                         # metric key: response_time, triggered_function, ...
    pics_s: float | None              # the declared PICS value (None: no declared limit)
    measured_s: float | None          # the worst sample (max); None without samples
    title: str = ""                   # the certificate's wording: "OCPP response timeout"
    n: int = 0
    min_s: float | None = None
    median_s: float | None = None
    p95_s: float | None = None
    max_s: float | None = None
    harness_median_s: float | None = None
    ok: bool | None = None            # None: no sample or no declared value
    unit_note: str = ""               # e.g. "interval accuracy vs configured 3 s"; "" for times
    samples: list[dict] = field(default_factory=list)


@dataclass
class RunReport:
    dut: dict[str, Any]
    sut: str
    tool_version: str = harness.__version__
    started: str = ""
    finished: str = ""
    complete: bool = False
    """False when the run was interrupted: the report holds what ran."""
    test_cases: list[CaseResult] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    configuration: dict[str, str] = field(default_factory=dict)
    declared_profiles: tuple[str, ...] = ()
    pics: dict[str, Any] = field(default_factory=dict)
    """What the PICS declares (source, features, timing, configuration): shown beside what the
    device itself did and said, never instead of it."""
    configuration_source: dict[str, Any] = field(default_factory=dict)
    """Where ``configuration`` came from: ``how`` (end-of-run, during-run, none), ``wire_log``,
    ``line``, ``read_at``, ``note``."""
    limits: dict[str, Any] = field(default_factory=dict)
    """Limits detected from the device's own frames (milliseconds_in_timestamps)."""
    test_case_document: str = TEST_CASE_DOCUMENT
    evidence: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Per test case id, what its wire log showed (harness.report.evidence.CaseEvidence), read
    once; the source of ``limits`` and of the fallback ``configuration``. Not in report.json."""

    def profile_results(self) -> dict[str, dict[str, Any]]:
        """Per profile: the result as :meth:`profiles` gives it, except that a profile the PICS
        declares but no case of which ran is "Not covered" (not N/A: nothing was shown not to
        apply), with the counts of verdicts behind it."""
        out = {}
        for profile, result in self.profiles().items():
            verdicts = [c.verdict for c in self.test_cases if c.profile == profile]
            declared = profile in self.declared_profiles
            counts = {v: verdicts.count(v) for v in VERDICTS if verdicts.count(v)}
            if declared and not verdicts:
                result = "Not covered"
            out[profile] = {"result": result, "declared": declared, "counts": counts}
        return out

    def profiles(self) -> dict[str, str]:
        """Pass when every applicable case passes, N/A when none applies, Fail otherwise."""
        summary = {}
        for profile in PROFILE_MARKERS:
            verdicts = [c.verdict for c in self.test_cases if c.profile == profile]
            applicable = [v for v in verdicts if v != "N/A"]
            if not applicable:
                summary[profile] = "N/A"
            else:
                summary[profile] = "Pass" if all(v == "PASS" for v in applicable) else "Fail"
        return summary

    def certificate(self) -> str:
        """Full when every profile passes, Subset when Core passes, None otherwise."""
        profiles = self.profiles()
        if profiles["Core"] != "Pass":
            return "None"
        return "Full" if all(v == "Pass" for v in profiles.values()) else "Subset"

    def to_json(self) -> dict[str, Any]:
        return {
            "dut": self.dut, "sut": self.sut, "tool_version": self.tool_version,
            "started": self.started, "finished": self.finished, "complete": self.complete,
            "certificate": self.certificate(), "profiles": self.profiles(),
            "measurements": [asdict(m) for m in self.measurements],
            "configuration": self.configuration,
            "configuration_source": self.configuration_source,
            "profile_results": self.profile_results(),
            "pics": self.pics, "limits": self.limits,
            "test_case_document": self.test_case_document,
            "test_cases": [asdict(c) for c in self.test_cases],
        }

    def write_json(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "report.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_bytes(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2,
                                     default=str))
        os.replace(tmp, path)
        return path


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
