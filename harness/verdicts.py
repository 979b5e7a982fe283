"""The exceptions that decide a test case's verdict (DESIGN 2.3), all of them, in one place.

A case that returns is PASS. Otherwise the exception it ends with decides, as the pytest plugin
reads it (``harness.plugin``):

* :exc:`AssertionError` -- **FAIL**: the device did something the specification forbids.

  * :exc:`ProtocolViolation` -- it broke a protocol rule (a frame, a schema, OCPP-J).

    * :exc:`HandshakeViolation` -- it broke the WebSocket/OCPP-J handshake when connecting.

  * :exc:`Mismatch` -- a field of its message has another value than the one asked for (a status,
    a stop reason ...); carries the symptom as data (:meth:`Mismatch.symptom`: kind, action,
    field, expected, got, line), worded in one way, and the report keeps the data beside the text.

  * :exc:`DeviceTimeout` -- it did not answer, or did not send what was expected, in time.

    * :exc:`HarnessLagged` -- except that the harness itself lagged at the deadline: then
      **INCONCLUSIVE** with the figure (so is a DeviceTimeout raised while handling one).
  * :exc:`DeviceDisconnected` -- it closed the connection while the harness waited for it.
  * a plain ``assert`` of a case or a state.

* :exc:`Inconclusive` -- **INCONCLUSIVE**: a precondition was not reached, not the device's fault.

  * :exc:`ActionNotDone` -- the rig, the operator or the driver said the action cannot be done.
  * :exc:`ActionTimedOut` -- no answer to a manual action within its timeout.
  * ``harness.states.idle.NotIdle`` -- the charge point could not be brought idle before a case
    (defined beside the Idle state, which another change is reworking; it moves here after it).

* :exc:`NotApplicable` -- **N/A**: found at run time that the case does not apply.
* :exc:`HarnessError` -- **ERROR**: the harness broke the protocol itself (a harness or case bug);
  so is any other exception.

This module imports nothing of the harness: every layer may raise these.
"""

from __future__ import annotations

__all__ = ["ProtocolViolation", "HandshakeViolation", "Mismatch", "DeviceTimeout", "HarnessLagged",
           "DeviceDisconnected", "Inconclusive", "ActionNotDone", "ActionTimedOut", "NotApplicable",
           "HarnessError"]


# --- FAIL ---------------------------------------------------------------------------------------

class ProtocolViolation(AssertionError):
    """The device broke a protocol rule. An AssertionError, so pytest reports a failure."""


class HandshakeViolation(ProtocolViolation):
    """The device tried to connect and broke the handshake (wrong id, credentials, subprotocol,
    certificate, not a WebSocket upgrade): a FAIL, with the attempts in the wire log."""


class Mismatch(AssertionError):
    """A field of the device's message has a value the case does not accept: one failure of the
    assertion vocabulary (``harness.states.assertions``). The symptom is data, so the report and
    the fault catalogue read it without parsing the prose; the text is rendered here, in the one
    wording every such failure has::

        <step>: <Action>.<req|conf>[ for connector N] <field> is <got>[ <when>], expected <e1> or
        <e2>[<why>] (wire log line N)

    ``kind``: ``wrong-value`` (the field holds another value) or ``callerror`` (a CALLERROR came
    where a .conf was expected; ``got`` is its error code). ``got`` of a missing field is None, and
    None (got or expected) reads "omitted".
    """

    KINDS = ("wrong-value", "callerror")

    def __init__(self, kind: str, *, action: str, message: str, field: str,
                 expected: tuple[object, ...], got: object, line: int | None, step: str,
                 connector: object = None, when: str = "", why: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown mismatch kind {kind!r}")
        self.kind, self.action, self.message, self.field = kind, action, message, field
        self.expected, self.got, self.line, self.step = tuple(expected), got, line, step
        self.connector, self.when, self.why = connector, when, why
        super().__init__(self.render())

    def render(self) -> str:
        def spelled(value: object) -> str:
            return "omitted" if value is None else repr(value)

        got = f"'CALLERROR {self.got}'" if self.kind == "callerror" else spelled(self.got)
        subject = f" for connector {self.connector}" if self.connector is not None else ""
        where = f"wire log line {self.line}" if self.line is not None else "no wire log line"
        return (f"{self.step}: {self.action}.{self.message}{subject} {self.field} is {got}"
                f"{' ' + self.when if self.when else ''}, expected "
                f"{' or '.join(spelled(e) for e in self.expected)}{self.why} ({where})")

    def symptom(self) -> dict[str, object]:
        """The structured symptom, as the report keeps it (JSON values only)."""
        return {"kind": self.kind, "action": self.action, "message": self.message,
                "field": self.field, "expected": list(self.expected), "got": self.got,
                "line": self.line, "step": self.step, "connector": self.connector}


class DeviceTimeout(AssertionError):
    """The device did not answer, or did not send what was expected, in time."""


class HarnessLagged(DeviceTimeout):
    """A deadline expired while the harness's event loop lagged beyond its bound (harness/lag.py):
    a frame in time may still have been unread in the socket, so the expiry is not the device's.
    A DeviceTimeout, so that a step waiting for a timeout goes on as it would; the plugin reports
    the case INCONCLUSIVE with ``reason`` (``lag_s``: the lag) when it ends the case."""

    def __init__(self, reason: str, lag_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.lag_s = lag_s


def lagged_timeout(exc: BaseException | None) -> HarnessLagged | None:
    """The :exc:`HarnessLagged` behind ``exc``: itself, or one it was raised while handling (a
    step re-raising a DeviceTimeout with its own words, ``raise ... from None``, keeps it as
    ``__context__``); None when ``exc`` is not a DeviceTimeout or none lies behind it."""
    if not isinstance(exc, DeviceTimeout):
        return None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, HarnessLagged):
            return exc
        seen.add(id(exc))
        exc = exc.__context__
    return None


class DeviceDisconnected(AssertionError):
    """The device closed the connection while the harness waited for it."""


# --- INCONCLUSIVE -------------------------------------------------------------------------------

class Inconclusive(Exception):
    """A precondition was not reached: the operator did not act in time or could not do the action,
    there was no terminal to ask on, the rig refused. Not the device's fault, so not a FAIL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ActionNotDone(Inconclusive):
    """The rig, the operator or the driver object said the action could not be done. ``status``:
    the rig's HTTP status (or the simulator's), when it gave one."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


class ActionTimedOut(Inconclusive):
    """No answer within the action's timeout: the harness abandoned it."""

    def __init__(self, reason: str, timeout: float) -> None:
        super().__init__(reason)
        self.timeout = timeout


# --- N/A ----------------------------------------------------------------------------------------

class NotApplicable(Exception):
    """Found at run time that the test case does not apply, e.g. the device answered NotSupported
    for an "if implemented" feature. Reported as N/A with the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- ERROR --------------------------------------------------------------------------------------

class HarnessError(Exception):
    """The harness broke the protocol itself: a bug in the harness or in a test case."""
