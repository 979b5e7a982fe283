"""The harness's conversation with the device under test, over one or more connections.

A :class:`Session` outlives connections: a charge point that reboots reconnects to the same session.
It reads every frame, judges it with :class:`harness.protocol.Checker`, writes it to the wire log,
answers the device's requests (by a waiting :meth:`expect`, a responder set with :meth:`on`, or the
defaults), and resolves the harness's own :meth:`call`.

Verdict rules it enforces:
- a device frame that breaks a rule is a :class:`ProtocolViolation`: it is recorded and every wait in
  progress fails at once with the frame and the findings in its message (fail fast, as the OCTT
  aborts a case on a schema failure);
- a finding that is only a remark (``harness.severity``) is recorded in :attr:`Session.remarks`
  and the case goes on; with ``strict`` set (``--ocpp-strict``) it is a violation like any other;
- a call not answered within its timeout, or a connection lost while a call waits, is a
  :class:`DeviceTimeout` / :class:`DeviceDisconnected`;
- a frame the harness itself sends that breaks a rule is a :class:`HarnessError` (the harness is
  wrong, not the device) unless the call says ``invalid_on_purpose``;
- every connection attempt (:class:`harness.transport.Attempt`) is an event line of the wire log
  of the case that waits (``handshake``, ``refused``); a device that did not connect in time FAILs
  with :class:`HandshakeViolation` when the harness refused or broke off attempts meanwhile, and is a
  :class:`DeviceTimeout` only when nothing reached the harness;
- a handshake finding (subprotocol not offered or selected) is a violation of every case that runs
  on that connection, not only of the one during which it opened;
- a text frame that is not UTF-8 is a violation (``ws.utf-8``) with its bytes logged in hex, and
  the harness closes with 1007 (RFC 6455 section 8.1);
- flow (OCPP-J 1.6 section 4.1.1: a peer SHOULD NOT send a CALL while one of its own is
  outstanding): each CALL sent before the harness's answer to an earlier one could have reached
  the device is counted, a remark (:attr:`Session.remarks`, one summary line per case); past
  :data:`FLOW_MAX_OUTSTANDING` outstanding or :data:`FLOW_MAX_RATE` CALLs a second it is a
  violation (``ocpp-j.flow``), once per case, summarised, never one line per CALL.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Generic, Iterable, Mapping, Protocol, TypeVar, Union

from harness import rpc
from harness.dialect import OCPP16, Dialect
from harness.findings import Finding
from harness.protocol import Checked, Checker
from harness.rpc import Call, CallError, CallResult, Sender
from harness.lag import lag_reason
from harness.transport import Attempt, Frame, HandshakeFailed, Link, LinkClosed
from harness.verdicts import (DeviceDisconnected, DeviceTimeout, HandshakeViolation,  # noqa: F401
                              HarnessError, HarnessLagged, ProtocolViolation)

FLOW_MAX_OUTSTANDING = 10
"""Device CALLs outstanding at once past which flow is a violation, not a remark."""
FLOW_MAX_RATE = 100
"""Device CALLs within one second past which flow is a violation (a flood)."""

Responder = Union[Mapping[str, Any], CallError, Callable[[dict], Any]]
NO_ANSWER = object()
"""A responder's return value meaning: do not answer this request (negative tests)."""


T = TypeVar("T")


class StashKey(Generic[T]):
    """A typed key of :attr:`Session.stash` (as pytest's ``StashKey``; the engine imports no
    pytest): a layer above the session keeps its per-session knowledge there, typed, instead of in
    a module-level dictionary keyed by the session."""

    __slots__ = ()


class Stash:
    """Per-session knowledge of the layers above the session, by :class:`StashKey`."""

    __slots__ = ("_data",)

    def __init__(self) -> None:
        self._data: dict[StashKey[Any], Any] = {}

    def __getitem__(self, key: StashKey[T]) -> T:
        return self._data[key]

    def __setitem__(self, key: StashKey[T], value: T) -> None:
        self._data[key] = value

    def get(self, key: StashKey[T], default: Any = None) -> Any:
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class Dialer(Protocol):
    """How a session whose harness side dials (the harness plays the charge point) opens its
    connections: the bench's (:attr:`Session.dialer`)."""

    async def reconnect(self, subprotocols: tuple[str, ...] = ...) -> Link: ...

    async def open_link(self, subprotocols: tuple[str, ...] = ...) -> Link: ...


class CallObserver(Protocol):
    """Told of every CALL the harness makes (:attr:`Session.call_observers`): ``sending`` as it
    leaves (the device may act on it even if its answer never comes), ``answered`` with the
    device's answer (not called on a timeout or a lost connection)."""

    def sending(self, action: str, payload: dict) -> None: ...

    def answered(self, action: str, payload: dict, response: "Response") -> None: ...


@dataclass(slots=True)
class Flow:
    """How the device paced its own CALLs during one test case (OCPP-J 1.6 section 4.1.1)."""
    calls: int = 0
    while_outstanding: int = 0
    first_line: int = 0
    max_outstanding: int = 0
    max_rate: int = 0
    violated: bool = False
    reference: str = ""
    """Where the dialect states the rule (``OCPP-J 1.6 section 4.1.1``)."""

    def summary(self) -> str:
        if not self.while_outstanding:
            return ""
        return (f"{self.while_outstanding:,} CALLs while one of the device's CALLs was "
                f"outstanding, first at wire log line {self.first_line}; up to "
                f"{self.max_outstanding} outstanding at once, {self.max_rate} CALLs in one second "
                f"({self.reference}: SHOULD NOT send a CALL before the previous one is "
                f"answered or timed out) [ocpp-j.flow] (remark)")


@dataclass(slots=True)
class Duplicates:
    """Second connections of the device during one test case, found by the bench's connection
    policy (harness.bench): one remark line counts them, as :class:`Flow` does for CALLs."""
    count: int = 0
    first: str = ""
    """The first one, with its wire log line."""

    def summary(self) -> str:
        if self.count <= 1:
            return self.first
        return (f"{self.count:,} second connections of the device while its connection was "
                f"open, the first at {self.first}")


@dataclass(slots=True)
class Violation:
    line: int
    """Line of the wire log where the frame is."""
    sender: Sender
    text: str | bytes
    findings: list[Finding]
    at: float = field(default_factory=time.monotonic)
    """time.monotonic() when the harness saw it."""

    def __str__(self) -> str:
        text = self.text if isinstance(self.text, str) else f"<binary, {len(self.text)} bytes>"
        if len(text) > 500:
            text = text[:500] + f"... ({len(text)} characters)"
        rules = "; ".join(str(f) for f in self.findings)
        return f"wire log line {self.line}: {text}\n    {rules}"


@dataclass(slots=True)
class Request:
    """A request the device sent, and the answer the harness gave."""
    call: Call
    frame: Frame
    line: int
    answer: Any = None
    answer_frame: Frame | None = None
    link: Link | None = None
    """The connection it came on (a reboot opens a new one)."""
    answered_by: str = ""
    """Who answered it: "expectation" (a waiting :meth:`Session.expect` took it, with its
    ``answer`` or the responder in force), "case" (:meth:`Session.on`), "default" (the session's
    defaults, no one waiting) or "" (no answer, or a CALLERROR for a request the harness could not
    read)."""
    follow_up: Any = None
    """An awaitable of the harness's own Responses to what its answer made it send (a TriggerMessage
    it accepted: harness.states.triggered), or None: a state that takes the request later sends
    nothing twice."""

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def payload(self) -> dict:
        return self.call.payload

    def __getitem__(self, key: str) -> Any:
        return self.call.payload[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.call.payload.get(key, default)


@dataclass(slots=True)
class Response:
    """The device's answer to a call of the harness, with the round trip measured at the socket."""
    action: str
    request: Frame
    frame: Frame
    payload: dict | None
    error: CallError | None
    line: int
    request_line: int = 0
    """Wire log line of the harness's CALL."""
    sent_ns: int = 0
    """time.monotonic_ns() when the CALL was handed to the socket (after the wire log and the
    checks, which are the harness's time, not the device's: see harness/timing.py)."""

    @property
    def rtt_s(self) -> float:
        return (self.frame.mono_ns - self.request.mono_ns) / 1e9

    @property
    def status(self) -> Any:
        return (self.payload or {}).get("status")

    def __getitem__(self, key: str) -> Any:
        if self.payload is None:
            code = self.error.error_code if self.error is not None else "(none)"
            raise KeyError(f"{self.action} was answered with CALLERROR {code}")
        return self.payload[key]

    def get(self, key: str, default: Any = None) -> Any:
        return (self.payload or {}).get(key, default)


@dataclass(slots=True)
class _Waiter:
    actions: frozenset[str]
    where: Callable[[dict], bool] | None
    answer: Responder | None
    future: asyncio.Future

    def matches(self, call: Call) -> bool:
        return call.action in self.actions and (self.where is None or bool(self.where(call.payload)))


class Session:
    """The harness (``role``) talking to the device (the other role) in ``dialect``
    (:class:`harness.dialect.Dialect`, OCPP 1.6 by default): its Checker judges every frame (a
    fresh one per connection, from ``checker_factory`` when given), its CALLERROR table answers
    a request that broke a rule, its subprotocol is offered on :meth:`reconnect`."""

    def __init__(self, role: Sender, *, response_timeout: float,
                 defaults: Mapping[str, Responder] | None = None,
                 checker_factory: Callable[[], Checker] | None = None,
                 dialect: Dialect = OCPP16):
        self.role: Sender = role
        self.dialect = dialect
        self.device: Sender = "cp" if role == "csms" else "csms"
        self.response_timeout = response_timeout
        self.defaults: dict[str, Responder] = dict(defaults or {})
        self._checker_factory: Callable[[], Checker] = (
            checker_factory or (lambda: Checker(dialect=dialect)))
        self.link: Link | None = None
        self.checker: Checker | None = None
        self.wirelog: Any = None
        self.violations: list[Violation] = []
        self.remarks: list[str] = []
        """Remarks of the current test case (harness.severity): the device's frames' findings
        that are stricter than the official schemas + errata, and what a case notes with
        :meth:`remark`. Shown in the report; a FAIL only when ``strict``."""
        self.strict = False
        """``--ocpp-strict``: a remark is a violation."""
        self.harness_errors: list[str] = []
        self.requests: list[Request] = []
        """Every request the device sent during the current test case."""
        self.answer_delays_ns: list[int] = []
        """The harness's own time from a device request's arrival to its answer leaving."""
        self.timing: Any = None
        """A harness.timing.Recorder told of every answered call and request, or None."""
        self.lag: Any = None
        """The run's harness.lag.LagMonitor, or None: told the harness's time per frame, asked
        whether the loop lagged when a deadline expired (then :exc:`HarnessLagged`)."""
        self.call_observers: list[CallObserver] = []
        """Told of every CALL of the harness and its answer (harness.states.idle's tracker)."""
        self.call_preparers: list[Callable[[str, dict], Awaitable[None]]] = []
        """Awaited with (action, payload) before each CALL of :meth:`call` leaves; a preparer's own
        CALLs (in its task) are not prepared again, another task's are (the Idle state reads a
        key's value before the harness first changes it)."""
        self._preparing: contextvars.ContextVar[bool] = contextvars.ContextVar(
            "preparing", default=False)
        self.request_observers: list[Callable[[Request], None]] = []
        """Told of every request of the device as it arrives (the prompt driver ends a question
        when the wire shows that the operator's action took effect)."""
        self.answer_observers: list[Callable[[Request], None]] = []
        """Told of every request of the device after its answer left (the charge point the harness
        plays sends what a TriggerMessage it accepted asked for: harness.states.triggered)."""
        self.dialer: Dialer | None = None
        """How the harness opens a connection when it is the client (SUT ``csms``: the bench);
        None when it listens (SUT ``cs``: the charge point dials in)."""
        self.listening: tuple[str, int] | None = None
        """Where the harness listens for the device (SUT ``cs``: the bench sets it), so that a
        device that never reached it is told how to: its central system URL, --ocpp-listen."""
        self.stash = Stash()
        """Per-session knowledge of the layers above (states), by typed key; kept across cases."""
        self._responders: dict[str, Responder] = {}
        self._backlog: list[Request] = []
        self._waiters: list[_Waiter] = []
        self._pending: dict[str, tuple[asyncio.Future, Frame, str, Link]] = {}
        """The harness's CALLs waiting for an answer: future, frame, action, the connection."""
        self._no_pending = asyncio.Event()
        self._no_pending.set()
        self._connected = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self._attempt_lines: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._line = 0
        self.attempts: list[Attempt] = []
        """Connection attempts during the current test case (accepted and refused)."""
        self._unlogged: list[Attempt] = []
        self._refused_since_connected: list[Attempt] = []
        self.last_connect_failure: HandshakeFailed | None = None
        """Why the harness's last own connection attempt (SUT csms) failed, if it did."""
        self.flow = Flow(reference=dialect.references["flow"])
        self._device_calls: deque[list[int]] = deque(maxlen=4 * FLOW_MAX_OUTSTANDING)
        """[arrival_ns, answered_ns (0: not yet)] of the device's recent CALLs."""
        self._call_times: deque[int] = deque()
        self.duplicates = Duplicates()

    # --- test case boundaries -------------------------------------------------------------------

    def begin(self, wirelog: Any = None) -> None:
        """Start a test case: a fresh wire log, no expectations, default answers."""
        self.wirelog = wirelog
        self.violations, self.harness_errors, self.requests = [], [], []
        self.remarks = []
        self.answer_delays_ns = []
        self.attempts, self.duplicates = [], Duplicates()
        self.flow = Flow(reference=self.dialect.references["flow"])
        self._responders.clear()
        self._backlog.clear()
        self._line = 0
        for attempt in self._unlogged:
            # Seen between cases: this case's log gets them, marked as earlier.
            self._log_attempt(attempt, note="before this test case")
        self._unlogged.clear()
        if self.link is not None and not self.link.closed.is_set():
            self._event("connected", charge_point_id=self.link.charge_point_id,
                        subprotocol=self.link.subprotocol, note="connection carried over")
            if self.link.findings:
                # The connection still breaks the rule it broke at its handshake.
                self._violation(self.link.peer, "<WebSocket handshake of the connection carried "
                                f"over, on {self.link.path or 'connect'}>", self.link.findings)

    def end(self) -> None:
        """Finish a test case: drop its expectations and its wire log. Its ``violations`` and
        ``harness_errors`` stay readable until the next :meth:`begin` (the plugin judges them)."""
        for waiter in self._waiters:
            waiter.future.cancel()
        self._waiters.clear()
        self.wirelog = None

    # --- connections ----------------------------------------------------------------------------

    def connection_attempt(self, attempt: Attempt) -> None:
        """Record a connection attempt (a transport listener): an event line in the wire log of
        the case running, or of the next one when none is."""
        if not attempt.accepted and attempt.reached:
            self._refused_since_connected.append(attempt)
            del self._refused_since_connected[:-1000]
        if self.wirelog is None:
            self._unlogged.append(attempt)
            del self._unlogged[:-1000]
            return
        self._log_attempt(attempt)

    def _log_attempt(self, attempt: Attempt, **extra: Any) -> None:
        self.attempts.append(attempt)
        self._event(attempt.event, attempt.mono_ns, attempt.wall_ns, **attempt.to_event(), **extra)
        self._attempt_lines[id(attempt)] = self._line  # attempts are frozen: the line beside

    def duplicate_connection(self, finding: Finding) -> None:
        """The bench's connection policy found the device connected twice (harness.bench): a
        remark (harness.severity), counted in :attr:`duplicates` (one line per case, added with
        the flow's when the case ends), or a violation under ``strict``. The refused connection is
        a ``refused`` event line of the wire log."""
        if self.strict or not finding.is_remark:
            self._violation(self.device, "<a second WebSocket connection of the device>", [finding])
            return
        self.duplicates.count += 1
        if not self.duplicates.first:
            self.duplicates.first = f"wire log line {self._line}: {finding}"

    def attach(self, link: Link) -> None:
        """Take over a new connection from the device (after boot, reboot or reconnect).

        What OCPP-J ties to one connection starts afresh: uniqueIds and pairing (a new
        :class:`Checker`: section 4.1.3, unique "on the same WebSocket connection"), the device's
        outstanding CALLs (section 4.1.1: a CALL of a connection that is gone can never be
        answered, so it is no longer outstanding), and the harness's own CALLs sent on another
        connection (their answers cannot come: :class:`DeviceDisconnected` at once, not a timeout,
        and an answer with their uniqueId on the new connection resolves nothing). Kept: the
        requests no expectation took yet (what the device sent before it reconnected still
        happened: a StopTransaction sent before a reboot), the case's counters (:attr:`flow`, the
        CALL rate: a flood split by a reconnect is still a flood)."""
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
        old = self.link
        self.link = link
        self._refused_since_connected = []
        self.checker = self._checker_factory()
        self._device_calls.clear()
        self._event("connected", charge_point_id=link.charge_point_id, path=link.path,
                    subprotocol=link.subprotocol)
        if link.findings:
            self._violation(link.peer, f"<WebSocket handshake on {link.path or 'connect'}>",
                            link.findings)
        self._connected.set()
        self._reader = asyncio.get_running_loop().create_task(self._read(link))
        for unique_id, (future, _frame, action, sent_on) in list(self._pending.items()):
            if sent_on is not link and not future.done():
                future.set_exception(DeviceDisconnected(
                    f"the device opened a new connection (wire log line {self._line}) while the "
                    f"harness waited for the answer to {action} (uniqueId {unique_id!r}) sent on "
                    f"{'its previous connection' if sent_on is old else 'another connection'}; "
                    "OCPP-J answers a CALL on the connection it came on"))

    @property
    def connected(self) -> bool:
        return self.link is not None and not self.link.closed.is_set()

    async def wait_connected(self, timeout: float) -> Link:
        """Wait until the device is connected (a reboot drops and re-opens the connection).

        Not connected in time: :class:`HandshakeViolation` (FAIL) when attempts were refused or
        broke off since the device was last connected, :class:`DeviceTimeout` when nothing reached the harness."""
        if not self.connected:
            self._connected.clear()
            try:
                await self._wait(self._connected.wait(), timeout,
                                 f"the device did not connect within {timeout:g} s "
                                 f"(no connection attempt reached the harness{self._how()})")
            except DeviceTimeout as timed_out:
                refused = self._refused_since_connected
                if refused:
                    raise HandshakeViolation(
                        f"the device did not connect within {timeout:g} s: "
                        + self.refusals_summary(refused)) from None
                raise timed_out from None
        assert self.link is not None
        return self.link

    @property
    def attempted(self) -> bool:
        """A connection attempt of the device reached the harness (accepted or refused)."""
        return self.link is not None or bool(self._refused_since_connected)

    def _how(self) -> str:
        """' at H:P: ...' naming what the device must be told, or '' (not listening)."""
        if self.listening is None:
            return ""
        host, port = self.listening
        text = (f" at {host}:{port}: is the charge point's central system URL "
                f"ws://<this machine>:{port}/<any path>/<chargePointId>? (--ocpp-listen)")
        if host in ("127.0.0.1", "localhost", "::1"):
            text += (f"; {host} is loopback: a charge point on the network needs "
                     f"--ocpp-listen 0.0.0.0:{port}")
        return text

    def refusals_summary(self, refused: list[Attempt]) -> str:
        """'the harness refused 3 connection attempts: 2 x ws.basic-auth (first: ..., wire log
        line 4), ...': one line, bounded, whatever the number of attempts."""
        by_rule: dict[str, list[Attempt]] = {}
        for attempt in refused:
            by_rule.setdefault(attempt.finding.rule if attempt.finding else "?", []).append(attempt)
        parts = []
        for rule, attempts in list(by_rule.items())[:5]:
            first = attempts[0]
            line = self._attempt_lines.get(id(first))
            parts.append(f"{len(attempts):,} x [{rule}] (first: {str(first)[:300]}"
                         + (f", wire log line {line}" if line else "") + ")")
        more = len(by_rule) - 5
        return (f"the harness refused or lost {len(refused):,} connection attempt"
                f"{'s' if len(refused) != 1 else ''}: " + "; ".join(parts)
                + (f"; and {more} other rules" if more > 0 else ""))

    async def wait_disconnected(self, timeout: float) -> None:
        if self.link is None:
            return
        await self._wait(self.link.closed.wait(), timeout,
                         f"the connection was not closed within {timeout:g} s")

    async def within(self, awaited: Awaitable[Any], timeout: float, message: str) -> Any:
        """For the layers above: what ``awaited`` gives within ``timeout`` s (a PICS or protocol
        deadline), else :class:`DeviceTimeout` (``message``), judged against the harness's lag at
        the deadline exactly as the session's own waits are (:meth:`_wait`)."""
        return await self._wait(awaited, timeout, message)

    async def _wait(self, awaited: Awaitable[Any], timeout: float, message: str) -> Any:
        """What ``awaited`` gives within ``timeout`` s, else :class:`DeviceTimeout` (``message``).

        When the event loop lagged beyond its bound at the deadline (over the last bound's length
        of the wait), what the device sent in time may still sit unread in the socket while the
        timer ran late; a stall earlier in the wait does not matter (what came meanwhile was read
        once the loop ran again, before the deadline). Then the wait goes on for a grace of the
        lag plus the bound: if the awaited thing comes in it, it may have come in time, and the
        deadline is not judged (:exc:`HarnessLagged`, INCONCLUSIVE with the figure); if nothing
        comes in the grace either, the device really did not answer (DeviceTimeout as without a
        lag: a lag never hides a device that is silent)."""
        future = asyncio.ensure_future(awaited)
        started = time.monotonic_ns()
        try:
            done, _ = await asyncio.wait({future}, timeout=timeout)
            if done:
                return future.result()
            lag = None
            if self.lag is not None:
                lag = self.lag.lagged(started + int(timeout * 1e9) - int(self.lag.bound_s * 1e9))
            if lag is not None:
                grace = lag + self.lag.bound_s
                done, _ = await asyncio.wait({future}, timeout=grace)
                if done:
                    late = (time.monotonic_ns() - started) / 1e9 - timeout
                    self.lag.lagged_deadlines += 1
                    raise HarnessLagged(lag_reason(
                        lag, f"waiting at a deadline, so it is not the device's: {message}; it "
                             f"was read {late:.3g} s after the deadline", self.lag.bound_s), lag)
                message += (f" (nor in a further {grace:.3g} s: the harness lagged "
                            f"{lag * 1000:,.0f} ms at the deadline)")
            raise DeviceTimeout(message)
        finally:
            if not future.done():
                future.cancel()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the current connection from the harness's side."""
        if self.link is not None:
            await self.link.close(code, reason)
        if self._reader is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._reader), 5)
            except (TimeoutError, asyncio.CancelledError):
                self._reader.cancel()

    # --- the harness's calls --------------------------------------------------------------------

    async def call(self, action: str, payload: dict, *, timeout: float | None = None,
                   invalid_on_purpose: bool = False, unique_id: str | None = None) -> Response:
        """Send a CALL and wait for the device's CALLRESULT or CALLERROR.

        ``timeout`` defaults to the PICS response timeout. A negative test that sends an invalid
        frame on purpose must say so with ``invalid_on_purpose=True``; otherwise the harness's
        own invalid frame is a :class:`HarnessError`.
        """
        if self.call_preparers and not self._preparing.get():
            token = self._preparing.set(True)
            try:
                for prepare in list(self.call_preparers):
                    await prepare(action, payload)
            finally:
                self._preparing.reset(token)
        unique_id = unique_id or self._new_id()
        return await self._call_text(action, rpc.dumps(Call(unique_id, action, payload)),
                                     unique_id, payload, timeout, invalid_on_purpose)

    async def reconnect(self, subprotocols: tuple[str, ...] | None = None) -> Link:
        """Close the connection if open and open a new one offering ``subprotocols`` (default:
        the dialect's), attached to this session: the reboot of the charge point the harness plays
        (:attr:`dialer`)."""
        return await self._require_dialer("reconnect").reconnect(
            (self.dialect.subprotocol,) if subprotocols is None else subprotocols)

    async def open_link(self, subprotocols: tuple[str, ...] | None = None) -> Link:
        """A new connection offering ``subprotocols`` (default: the dialect's), not attached to
        this session (TC_088_CSMS negotiates on it) (:attr:`dialer`)."""
        return await self._require_dialer("open a connection").open_link(
            (self.dialect.subprotocol,) if subprotocols is None else subprotocols)

    def _require_dialer(self, what: str) -> Dialer:
        if self.dialer is None:
            raise HarnessError(f"cannot {what}: the harness does not dial the device here (it is "
                               f"the {self.role} side, the device connects to it)")
        return self.dialer

    async def call_raw(self, text: str, unique_id: str, *, action: str,
                       timeout: float | None = None) -> Response:
        """Send ``text`` -- a frame broken on purpose that still carries ``unique_id`` (an
        incomplete CALL, a payload that is not an object) -- and wait for the device's answer to
        that uniqueId, as :meth:`call` does. ``action`` names it in messages and measurements."""
        return await self._call_text(action, text, unique_id, {}, timeout, True)

    async def send_raw(self, text: str, *, what: str) -> None:
        """Send ``text`` as it is -- a frame broken on purpose that expects no answer (not JSON, a
        CALLRESULT that answers nothing) -- marked in the wire log as invalid on purpose."""
        link = self._require_link(what)
        try:
            await self._send(link, text, invalid_on_purpose=True)
        except LinkClosed as closed:
            raise DeviceDisconnected(
                f"cannot send {what}: the device closed the connection ({closed})") from None

    def new_unique_id(self) -> str:
        """A fresh uniqueId for a frame the caller writes itself (:meth:`call_raw`)."""
        return self._new_id()

    async def _call_text(self, action: str, text: str, unique_id: str, payload: Any,
                         timeout: float | None, invalid_on_purpose: bool) -> Response:
        timeout = self.response_timeout if timeout is None else timeout
        link = self._require_link(action)
        payload = payload if isinstance(payload, dict) else {}  # a raw frame's: not a dict
        self._tell_observers("sending", action, payload)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        sent = [0, 0]  # when the CALL was handed to the socket, and its wire log line

        def register(frame: Frame) -> None:
            # Before the write: the answer may be read while the write waits for the socket.
            self._pending[unique_id] = (future, frame, action, link)
            self._no_pending.clear()
            sent[:] = [time.monotonic_ns(), self._line]  # nothing but the socket write follows

        try:
            await self._send(link, text, invalid_on_purpose=invalid_on_purpose,
                             before_write=register)
        except LinkClosed as closed:
            # The device went away between the connected check and the write: its failure.
            self._unpend(unique_id)
            raise DeviceDisconnected(
                f"cannot send {action}: the device closed the connection ({closed})") from None
        line = self._line
        try:
            response: Response = await self._wait(
                future, timeout, f"no answer to {action} (uniqueId {unique_id!r}, wire log line "
                                 f"{line}) within {timeout:g} s")
            response.sent_ns, response.request_line = sent
            if self.timing is not None:
                self.timing.call_answered(response, payload)
            self._tell_observers("answered", action, payload, response)
            return response
        finally:
            self._unpend(unique_id)

    def _unpend(self, unique_id: str) -> None:
        self._pending.pop(unique_id, None)
        if not self._pending:
            self._no_pending.set()

    async def calls_settled(self) -> None:
        """Return once no CALL of the harness waits for its answer (OCPP-J allows one outstanding
        CALL per direction); each waits at most its own timeout, so this is bounded too."""
        await self._no_pending.wait()

    def _tell_observers(self, what: str, *args: Any) -> None:
        for observer in self.call_observers:
            try:
                getattr(observer, what)(*args)
            except Exception as exc:  # an observer's bug is the harness's, never the device's
                self.harness_errors.append(f"harness error in a call observer ({what}): {exc!r}")

    # --- the device's requests ------------------------------------------------------------------

    def on(self, action: str, responder: Responder) -> None:
        """Answer every ``action`` request from now on with ``responder`` (a payload, a CallError,
        a callable taking the request payload, or one returning ``NO_ANSWER``)."""
        self._responders[action] = responder

    async def expect(self, actions: str | Iterable[str], where: Callable[[dict], bool] | None = None,
                     *, timeout: float, answer: Responder | None = None,
                     what: str | None = None) -> Request:
        """The device's next request of ``actions`` whose payload satisfies ``where``.

        Requests that arrived earlier and were not taken by another expectation count: a driver
        action may make the device send before the test gets here. ``answer`` answers it if it
        arrives while this expectation waits; otherwise it was answered by the responder in force.
        """
        wanted = frozenset([actions] if isinstance(actions, str) else actions)
        waiter = _Waiter(wanted, where, answer, asyncio.get_running_loop().create_future())
        for request in self._backlog:
            if waiter.matches(request.call):
                self._backlog.remove(request)
                return request
        if self.violations:
            raise ProtocolViolation(f"the device broke the protocol: {self.violations[-1]}")
        self._waiters.append(waiter)
        description = what or " or ".join(sorted(wanted))
        try:
            return await self._wait(waiter.future, timeout,
                                    f"expected {description} within {timeout:g} s; it did not come")
        except DeviceTimeout as timed_out:
            if isinstance(timed_out, HarnessLagged):
                raise
            seen = ", ".join(f"{r.action} {_short(r.payload)}" for r in self._backlog[-5:])
            raise DeviceTimeout(str(timed_out) + (f" (the device sent meanwhile: {seen})"
                                                  if seen else "")) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def event(self, name: str, **detail: Any) -> None:
        """Write an event line into the current case's wire log (harness/wirelog.py names the
        events), e.g. a handshake made outside the session's connection (TC_088_CSMS)."""
        self._event(name, **detail)

    def remark(self, text: str) -> None:
        """Note a remark of the current test case (a reading the specification does not force, a
        rule stricter than the official schemas): reported, a FAIL only under ``--ocpp-strict``
        (the plugin judges :attr:`remarks` when the case ends)."""
        self.remarks.append(text)

    def forget(self, actions: str | Iterable[str] | None = None) -> None:
        """Drop requests received so far that no expectation took (of ``actions`` only, if
        given)."""
        if actions is None:
            self._backlog.clear()
            return
        wanted = frozenset([actions] if isinstance(actions, str) else actions)
        self._backlog[:] = [r for r in self._backlog if r.action not in wanted]

    async def expect_silence(self, actions: str | Iterable[str], *, duration: float,
                             where: Callable[[dict], bool] | None = None) -> None:
        """Assert that the device sends no ``actions`` request for ``duration`` seconds."""
        wanted = frozenset([actions] if isinstance(actions, str) else actions)
        try:
            request = await self.expect(wanted, where, timeout=duration)
        except DeviceTimeout:
            return
        raise ProtocolViolation(
            f"the device sent {request.action} {_short(request.payload)} (wire log line "
            f"{request.line}) while it should have stayed silent for {duration:g} s")

    # --- reading --------------------------------------------------------------------------------

    async def _read(self, link: Link) -> None:
        while True:
            try:
                frame = await link.recv()
            except LinkClosed as closed:
                self._on_closed(link, closed)
                return
            began = time.perf_counter()
            try:
                await self._on_frame(link, frame)
            except LinkClosed as closed:
                self._on_closed(link, closed)
                return
            except Exception as exc:  # a harness bug must not kill the reader silently
                self.harness_errors.append(f"harness error while handling a frame: {exc!r}")
                self._fail_waiters(HarnessError(self.harness_errors[-1]))
            if self.lag is not None:
                self.lag.frame_processed(time.perf_counter() - began)

    async def _on_frame(self, link: Link, frame: Frame) -> None:
        if frame.utf8_error is not None:
            data = bytes(frame.text) if isinstance(frame.text, (bytes, bytearray)) else b""
            finding = Finding("ws.utf-8", "frame",
                              f"a text frame that is not UTF-8 ({frame.utf8_error}; {len(data)} "
                              "bytes, logged in hex): RFC 6455 section 8.1 requires UTF-8 text, "
                              "and the harness closes the connection with 1007",
                              data[:64].hex())
            self._event("invalid_utf8", frame.mono_ns, frame.wall_ns, sender=frame.sender,
                        length=len(data), reason=frame.utf8_error, hex=data.hex())
            self._violation(frame.sender, f"<text frame of {len(data)} bytes, not UTF-8>",
                            [finding], self._line)
            await link.close(1007, "invalid UTF-8 in a text frame")
            raise LinkClosed(1007, "invalid UTF-8 in a text frame", False)
        if frame.binary:
            finding = Finding("ws.binary", "frame",
                              "OCPP-J uses text frames only; the device sent a binary frame",
                              len(frame.text))
            line = self._log(frame, [finding])
            self._violation(frame.sender, frame.text, [finding], line)
            return
        assert self.checker is not None
        checked = self.checker.check(frame.sender, frame.text)
        line = self._log(frame, checked.findings)
        findings = checked.findings
        if findings and not self.strict:
            remarks = [f for f in findings if f.is_remark]
            if remarks and frame.sender == self.device:
                self.remarks.extend(f"wire log line {line}: {f}" for f in remarks)
            findings = [f for f in findings if not f.is_remark]
        if findings:
            self._violation(frame.sender, frame.text, findings, line)
        message = checked.message
        if checked.message_type == rpc.CALL and frame.sender == self.device:
            self._pace(frame, line)
        if checked.message_type == rpc.CALL and checked.unique_id is not None:
            await self._answer(link, frame, checked, line)
        elif isinstance(message, (CallResult, CallError)):
            pending = self._pending.get(message.unique_id)
            if pending is not None and not pending[0].done():
                future, request_frame, action, _ = pending
                payload = message.payload if isinstance(message, CallResult) else None
                error = message if isinstance(message, CallError) else None
                future.set_result(Response(action, request_frame, frame, payload, error, line))
        elif message is None and checked.call is not None:
            pending = self._pending.get(checked.unique_id or "")
            if pending is not None and not pending[0].done():
                pending[0].set_exception(ProtocolViolation(
                    f"the answer to {checked.action} broke the protocol: {self.violations[-1]}"))

    def _pace(self, frame: Frame, line: int) -> None:
        """Count a device CALL sent while an earlier one was outstanding (OCPP-J 4.1.1)."""
        t = frame.mono_ns
        timeout_ns = int(self.response_timeout * 1e9)
        outstanding = sum(1 for arrived, answered in self._device_calls
                          if (answered > t) or (answered == 0 and t - arrived < timeout_ns))
        flow = self.flow
        flow.calls += 1
        times = self._call_times
        times.append(t)
        while times and t - times[0] > 1_000_000_000:
            times.popleft()
        flow.max_rate = max(flow.max_rate, len(times))
        if outstanding:
            flow.while_outstanding += 1
            flow.first_line = flow.first_line or line
            flow.max_outstanding = max(flow.max_outstanding, outstanding)
        self._device_calls.append([t, 0])
        if not flow.violated and (outstanding > FLOW_MAX_OUTSTANDING
                                  or len(times) > FLOW_MAX_RATE):
            flow.violated = True
            what = (f"{outstanding} of its CALLs outstanding at once (bound "
                    f"{FLOW_MAX_OUTSTANDING})" if outstanding > FLOW_MAX_OUTSTANDING
                    else f"{len(times)} CALLs within one second (bound {FLOW_MAX_RATE})")
            self._violation(frame.sender, f"<the device's CALL at wire log line {line}>", [Finding(
                "ocpp-j.flow", "frame",
                f"the device had {what}, without waiting for the answers "
                f"({self.dialect.references['flow']}: a peer SHOULD NOT send a CALL while one of "
                "its own is outstanding; past this bound the harness judges it a flood)",
                outstanding)], line)

    def _answered(self, request: Frame, answer: Frame) -> None:
        for entry in reversed(self._device_calls):
            if entry[0] == request.mono_ns:
                entry[1] = answer.mono_ns
                return

    async def _answer(self, link: Link, frame: Frame, checked: Checked, line: int) -> None:
        call = checked.message if isinstance(checked.message, Call) else None
        if call is None or checked.findings and not _only_tolerable(checked.findings,
                                                                     self.strict):
            # A request the harness cannot read answers with a CALLERROR, as a real peer would.
            error = CallError(checked.unique_id or "-1", self.dialect.error_code_for(checked.findings),
                              "; ".join(str(f) for f in checked.findings)[:255], {})
            self._answered(frame, await self._send(link, rpc.dumps(error), answering=frame))
            return
        request = Request(call, frame, line, link=link)
        self.requests.append(request)
        for observer in list(self.request_observers):
            observer(request)
        waiter = next((w for w in self._waiters if w.matches(call)), None)
        responder: Responder | None
        if waiter is not None and waiter.answer is not None:
            responder = waiter.answer
        elif call.action in self._responders:
            responder, request.answered_by = self._responders[call.action], "case"
        else:
            responder = self.defaults.get(call.action)
            request.answered_by = "default" if responder is not None else ""
        if waiter is not None:
            request.answered_by = "expectation"  # the waiting case (or state) handles what follows
        answer = self._make_answer(call, responder)
        if answer is not NO_ANSWER:
            request.answer = answer
            message = answer if isinstance(answer, CallError) else CallResult(call.unique_id, answer)
            if isinstance(answer, CallError):
                answer.unique_id = call.unique_id
            request.answer_frame = await self._send(link, rpc.dumps(message), answering=frame)
            self._answered(frame, request.answer_frame)
            for answer_observer in list(self.answer_observers):
                try:
                    answer_observer(request)
                except Exception as exc:  # the harness's bug, never the device's
                    self.harness_errors.append(f"harness error in an answer observer: {exc!r}")
        else:
            request.answered_by = ""
        if self.timing is not None:
            self.timing.request_answered(request, link)
        if waiter is not None:
            self._waiters.remove(waiter)
            if not waiter.future.done():
                waiter.future.set_result(request)
        else:
            self._backlog.append(request)

    def _make_answer(self, call: Call, responder: Responder | None) -> Any:
        if responder is None:
            return CallError(call.unique_id, self.dialect.unsupported_error_code,
                             f"the harness has no answer configured for {call.action}", {})
        if callable(responder):
            return responder(call.payload)
        if isinstance(responder, CallError):
            return CallError(call.unique_id, responder.error_code, responder.error_description,
                             responder.error_details)
        return dict(responder)

    async def _send(self, link: Link, text: str, *, invalid_on_purpose: bool = False,
                    answering: Frame | None = None,
                    before_write: Callable[[Frame], None] | None = None) -> Frame:
        assert self.checker is not None
        checked = self.checker.check(self.role, text)
        findings = checked.findings
        if findings and not invalid_on_purpose:
            message = (f"the harness would send an invalid frame (a harness or test case bug): "
                       f"{text[:300]} -- {'; '.join(str(f) for f in findings)}")
            self.harness_errors.append(message)
            raise HarnessError(message)
        frame = link.stamp(text)
        if answering is not None:
            self.answer_delays_ns.append(frame.mono_ns - answering.mono_ns)
        self._log(frame, findings, on_purpose=invalid_on_purpose)
        if before_write is not None:
            before_write(frame)
        await link.write(frame)
        return frame

    def _on_closed(self, link: Link, closed: LinkClosed) -> None:
        link.closed.set()
        now_mono, now_wall = time.monotonic_ns(), time.time_ns()
        self._event("closed", code=closed.code, reason=closed.reason,
                    by="device" if closed.by_peer else "harness", mono=now_mono, wall=now_wall)
        if closed.finding is not None:
            self._violation(link.peer, "<frame over the size limit>", [closed.finding])
        for unique_id, (future, frame, action, sent_on) in list(self._pending.items()):
            if sent_on is link and not future.done():
                future.set_exception(DeviceDisconnected(
                    f"the device closed the connection ({closed}) while the harness waited for "
                    f"the answer to {action} (uniqueId {unique_id!r})"))

    # --- bookkeeping ----------------------------------------------------------------------------

    def _violation(self, sender: Sender, text: str | bytes, findings: list[Finding],
                   line: int | None = None) -> None:
        if sender != self.device:
            return
        violation = Violation(line if line is not None else self._line, sender, text, findings)
        self.violations.append(violation)
        self._fail_waiters(ProtocolViolation(f"the device broke the protocol: {violation}"))

    def _fail_waiters(self, exc: Exception) -> None:
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_exception(exc)
        for future, *_ in self._pending.values():
            if not future.done():
                future.set_exception(exc)

    def _log(self, frame: Frame, findings: list[Finding], on_purpose: bool = False) -> int:
        if on_purpose and findings:
            # Said in the log itself, so that a reader of the log alone knows it was meant.
            self._event("invalid_on_purpose", frame.mono_ns, frame.wall_ns,
                        note="the next frame breaks the rules on purpose (negative test)")
        self._line += 1
        if self.wirelog is not None:
            self.wirelog.write_frame(frame.sender, frame.text, frame.mono_ns, frame.wall_ns,
                                     findings)
        return self._line

    def record_event(self, event: str, **detail: Any) -> None:
        """An event line in the current case's wire log (a driver action, say), counted as a line
        like the frames, so that line numbers in reasons stay right."""
        self._event(event, **detail)

    def _event(self, event: str, mono: int | None = None, wall: int | None = None,
               **detail: Any) -> None:
        self._line += 1
        if self.wirelog is not None:
            self.wirelog.write_event(event, mono or time.monotonic_ns(), wall or time.time_ns(),
                                     **detail)

    def _require_link(self, action: str) -> Link:
        if not self.connected:
            failure = self.last_connect_failure
            if failure is not None and failure.attempt.reached:
                raise HandshakeViolation(f"cannot send {action}: not connected; the last connection "
                                       f"attempt failed: {failure}")
            raise DeviceDisconnected(f"cannot send {action}: the device is not connected"
                                     + (f" ({failure})" if failure is not None else ""))
        assert self.link is not None
        return self.link

    def _new_id(self) -> str:
        return f"{next(self._ids)}-{uuid.uuid4().hex[:8]}"


def _only_tolerable(findings: list[Finding], strict: bool = False) -> bool:
    """Findings that still let the harness answer normally (the request itself is readable; a
    remark is not a reason to refuse it, except under ``--ocpp-strict``)."""
    return all(f.rule == "rpc.duplicate-id" or (f.is_remark and not strict) for f in findings)


def _short(payload: Any, limit: int = 120) -> str:
    text = rpc.dumps([payload])[1:-1] if isinstance(payload, dict) else repr(payload)
    return text if len(text) <= limit else text[:limit] + "..."
