"""Which findings are violations and which are remarks (issue 11, item 6).

Rules, stated first:

1. A frame that breaks the **official** OCA schemas with the errata applied, or a normative rule of
   OCPP-J / OCPP 1.6, is a **violation**: the test case FAILs.
2. A finding stricter than that, which the OCTT does not apply either, is a **remark**: it is
   written into the wire log (``"severity": "remark"``), the report (per case and summarised),
   report.json (``remarks``) and JUnit (property ``ocpp_remark``), and FAILs the case only when
   the user asks with ``--ocpp-strict``.
3. Where the OCTT is stricter than the specification's text, the OCTT's verdict stays (the harness
   predicts the lab) and the case's reason says that it is the OCTT's reading (TC_042_1).

The decision for every row of ``schemas/ERRATA.md`` (our schemas = the OCA's files + these rows):

==== ===================================================== ==========================================
row  what it changes                                        kind of finding where it bites
==== ===================================================== ==========================================
L1   the OCA ``id`` restored                                none (an identifier, never a verdict)
L2   ``Hertz`` not a MeterValues unit                       violation: the OCA's 2019-12 file rejects
                                                            it; only the ``ocpp`` package added it
S1   StopTransaction ``sampledValue`` minItems 1            **remark**: §7.33 says "one or more", but
                                                            the OCA's StopTransaction schema has no
                                                            minItems and the OCTT validates with it
D1   security files validated as draft-04                   **remark** for the one verdict it changes:
                                                            an integer written ``1.0`` (draft-06, the
                                                            OCA's files, accepts it)
==== ===================================================== ==========================================

Beside the schemas, :data:`ERROR_CODE_SPELLINGS`: a CALLERROR code spelt ``FormatViolation`` or
``OccurrenceConstraintViolation`` (the errata's / OCPP 2.0's spelling) is accepted as the code it
names, with a remark saying which spelling was used (OCPP-J 1.6 §4.2.3 spells them
``FormationViolation`` / ``OccurenceConstraintViolation``).

And the connection policy's finding, :func:`duplicate_connection`: a charge point that opens a
second WebSocket connection with its own chargePointId while the first is open and answers pings
(``ws.duplicate-connection``) is a **remark**: OCPP-J 1.6 has no normative rule on it (section 3
describes one connection per charge point but does not forbid a second), so the harness keeps
one (the newcomer refused, or the old one closed) and says so, a FAIL only under ``--ocpp-strict``.

:func:`classify` is applied by :class:`harness.protocol.Checker` to every finding, so the live
session and the offline validator (``python -m harness validate``) agree. The schema-agreement
campaign (``harness.fidelity.agreement``) judges against the OCA files + *every* row, so a remark
counts there as the finding it is: the two judges still read the same schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterable

from harness.findings import REMARK, Finding
from harness.dialect import OCPP16, SECURITY_ACTIONS


@dataclass(frozen=True)
class RemarkRule:
    row: str
    """The ERRATA.md label (or ``J`` for an OCPP-J rule)."""
    action: str | None
    """The action it applies to (None: any of ``actions``)."""
    response: bool
    rule: str
    """The finding's rule (JSON Schema keyword)."""
    path: re.Pattern[str]
    why: str


SCHEMA_REMARKS: tuple[RemarkRule, ...] = (
    RemarkRule("S1", "StopTransaction", False, "minItems",
               re.compile(r"^\$\.transactionData\[\d+\]\.sampledValue$"),
               "stricter than the OCA's StopTransaction schema (schemas/ERRATA.md S1: OCPP 1.6 "
               "§7.33 'one or more' sampled values, which the OCA file and the OCTT do not "
               "enforce in StopTransaction)"),
)

ERROR_CODE_SPELLINGS = OCPP16.error_code_spellings
"""Spelling sent -> the OCPP-J 1.6 §4.2.3 code it means (harness.dialect.OCPP16's table)."""


def canonical_error_code(code: str) -> str:
    """The OCPP-J 1.6 code a CALLERROR code means, whichever accepted spelling it uses."""
    return OCPP16.canonical_error_code(code)


def _integral_decimal(value: object) -> bool:
    return (isinstance(value, (float, Decimal)) and not isinstance(value, bool)
            and value == value // 1)


def classify(action: str | None, response: bool, findings: Iterable[Finding]) -> list[Finding]:
    """``findings`` with the severity of each decided (rules 1 and 2 above)."""
    out = []
    for finding in findings:
        why = _remark_reason(action, response, finding)
        if why is not None:
            finding = replace(finding, severity=REMARK, message=f"{finding.message}; {why}")
        out.append(finding)
    return out


def _remark_reason(action: str | None, response: bool, finding: Finding) -> str | None:
    if finding.is_remark:
        return None
    for rule in SCHEMA_REMARKS:
        if rule.action == action and rule.response == response and rule.rule == finding.rule \
                and rule.path.match(finding.path):
            return rule.why
    if action in SECURITY_ACTIONS and finding.rule == "type" and \
            _integral_decimal(finding.value) and "expected integer," in finding.message:
        return ("stricter than the OCA's draft-06 security schema, which counts an integral "
                "number as an integer (schemas/ERRATA.md D1)")
    return None


def duplicate_connection(message: str, charge_point_id: str) -> Finding:
    """The remark for a second live connection of the device (module docstring)."""
    return Finding("ws.duplicate-connection", "handshake",
                   f"{message} (OCPP-J 1.6 has no normative rule on a second connection with the "
                   "same chargePointId: a remark, a FAIL under --ocpp-strict)",
                   charge_point_id, REMARK)


def error_code_spelling(code: str) -> Finding | None:
    """The remark for a CALLERROR code spelt the errata's / OCPP 2.0's way, else None."""
    return OCPP16.spelling_remark(code)
