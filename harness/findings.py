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

from dataclasses import dataclass
from typing import Any

import orjson

VIOLATION, REMARK = "violation", "remark"
SEVERITIES = (VIOLATION, REMARK)


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
        """A JSON-ready dict; values JSON cannot carry (``Decimal``) become their text."""
        out = {"rule": self.rule, "path": self.path, "message": self.message,
               "value": orjson.loads(orjson.dumps(self.value, default=str))}
        if self.severity != VIOLATION:
            out["severity"] = self.severity
        return out
