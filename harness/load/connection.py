"""One OCPP-J connection of a load charge point, judged frame by frame, and what the users of a
run share: their :class:`Config` and the :class:`Swarm`'s figures (harness.load.chargepoint is
the Locust user on top of it).

Every frame, both directions, goes through the connection's :class:`harness.protocol.Checker`
(framing, pairing, direction, schema, with the errata); findings are counted by sender and rule.
The latency of every CALL is fired to Locust's ``request`` event (request_type ``OCPP``, name =
the action; a CALLERROR or a timeout is a failure). gevent and websocket-client: imported in a
process Locust has monkey-patched (``python -m harness load``).
"""

from __future__ import annotations

import itertools
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.lock
import websocket

from harness import rpc
from harness.protocol import Checker
from harness.rpc import Call, CallError, CallResult

if TYPE_CHECKING:
    from harness.load.chargepoint import ChargePointUser

SAMPLE_LIMIT = 20  # findings kept with their frame, per run


class CallFailed(Exception):
    """A CALLERROR answered one of our CALLs."""

    def __init__(self, action: str, code: str, description: str):
        self.action, self.code = action, code
        super().__init__(f"{action}: CALLERROR {code} {description}".strip())


class CallTimeout(Exception):
    def __init__(self, action: str, timeout: float):
        self.action = action
        super().__init__(f"{action}: no answer within {timeout:g} s")


class ConnectionLost(Exception):
    pass


@dataclass
class Config:
    """What the run gives every user (set by :mod:`harness.load.__main__`)."""
    csms_url: str
    id_prefix: str = "LOAD"
    password: str | None = None
    """Security profile 1: HTTP Basic with this password (never logged)."""
    connectors: int = 2
    id_tags: tuple[str, ...] = ("VALID0001",)
    id_tag_prefix: str | None = None
    """Each charge point its own idTag, PREFIX00001...: no ConcurrentTx between them."""
    response_timeout: float = 10.0
    session_weight: int = 1
    idle_weight: int = 3
    wait_min: float = 1.0
    wait_max: float = 5.0
    meter_samples: int = 2
    meter_interval: float = 1.0
    fallback_interval: float = 60.0
    """Used when the CSMS gives interval 0 (OCPP: the charge point chooses)."""
    ca_file: str | None = None
    """wss:// (security profiles 2, 3): the CA bundle the CSMS's certificate is checked against
    (default: the system's)."""
    cert_file: str | None = None
    key_file: str | None = None
    """Security profile 3: the charge points' client certificate and key."""
    source_addresses: int = 1
    """Connect from 127.0.0.1 .. 127.0.0.N (charge point i from 127.0.0.(1 + i % N)): each source
    address has its own ~28,000 ephemeral ports towards one CSMS address and port."""
    scenario: str = "steady"
    event_at: float = 0.0
    """Disrupting scenarios (harness.load.disruptions): seconds from the run's start."""
    fraction: float = 1.0
    spread: float = 0.0
    offline: float = 5.0
    reconnect_jitter: float = 0.0
    duplicate_grace: float = 5.0


@dataclass
class Swarm:
    """The figures the users of one process share (one greenlet runs at a time: no locks)."""
    target: int = 0
    """The charge points the run asks for."""
    users: int = 0
    started_at: float = field(default_factory=time.monotonic)
    booted_ids: set[int] = field(default_factory=set)
    last_new_boot_at: float | None = None
    """When the latest charge point to be Accepted for the first time was (monotonic)."""
    boot_times: list[float] = field(default_factory=list)
    boot_status: Counter = field(default_factory=Counter)
    connect_failures: int = 0
    connect_errors: Counter = field(default_factory=Counter)
    disconnects: int = 0
    callerrors: Counter = field(default_factory=Counter)   # (action, code) -> n
    timeouts: Counter = field(default_factory=Counter)     # action -> n
    findings: Counter = field(default_factory=Counter)     # (sender, severity, rule) -> n
    finding_samples: list[dict] = field(default_factory=list)
    csms_calls: Counter = field(default_factory=Counter)   # action -> n answered
    sessions: Counter = field(default_factory=Counter)
    heartbeat_lags: list[float] = field(default_factory=list)
    sources: Counter = field(default_factory=Counter)
    """Connections opened per local (source) address."""
    disruption: Counter = field(default_factory=Counter)
    """disrupted, recovered, queued, replayed, replay_failed, replay_unsent."""
    recoveries: list[float] = field(default_factory=list)
    """Seconds from a disrupted charge point's reconnect attempt to its Accepted boot."""
    duplicates: Counter = field(default_factory=Counter)
    """attempted, refused, replaced, kept_both, closed_both, undecided."""
    stride: int = 1
    offset: int = 0
    """Worker ``offset`` of ``stride`` processes numbers its charge points offset+1,
    offset+1+stride, ... (harness.load.distributed)."""
    _ids: Any = field(default_factory=lambda: itertools.count(0))
    _tls: Any = None

    def tls_context(self, config: Config) -> Any:
        """One client TLS context for the process (TLS 1.2 at least, as harness.transport)."""
        if self._tls is None:
            from harness.transport import tls_context
            self._tls = tls_context(server=False, ca_file=config.ca_file,
                                    cert_file=config.cert_file, key_file=config.key_file)
        return self._tls

    def next_index(self) -> int:
        return next(self._ids) * self.stride + self.offset + 1


class Connection:
    """One OCPP-J connection, judged frame by frame."""

    def __init__(self, user: ChargePointUser, ws: websocket.WebSocket):
        self.user, self.ws, self.swarm = user, ws, user.swarm
        self.checker = Checker()
        self.waiting: dict[str, tuple[str, gevent.event.AsyncResult]] = {}
        self.ids = itertools.count(1)
        self.one_call = gevent.lock.Semaphore()
        """OCPP-J 4.1.1: one CALL of ours outstanding at a time (the heartbeat waits for a
        session's CALL to be answered, and the other way round)."""
        self.open = True
        self.expected = False
        """Set before a close the charge point causes or awaits (a restart, a blackout, a
        duplicate identity replaced): not counted as a disconnect by the CSMS."""
        self.closed = gevent.event.Event()
        self.reader = gevent.spawn(self._read)

    # --- frames -------------------------------------------------------------------------------

    def _judge(self, sender: str, text: str):
        checked = self.checker.check(sender, text)
        if checked.findings:
            for f in checked.findings:
                self.swarm.findings[(sender, f.severity, f.rule)] += 1
                if len(self.swarm.finding_samples) < SAMPLE_LIMIT:
                    self.swarm.finding_samples.append({
                        "chargePointId": self.user.charge_point_id, "sender": sender,
                        "action": checked.action, "rule": f.rule, "path": f.path,
                        "severity": f.severity, "message": f.message, "frame": text[:500]})
        return checked

    def send(self, message: rpc.Message) -> int:
        text = rpc.dumps(message)
        self._judge("cp", text)
        self.ws.send(text)
        return len(text)

    def _read(self) -> None:
        try:
            while True:
                text = self.ws.recv()
                if not self.ws.connected:
                    break
                if not text:
                    continue
                self._received(text)
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            self._lost()
            # Once the closing handshake is done (websocket-client answered the CSMS's close
            # frame) the TCP connection is closed, as RFC 6455 7.1.1 asks: a CSMS waits for it
            # (websockets' close_timeout) before its close() returns.
            try:
                self.ws.shutdown()
            except (websocket.WebSocketException, OSError):
                pass

    def _received(self, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        checked = self._judge("csms", text)
        message = checked.message
        if isinstance(message, (CallResult, CallError)):
            waiter = self.waiting.pop(message.unique_id, None)
            if waiter is not None:
                waiter[1].set(message)
        elif isinstance(message, Call):
            gevent.spawn(self._answer, message)
        elif checked.message_type == rpc.CALL and checked.unique_id:
            # A CALL we cannot read: OCPP-J 4.2.3 answers it with a CALLERROR.
            self._send_quietly(CallError(checked.unique_id, "FormationViolation",
                                         "frame could not be read"))

    def _send_quietly(self, message: rpc.Message) -> None:
        try:
            self.send(message)
        except (websocket.WebSocketException, OSError):
            pass

    def _answer(self, call: Call) -> None:
        self.swarm.csms_calls[call.action] += 1
        answer = self.user.answer(call)
        self._send_quietly(answer)

    def _lost(self) -> None:
        if self.open:
            self.open = False
            self.swarm.disconnects += 0 if self.user.stopping or self.expected else 1
        self.closed.set()
        for _, waiter in list(self.waiting.values()):
            waiter.set_exception(ConnectionLost("connection closed"))
        self.waiting.clear()

    def close(self) -> None:
        self.open = False
        try:
            self.ws.close(timeout=1)
        except (websocket.WebSocketException, OSError):
            pass
        self.reader.kill(block=False)
        self.closed.set()

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (RST: a power cut, a network
        loss, as the CSMS sees it)."""
        self.open = False
        sock = self.ws.sock
        try:
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
        except OSError:
            pass
        self.reader.kill(block=False)
        self.closed.set()

    # --- calls --------------------------------------------------------------------------------

    def call(self, action: str, payload: dict) -> dict:
        """Send a CALL once no other CALL of ours is outstanding, wait for its answer; its
        latency (from the send) to Locust. Raises CallFailed, CallTimeout, ConnectionLost."""
        with self.one_call:
            return self._call(action, payload)

    def _call(self, action: str, payload: dict) -> dict:
        if not self.open:
            raise ConnectionLost("not connected")
        unique_id = str(next(self.ids))
        result = gevent.event.AsyncResult()
        self.waiting[unique_id] = (action, result)
        timeout = self.user.config.response_timeout
        fire = self.user.environment.events.request.fire
        started = time.perf_counter()
        try:
            size = self.send(Call(unique_id, action, payload))
        except (websocket.WebSocketException, OSError) as exc:
            self.waiting.pop(unique_id, None)
            self._lost()
            raise ConnectionLost(str(exc)) from None
        try:
            answer = result.get(timeout=timeout)
        except gevent.Timeout:
            self.waiting.pop(unique_id, None)
            self.swarm.timeouts[action] += 1
            exc = CallTimeout(action, timeout)
            fire(request_type="OCPP", name=action, response_time=timeout * 1000,
                 response_length=size, exception=exc, context={})
            raise exc from None
        except ConnectionLost as exc:
            fire(request_type="OCPP", name=action,
                 response_time=(time.perf_counter() - started) * 1000, response_length=size,
                 exception=exc, context={})
            raise
        elapsed = (time.perf_counter() - started) * 1000
        if isinstance(answer, CallError):
            self.swarm.callerrors[(action, answer.error_code)] += 1
            exc = CallFailed(action, answer.error_code, answer.error_description)
            fire(request_type="OCPP", name=action, response_time=elapsed, response_length=size,
                 exception=exc, context={})
            raise exc
        fire(request_type="OCPP", name=action, response_time=elapsed, response_length=size,
             exception=None, context={})
        return answer.payload
