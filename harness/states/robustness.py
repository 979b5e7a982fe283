"""The negative probes of the Robustness cases, for either side under test: send the device a CALL
it cannot take and judge its CALLERROR (OCPP-J 1.6 section 4.2.3).

Rules, stated first (OCPP-J 1.6 §4.2.3, the codes as 1.6 spells them; the errata's spellings
``FormatViolation`` / ``OccurrenceConstraintViolation`` count as the code they mean, with a remark):

=============================== ================================ ==============================
what the harness sends          expected code                    other codes
=============================== ================================ ==============================
an unknown action               NotImplemented ("Requested       anything else: FAIL (NotSupported
                                Action is not known by           says it knows the action)
                                receiver")
a known action it does not      NotSupported ("Requested Action  NotImplemented: FAIL (it is an
support                         is recognized but not            OCPP 1.6 action); for an action
                                supported by the receiver")      of a profile outside the PICS,
                                                                 a CALLRESULT is a remark
a payload missing a required    OccurenceConstraintViolation     another payload code
field                                                            (Formation-, PropertyConstraint-,
                                                                 TypeConstraint-, Occurence-
a value of the wrong JSON type  TypeConstraintViolation          ConstraintViolation,
                                                                 GenericError): a remark naming
a value outside its constraints PropertyConstraintViolation      the closer code. NotImplemented,
(too long)                                                       NotSupported, ProtocolError,
                                                                 InternalError, SecurityError,
a payload that is not a JSON    FormationViolation               a CALLRESULT: FAIL
object ("not conform the PDU
structure")
a CALL missing its payload      ProtocolError ("Payload for      FormationViolation or
element (incomplete)            Action is incomplete")           GenericError: a remark; others
                                                                 FAIL
=============================== ================================ ==============================

One more reading is tolerated with a remark: for a payload missing a required field, ProtocolError
("Payload for Action is incomplete" read as "a field is missing"), which is what the PyPI ``ocpp``
library answers (its ``validate_payload`` maps the schema's ``required`` to ProtocolError).

The PyPI ``ocpp`` library (mobilityhouse, 2.1.0, used by interop/) swaps NotImplemented and
NotSupported in its own descriptions and answers an unknown action NotSupported and a known one
without a handler NotImplemented (mobilityhouse/ocpp issue #493, PR #426); the OCPP-J 1.6 table,
as ocpp-go, the IZIVIA toolkit and the Java implementations quote it, says the reverse, and so
does issue 11. RB_001 and RB_002 FAIL such a device, on purpose.

A well-formed CALL (the first four rows) must be answered within the PICS response timeout
(silence is a FAIL, as for any CALL). A frame that is not a CALL by the PDU structure (the last
two rows) may fairly be dropped as unreadable: silence there is a remark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import rpc
from harness.session import DeviceDisconnected, DeviceTimeout, Response, Session
from harness.severity import canonical_error_code

__all__ = ["Probe", "PAYLOAD_CODES", "UNKNOWN_ACTION", "probe", "unsupported_profile_action",
           "unknown_action", "wrong_direction", "outside_profiles", "malformed", "incomplete",
           "MISSING", "WRONG_TYPE", "OUT_OF_CONSTRAINT", "NOT_AN_OBJECT", "carries_on"]

PAYLOAD_CODES = frozenset({"FormationViolation", "PropertyConstraintViolation",
                           "OccurenceConstraintViolation", "TypeConstraintViolation",
                           "GenericError"})
"""The codes that say "your payload is wrong"; between them a wrong choice is a remark."""

UNKNOWN_ACTION = "HarnessUnknownAction"
"""An action no OCPP version defines."""

# A known action of each optional profile, with a payload valid by its schema and harmless if a
# device takes it anyway (it cancels no real reservation, installs nothing, starts no transfer).
# LocalAuthListManagement is left out: a charge point without it answers GetLocalListVersion and
# SendLocalList with a status (listVersion -1, NotSupported), as OCPP 1.6 §5.9 and §7.42 allow.
_PROFILE_ACTIONS = {
    "cs": (("Reservation", "CancelReservation", {"reservationId": 987654}),
           ("SmartCharging", "GetCompositeSchedule", {"connectorId": 1, "duration": 60}),
           ("RemoteTrigger", "TriggerMessage", {"requestedMessage": "Heartbeat"})),
    "csms": (("FirmwareManagement", "FirmwareStatusNotification", {"status": "Idle"}),
             ("FirmwareManagement", "DiagnosticsStatusNotification", {"status": "Idle"})),
}


def unsupported_profile_action(pics: Any, sut: str) -> tuple[str, str, dict] | None:
    """(profile, action, payload) of a known action outside the PICS's declared profiles, or None
    when the device declares every profile that has one."""
    for profile, action, payload in _PROFILE_ACTIONS[sut]:
        if not pics.supports(profile):
            return profile, action, payload
    return None


@dataclass(frozen=True)
class Probe:
    what: str
    """What is sent, for messages: "an unknown action (HarnessUnknownAction)"."""
    expected: str
    """The §4.2.3 code it must get."""
    rule: str
    """The rule, quoted, for messages."""
    tolerated: frozenset[str] = frozenset()
    """Other codes accepted with a remark."""
    result_is_remark: str = ""
    """Not empty: a CALLRESULT is a remark with this explanation, not a FAIL."""
    silence_is_remark: bool = False
    """The frame is not a CALL by the PDU structure: no answer is a remark, not a FAIL."""


def _frame(unique_id: str, action: str, payload: Any, complete: bool) -> str:
    body = [rpc.CALL, unique_id, action, payload] if complete else [rpc.CALL, unique_id, action]
    return rpc.dumps(body)


async def probe(session: Session, probe: Probe, action: str, payload: Any, *, step: str,
                complete: bool = True) -> Response | None:
    """Send the probe's CALL (``complete=False``: without its payload element) and judge the
    answer by the module's rules. Returns the answer, or None after a silence that is a remark."""
    unique_id = session.new_unique_id()
    text = _frame(unique_id, action, payload, complete)
    try:
        response = await session.call_raw(text, unique_id, action=action)
    except DeviceTimeout as exc:
        if not probe.silence_is_remark:
            raise DeviceTimeout(f"step {step}: {probe.what}: {exc}; {probe.rule}") from None
        session.remark(f"step {step}: {probe.what} got no answer within "
                       f"{session.response_timeout:g} s; {probe.rule} (a receiver may drop a "
                       f"frame it cannot read as a CALL, so this is not a FAIL)")
        return None
    where = f"wire log line {response.line}"
    if response.error is None:
        if probe.result_is_remark:
            session.remark(f"step {step}: {probe.what} was answered with a CALLRESULT "
                           f"({where}); {probe.result_is_remark}")
            return response
        raise AssertionError(
            f"step {step}: {probe.what} was answered with a CALLRESULT ({where}), expected "
            f"CALLERROR {probe.expected}: {probe.rule}")
    sent = response.error.error_code
    code = canonical_error_code(sent)
    spelled = f"{sent!r}" + (f" (read as {code})" if sent != code else "")
    if code == probe.expected:
        return response
    if code in probe.tolerated:
        session.remark(f"step {step}: {probe.what} was answered CALLERROR {spelled} ({where}); "
                       f"the closer code is {probe.expected}: {probe.rule}")
        return response
    raise AssertionError(
        f"step {step}: {probe.what} was answered CALLERROR {spelled} ({where}), expected "
        f"{probe.expected}: {probe.rule}")


def unknown_action() -> Probe:
    return Probe(f"an unknown action ({UNKNOWN_ACTION})", "NotImplemented",
                 "OCPP-J 1.6 §4.2.3: NotImplemented, 'Requested Action is not known by receiver' "
                 "(NotSupported would say it knows the action)")


def wrong_direction(action: str, receiver: str) -> Probe:
    return Probe(f"{action} (an OCPP 1.6 action, not one sent to a {receiver})",
                 "NotSupported",
                 "OCPP-J 1.6 §4.2.3: NotSupported, 'Requested Action is recognized but not "
                 "supported by the receiver' (NotImplemented would say it does not know an "
                 "action of the protocol it speaks)")


def outside_profiles(action: str, profile: str) -> Probe:
    return Probe(f"{action} of the {profile} profile, which the PICS does not declare",
                 "NotSupported",
                 "OCPP-J 1.6 §4.2.3: NotSupported, 'Requested Action is recognized but not "
                 "supported by the receiver'",
                 result_is_remark=(f"the device takes {action} although its PICS does not "
                                   f"declare {profile}: check the PICS (SupportedFeatureProfiles)"))


def malformed(what: str, expected: str, meaning: str) -> Probe:
    tolerated = PAYLOAD_CODES - {expected}
    if expected == "OccurenceConstraintViolation":
        tolerated |= {"ProtocolError"}  # a missing field read as an incomplete payload
    return Probe(what, expected, f"OCPP-J 1.6 §4.2.3: {expected}, '{meaning}'",
                 tolerated=frozenset(tolerated),
                 silence_is_remark=expected == "FormationViolation")


def incomplete(action: str) -> Probe:
    return Probe(f"a CALL of {action} without its payload element", "ProtocolError",
                 "OCPP-J 1.6 §4.2.3: ProtocolError, 'Payload for Action is incomplete'",
                 tolerated=frozenset({"FormationViolation", "GenericError"}),
                 silence_is_remark=True)


MISSING = ("OccurenceConstraintViolation", "Payload for Action is syntactically correct but at "
           "least one of the fields violates occurence constraints")
WRONG_TYPE = ("TypeConstraintViolation", "Payload for Action is syntactically correct but at "
              "least one of the fields violates data type constraints (e.g. \"somestring\": 12)")
OUT_OF_CONSTRAINT = ("PropertyConstraintViolation", "Payload is syntactically correct but at "
                     "least one field contains an invalid value")
NOT_AN_OBJECT = ("FormationViolation", "Payload for Action is syntactically incorrect or not "
                 "conform the PDU structure for Action")


GARBAGE = "this is not an OCPP-J frame"


async def carries_on(session: Session, action: str, payload: dict, *, receiver: str) -> None:
    """Frames that answer nothing or are not JSON, then a CALL that must be answered.

    Rule: a frame the receiver cannot read gets no answer it could pair (there is no uniqueId
    to answer, OCPP-J 1.6 §4.1.3), and a CALLRESULT / CALLERROR whose uniqueId answers no CALL of
    the receiver is not a request (§4.1.1, §4.2.2): neither may stop the receiver from answering
    the next CALL on the connection within the response timeout (FAIL). An answer the harness
    can pair to nothing is a violation like any unmatched answer. A receiver that closes the
    connection instead is a remark: OCPP-J does not forbid it, and a charge point reconnects.
    Steps: 1. not JSON; 2. a CALLRESULT answering no CALL; 3. a CALLERROR answering no CALL;
    4-5. ``action`` answered.
    """
    steps = (("1", "a text frame that is not JSON", GARBAGE),
             ("2", "a CALLRESULT that answers no CALL",
              rpc.dumps([rpc.CALLRESULT, session.new_unique_id(), {}])),
             ("3", "a CALLERROR that answers no CALL",
              rpc.dumps([rpc.CALLERROR, session.new_unique_id(), "GenericError",
                         "harness robustness probe", {}])))
    try:
        for step, what, text in steps:
            await session.send_raw(text, what=f"step {step}: {what}")
        # 4. Harness: a well-formed CALL  5. the device answers it
        response = await session.call(action, payload)
    except DeviceDisconnected as exc:
        session.remark(f"the {receiver} closed the connection after frames it could not take "
                       f"({exc}); OCPP-J does not forbid it, but a receiver that ignores them "
                       f"keeps its session")
        return
    except DeviceTimeout as exc:
        raise DeviceTimeout(
            f"step 5: after a frame that is not JSON, a CALLRESULT and a CALLERROR that answer "
            f"no CALL (steps 1-3), the {receiver} did not answer {action}: {exc}") from None
    if response.error is not None:
        raise AssertionError(
            f"step 5: after steps 1-3 the {receiver} answered {action} with CALLERROR "
            f"{response.error.error_code} (wire log line {response.line}), expected its "
            f"CALLRESULT: the frames that answer nothing must not change how it answers")
