"""The conformance state of one OCPP-J connection, sans I/O.

:class:`Checker` sees every frame in both directions, in order, and says what each one broke:
framing (`harness.rpc`), pairing (every CALLRESULT / CALLERROR answers an outstanding CALL of the
other side; no uniqueId reused by a sender on one connection, OCPP-J 4.1.3), direction (an action
sent by the side allowed to send it) and the payload schema (`harness.validation`); each finding is a
violation or a remark (`harness.severity`). The live session and the offline ``validate`` command both run it, so a frame gets the same verdict either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import rpc, severity
from harness.findings import Finding
from harness.rpc import Call, CallError, CallResult, Message, Sender
from harness.validation import Validator

_OTHER = {"cp": "csms", "csms": "cp"}


@dataclass(slots=True)
class Checked:
    """One frame with its verdict."""
    sender: Sender
    text: str
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
    """Judge a stream of frames. ``check(sender, text)`` for each frame, in wire order."""

    def __init__(self, validator: Validator | None = None):
        self.validator = validator or Validator.default()
        self.pending: dict[tuple[str, str], Call] = {}
        """Outstanding CALLs by (sender of the call, uniqueId)."""
        self._used_ids: dict[str, set[str]] = {"cp": set(), "csms": set()}

    def check(self, sender: Sender, text: str | bytes) -> Checked:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        try:
            message = rpc.parse(text)
        except rpc.FramingError as exc:
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
        if isinstance(message, Call):
            return self._check_call(sender, text, message)
        return self._check_answer(sender, text, message)

    def _check_call(self, sender: Sender, text: str, call: Call) -> Checked:
        checked = Checked(sender, text, call, call.action, unique_id=call.unique_id,
                          message_type=rpc.CALL)
        findings = checked.findings
        allowed = rpc.CP_ACTIONS if sender == "cp" else rpc.CSMS_ACTIONS
        if call.action not in allowed:
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
        findings.extend(self._validate(call.action, False, call.payload, text))
        return checked

    def _check_answer(self, sender: Sender, text: str, answer: CallResult | CallError) -> Checked:
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
            checked.findings.extend(self._validate(call.action, True, answer.payload, text))
        if isinstance(answer, CallError):
            spelling = severity.error_code_spelling(answer.error_code)
            if spelling is not None:
                checked.findings.append(spelling)
        return checked

    def _validate(self, action: str, response: bool, payload: dict, text: str) -> list[Finding]:
        exact = self.validator.needs_exact(action, response)
        if exact:
            # Re-read the numbers as written: multipleOf must not judge a float's rounding error.
            payload = rpc.loads(text, exact=True)[2 if response else 3]
        findings = self.validator.validate(action, response, payload)
        if findings and not exact:
            # The fast parse reads integers wider than 64 bits as floats; a finding is only
            # reported as judged on the numbers as written.
            payload = rpc.loads(text, exact=True)[2 if response else 3]
            findings = self.validator.validate(action, response, payload)
        return severity.classify(action, response, findings) if findings else findings

    def unanswered(self, sender: Sender | None = None) -> list[Call]:
        """The CALLs still waiting for an answer (of one sender, or of both)."""
        return [call for (who, _), call in self.pending.items() if sender in (None, who)]
