"""The conformance state of one OCPP-J connection, sans I/O.

:class:`Checker` sees every frame in both directions, in order, and says what each one broke:
framing (`harness.rpc`), pairing (every CALLRESULT / CALLERROR answers an outstanding CALL of the
other side; no uniqueId reused by a sender on one connection, OCPP-J 4.1.3), direction (an action
sent by the side allowed to send it) and the payload schema (`harness.validation`); each finding is a
violation or a remark (the dialect's remark policy: `harness.severity` for 1.6). What the version
is (actions, senders, error codes, schemas) comes from the :class:`harness.dialect.Dialect` it is
given. The live session and the offline ``validate`` command both run it, so a frame gets the same
verdict either way.

Two entry points, one judgement: :meth:`Checker.check` takes the frame's text as it came off the
socket; :meth:`Checker.check_array` takes a frame another reader has already parsed (the offline
validator parses each log line once) with a way back to its numbers as written. Both end in the
same framing (`rpc.from_array`), pairing and schema code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from harness import rpc
from harness.dialect import OCPP16, Dialect
from harness.findings import Finding
from harness.rpc import Call, CallError, CallResult, Message, Sender
from harness.validation import Validator

_OTHER: dict[Sender, Sender] = {"cp": "csms", "csms": "cp"}
CALL_TYPE, CALLRESULT_TYPE, MAX_UNIQUE_ID = rpc.CALL, rpc.CALLRESULT, rpc.MAX_UNIQUE_ID

# A number of 16 characters or more (digits, point, exponent), or a three-digit exponent: one a
# double may not hold as written. A JSON number starts after ':', ',', '[' or whitespace, so a run
# of digits inside a word (a UUID's "40643-4278-4946-", its hex "e631", a quoted ICCID) is none;
# the same text inside a string after such a character only costs an exact re-read.
_LONG_NUMBER = re.compile(
    r"(?<=[:,\[\s])-?(?:[0-9][0-9.eE+\-]{15}|[0-9.]+[eE][+\-]?[0-9]{3})")
_LONG_NUMBER_BYTES = re.compile(_LONG_NUMBER.pattern.encode())


def _exact_frame(text: str) -> Any:
    return rpc.loads(text, exact=True)


def floats_as_written(written: str | bytes) -> bool:
    """True when every number in ``written`` reads as a double whose shortest repr has the value
    written: each has at most 15 significant digits (DBL_DIG, so decimal -> double -> shortest
    decimal gives it back) and a modest exponent. Conservative: a long run of digits where a
    number may start says no, even inside a string."""
    if isinstance(written, bytes):
        return _LONG_NUMBER_BYTES.search(written) is None
    return _LONG_NUMBER.search(written) is None


@dataclass(slots=True)
class Checked:
    """One frame with its verdict."""
    sender: Sender
    text: str | None
    """The frame's text; None when the caller handed in a parsed frame (:meth:`Checker.check_array`)."""
    message: Message | None
    """None when the frame could not be framed at all."""
    action: str | None
    """The CALL's action, for a result or error the action of the call it answers."""
    findings: list[Finding] = field(default_factory=list)
    call: Call | None = None
    """For a CALLRESULT / CALLERROR: the CALL it answers."""
    unique_id: str | None = None
    message_type: int | None = None
    """2, 3 or 4 when it could be read, even from a frame that is otherwise broken."""

    @property
    def ok(self) -> bool:
        return not self.findings


class Checker:
    """Judge a stream of frames. ``check(sender, text)`` for each frame, in wire order, as
    ``dialect`` (:class:`harness.dialect.Dialect`, OCPP 1.6 by default) defines the actions, their
    senders, the error codes, the schemas (``validator`` overrides the dialect's) and the
    remarks."""

    def __init__(self, validator: Validator | None = None, dialect: Dialect = OCPP16):
        self.dialect = dialect
        self.validator = validator or dialect.validator()
        self._sent_by = {"cp": dialect.cp_actions, "csms": dialect.csms_actions}
        self.pending: dict[tuple[str, str], Call] = {}
        """Outstanding CALLs by (sender of the call, uniqueId)."""
        self._used_ids: dict[str, set[str]] = {"cp": set(), "csms": set()}
        self._exact = self.validator._exact
        self._fast = self.validator._fast  # compiled on first use: check_array compiles them

    def check(self, sender: Sender, text: str | bytes) -> Checked:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            array = rpc.load_frame(text)
        except rpc.FramingError as exc:
            return self._broken(sender, text, exc)
        return self.check_array(sender, array, text, _exact_frame, text)

    def check_array(self, sender: Sender, array: Any, text: str | None,
                    exact: Callable[[Any], Any], written: str | bytes) -> Checked:
        """Judge a frame already parsed from JSON (floats as floats, as orjson reads them).
        ``written`` is the text the frame was parsed from (the frame's own, or the log line
        holding it) and ``exact(written)`` returns the same frame parsed with its numbers as
        written (Decimal, integers of any width). ``exact`` is called only where that can change
        the verdict: when none of the numbers in ``written`` is long (:func:`floats_as_written`),
        a valid frame is judged without it even where a schema compares numbers by value."""
        try:
            message = rpc.from_array(array, self.dialect)
        except rpc.FramingError as exc:
            return self._broken(sender, text, exc)
        if type(message) is Call:
            return self._check_call(sender, text, message, exact, written)
        return self._check_answer(sender, text, cast("CallResult | CallError", message), exact,
                                  written)

    def check_valid(self, sender: Sender, array: Any, written: str | bytes) -> Any:
        """:meth:`check_array`'s verdict on what nearly every frame of a log is, a well-formed CALL
        or CALLRESULT that breaks no rule, without building anything for it (the offline hot
        path). Returns the CALL's key in :attr:`pending` (``(sender, uniqueId)``) or True for a
        CALLRESULT: the frame was valid and is booked exactly as :meth:`check_array` books it.
        Returns None, having changed nothing, for every other frame: judge it with
        :meth:`check_array`, which says what is wrong (or, where only an exact re-read of its
        numbers can tell, that nothing is)."""
        if type(array) is not list:
            return None
        size = len(array)
        if size == 4:
            mtype, unique_id, action, payload = array
            if not (mtype == CALL_TYPE and type(mtype) is int and type(unique_id) is str
                    and 0 < len(unique_id) <= MAX_UNIQUE_ID and type(payload) is dict
                    and type(action) is str and action in self._sent_by[sender]):
                return None  # not framed by the shortcut, or sent by the wrong side
            used = self._used_ids[sender]
            if unique_id in used:
                return None
            if action in self._exact[0] and not floats_as_written(written):
                return None  # multipleOf and bounds: only the numbers as written can tell
            fast = self._fast[0].get(action)
            if fast is None or not fast(payload):
                return None
            used.add(unique_id)
            key = (sender, unique_id)
            self.pending[key] = Call(unique_id, action, payload)
            return key
        if size == 3:
            mtype, unique_id, payload = array
            if not (mtype == CALLRESULT_TYPE and type(mtype) is int and type(unique_id) is str
                    and 0 < len(unique_id) <= MAX_UNIQUE_ID and type(payload) is dict):
                return None
            key = (_OTHER[sender], unique_id)
            call = self.pending.get(key)
            if call is None:
                return None
            action = call.action
            if action in self._exact[1] and not floats_as_written(written):
                return None
            fast = self._fast[1].get(action)  # None for "?", a CALL that could not be read
            if fast is None or not fast(payload):
                return None
            del self.pending[key]
            return True
        return None

    def _broken(self, sender: Sender, text: str | None, exc: rpc.FramingError) -> Checked:
        checked = Checked(sender, text, None, None, list(exc.findings),
                          unique_id=exc.unique_id, message_type=exc.message_type)
        if exc.unique_id is None:
            return checked
        if exc.message_type == rpc.CALL:
            # A broken CALL with a readable id is still outstanding: the receiver answers it
            # with a CALLERROR, which must pair with it.
            self._used_ids[sender].add(exc.unique_id)
            self.pending[(sender, exc.unique_id)] = Call(exc.unique_id, "?", {})
        elif exc.message_type in (rpc.CALLRESULT, rpc.CALLERROR):
            # An unparseable answer still settles the call it names, so that the call is not
            # reported a second time as unanswered.
            call = self.pending.pop((_OTHER[sender], exc.unique_id), None)
            if call is not None:
                checked.call, checked.action = call, call.action
        return checked

    def _check_call(self, sender: Sender, text: str | None, call: Call,
                    exact: Callable[[Any], Any], written: str | bytes) -> Checked:
        checked = Checked(sender, text, call, call.action, unique_id=call.unique_id,
                          message_type=rpc.CALL)
        findings = checked.findings
        if call.action not in self._sent_by[sender]:
            who = "a charge point" if sender == "cp" else "a central system"
            findings.append(Finding("rpc.direction", "frame",
                                    f"{call.action} is not sent by {who}", call.action))
        used = self._used_ids[sender]
        if call.unique_id in used:
            findings.append(Finding(
                "rpc.duplicate-id", "frame",
                f"uniqueId {call.unique_id!r} was already used by this sender on this connection",
                call.unique_id))
        used.add(call.unique_id)
        self.pending[(sender, call.unique_id)] = call
        findings.extend(self._validate(call.action, False, call.payload, exact, written))
        return checked

    def _check_answer(self, sender: Sender, text: str | None, answer: CallResult | CallError,
                      exact: Callable[[Any], Any], written: str | bytes) -> Checked:
        call = self.pending.pop((_OTHER[sender], answer.unique_id), None)
        checked = Checked(sender, text, answer, call.action if call else None, call=call,
                          unique_id=answer.unique_id,
                          message_type=rpc.CALLRESULT if isinstance(answer, CallResult)
                          else rpc.CALLERROR)
        if call is None:
            kind = "CALLRESULT" if isinstance(answer, CallResult) else "CALLERROR"
            checked.findings.append(Finding(
                "rpc.unmatched", "frame",
                f"{kind} for uniqueId {answer.unique_id!r}, which answers no outstanding CALL",
                answer.unique_id))
        elif isinstance(answer, CallResult) and call.action == "?":
            checked.findings.append(Finding(
                "rpc.result-to-broken-call", "frame",
                f"a CALLRESULT answers uniqueId {answer.unique_id!r}, a CALL that could not be "
                f"read (unknown action or broken frame); OCPP-J 4.2.3 answers it with a CALLERROR",
                answer.unique_id))
        elif isinstance(answer, CallResult):
            checked.findings.extend(self._validate(call.action, True, answer.payload, exact,
                                                   written))
        if isinstance(answer, CallError):
            spelling = self.dialect.spelling_remark(answer.error_code)
            if spelling is not None:
                checked.findings.append(spelling)
        return checked

    def _validate(self, action: str, response: bool, payload: dict, exact: Callable[[Any], Any],
                  written: str | bytes) -> list[Finding]:
        needs_exact = action in self._exact[response]  # Validator.needs_exact, inlined
        if needs_exact:
            # A float is judged by its shortest repr, which is the number as written when the
            # text has no long number; a finding is reported as judged on the exact read, so
            # that its value is the same Decimal whichever way the frame came in.
            if floats_as_written(written) and not self.validator.validate(action, response, payload):
                return []
            # Re-read the numbers as written: multipleOf must not judge a float's rounding error.
            payload = exact(written)[2 if response else 3]
        findings = self.validator.validate(action, response, payload)
        if findings and not needs_exact and any(type(f.value) is float for f in findings):
            # The fast parse reads integers wider than 64 bits as floats: a finding on a float is
            # only reported as judged on the number as written. (Only numbers are read
            # differently, and without needs_exact only a number's type is judged, so findings
            # on other values stand as they are.)
            payload = exact(written)[2 if response else 3]
            findings = self.validator.validate(action, response, payload)
        return self.dialect.remarks(action, response, findings) if findings else findings

    def unanswered(self, sender: Sender | None = None) -> list[Call]:
        """The CALLs still waiting for an answer (of one sender, or of both)."""
        return [call for (who, _), call in self.pending.items() if sender in (None, who)]
