"""The reference central system (CSMS): accepts charge points on ``ws://host:port/<any path>/<id>``
(subprotocol ocpp1.6), answers them by its boot policy and idTag table, stores what they report,
and sends any CSMS-initiated operation the control protocol asks for.

    csms = CsmsSim(pics, port=0)
    await csms.start()                                   # csms.port is the bound port
    await csms.wait_connected("CP001", timeout=10)
    answer = await csms.control("RemoteStartTransaction",
                                {"chargePointId": "CP001", "payload": {"idTag": "TAG"}})
    await csms.stop()
"""

from __future__ import annotations

import asyncio
import collections
import base64
import binascii
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve

from harness import rpc
from harness import clock
from harness.dialect import OCPP16
from harness.sim.common import EventLog, TaskSet
from harness.sim.control import REQUIRED, ControlError, Spec, check_params
from harness.sim.csms.handlers import CsmsHandlers, unsupported
from harness.sim.csms.records import ChargePointRecord, IdTagTable, TransactionRecord
from harness.sim.faults import FaultError, Faults
from harness.sim.link import CallFailed, Link, LinkDown

SUBPROTOCOL = OCPP16.subprotocol
"""The simulator speaks OCPP 1.6 (harness.dialect): the subprotocol it selects."""

REGISTRATION = ("Accepted", "Pending", "Rejected")

SPECS: dict[str, Spec] = {
    **{action: Spec({"chargePointId": (str, None), "payload": (dict, None),
                     "timeout": (float, None)}, f"send {action}.req; returns the answer")
       for action in sorted(rpc.CSMS_ACTIONS)},
    "set_boot_policy": Spec({"status": (str, REQUIRED), "interval": (int, None),
                             "chargePointId": (str, None)},
                            "how BootNotifications are answered (for one charge point, or all)"),
    "set_id_tag": Spec({"idTag": (str, REQUIRED), "status": (str, REQUIRED),
                        "parentIdTag": (str, None), "expiryDate": (str, None)},
                       "add or change an idTag in the authorization table"),
    "disconnect": Spec({"chargePointId": (str, None)}, "close a charge point's connection"),
    "inject_fault": Spec({"name": (str, REQUIRED)}, "activate a fault (see docs/faults.md)",
                         open=True),
    "clear_faults": Spec({"name": (str, None)}, "deactivate one fault, or all"),
    "status": Spec({}, "what GET /status returns"),
}
ID_TAG_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")


class CsmsSim(CsmsHandlers):
    def __init__(self, pics: Any, host: str = "127.0.0.1", port: int = 0, *,
                 faults: Iterable[Any] = (), on_frame: Callable[[str, str, str], None] | None = None,
                 response_timeout: float | None = None, heartbeat_interval: int | None = None,
                 ssl_context: Any = None):
        """``pics``: a :class:`harness.pics.Pics` (its [id_tags] fill the authorization table, its
        [configuration] HeartbeatInterval is the interval given at boot). ``on_frame(charge point
        id, sender, text)`` sees every frame. ``faults``: as for the charge point simulator."""
        self.pics = pics
        self.ssl_context = ssl_context
        self.passwords: dict[str, str] = {}
        """chargePointId -> its HTTP Basic password set by ChangeConfiguration AuthorizationKey
        (answered Accepted); the others use the PICS's."""
        """Its TLS (wss://) when given; else the PICS's cert_file on profile 2/3 (:meth:`_tls`)."""
        self.host, self.port = host, port
        self.faults = Faults("csms", faults)
        self.on_frame = on_frame
        self.response_timeout = response_timeout or pics.timing.response_timeout
        interval = heartbeat_interval
        if interval is None:
            try:
                interval = int(pics.configuration.get("HeartbeatInterval", 300))
            except ValueError:
                interval = 300
        self.boot_policy = {"status": "Accepted", "interval": interval}
        self.boot_policies: dict[str, dict] = {}
        self.id_tags = IdTagTable(pics.id_tags)
        self.charge_points: dict[str, ChargePointRecord] = {}
        self.transactions: dict[int, TransactionRecord] = {}
        self.next_transaction_id = 1
        self.recent_boots: collections.deque[float] = collections.deque()
        """BootNotification arrival times (monotonic) in the drop_boots_under_storm window."""
        self.events = EventLog("csms")
        self.tasks = TaskSet("csms")
        self._server = None
        self._change: asyncio.Event | None = None
        self.file_servers: Any = None
        """Its own firmware repository and diagnostics drop (harness.fileserver), started the
        first time an UpdateFirmware or GetDiagnostics is sent without a location."""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        self._change = asyncio.Event()
        self._server = await serve(self._connection, self.host, self.port,
                                   subprotocols=[SUBPROTOCOL],
                                   select_subprotocol=self._select_subprotocol,
                                   process_request=self._check_request, max_size=2 ** 22,
                                   ssl=self._tls())
        self.port = self._server.sockets[0].getsockname()[1]
        self.events.add("listening", url=self.url)

    def _tls(self) -> Any:
        """Security profiles 2 and 3 with the PICS's [security] cert_file (and key_file): wss://,
        with profile 3 a client certificate signed by ca_file required. Else None: ws://."""
        security = self.pics.security
        if self.ssl_context is not None:
            return self.ssl_context
        if security.profile not in (2, 3) or not security.cert_file:
            return None
        from harness.transport import tls_context
        return tls_context(server=True, ca_file=security.ca_file, cert_file=security.cert_file,
                           key_file=security.key_file, require_client_cert=security.profile == 3,
                           key_password=security.key_password)

    @property
    def scheme(self) -> str:
        security = self.pics.security
        return ("wss" if self.ssl_context is not None
                or security.profile in (2, 3) and security.cert_file else "ws")

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/ocpp"

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()  # closes every connection with 1001 going away
        try:
            await asyncio.wait_for(self._server.wait_closed(), 10)
        except TimeoutError:
            pass
        self._server = None
        await self.tasks.cancel_all()
        if self.file_servers is not None:
            await self.file_servers.stop()
            self.file_servers = None

    async def __aenter__(self) -> CsmsSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def wait_connected(self, charge_point_id: str, timeout: float) -> ChargePointRecord:
        rec = self.record(charge_point_id)
        await asyncio.wait_for(rec.connected.wait(), timeout)
        return rec

    async def wait_until(self, predicate: Callable[[], Any], timeout: float) -> Any:
        """Until ``predicate()`` is true; re-checked whenever a charge point's message arrives."""
        async with asyncio.timeout(timeout):
            while not (result := predicate()):
                await self._change.wait()
        return result

    def _changed(self) -> None:
        change, self._change = self._change, asyncio.Event()
        change.set()

    def record(self, charge_point_id: str) -> ChargePointRecord:
        rec = self.charge_points.get(charge_point_id)
        if rec is None:
            rec = self.charge_points[charge_point_id] = ChargePointRecord(charge_point_id)
        return rec

    # --- connections --------------------------------------------------------------------------

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> str | None:
        fault = self.faults.get("subprotocol_not_checked")
        if fault is not None and SUBPROTOCOL not in offered:
            return offered[0] if fault["mode"] == "echo" and offered else None
        return _select_subprotocol(connection, offered)

    def _check_request(self, connection: ServerConnection, request: Any) -> Any:
        charge_point_id = _identity(request.path)
        if not charge_point_id:
            self.events.add("rejected_connection", path=request.path, reason="no identity")
            return connection.respond(HTTPStatus.NOT_FOUND, "expected ws://host:port/<path>/"
                                                            "<chargePointId>\n")
        security = self.pics.security
        if security.profile in (1, 2) and security.basic_auth_password:
            sent = _basic_password(request.headers, charge_point_id)
            expected = self.passwords.get(charge_point_id, security.basic_auth_password)
            lax = self.faults.get("basic_auth_not_checked")
            if lax is not None and (lax["mode"] == "any" or sent is not None):
                sent = expected
            if sent != expected:
                self.events.add("rejected_connection", chargePointId=charge_point_id,
                                reason="basic authentication failed")
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication failed\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="ocpp"'
                return response
        return None

    async def _connection(self, ws: ServerConnection) -> None:
        charge_point_id = _identity(ws.request.path)
        rec = self.record(charge_point_id)
        if ws.subprotocol != SUBPROTOCOL and self.faults.get("subprotocol_not_checked") is None:
            # OCPP-J 3.1.2: no common protocol, complete the handshake and close at once.
            self.events.add("rejected_connection", chargePointId=charge_point_id,
                            reason=f"subprotocol {SUBPROTOCOL} not offered")
            await ws.close(1002, f"subprotocol {SUBPROTOCOL} required")
            return
        old = rec.link
        if old is not None and self.faults.get("accept_duplicate_identity") is not None:
            self.events.add("duplicate_connection_kept", chargePointId=charge_point_id)
        elif old is not None:
            # The same identity again: the newest connection wins (a rebooted charge point).
            self.events.add("replaced_connection", chargePointId=charge_point_id)
            await old.close(1000, "replaced by a new connection")
        link = Link(ws, me="csms", handler=lambda action, p: self._dispatch(rec, action, p),
                    faults=self.faults, events=self.events, spawn=self.tasks.spawn,
                    response_timeout=self.response_timeout,
                    on_frame=self._observer(charge_point_id), peer_id=charge_point_id)
        rec.link, rec.connections, rec.boots_on_link = link, rec.connections + 1, 0
        rec.remote = "%s:%s" % ws.remote_address[:2] if ws.remote_address else None
        rec.path, rec.subprotocol = ws.request.path, ws.subprotocol
        rec.connected.set()
        self.events.add("connected", chargePointId=charge_point_id, path=ws.request.path)
        self._changed()
        try:
            garbage = self.faults.get("garbage_frame")
            if garbage is not None:
                await link.send_text(garbage["text"])
            await link.run()
        except LinkDown:
            pass
        finally:
            if rec.link is link:
                rec.link = None
                rec.connected.clear()
            self.events.add("disconnected", chargePointId=charge_point_id, code=ws.close_code)
            self._changed()

    def _observer(self, charge_point_id: str) -> Callable[[str, str], None] | None:
        if self.on_frame is None:
            return None
        return lambda sender, text: self.on_frame(charge_point_id, sender, text)

    async def _dispatch(self, rec: ChargePointRecord, action: str, payload: dict) -> Any:
        handler = getattr(self, f"on_{action}", None)
        if handler is None:
            raise unsupported(action)
        try:
            return await handler(rec, payload)
        finally:
            self._changed()

    # --- sending ------------------------------------------------------------------------------

    async def call(self, charge_point_id: str, action: str, payload: dict,
                   timeout: float | None = None) -> dict:
        """Send a CALL to a connected charge point. Raises LinkDown when it is not connected,
        :class:`CallFailed` for a CALLERROR, TimeoutError."""
        rec = self.charge_points.get(charge_point_id)
        if rec is None or rec.link is None:
            raise LinkDown(f"charge point {charge_point_id} is not connected")
        return await rec.link.call(action, payload, timeout)

    # --- control ------------------------------------------------------------------------------

    def capabilities(self) -> list[str]:
        """The operations and rig actions this simulated central system can do (``GET /capabilities``)."""
        return sorted(SPECS)

    async def control(self, action: str, params: dict) -> dict:
        params = check_params(action, params, SPECS)
        if action in rpc.CSMS_ACTIONS:
            return await self._operate(action, params)
        return await getattr(self, f"_ctl_{action}")(params)

    def _connected_id(self, action: str, wanted: str | None) -> str:
        connected = sorted(k for k, r in self.charge_points.items() if r.link is not None)
        if wanted is None:
            if len(connected) == 1:
                return connected[0]
            raise ControlError(400, f"{action}: chargePointId is required "
                                    f"(connected: {', '.join(connected) or 'none'})")
        if wanted not in connected:
            raise ControlError(404, f"{action}: charge point {wanted!r} is not connected "
                                    f"(connected: {', '.join(connected) or 'none'})")
        return wanted

    async def _operate(self, action: str, params: dict) -> dict:
        charge_point_id = self._connected_id(action, params["chargePointId"])
        payload = params["payload"] or {}
        awaiting = self.charge_points[charge_point_id].awaiting_triggered
        if awaiting:
            raise ControlError(409, f"{action}: {charge_point_id} has not sent the "
                                    f"{' and '.join(sorted(awaiting))} it accepted to send "
                                    "(TriggerMessage after its boot)")
        if action == "RemoteStartTransaction" and \
                self.faults.get("remote_start_without_connector") is not None:
            payload = {k: v for k, v in payload.items() if k != "connectorId"}
        plain = self.faults.get("authorization_key_plain")
        if plain is not None and action == "ChangeConfiguration" \
                and payload.get("key") == "AuthorizationKey":
            payload = {**payload, "value": plain["value"]}
        if action in ("UpdateFirmware", "GetDiagnostics") and "location" not in payload:
            payload = await self._own_location(action, payload)
        try:
            response = await self.call(charge_point_id, action, payload, params["timeout"])
        except CallFailed as exc:
            return {"error": {"code": exc.code, "description": exc.description,
                              "details": exc.details}}
        except TimeoutError:
            raise ControlError(504, f"{action}: {charge_point_id} did not answer within "
                                    f"{params['timeout'] or self.response_timeout} s") from None
        except LinkDown as exc:
            raise ControlError(502, f"{action}: {exc}") from None
        if action == "ChangeConfiguration" and payload.get("key") == "AuthorizationKey" \
                and isinstance(response, dict) and response.get("status") == "Accepted" \
                and isinstance(payload.get("value"), str) \
                and self.faults.get("authorization_key_not_stored") is None:
            # the charge point's next password: the value as sent (the white paper's hex form)
            self.passwords[charge_point_id] = payload["value"]
            self.events.add("authorization_key_changed", chargePointId=charge_point_id)
        return {"response": response}

    async def _own_location(self, action: str, payload: dict) -> dict:
        """UpdateFirmware / GetDiagnostics without a location: the sim's own file server's, as a
        CSMS that hosts firmware and receives diagnostics does (first served protocol the PICS
        lists, else HTTP)."""
        from harness.fileserver import SERVED, FileServers, image
        protocols = [p for p in self.pics.features.file_transfer_protocols if p in SERVED]
        protocol = (protocols or ["HTTP"])[0]
        if self.file_servers is None:
            self.file_servers = await FileServers(self.host, protocols=protocols or ["HTTP"],
                                                  timeout=self.response_timeout * 12).start()
            self.file_servers.offer("firmware.bin", image("csms-sim"))
        if action == "GetDiagnostics":
            return {**payload, "location": self.file_servers.upload_location(protocol)}
        return {"retrieveDate": clock.now_iso(), **payload,
                "location": self.file_servers.url(protocol, "firmware.bin")}

    async def _ctl_set_boot_policy(self, p: dict) -> dict:
        if p["status"] not in REGISTRATION:
            raise ControlError(400, f"set_boot_policy: status must be one of "
                                    f"{', '.join(REGISTRATION)}, got {p['status']!r}")
        if p["interval"] is not None and p["interval"] < 0:
            raise ControlError(400, "set_boot_policy: interval must be >= 0")
        base = self.boot_policies.get(p["chargePointId"], self.boot_policy)
        policy = {"status": p["status"],
                  "interval": base["interval"] if p["interval"] is None else p["interval"]}
        if p["chargePointId"] is None:
            self.boot_policy = policy
        else:
            self.boot_policies[p["chargePointId"]] = policy
        return {"bootPolicy": policy}

    async def _ctl_set_id_tag(self, p: dict) -> dict:
        if p["status"] not in ID_TAG_STATUSES:
            raise ControlError(400, f"set_id_tag: status must be one of "
                                    f"{', '.join(ID_TAG_STATUSES)}, got {p['status']!r}")
        info = {"status": p["status"]}
        for key in ("parentIdTag", "expiryDate"):
            if p[key] is not None:
                info[key] = p[key]
        self.id_tags.set(p["idTag"], info)
        return {"idTag": p["idTag"], "idTagInfo": info}

    async def _ctl_disconnect(self, p: dict) -> dict:
        charge_point_id = self._connected_id("disconnect", p["chargePointId"])
        await self.charge_points[charge_point_id].link.close(1000, "closed by the operator")
        return {"chargePointId": charge_point_id}

    async def _ctl_inject_fault(self, p: dict) -> dict:
        name = p.pop("name")
        try:
            self.faults.inject(name, p)
        except FaultError as exc:
            raise ControlError(400, str(exc)) from exc
        if name == "garbage_frame":
            for rec in self.charge_points.values():
                if rec.link is not None:
                    self.tasks.spawn(self._send_quietly(rec.link, self.faults.get(name)["text"]),
                                     "garbage")
        return {"faults": self.faults.to_json()}

    @staticmethod
    async def _send_quietly(link: Link, text: str) -> None:
        try:
            await link.send_text(text)
        except LinkDown:
            pass

    async def _ctl_clear_faults(self, p: dict) -> dict:
        self.faults.clear(p["name"])
        return {"faults": self.faults.to_json()}

    async def _ctl_status(self, p: dict) -> dict:
        return self.status()

    def status(self) -> dict:
        by_cp: dict[str, list[dict]] = {}
        for tx in self.transactions.values():
            by_cp.setdefault(tx.charge_point_id, []).append(tx.to_json())
        return {
            "role": "csms", "url": self.url, "listening": self._server is not None,
            "bootPolicy": self.boot_policy, "bootPolicies": self.boot_policies,
            "idTags": self.id_tags.to_json(),
            "chargePoints": {k: r.to_json(by_cp.get(k, [])[-20:])
                             for k, r in self.charge_points.items()},
            "garbageReceived": self.events.counters.get("garbage_received", 0),
            "faults": self.faults.to_json(),
            "files": None if self.file_servers is None else {
                "served": sorted(self.file_servers.files),
                "transfers": [{"protocol": t.protocol, "direction": t.direction, "name": t.name,
                               "size": t.size, "sha256": t.sha256, "complete": t.complete}
                              for t in self.file_servers.transfers]},
            **self.events.snapshot(),
        }


def _select_subprotocol(connection: ServerConnection, offered: Any) -> str | None:
    # Without a common protocol the handshake completes and the connection is closed at once
    # (OCPP-J 3.1.2), instead of websockets' default HTTP 400.
    return SUBPROTOCOL if SUBPROTOCOL in offered else None


def _identity(path: str) -> str:
    return unquote(urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1])


def _basic_password(headers: Any, charge_point_id: str) -> str | None:
    value = headers.get("Authorization", "")
    if not value.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password if user == charge_point_id else None
