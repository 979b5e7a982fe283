"""The Locust user that is a charge point (OCPP 1.6J), on gevent.

One user = one WebSocket connection (websocket-client, which gevent's monkey-patching makes
cooperative) and three greenlets: the user's own (boot, then weighted tasks: a charging session or
idling), a reader that judges every frame from the central system and answers its CALLs, and a
heartbeat at the interval the BootNotification.conf gave (jittered). Every frame, both directions,
goes through the connection's :class:`harness.protocol.Checker`, the conformance suite's own:
framing, pairing, direction, schema, with the errata; findings are counted by sender and rule.

Latency of every CALL this charge point makes is fired to Locust's ``request`` event
(request_type ``OCPP``, name = the action; a CALLERROR or a timeout is a failure) and connection
set-up as ``WS connect``. What Locust's stats do not hold (CALLERROR codes, timeouts, boot
statuses, findings, the heartbeat lag) is in the :class:`Swarm` the users share.

Importing this module imports Locust, which monkey-patches the standard library: import it first,
in a process of its own (``python -m harness load``).
"""

from __future__ import annotations

import base64
import itertools
import random
import socket
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
import gevent.lock
import websocket
from locust import User, between
from locust.exception import StopUser

from harness import rpc
from harness.clock import now_iso
from harness.protocol import Checker
from harness.rpc import Call, CallError, CallResult

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


class ChargePointUser(User):
    """A charge point. Subclassed per run with ``config`` and ``swarm`` set
    (:func:`user_class`)."""

    abstract = True
    config: Config
    swarm: Swarm
    wait_time = between(1, 5)

    def __init__(self, environment: Any):
        super().__init__(environment)
        self.index = self.swarm.next_index()
        self.charge_point_id = f"{self.config.id_prefix}{self.index:05d}"
        if self.config.id_tag_prefix is not None:
            self.id_tag = f"{self.config.id_tag_prefix}{self.index:05d}"
        else:
            self.id_tag = self.config.id_tags[(self.index - 1) % len(self.config.id_tags)]
        self.conn: Connection | None = None
        self.heartbeat: gevent.Greenlet | None = None
        self.heartbeat_interval = self.config.fallback_interval
        self.meter = 0
        self.stopping = False
        self.settings = {"HeartbeatInterval": None, "MeterValueSampleInterval": None}
        self.up = gevent.event.Event()
        """Cleared while a scenario holds the charge point offline (a restart, a blackout)."""
        self.up.set()
        self.ready = gevent.event.Event()
        """Set once the charge point is Accepted and has reported its connectors."""

    # --- lifecycle ----------------------------------------------------------------------------

    def on_start(self) -> None:
        self.swarm.users += 1
        self._come_online()
        self.ready.set()

    def on_stop(self) -> None:
        self.stopping = True
        if self.heartbeat is not None:
            self.heartbeat.kill(block=False)
        if self.conn is not None:
            self.conn.close()

    def _come_online(self) -> None:
        """Connect (retrying with a randomised back-off), boot, report every connector."""
        while True:
            self._connect()
            try:
                self._boot()
                for connector in range(self.config.connectors + 1):
                    self._status(connector, "Available")
                break
            except ConnectionLost:
                gevent.sleep(random.uniform(1, 5))
        if self.heartbeat is not None:
            self.heartbeat.kill(block=False)
        self.heartbeat = gevent.spawn(self._heartbeats, self.conn)

    def _dial(self) -> websocket.WebSocket:
        """One WebSocket handshake as this charge point, its time fired to Locust as
        ``WS connect``. Raises websocket.WebSocketException or OSError."""
        header = []
        if self.config.password is not None:
            token = base64.b64encode(
                f"{self.charge_point_id}:{self.config.password}".encode()).decode()
            header.append(f"Authorization: Basic {token}")
        url = f"{self.config.csms_url.rstrip('/')}/{self.charge_point_id}"
        fire = self.environment.events.request.fire
        started = time.perf_counter()
        try:
            sock = None
            parts = urlsplit(url)
            if self.config.source_addresses > 1 or parts.scheme == "wss":
                source = None
                if self.config.source_addresses > 1:
                    source = (f"127.0.0.{1 + self.index % self.config.source_addresses}", 0)
                sock = socket.create_connection(
                    (parts.hostname, parts.port or (443 if parts.scheme == "wss" else 80)),
                    self.config.response_timeout, source_address=source)
            if parts.scheme == "wss":
                sock = self._tls(sock, parts.hostname)
            ws = websocket.create_connection(
                url, subprotocols=["ocpp1.6"], header=header,
                timeout=self.config.response_timeout, enable_multithread=True,
                skip_utf8_validation=True, socket=sock)
        except (websocket.WebSocketException, OSError) as exc:
            fire(request_type="WS", name="connect",
                 response_time=(time.perf_counter() - started) * 1000, response_length=0,
                 exception=exc, context={})
            raise
        ws.settimeout(None)  # the reader waits as long as the connection lasts
        try:
            self.swarm.sources[ws.sock.getsockname()[0]] += 1
        except (OSError, AttributeError):
            pass
        fire(request_type="WS", name="connect",
             response_time=(time.perf_counter() - started) * 1000, response_length=0,
             exception=None, context={})
        return ws

    def _tls(self, sock: socket.socket, hostname: str | None) -> Any:
        """The TLS handshake on ``sock``, timed apart (``WS tls``); a failure closes the socket
        and raises (ssl.SSLError is an OSError)."""
        context = self.swarm.tls_context(self.config)
        fire = self.environment.events.request.fire
        started = time.perf_counter()
        try:
            tls = context.wrap_socket(sock, server_hostname=hostname)
        except OSError as exc:
            sock.close()
            fire(request_type="WS", name="tls",
                 response_time=(time.perf_counter() - started) * 1000, response_length=0,
                 exception=exc, context={})
            raise
        fire(request_type="WS", name="tls", response_time=(time.perf_counter() - started) * 1000,
             response_length=0, exception=None, context={})
        return tls

    def _connect(self) -> None:
        while True:
            try:
                ws = self._dial()
            except (websocket.WebSocketException, OSError) as exc:
                self.swarm.connect_failures += 1
                self.swarm.connect_errors[type(exc).__name__] += 1
                gevent.sleep(random.uniform(1, 5))
                continue
            if ws.subprotocol != "ocpp1.6":
                self.swarm.connect_failures += 1
                self.swarm.connect_errors["no ocpp1.6 subprotocol"] += 1
                ws.close()
                raise StopUser()
            self.conn = Connection(self, ws)
            return

    def _boot(self) -> None:
        payload = {"chargePointVendor": "OCPPHarness", "chargePointModel": "LoadCP",
                   "chargePointSerialNumber": self.charge_point_id[:25],
                   "firmwareVersion": "load-0.1"}
        started = time.monotonic()
        while True:
            try:
                answer = self.conn.call("BootNotification", payload)
            except (CallFailed, CallTimeout):
                gevent.sleep(random.uniform(1, 5))  # a randomised back-off, then again
                continue
            status, interval = answer.get("status"), answer.get("interval")
            self.swarm.boot_status[status] += 1
            wait = interval if isinstance(interval, int) and interval > 0 else \
                self.config.fallback_interval
            if status == "Accepted":
                self.heartbeat_interval = self.settings["HeartbeatInterval"] or wait
                now = time.monotonic()
                swarm = self.swarm
                swarm.boot_times.append(now - started)
                if self.index not in swarm.booted_ids:
                    swarm.booted_ids.add(self.index)
                    swarm.last_new_boot_at = now
                return
            # Pending / Rejected: nothing but answers until the interval has passed (4.2.1).
            gevent.sleep(wait)

    def _status(self, connector: int, status: str) -> None:
        self.conn.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                              "status": status, "timestamp": now_iso()})

    def _heartbeats(self, conn: Connection) -> None:
        """At the CSMS's interval, the first one at a random point of it (no synchronised
        swarm), then interval x U(0.9, 1.1). The lag (how late the greenlet woke from its sleep)
        is the generator's own health; a heartbeat already due when the previous answer came (a
        slow CSMS) goes at once and is not counted as the generator's lag."""
        due = time.monotonic() + random.uniform(0.05, 1.0) * self.heartbeat_interval
        while conn.open:
            delay = due - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
                self.swarm.heartbeat_lags.append(time.monotonic() - due)
            else:
                due = time.monotonic()
            if not conn.open:
                return
            try:
                conn.call("Heartbeat", {})
            except (CallFailed, CallTimeout):
                pass
            except ConnectionLost:
                return
            due += self.heartbeat_interval * random.uniform(0.9, 1.1)

    def _online(self) -> Connection:
        self.up.wait()
        if self.conn is None or not self.conn.open:
            if self.conn is not None:
                self.conn.close()
            self._come_online()
        return self.conn

    # --- tasks --------------------------------------------------------------------------------

    def charge(self) -> None:
        """Authorize, StartTransaction, MeterValues at the sample interval, StopTransaction,
        with the connector's StatusNotifications."""
        conn = self._online()
        connector = random.randint(1, self.config.connectors)
        try:
            info = conn.call("Authorize", {"idTag": self.id_tag})["idTagInfo"]
            if info.get("status") != "Accepted":
                self.swarm.sessions[f"authorize {info.get('status')}"] += 1
                return
            self._status(connector, "Preparing")
            started = conn.call("StartTransaction", {
                "connectorId": connector, "idTag": self.id_tag, "meterStart": self.meter,
                "timestamp": now_iso()})
            transaction_id = started["transactionId"]
            status = started["idTagInfo"].get("status")
            if status != "Accepted":  # e.g. ConcurrentTx: the charge point stops it at once
                conn.call("StopTransaction", {"transactionId": transaction_id,
                                              "meterStop": self.meter, "timestamp": now_iso(),
                                              "reason": "DeAuthorized"})
                self.swarm.sessions[f"start {status}"] += 1
                self._status(connector, "Available")
                return
            self._status(connector, "Charging")
            interval = self.settings["MeterValueSampleInterval"] or self.config.meter_interval
            for _ in range(self.config.meter_samples):
                gevent.sleep(interval)
                self.meter += random.randint(50, 500)
                conn.call("MeterValues", {"connectorId": connector,
                                          "transactionId": transaction_id, "meterValue": [{
                                              "timestamp": now_iso(), "sampledValue": [{
                                                  "value": str(self.meter),
                                                  "measurand": "Energy.Active.Import.Register",
                                                  "unit": "Wh"}]}]})
            conn.call("StopTransaction", {"transactionId": transaction_id, "idTag": self.id_tag,
                                          "meterStop": self.meter, "timestamp": now_iso(),
                                          "reason": "Local"})
            self._status(connector, "Finishing")
            self._status(connector, "Available")
            self.swarm.sessions["completed"] += 1
        except (CallFailed, CallTimeout, ConnectionLost, KeyError, TypeError):
            self.swarm.sessions["broken"] += 1

    def idle(self) -> None:
        self._online()

    # --- CSMS-initiated CALLs -----------------------------------------------------------------

    def configuration(self) -> dict[str, tuple[str, bool]]:
        return {
            "HeartbeatInterval": (str(int(self.heartbeat_interval)), False),
            "MeterValueSampleInterval": (
                str(int(self.settings["MeterValueSampleInterval"] or self.config.meter_interval)),
                False),
            "NumberOfConnectors": (str(self.config.connectors), True),
            "SupportedFeatureProfiles": ("Core,RemoteTrigger", True),
        }

    def answer(self, call: Call) -> rpc.Message:
        """The always-on answerer: Core and RemoteTrigger answered as a charge point without
        those features would (Rejected where OCPP lets it refuse), other profiles NotSupported."""
        action, p = call.action, call.payload
        ok = lambda payload: CallResult(call.unique_id, payload)  # noqa: E731
        if action == "GetConfiguration":
            known = self.configuration()
            wanted = p.get("key") or list(known)
            keys = [{"key": k, "readonly": known[k][1], "value": known[k][0]}
                    for k in wanted if k in known]
            unknown = [k for k in wanted if k not in known]
            return ok({"configurationKey": keys, **({"unknownKey": unknown} if unknown else {})})
        if action == "ChangeConfiguration":
            key, value = p.get("key"), p.get("value")
            known = self.configuration()
            if key not in known:
                return ok({"status": "NotSupported"})
            if known[key][1] or not str(value).isdigit():
                return ok({"status": "Rejected"})
            self.settings[key] = int(value)
            if key == "HeartbeatInterval" and int(value) > 0:
                self.heartbeat_interval = int(value)
            return ok({"status": "Accepted"})
        if action == "TriggerMessage":
            requested = p.get("requestedMessage")
            if requested == "Heartbeat":
                gevent.spawn_later(0.01, self._triggered, "Heartbeat", {})
            elif requested == "StatusNotification":
                connector = p.get("connectorId", 0)
                gevent.spawn_later(0.01, self._triggered, "StatusNotification", {
                    "connectorId": connector, "errorCode": "NoError", "status": "Available",
                    "timestamp": now_iso()})
            else:
                return ok({"status": "NotImplemented"})
            return ok({"status": "Accepted"})
        fixed = {"ChangeAvailability": {"status": "Accepted"}, "ClearCache": {"status": "Accepted"},
                 "RemoteStartTransaction": {"status": "Rejected"},
                 "RemoteStopTransaction": {"status": "Rejected"}, "Reset": {"status": "Rejected"},
                 "UnlockConnector": {"status": "NotSupported"},
                 "DataTransfer": {"status": "UnknownVendorId"}}
        if action in fixed:
            return ok(fixed[action])
        return CallError(call.unique_id, "NotSupported",
                         f"{action} is not supported by this load charge point")

    def _triggered(self, action: str, payload: dict) -> None:
        try:
            self.conn.call(action, payload)
        except (CallFailed, CallTimeout, ConnectionLost):
            pass


def user_class(config: Config, swarm: Swarm,
               base: type[ChargePointUser] = ChargePointUser) -> type[ChargePointUser]:
    """A concrete user class for one run: the config, the shared swarm, the task weights."""
    tasks = {ChargePointUser.charge: max(0, config.session_weight),
             ChargePointUser.idle: max(0, config.idle_weight)}
    tasks = {t: w for t, w in tasks.items() if w} or {ChargePointUser.idle: 1}
    return type("LoadChargePoint", (base,), {
        "abstract": False, "config": config, "swarm": swarm, "tasks": tasks,
        "wait_time": between(config.wait_min, config.wait_max)})

