"""What the report reads from the wire logs rather than from the PICS: the device's own timestamps
(does it send milliseconds?), the configuration it reported in a full GetConfiguration, and the
message sequence of each test case.

Pure functions over :func:`harness.wirelog.read`; a wire log that cannot be read yields no
evidence (the report says so) instead of breaking the report of a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from harness.wirelog import LogLine, WireLogError, read

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?P<fraction>\.\d+)?"
                       r"(?:Z|z|[+-]\d{2}:?\d{2})?$")
CALL, CALLRESULT, CALLERROR = 2, 3, 4


@dataclass
class Timestamps:
    """The device's own date-time values (every string in its payloads that is one)."""
    seen: int = 0
    with_fraction: int = 0
    example_with: str | None = None
    example_without: str | None = None

    def add(self, other: Timestamps) -> None:
        self.seen += other.seen
        self.with_fraction += other.with_fraction
        self.example_with = self.example_with or other.example_with
        self.example_without = self.example_without or other.example_without

    def verdict(self) -> str:
        """Yes when every timestamp carries fractional seconds, No when none, Partly, or Unknown
        when the device sent none."""
        if not self.seen:
            return "Unknown"
        if self.with_fraction == self.seen:
            return "Yes"
        return "No" if self.with_fraction == 0 else "Partly"

    def to_json(self) -> dict[str, Any]:
        return {"value": self.verdict(), "seen": self.seen, "with_fraction": self.with_fraction,
                "example_with": self.example_with, "example_without": self.example_without}


@dataclass
class ConfigurationAnswer:
    """The device's answer to a GetConfiguration without keys: every key it has."""
    values: dict[str, str | None]
    readonly: dict[str, bool]
    wire_log: str
    line: int
    ts: str | None


@dataclass
class CaseEvidence:
    timestamps: Timestamps = field(default_factory=Timestamps)
    configuration: ConfigurationAnswer | None = None
    """The last full GetConfiguration answer in the log."""
    error: str | None = None


@dataclass
class Arrow:
    """One line of a wire log as the sequence diagram and the frame list show it."""
    line: int
    ts: str | None
    """The wall clock of the line; None where the wire log line has none."""
    offset_s: float | None
    """Seconds since the first line with a monotonic clock; None where this line or every line
    before it has none (the diagram leaves its time blank)."""
    sender: str | None
    """cp, csms, or None for an event (connected, closed ...)."""
    label: str
    text: str
    """The frame's text (or the event's detail), as received."""
    findings: list[str]
    kind: str
    """call, result, error, raw (not an OCPP-J array) or event."""


def _frame(line: LogLine) -> Any:
    try:
        return orjson.loads(line.text or "")
    except orjson.JSONDecodeError:
        return None


def _date_times(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if DATE_TIME.match(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _date_times(item)
    elif isinstance(value, list):
        for item in value:
            yield from _date_times(item)


def scan(path: str | Path, device: str) -> CaseEvidence:
    """The evidence in one wire log; ``device`` is the device's sender name (cp or csms)."""
    evidence = CaseEvidence()
    pending: dict[str, dict] = {}
    try:
        for line in read(path):
            if not line.is_frame:
                if line.event == "connected" and not (line.detail or {}).get("note"):
                    pending.clear()  # uniqueIds are unique per connection only
                continue
            frame = _frame(line)
            if not isinstance(frame, list) or len(frame) < 3:
                continue
            if line.sender == device:
                payload = frame[3] if frame[0] == CALL and len(frame) > 3 else frame[2]
                for stamp in _date_times(payload):
                    evidence.timestamps.seen += 1
                    if DATE_TIME.match(stamp).group("fraction"):  # type: ignore[union-attr]
                        evidence.timestamps.with_fraction += 1
                        evidence.timestamps.example_with = evidence.timestamps.example_with or stamp
                    else:
                        evidence.timestamps.example_without = (evidence.timestamps.example_without
                                                               or stamp)
                if frame[0] == CALLRESULT and isinstance(frame[2], dict) \
                        and frame[1] in pending:
                    pending.pop(frame[1])
                    keys = frame[2].get("configurationKey") or []
                    if isinstance(keys, list):
                        evidence.configuration = ConfigurationAnswer(
                            {kv.get("key"): kv.get("value") for kv in keys
                             if isinstance(kv, dict) and isinstance(kv.get("key"), str)},
                            {kv.get("key"): bool(kv.get("readonly")) for kv in keys
                             if isinstance(kv, dict) and isinstance(kv.get("key"), str)},
                            str(path), line.line, line.ts)
            elif frame[0] == CALL and len(frame) > 3 and frame[2] == "GetConfiguration" \
                    and isinstance(frame[3], dict) and not frame[3].get("key"):
                pending[str(frame[1])] = frame[3]
    except (WireLogError, OSError) as exc:
        evidence.error = str(exc)
    return evidence


def arrows(path: str | Path, limit: int) -> tuple[list[Arrow], int, str | None]:
    """The first ``limit`` lines of a wire log as arrows, how many lines it has, and an error if
    it could not be read to the end. CALLRESULT and CALLERROR are labelled with the action of
    the CALL they answer (paired by uniqueId within a connection)."""
    out: list[Arrow] = []
    actions: dict[tuple[str, Any], str] = {}
    total, start, error = 0, None, None
    try:
        for line in read(path):
            total += 1
            if start is None:
                start = line.mono
            if len(out) >= limit:
                continue
            offset = None if line.mono is None or start is None else line.mono - start
            if not line.is_frame:
                detail = line.detail or {}
                out.append(Arrow(line.line, line.ts, offset, None, _event_label(line.event or "",
                                 detail), orjson.dumps(detail).decode(), [], "event"))
                if line.event == "connected" and not detail.get("note"):
                    actions.clear()
                continue
            frame = _frame(line)
            findings = [_finding_text(f) for f in line.findings]
            kind, label = _label(frame, line.sender or "", actions)
            out.append(Arrow(line.line, line.ts, offset, line.sender, label, line.text or "",
                             findings, kind))
    except (WireLogError, OSError) as exc:
        error = str(exc)
    return out, total, error


def _label(frame: Any, sender: str, actions: dict[tuple[str, Any], str]) -> tuple[str, str]:
    if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (CALL, CALLRESULT,
                                                                         CALLERROR):
        return "raw", "(not an OCPP-J frame)"
    other = "csms" if sender == "cp" else "cp"
    if frame[0] == CALL:
        action = str(frame[2])
        actions[(sender, frame[1])] = action
        return "call", f"{action}.req"
    action = actions.get((other, frame[1]), "?")
    if frame[0] == CALLRESULT:
        status = frame[2].get("status") if isinstance(frame[2], dict) else None
        return "result", f"{action}.conf" + (f" ({status})" if isinstance(status, str) else "")
    code = frame[2] if len(frame) > 2 else "?"
    return "error", f"CALLERROR {code} ({action})"


def _event_label(event: str, detail: dict) -> str:
    if event == "connected":
        return "connected" + (" (carried over)" if detail.get("note") else "")
    if event == "closed":
        code, by = detail.get("code"), detail.get("by")
        return ("closed" + (f" (code {code})" if code is not None else "")
                + (f" by the {by}" if by else ""))
    if event == "driver":
        return _driver_label(detail)
    return event


def _driver_label(detail: dict) -> str:
    """``operator: Plug the EV cable into connector 1.``, then ``operator: done (0.3 s)``."""
    who = "operator (idle)" if detail.get("for") == "idle" else "operator"
    if detail.get("phase") == "asked":
        return f"{who}: {detail.get('instruction') or detail.get('action', '?')}"
    outcome = str(detail.get("outcome", "?"))
    elapsed = detail.get("elapsed_s")
    took = f" ({elapsed:g} s)" if isinstance(elapsed, (int, float)) else ""
    status = detail.get("status")
    said = f" {status}" if status is not None else ""
    if outcome == "done":
        return f"{who}: {detail.get('action', '?')} done{took}"
    return f"{who}: {detail.get('action', '?')} {outcome}{said}{took}: {detail.get('reason', '')}"


def _finding_text(finding: dict) -> str:
    parts = [str(finding.get(k)) for k in ("rule", "path", "message") if finding.get(k)]
    return " ".join(parts) if parts else orjson.dumps(finding).decode()
