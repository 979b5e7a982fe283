"""The run's results, independent of how they are rendered (report.json, report.html, JUnit).

Rules (DESIGN 2.3), one word per state wherever a result is shown:

- A test case's verdict: PASS, FAIL, N/A, INCONCLUSIVE, ERROR (the harness's own failure, never
  the device's), BLOCKED (not run: the device is stuck since an earlier case).
- A profile is **Pass** when every applicable case of it ran and passed, **Fail** when a case of
  it FAILed, **N/A** when no case of it applies, and **Incomplete** otherwise: cases not run (not
  selected, BLOCKED, the run interrupted), INCONCLUSIVE or ERROR. "Applicable" is every case the
  harness knows for the SUT that the PICS does not make N/A, selected or not.
- A certificate type is implied only when no profile is Incomplete: **Full** when all six
  profiles pass, **Subset** when Core passes, else **None**. A waived FAIL stays Fail.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

import harness
from harness.profiles import FUNCTIONALITIES, PROFILE_MARKERS
from harness.profiles import certificate as _certificate

VERDICTS = ("PASS", "FAIL", "N/A", "INCONCLUSIVE", "ERROR", "BLOCKED")
BLOCKED = "BLOCKED"
"""Not run because the device is stuck since an earlier case: counted as not run."""
PROFILE_RESULTS = ("Pass", "Fail", "N/A", "Incomplete")
TEST_CASE_DOCUMENT = ("OCPP 1.6 Compliancy Testing Tool, Test Case Document, revision 2025-06 "
                      "(CS) / 2026-02 (CSMS), as catalogued in octt16/")
"""The OCTT document the test cases follow (ids, names, steps), as the certificates name theirs."""
FUNCTIONALITY_DOCUMENTS = {
    "Security": "OCPP 1.6 Security White Paper, edition 2 (the OCTT's security cases, TC_073 to "
                "TC_088, as catalogued in octt16/)"}
"""The document each functionality beside the profiles follows."""


@dataclass
class CaseResult:
    id: str
    name: str
    profile: str
    verdict: str
    reason: str = ""
    duration_s: float = 0.0
    wire_log: str | None = None
    blocked_by: str | None = None
    """BLOCKED: the id of the case that left the device stuck (the root of the blockage)."""
    remarks: list[str] = field(default_factory=list)
    """Findings stricter than the official schemas + errata, readings the specification does not
    force (harness/severity.py): shown, never a FAIL unless --ocpp-strict."""
    symptom: dict[str, Any] | None = None
    """A FAIL of the assertion vocabulary: its structured symptom (harness.verdicts.Mismatch.symptom:
    kind, action, message, field, expected, got, line, step, connector); None otherwise."""
    waiver: dict[str, Any] | None = None
    """--ocpp-waivers: {reason, expires, status: waived | unexpected-pass | not-applied}. The
    verdict is never changed by it (a waived FAIL is still FAIL)."""


@dataclass
class Measurement:
    """One PICS timing metric over the run (filled by harness/timing.py).

    samples: [{"case", "value_s", "harness_s", "wire_log", "lines", "what"}], "lines" the 1-based
    wire-log line numbers of the frames involved; "harness_s" the harness's own processing time,
    shown apart, never counted in "value_s"; "lag_s" the event loop's worst lag over the span
    measured, and "unreliable": true when it was beyond the bound (harness/lag.py): such a sample
    is left out of n/min/median/p95/max and never fails a case.
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
    unreliable: int = 0               # samples taken while the harness lagged: not in the figures


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
    lab: dict[str, Any] = field(default_factory=dict)
    harness: dict[str, Any] = field(default_factory=dict)
    """The harness's own timing over the run (harness.lag.LagMonitor.to_json): the event loop's
    worst lag and where, the bound beyond which a timing is not judged, the time per frame."""
    """The PICS ``[lab]`` block (test laboratory, location, test execution location, report
    reference, tester), as the certificates print it."""
    applicable: dict[str, dict[str, Any]] | None = None
    """Per profile, the cases the harness knows for the SUT, selected or not: ``total`` (how
    many) and ``applicable`` (the ids the PICS does not make N/A). None when not known (a report
    built outside a pytest run): then only the cases that ran count."""
    evidence: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Per test case id, what its wire log showed (harness.report.evidence.CaseEvidence), read
    once; the source of ``limits`` and of the fallback ``configuration``. Not in report.json."""

    def profile_results(self) -> dict[str, dict[str, Any]]:
        """Per profile, its result and the figures behind it (module docstring: the rules).

        ``applicable`` counts every case the harness knows for the SUT that the PICS does not
        make N/A, whether selected or not (minus those found N/A at run time); ``ran`` those of
        them with a verdict; ``not_run`` the rest plus the BLOCKED ones."""
        return {profile: self._result_of(profile) for profile in PROFILE_MARKERS}

    def functionalities(self) -> dict[str, dict[str, Any]]:
        """Per functionality beside the six profiles (harness/profiles.py FUNCTIONALITIES: Security),
        its result by the profiles' rules, outside the certificate (``in_certificate`` false), with
        the document its cases follow."""
        return {name: {**self._result_of(name), "in_certificate": False,
                       "document": FUNCTIONALITY_DOCUMENTS.get(name, "")}
                for name in FUNCTIONALITIES}

    def _result_of(self, profile: str) -> dict[str, Any]:
        """One profile's (or functionality's) result and the figures behind it."""
        verdicts: dict[str, str] = {}
        for c in self.test_cases:
            if c.profile == profile:
                verdicts[c.id] = c.verdict
        known = self.applicable.get(profile) if self.applicable is not None else None
        expected = {i for i, v in verdicts.items() if v != "N/A"}
        if known is not None:
            expected |= {i for i in known["applicable"] if verdicts.get(i) != "N/A"}
        counts = {v: n for v in VERDICTS
                  if (n := sum(1 for x in verdicts.values() if x == v))}
        blocked = sum(1 for i in expected if verdicts.get(i) == BLOCKED)
        not_run = sum(1 for i in expected if i not in verdicts) + blocked
        declared = profile in self.declared_profiles
        if counts.get("FAIL"):
            result = "Fail"
        elif expected and all(verdicts.get(i) == "PASS" for i in expected):
            result = "Pass"
        elif expected or (declared and not verdicts
                          and (known is None or not known["total"])):
            # The second: declared, but the harness knows no case of it at all: nothing was
            # shown to pass or not to apply.
            result = "Incomplete"
        else:
            result = "N/A"
        return {
            "result": result, "declared": declared, "counts": counts,
            "applicable": len(expected), "ran": len(expected) - not_run,
            "not_run": not_run, "inconclusive": counts.get("INCONCLUSIVE", 0),
            "error": counts.get("ERROR", 0), "blocked": blocked}

    def profiles(self) -> dict[str, str]:
        """Per profile its one word: Pass, Fail, N/A or Incomplete."""
        return {p: r["result"] for p, r in self.profile_results().items()}

    def robustness(self) -> dict[str, Any]:
        """The Robustness pseudo-profile (harness/profiles.py): its result and verdict counts, apart
        from the certificate's profiles (which it never changes)."""
        verdicts = [c.verdict for c in self.test_cases if c.profile == "Robustness"]
        applicable = [v for v in verdicts if v != "N/A"]
        result = ("N/A" if not applicable else "Fail" if "FAIL" in applicable else
                  "Pass" if all(v == "PASS" for v in applicable) else "Incomplete")
        return {"result": result, "in_certificate": False,
                "counts": {v: verdicts.count(v) for v in VERDICTS if verdicts.count(v)}}

    def remarks(self) -> dict[str, Any]:
        """Every remark of the run, by case (a summary: the texts are on each case)."""
        by_case = {c.id: len(c.remarks) for c in self.test_cases if c.remarks}
        return {"total": sum(by_case.values()), "cases": by_case}

    def waived(self) -> list[dict[str, Any]]:
        """The cases a waiver touched, with what it did."""
        return [{"id": c.id, "verdict": c.verdict, **c.waiver}
                for c in self.test_cases if c.waiver is not None]

    def certificate(self) -> str:
        """Full when every profile passes, Subset when Core passes and no profile is Incomplete,
        None otherwise (a partial or incomplete run implies no certificate)."""
        return _certificate(self.profile_results())

    def certificate_note(self) -> str:
        """One line saying what the verdicts imply and why, the same in the terminal, report.json
        and the HTML title: "partial: 1 of 53 applicable Core cases ran; no certificate implied"."""
        return _certificate_note(self.profile_results())

    def to_json(self) -> dict[str, Any]:
        results = self.profile_results()
        return {
            "dut": self.dut, "sut": self.sut, "tool_version": self.tool_version,
            "started": self.started, "finished": self.finished, "complete": self.complete,
            "certificate": _certificate(results), "certificate_note": _certificate_note(results),
            "profiles": {p: r["result"] for p, r in results.items()},
            "measurements": [asdict(m) for m in self.measurements],
            "configuration": self.configuration,
            "configuration_source": self.configuration_source,
            "profile_results": results,
            "robustness": self.robustness(), "functionalities": self.functionalities(),
            "remarks": self.remarks(), "waived": self.waived(),
            "pics": self.pics, "limits": self.limits, "lab": self.lab, "harness": self.harness,
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _certificate_note(results: dict[str, dict[str, Any]]) -> str:
    incomplete = {p: r for p, r in results.items() if r["result"] == "Incomplete"}
    failed = [f"{p} Fail ({_plural(r['counts']['FAIL'], 'FAILed case')})"
              for p, r in results.items() if r["result"] == "Fail"]
    if incomplete:
        parts, untouched, uncollected = [], [], []
        for profile, r in incomplete.items():
            if not r["applicable"]:
                uncollected.append(profile)
                continue
            why = [f"{r[k]} {word}" for k, word in (("inconclusive", "INCONCLUSIVE"),
                                                    ("error", "harness ERROR"),
                                                    ("blocked", "BLOCKED")) if r[k]]
            if not r["ran"] and not why:
                untouched.append((profile, r["applicable"]))
                continue
            parts.append(f"{r['ran']} of {r['applicable']} applicable {profile} cases ran"
                         + (f" ({', '.join(why)})" if why else ""))
        if untouched:
            parts.append(f"0 of {sum(n for _, n in untouched)} applicable "
                         f"{', '.join(p for p, _ in untouched)} cases ran")
        if uncollected:
            parts.append(f"no {', '.join(uncollected)} case was collected although the PICS "
                         f"declares {'it' if len(uncollected) == 1 else 'them'}")
        partial = any(r["not_run"] or not r["applicable"] for r in incomplete.values())
        return (f"{'partial' if partial else 'incomplete'}: {'; '.join(failed + parts)}; "
                f"no certificate implied")
    certificate = _certificate(results)
    if certificate == "Full":
        return "Full: every applicable case of the six profiles ran and passed"
    if certificate == "Subset":
        passed = [p for p, r in results.items() if r["result"] == "Pass"]
        return f"Subset: {', '.join(passed)} passed" + (f"; {'; '.join(failed)}" if failed else "")
    if failed:
        return f"no certificate implied: {'; '.join(failed)}"
    return "no certificate implied: no Core case applies"
