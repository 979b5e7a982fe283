"""A finding: one rule a frame broke.

Framing (``rpc.*`` rules), schema validation (JSON Schema keyword names such as ``required`` or
``format:date-time``) and transport (``ws.*``) all report the same shape, so the session, the wire
log and the offline validator print them alike.

Two kinds (``severity``, decided in :mod:`harness.severity`): a **violation** breaks the official
schemas + errata or a normative rule and fails the test case; a **remark** is stricter than that
(a rule of ours the OCTT does not apply either, or a reading the specification does not force): it
is shown in the wire log, the report and JUnit, and fails a case only under ``--ocpp-strict``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson

VIOLATION, REMARK = "violation", "remark"
SEVERITIES = (VIOLATION, REMARK)
VALUE_PREVIEW = 200
"""Characters of an offending value kept in a finding when JSON cannot carry it whole (nested
deeper than the serialisers go); the frame itself is in the wire log."""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    """The rule broken: a JSON Schema keyword (``enum``, ``format:date-time``) or ``rpc.*`` / ``ws.*``."""
    path: str
    """JSON path of the offending value inside the payload (``$`` is the payload), or ``frame``."""
    message: str
    """One sentence a person can act on."""
    value: Any = None
    """The offending value, as received."""
    severity: str = "violation"
    """``violation`` (a FAIL) or ``remark`` (shown, a FAIL only under ``--ocpp-strict``)."""

    @property
    def is_remark(self) -> bool:
        return self.severity == REMARK

    def __str__(self) -> str:
        kind = " (remark)" if self.severity == REMARK else ""
        return f"{self.path}: {self.message} [{self.rule}]{kind}"

    def to_json(self) -> dict:
        """A JSON-ready dict; values JSON cannot carry (``Decimal``) become their text.

        Never raises for what a device can send: an integer wider than 64 bits stays an exact
        integer (the standard library carries it where orjson refuses), a value nested deeper than
        the serialisers go becomes a bounded text preview of itself."""
        out = {"rule": self.rule, "path": self.path, "message": self.message,
               "value": json_safe(self.value)}
        if self.severity != VIOLATION:
            out["severity"] = self.severity
        return out


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None)."""
    try:
        return orjson.loads(orjson.dumps(value, default=str))
    except (TypeError, orjson.JSONEncodeError, RecursionError):
        pass
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        pass
    text = _preview(value)
    return f"<not representable in JSON here: {text}>"


@dataclass(frozen=True, slots=True)
class _Text:
    text: str


def _preview(value: Any) -> str:
    """The first characters of ``value``'s JSON-ish text, without recursing through it."""
    out: list[str] = []
    size = 0
    stack: list[Any] = [value]
    while stack and size < VALUE_PREVIEW:
        item = stack.pop()
        if isinstance(item, _Text):
            piece = item.text
        elif isinstance(item, list):
            stack.append(_Text("]"))
            for i, element in enumerate(reversed(item)):
                stack.append(element)
                if i < len(item) - 1:
                    stack.append(_Text(","))
            piece = "["
        elif isinstance(item, dict):
            stack.append(_Text("}"))
            entries = list(item.items())
            for i, (key, element) in enumerate(reversed(entries)):
                stack.append(element)
                stack.append(_Text(json.dumps(str(key)) + ":"))
                if i < len(entries) - 1:
                    stack.append(_Text(","))
            piece = "{"
        else:
            try:
                piece = json.dumps(item, default=str)
            except (TypeError, ValueError):
                piece = repr(item)
        out.append(piece)
        size += len(piece)
    text = "".join(out)
    return text[:VALUE_PREVIEW] + ("..." if stack or len(text) > VALUE_PREVIEW else "")
