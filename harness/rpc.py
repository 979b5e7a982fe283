"""OCPP-J RPC framing, sans I/O: text <-> Call / CallResult / CallError.

Only the frame's shape is judged here (OCPP-J 1.6 section 4): a JSON array, a known message type id,
a uniqueId of at most 36 characters, the right number of elements, an object payload, an action
and a CALLERROR code the dialect knows (:class:`harness.dialect.Dialect`; OCPP 1.6 unless the
caller names another). Broken frames raise :class:`FramingError`
carrying findings; they never crash a caller. Payload schemas are `harness.validation`'s job, and
pairing results with calls is `harness.protocol`'s.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

import orjson

from harness.dialect import OCPP16, Dialect
from harness.dialect import SECURITY_ACTIONS as SECURITY_ACTIONS  # re-exported for 1.6 callers
from harness.dialect import Sender as Sender
from harness.findings import Finding

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_UNIQUE_ID = 36

# The 1.6 facts live in harness.dialect (OCPP16); these names stay for the callers that mean 1.6.
CP_ACTIONS = OCPP16.cp_actions
"""Who may send each action: "cp" (charge point -> central system) or "csms"."""
CSMS_ACTIONS = OCPP16.csms_actions
ACTIONS = OCPP16.actions
ERROR_CODES = OCPP16.error_codes
"""OCPP-J 1.6 section 4.2.3, spelt as 1.6 spells them; the errata's / OCPP 2.0's spellings
(OCPP16.error_code_spellings) frame as the code they mean, the spelling used is a remark."""

ERROR_CODE_FOR_RULE = OCPP16.error_code_for_rule
"""How a peer answers a CALL that broke a rule (OCPP-J 1.6 section 4.2.3), by the rule of the
finding: the one table both the harness's :class:`harness.session.Session` and the simulators'
:class:`harness.sim.link.Link` answer from. Any other ``rpc.*`` rule (not a JSON array, a payload
that is not an object, ...) is a :data:`FormationViolation`; any other schema keyword (``enum``,
``maxLength``, ``format:date-time``, ``pattern``, ``minimum``, ...) says a field holds an invalid
value: ``PropertyConstraintViolation``."""


def error_code_for(findings: Sequence[Finding], dialect: Dialect = OCPP16) -> str:
    """The CALLERROR code answering a CALL with ``findings`` (:meth:`Dialect.error_code_for`,
    :data:`ERROR_CODE_FOR_RULE` for 1.6): the first finding whose rule the table names decides;
    else FormationViolation if the frame itself is broken (an ``rpc.*`` rule), else
    PropertyConstraintViolation."""
    return dialect.error_code_for(findings)


@dataclass(slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict

    def to_array(self) -> list:
        return [CALL, self.unique_id, self.action, self.payload]


@dataclass(slots=True)
class CallResult:
    unique_id: str
    payload: dict

    def to_array(self) -> list:
        return [CALLRESULT, self.unique_id, self.payload]


@dataclass(slots=True)
class CallError:
    unique_id: str
    error_code: str
    error_description: str = ""
    error_details: dict = field(default_factory=dict)

    def to_array(self) -> list:
        return [CALLERROR, self.unique_id, self.error_code, self.error_description,
                self.error_details]


Message = Union[Call, CallResult, CallError]


class FramingError(Exception):
    """The text is not a valid OCPP-J frame. ``unique_id`` is set when it could be read, so the
    receiver can still answer with a CALLERROR."""

    def __init__(self, findings: list[Finding], unique_id: str | None = None,
                 message_type: Any = None):
        self.findings = findings
        self.unique_id = unique_id
        self.message_type = message_type
        super().__init__("; ".join(str(f) for f in findings))


def _frame_finding(rule: str, message: str, value: Any = None) -> Finding:
    return Finding(rule=rule, path="frame", message=message, value=value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes, exact: bool = False) -> Any:
    """Parse JSON text. ``exact`` keeps non-integral numbers as ``Decimal`` so that a value is judged
    as written on the wire, not as the nearest binary float.

    orjson is the fast path; the standard library takes over for what orjson refuses but JSON allows
    (integers wider than 64 bits). NaN and Infinity are refused, as RFC 8259 refuses them.
    """
    if not exact:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text, parse_float=Decimal if exact else float,
                      parse_constant=_reject_constant)


def dumps(message: Message | list) -> str:
    array = message if isinstance(message, list) else message.to_array()
    return orjson.dumps(array, default=_decimal_default).decode()


def _decimal_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # orjson has no Decimal; integral values go out as integers, others as their exact text.
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def load_frame(text: str | bytes) -> Any:
    """The JSON value of one frame's text. Raises :class:`FramingError` (``rpc.json``) when the
    text is not JSON."""
    try:
        return orjson.loads(text)  # loads()'s fast path, inlined: this runs for every frame
    except orjson.JSONDecodeError:
        try:
            return loads(text)
        except RecursionError:
            raise FramingError([_frame_finding(
                "rpc.limit", "the frame nests arrays or objects deeper than the harness's JSON "
                "parser goes (RFC 8259 section 9 lets a parser limit the nesting depth); it is "
                "not judged further", _preview(text))]) from None
        except ValueError as exc:
            if "integer string conversion" in str(exc):
                raise FramingError([_frame_finding(
                    "rpc.limit", "the frame holds an integer of more than "
                    f"{sys.get_int_max_str_digits()} digits, past the harness's JSON parser's limit "
                    "(RFC 8259 section 9 lets a parser limit the range of numbers)",
                    _preview(text))]) from None
            raise FramingError([_frame_finding("rpc.json", f"not valid JSON: {exc}",
                                               _preview(text))]) from None


def parse(text: str | bytes, dialect: Dialect = OCPP16) -> Message:
    """Parse one OCPP-J frame. Raises :class:`FramingError` with findings for anything malformed."""
    return from_array(load_frame(text), dialect)


def from_array(array: Any, dialect: Dialect = OCPP16) -> Message:
    # The shortcut for what nearly every frame is, a well-formed CALL or CALLRESULT; anything it
    # does not accept goes the long way below, which says what is wrong. Same verdicts either way.
    if type(array) is list:
        size = len(array)
        if size == 4:
            mtype, unique_id, action, payload = array
            if (mtype == CALL and type(mtype) is int and type(unique_id) is str
                    and 0 < len(unique_id) <= MAX_UNIQUE_ID and type(action) is str
                    and action in dialect.actions and type(payload) is dict):
                return Call(unique_id, action, payload)
        elif size == 3:
            mtype, unique_id, payload = array
            if (mtype == CALLRESULT and type(mtype) is int and type(unique_id) is str
                    and 0 < len(unique_id) <= MAX_UNIQUE_ID and type(payload) is dict):
                return CallResult(unique_id, payload)
    if not isinstance(array, list):
        raise FramingError([_frame_finding(
            "rpc.array", f"an OCPP-J frame is a JSON array, got {type(array).__name__}", array)])
    if not array:
        raise FramingError([_frame_finding("rpc.array", "empty array", array)])
    mtype = array[0]
    if type(mtype) is not int or mtype not in (CALL, CALLRESULT, CALLERROR):
        raise FramingError([_frame_finding(
            "rpc.message-type", "message type id must be 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)",
            mtype)])
    findings: list[Finding] = []
    unique_id = array[1] if len(array) > 1 else None
    if not isinstance(unique_id, str):
        findings.append(_frame_finding("rpc.unique-id", "uniqueId must be a string", unique_id))
        unique_id = None
    elif not unique_id or len(unique_id) > MAX_UNIQUE_ID:
        findings.append(_frame_finding(
            "rpc.unique-id", f"uniqueId must be 1 to {MAX_UNIQUE_ID} characters, "
            f"got {len(unique_id)}", unique_id))
    expected_len = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}[mtype]
    if len(array) != expected_len:
        findings.append(_frame_finding(
            "rpc.length", f"a message of type {mtype} has {expected_len} elements, got {len(array)}",
            len(array)))
        raise FramingError(findings, unique_id, mtype)

    if mtype == CALL:
        _, _, action, payload = array
        if not isinstance(action, str) or action not in dialect.actions:
            findings.append(_frame_finding("rpc.action", f"unknown {dialect.name} action {action!r}",
                                           action))
        _check_payload(payload, findings)
        if findings:
            raise FramingError(findings, unique_id, mtype)
        return Call(unique_id, action, payload)
    if mtype == CALLRESULT:
        payload = array[2]
        _check_payload(payload, findings)
        if findings:
            raise FramingError(findings, unique_id, mtype)
        return CallResult(unique_id, payload)

    _, _, code, description, details = array
    if not dialect.known_error_code(code):
        findings.append(_frame_finding(
            "rpc.error-code", f"{code!r} is not an {dialect.name} error code", code))
    if not isinstance(description, str):
        findings.append(_frame_finding("rpc.error-description",
                                       "errorDescription must be a string", description))
    if not isinstance(details, dict):
        findings.append(_frame_finding("rpc.error-details",
                                       "errorDetails must be a JSON object", details))
    if findings:
        raise FramingError(findings, unique_id, mtype)
    return CallError(unique_id, code, description, details)


def _check_payload(payload: Any, findings: list[Finding]) -> None:
    if not isinstance(payload, dict):
        findings.append(_frame_finding(
            "rpc.payload", f"payload must be a JSON object, got {type(payload).__name__}", payload))


def _preview(text: str | bytes, limit: int = 200) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
