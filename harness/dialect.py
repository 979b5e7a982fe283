"""What the engine needs to know of an OCPP version, as one value: :class:`Dialect`.

Rule: the engine modules (``rpc``, ``protocol``, ``validation``, ``transport``, ``session``) judge
and speak a version only through the :class:`Dialect` they are given; none of them names an
action, an error code, a subprotocol or a schema file. :data:`OCPP16` is OCPP 1.6J (with the
security extension and the errata, ``schemas/ERRATA.md``) and every engine seam defaults to it, so
a caller that says nothing gets what the harness did before dialects existed. Another version (a
2.0.1 pack) is another :class:`Dialect` value built outside the engine: its subprotocol, its
actions by sender, its CALLERROR codes and their accepted spellings, the finding -> CALLERROR
table, its schema set (a :class:`harness.validation.Validator` over a directory of
``<Action>.json`` / ``<Action>Response.json``, or 2.0.1's ``<Action>Request.json`` with its
``comment`` keyword: :func:`schema_set`), its remark policy and the sections its messages cite.
``tests/test_dialect.py`` builds such a value and drives the engine in it end to end.

This module imports nothing of the harness but :mod:`harness.findings` and
:mod:`harness.validation` (which imports only findings): every engine module can import it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from harness.findings import REMARK, Finding
from harness.validation import Validator

Sender = Literal["cp", "csms"]
"""Who sends a frame: the charge point (``cp``) or the central system (``csms``)."""

Remarks = Callable[[str | None, bool, list[Finding]], list[Finding]]
"""A dialect's remark policy: ``(action, response, findings)`` -> the findings with the severity
of each decided (harness.severity for 1.6)."""


def no_remarks(action: str | None, response: bool, findings: list[Finding]) -> list[Finding]:
    """The remark policy of a dialect that has none: every finding is a violation."""
    return findings


def schema_set(schema_dir: Path | str, version: str, *, request_suffix: str = "",
               annotations: frozenset[str] = frozenset()) -> Callable[[], Validator]:
    """A dialect's schema loader over ``schema_dir`` (``<Action><request_suffix>.json`` and
    ``<Action>Response.json``; ``annotations``: keywords of the set that only annotate): the
    :class:`Validator` is built on first use, once."""
    return functools.cache(lambda: Validator(Path(schema_dir), version=version,
                                             request_suffix=request_suffix,
                                             annotations=annotations))


@dataclass(frozen=True, slots=True, eq=False)
class Dialect:
    """One OCPP version as the engine sees it (module docstring). Compared and hashed by
    identity (a version is one value; its tables are mappings, which do not hash), so a dialect
    can key a cache or a dict."""

    name: str
    """As messages name the version: ``OCPP 1.6``."""
    subprotocol: str
    """The WebSocket subprotocol the charge point offers and the central system selects."""
    cp_actions: frozenset[str]
    """Actions a charge point sends (to the central system)."""
    csms_actions: frozenset[str]
    """Actions a central system sends (to the charge point)."""
    error_codes: frozenset[str]
    """CALLERROR codes as the version spells them."""
    error_code_spellings: Mapping[str, str]
    """Other spellings accepted for a code (another revision's, the errata's) -> the code meant;
    framed as that code, with a remark (:meth:`spelling_remark`)."""
    error_code_for_rule: Mapping[str, str]
    """How a peer answers a CALL that broke a rule, by the finding's rule (:meth:`error_code_for`)."""
    frame_error_code: str
    """The answer to a CALL whose frame breaks an ``rpc.*`` rule the table does not name."""
    value_error_code: str
    """The answer to a CALL whose payload breaks any other schema keyword the table does not
    name (a field holding an invalid value)."""
    unsupported_error_code: str
    """The answer to a CALL the receiver knows but has no answer for (the harness's session with
    no responder set for the action)."""
    schemas: Callable[[], Validator]
    """The schema set: returns the (shared, compiled-on-use) validator of the version's schemas."""
    error_code_reference: str
    """Where the version defines its CALLERROR codes, for messages (``OCPP-J 1.6 §4.2.3``)."""
    references: Mapping[str, str]
    """Where the version states the engine's other rules, as messages cite it, by topic: ``url``
    (``<path>/<chargePointId>``), ``subprotocol`` (its negotiation), ``flow`` (one CALL
    outstanding), ``security`` (Basic auth and TLS)."""
    remarks: Remarks = no_remarks
    """Which findings are only remarks (stricter than the official schemas + errata)."""
    actions: frozenset[str] = field(init=False)
    """Every action of the version, either sender."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", self.cp_actions | self.csms_actions)

    def sent_by(self, sender: Sender) -> frozenset[str]:
        """The actions ``sender`` may send."""
        return self.cp_actions if sender == "cp" else self.csms_actions

    def validator(self) -> Validator:
        return self.schemas()

    def known_error_code(self, code: object) -> bool:
        return isinstance(code, str) and (code in self.error_codes
                                          or code in self.error_code_spellings)

    def canonical_error_code(self, code: str) -> str:
        """The code a CALLERROR code means, whichever accepted spelling it uses."""
        return self.error_code_spellings.get(code, code)

    def error_code_for(self, findings: Sequence[Finding]) -> str:
        """The CALLERROR code answering a CALL with ``findings``: the first finding whose rule
        :attr:`error_code_for_rule` names decides; else :attr:`frame_error_code` if the frame
        itself is broken (an ``rpc.*`` rule), else :attr:`value_error_code`."""
        for finding in findings:
            code = self.error_code_for_rule.get(finding.rule)
            if code is not None:
                return code
        if any(f.rule.startswith("rpc.") for f in findings):
            return self.frame_error_code
        return self.value_error_code

    def spelling_remark(self, code: str) -> Finding | None:
        """The remark for a CALLERROR code in one of :attr:`error_code_spellings`, else None."""
        meant = self.error_code_spellings.get(code)
        if meant is None:
            return None
        return Finding("rpc.error-code-spelling", "frame",
                       f"CALLERROR code {code!r} is accepted as {meant!r}, the spelling of "
                       f"{self.error_code_reference} (the spelling used is reported)", code, REMARK)


# --- OCPP 1.6J -------------------------------------------------------------------------------

SECURITY_ACTIONS = frozenset({
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage", "GetInstalledCertificateIds",
    "GetLog", "InstallCertificate", "LogStatusNotification", "SecurityEventNotification",
    "SignCertificate", "SignedFirmwareStatusNotification", "SignedUpdateFirmware",
})
"""The OCPP 1.6 security extension's actions (their OCA schema files are draft-06: ERRATA D1)."""

_CP_ACTIONS_16 = frozenset({
    "Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification",
    "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StartTransaction",
    "StatusNotification", "StopTransaction",
    # security extension
    "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
    "SignedFirmwareStatusNotification",
})
_CSMS_ACTIONS_16 = frozenset({
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction", "RemoteStopTransaction",
    "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile", "TriggerMessage",
    "UnlockConnector", "UpdateFirmware",
    # security extension
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage",
    "GetInstalledCertificateIds", "GetLog", "InstallCertificate", "SignedUpdateFirmware",
})

# OCPP-J 1.6 section 4.2.3, spelt as 1.6 spells them. The errata's / OCPP 2.0's spellings frame as
# the code they mean; the spelling used is a remark (Dialect.spelling_remark).
_ERROR_CODES_16 = frozenset({
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
    "TypeConstraintViolation", "GenericError",
})
_SPELLINGS_16 = MappingProxyType({"FormatViolation": "FormationViolation",
                                  "OccurrenceConstraintViolation": "OccurenceConstraintViolation"})

_ERROR_CODE_FOR_RULE_16 = MappingProxyType({
    # the frame (harness.rpc, harness.protocol)
    "rpc.action": "NotImplemented",       # "Requested Action is not known by receiver"
    "rpc.direction": "NotSupported",      # "recognized but not supported by the receiver"
    "rpc.length": "ProtocolError",        # "Payload for Action is incomplete"
    # the payload, by the JSON Schema keyword broken (harness.validation)
    "required": "OccurenceConstraintViolation", "minItems": "OccurenceConstraintViolation",
    "maxItems": "OccurenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "additionalProperties": "FormationViolation",  # "not conform the PDU structure for Action"
})


def _remarks_16(action: str | None, response: bool, findings: list[Finding]) -> list[Finding]:
    # harness.severity holds the 1.6 errata's remark rules and reads this module's tables, so it
    # is imported here, at the first finding, not at import: either module may be imported first.
    from harness import severity
    return severity.classify(action, response, findings)


OCPP16 = Dialect(
    name="OCPP 1.6",
    subprotocol="ocpp1.6",
    cp_actions=_CP_ACTIONS_16,
    csms_actions=_CSMS_ACTIONS_16,
    error_codes=_ERROR_CODES_16,
    error_code_spellings=_SPELLINGS_16,
    error_code_for_rule=_ERROR_CODE_FOR_RULE_16,
    frame_error_code="FormationViolation",
    value_error_code="PropertyConstraintViolation",
    unsupported_error_code="NotSupported",
    schemas=Validator.default,  # the packaged schemas/ (the OCA's files + schemas/ERRATA.md)
    error_code_reference="OCPP-J 1.6 §4.2.3",
    references=MappingProxyType({
        "url": "OCPP-J 1.6 section 3.1.1", "subprotocol": "OCPP-J 1.6 section 3.1.2",
        "flow": "OCPP-J 1.6 section 4.1.1", "security": "OCPP 1.6 security whitepaper"}),
    remarks=_remarks_16,
)
"""OCPP 1.6J, the security extension and the errata: what the harness tests."""
