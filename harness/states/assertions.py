"""The assertion vocabulary: what the device sent, checked against what the case expects.

Rule of this module: a test case or a state that checks a field of the device's message (the
status of a StatusNotification, of a .conf, a stop reason ...) says so with one of these, never
with a hand-typed ``assert x["status"] == ...``. Each failure is a
:class:`harness.verdicts.Mismatch` (a FAIL): the symptom is data (kind, action, field, expected,
got, the cited frame), worded one way (see its docstring), and the report keeps the data, so
the fault catalogue (``harness.fidelity``) matches the data, not the prose.

- :func:`assert_status` -- the status of a request or a response is one of the expected ones (a
  CALLERROR never is); :func:`conf_status` is its name for a .conf, returning the status.
- :func:`assert_value` -- any field (a dotted path: ``idTagInfo.status``) of a request or response;
  None among the expected values: the field may be omitted.
- :func:`assert_id_tag` -- an idTag field, compared as OCPP compares IdTokens (case-insensitive).
- :func:`expect_status` -- the next StatusNotification for a connector, with the expected status.
- :func:`cite` -- "wire log line N" of a message, for the messages still written by hand.
"""

from __future__ import annotations

from typing import Any

from harness.session import Request, Response, Session
from harness.verdicts import Mismatch

_MISSING = object()


def cite(message: Request | Response | None) -> str:
    """'wire log line N' of a request or response, for assertion messages."""
    return f"wire log line {message.line}" if message is not None else "no wire log line"


def _field(payload: Any, path: str) -> Any:
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _mismatch(message: Request | Response, field: str, expected: tuple[Any, ...], *, step: str,
              when: str, why: str) -> Mismatch:
    if isinstance(message, Response):
        kind = "callerror" if message.error is not None else "wrong-value"
        got = message.error.error_code if message.error is not None else _field(message.payload, field)
        return Mismatch(kind, action=message.action, message="conf", field=field, expected=expected,
                        got=got, line=message.line, step=step, when=when, why=why)
    payload = message.payload
    connector = payload.get("connectorId") if message.action == "StatusNotification" else None
    return Mismatch("wrong-value", action=message.action, message="req", field=field,
                    expected=expected, got=_field(payload, field), line=message.line, step=step,
                    connector=connector, when=when, why=why)


def assert_value(message: Request | Response, field: str, *expected: Any, step: str,
                 when: str = "", why: str = "") -> Any:
    """``field`` (a dotted path) of the device's ``message`` is one of ``expected``; returns it.
    A response that is a CALLERROR never passes. ``when`` qualifies the value ("after the
    plug-in"), ``why`` the expectation (" (the connector is unavailable)")."""
    if not expected:
        raise TypeError("assert_value needs at least one expected value")
    if isinstance(message, Response) and message.error is not None:
        raise _mismatch(message, field, expected, step=step, when=when, why=why)
    got = _field(message.payload, field) if message.payload is not None else None
    if got is None:
        if None not in expected:
            raise _mismatch(message, field, expected, step=step, when=when, why=why)
        return None
    if not any(got == e and isinstance(got, bool) is isinstance(e, bool) for e in expected):
        raise _mismatch(message, field, expected, step=step, when=when, why=why)
    return got


def assert_id_tag(message: Request | Response, field: str, expected: str, *, step: str,
                  when: str = "", why: str = "") -> str:
    """``field`` of ``message`` is the idTag ``expected``, case-insensitively (IdToken is a
    CiString20Type); returns it."""
    if isinstance(message, Response) and message.error is not None:
        raise _mismatch(message, field, (expected,), step=step, when=when, why=why)
    got = _field(message.payload, field) if message.payload is not None else None
    if not isinstance(got, str) or got.casefold() != expected.casefold():
        raise _mismatch(message, field, (expected,), step=step, when=when, why=why)
    return got


def assert_status(message: Request | Response, *expected: str, step: str, when: str = "",
                  why: str = "") -> str:
    """The ``status`` of the device's request or response is one of ``expected``; returns it."""
    return assert_value(message, "status", *expected, step=step, when=when, why=why)


def conf_status(response: Response, *expected: str, step: str, when: str = "",
                why: str = "") -> str:
    """The status of the device's answer ``response``, which must be one of ``expected`` (a
    CALLERROR never is); the failure reads "<step>: X.conf status is 'Y'[ <when>], expected
    'Z'<why> (wire log line N)"."""
    return assert_status(response, *expected, step=step, when=when, why=why)


async def expect_status(cp: Session, pics: Any, connector_id: int, *expected: str, step: str,
                        when: str = "", why: str = "", timeout: float | None = None) -> Request:
    """The next StatusNotification for ``connector_id`` (earlier ones not yet taken count: the
    OCTT judges the sequence, so none is skipped), whose status must be one of ``expected``;
    waited for up to ``timeout`` (default: the PICS triggered function timeout)."""
    status = await cp.expect("StatusNotification", lambda p: p.get("connectorId") == connector_id,
                             timeout=pics.timing.triggered_function_timeout if timeout is None
                             else timeout,
                             what=f"a StatusNotification for connector {connector_id}")
    assert_status(status, *expected, step=step, when=when, why=why)
    return status
