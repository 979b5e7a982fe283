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
import random
import socket
import time
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
from harness.rpc import Call, CallError, CallResult
from harness.load.connection import (  # noqa: F401 (also imported from here)
    SAMPLE_LIMIT, CallFailed, CallTimeout, Config, Connection, ConnectionLost, Swarm)


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

