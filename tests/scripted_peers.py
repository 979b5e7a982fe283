"""Scripted peers for testing the simulators: a bare CSMS to put a charge point in front of, a bare
charge point to put a CSMS in front of. They record every frame, judge it with
:class:`harness.protocol.Checker`, answer with plain defaults (or what the test says), and let a
test wait, event-driven, for the next request it expects. They are test tools, not simulators:
no state machine, no opinions.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from harness import rpc
from harness.rpc import Call, CallError, CallResult
from harness import clock

Responder = Callable[[str, dict], "dict | CallError | None"]


@dataclass
class Received:
    call: Call
    at: float
    """Loop time when it arrived."""

    @property
    def action(self) -> str:
        return self.call.action

    @property
    def payload(self) -> dict:
        return self.call.payload


class _Peer:
    role = "csms"

    def __init__(self, responder: Responder | None = None, check: bool = True):
        self.responder = responder
        self.frames: list[tuple[str, str]] = []
        self.findings: list[tuple[str, str, Any]] = []
        self.calls: list[Received] = []
        self._consumed: set[int] = set()
        self._arrived = asyncio.Event()
        self._pending: dict[str, asyncio.Future] = {}
        self.ws = None
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self.garbage: list[str] = []
        self.checker = None
        if check:
            from harness.protocol import Checker
            self.checker = Checker()

    @property
    def other(self) -> str:
        return "cp" if self.role == "csms" else "csms"

    def _record(self, sender: str, text: str) -> None:
        self.frames.append((sender, text))
        if self.checker is not None:
            checked = self.checker.check(sender, text)
            for finding in checked.findings:
                self.findings.append((sender, text, finding))
        self._wake()

    async def until(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:
        """Until ``predicate()`` holds; re-checked on every frame in either direction."""
        async with asyncio.timeout(timeout):
            while not (result := predicate()):
                await self._arrived.wait()
        return result

    def has_finding(self, rule: str, sender: str | None = None) -> bool:
        return any(f.rule == rule and sender in (None, who) for who, _, f in self.findings)

    async def _serve(self, ws) -> None:
        self.ws = ws
        self.connected.set()
        self.closed.clear()
        try:
            async for text in ws:
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                self._record(self.other, text)
                try:
                    message = rpc.parse(text)
                except rpc.FramingError:
                    self.garbage.append(text)
                    self._wake()
                    continue
                if isinstance(message, Call):
                    self.calls.append(Received(message, asyncio.get_running_loop().time()))
                    self._wake()
                    await self._answer(message)
                else:
                    future = self._pending.pop(message.unique_id, None)
                    if future is not None and not future.done():
                        future.set_result(message)
        except ConnectionClosed:
            pass
        finally:
            self.connected.clear()
            self.closed.set()
            self._wake()

    def _wake(self) -> None:
        arrived, self._arrived = self._arrived, asyncio.Event()
        arrived.set()

    async def _answer(self, call: Call) -> None:
        answer = self.responder(call.action, call.payload) if self.responder else None
        if answer is None:
            answer = self.default_answer(call.action, call.payload)
        if answer is ...:
            return  # the test wants no answer
        if isinstance(answer, CallError):
            answer.unique_id = call.unique_id
            await self.send_text(rpc.dumps(answer))
        else:
            await self.send_text(rpc.dumps(CallResult(call.unique_id, answer)))

    def default_answer(self, action: str, payload: dict) -> Any:
        return {}

    async def send_text(self, text: str) -> None:
        self._record(self.role, text)
        await self.ws.send(text)

    async def call(self, action: str, payload: dict, timeout: float = 5) -> CallResult | CallError:
        unique_id = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self._pending[unique_id] = future
        await self.send_text(rpc.dumps(Call(unique_id, action, payload)))
        return await asyncio.wait_for(future, timeout)

    async def result(self, action: str, payload: dict, timeout: float = 5) -> dict:
        """The CALLRESULT payload; a CALLERROR fails the test."""
        answer = await self.call(action, payload, timeout)
        assert isinstance(answer, CallResult), f"{action}: expected a CALLRESULT, got {answer}"
        return answer.payload

    async def expect(self, action: str, where: Callable[[dict], bool] | None = None,
                     timeout: float = 5) -> Received:
        """The first request of ``action`` (matching ``where``) not returned before."""
        async with asyncio.timeout(timeout):
            while True:
                for i, received in enumerate(self.calls):
                    if i in self._consumed or received.action != action:
                        continue
                    if where is None or where(received.payload):
                        self._consumed.add(i)
                        return received
                await self._arrived.wait()

    async def expect_none(self, action: str, within: float,
                          where: Callable[[dict], bool] | None = None) -> None:
        """No such request for ``within`` seconds (the test's observation window)."""
        try:
            received = await self.expect(action, where, timeout=within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {action}: {received.payload}")

    def seen(self, action: str) -> list[Received]:
        return [r for r in self.calls if r.action == action]

    def assert_clean(self) -> None:
        assert not self.findings, "findings on the wire:\n" + "\n".join(
            f"  {sender}: {finding} in {text[:200]}" for sender, text, finding in self.findings)


class ScriptedCsms(_Peer):
    """A CSMS for a charge point under test. Default answers: BootNotification Accepted with
    ``interval``, transactions numbered from 1, everything else minimal and valid."""
    role = "csms"

    def __init__(self, responder: Responder | None = None, *, interval: int = 300,
                 check: bool = True):
        super().__init__(responder, check)
        self.interval = interval
        self._ids = itertools.count(1)
        self._server = None
        self.port = 0
        self.paths: list[str] = []
        self.authorizations: list[str | None] = []
        """The Authorization header of each connection (None: none sent)."""

    async def start(self) -> ScriptedCsms:
        async def handler(ws) -> None:
            self.paths.append(ws.request.path)
            self.authorizations.append(ws.request.headers.get("Authorization"))
            if self.checker is not None:
                from harness.protocol import Checker
                self.checker = Checker()  # a new connection starts a new uniqueId space
            await self._serve(ws)
        self._server = await serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"])
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop(self) -> None:
        """Close the current connection (the CSMS side going away)."""
        if self.ws is not None:
            await self.ws.close()
            await self.closed.wait()

    def default_answer(self, action: str, payload: dict) -> Any:
        now = clock.now_iso()
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": now, "interval": self.interval}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "StartTransaction":
            return {"idTagInfo": {"status": "Accepted"}, "transactionId": next(self._ids)}
        if action == "DataTransfer":
            return {"status": "UnknownVendorId"}
        return {}

    async def __aenter__(self) -> ScriptedCsms:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


class ScriptedCp(_Peer):
    """A charge point for a CSMS under test: connects, sends what the test says, answers the
    CSMS's CALLs with ``responder`` (default: a minimal valid answer for the common ones)."""
    role = "cp"

    def __init__(self, url: str, charge_point_id: str = "CP001",
                 responder: Responder | None = None, check: bool = True,
                 subprotocols: tuple[str, ...] = ("ocpp1.6",), headers: dict | None = None):
        super().__init__(responder, check)
        self.url = url.rstrip("/") + "/" + charge_point_id
        self.subprotocols = subprotocols
        self.headers = headers or {}
        self._task: asyncio.Task | None = None

    async def start(self) -> ScriptedCp:
        ws = await connect(self.url, subprotocols=list(self.subprotocols) or None,
                           additional_headers=self.headers, open_timeout=5)
        self._task = asyncio.get_running_loop().create_task(self._serve(ws))
        await self.connected.wait()
        return self

    async def stop(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await self._task

    def default_answer(self, action: str, payload: dict) -> Any:
        statuses = {"ChangeConfiguration": "Accepted", "ChangeAvailability": "Accepted",
                    "ClearCache": "Accepted", "RemoteStartTransaction": "Accepted",
                    "RemoteStopTransaction": "Accepted", "Reset": "Accepted",
                    "UnlockConnector": "Unlocked", "TriggerMessage": "Accepted",
                    "ReserveNow": "Accepted", "CancelReservation": "Accepted",
                    "SendLocalList": "Accepted", "SetChargingProfile": "Accepted",
                    "ClearChargingProfile": "Accepted", "DataTransfer": "Accepted"}
        if action in statuses:
            return {"status": statuses[action]}
        if action == "GetConfiguration":
            return {"configurationKey": []}
        if action == "GetLocalListVersion":
            return {"listVersion": 0}
        if action == "GetCompositeSchedule":
            return {"status": "Rejected"}
        return {}

    async def __aenter__(self) -> ScriptedCp:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


# What the simulator tests rely on, pinned so that a change to the shipped PICS does not change
# them: the identity, the idTags, the hardware and the configuration keys the tests exercise.
PINNED_DUT = {"vendor": "OCPPHarness", "model": "RefChargePoint", "charge_point_id": "SIMCP001",
              "firmware_version": "0.1.0"}
PINNED_FEATURES = {"profiles": ("Core", "FirmwareManagement", "LocalAuthListManagement",
                                "Reservation", "SmartCharging", "RemoteTrigger"),
                   "fixed_cable": False, "rfid_readers": 1, "authorization_cache": True,
                   "local_auth_list": True, "reserve_connector_zero": True,
                   "file_transfer_protocols": ("HTTP", "FTP")}
PINNED_ID_TAGS = {"valid": "VALID0001", "valid2": "VALID0002", "invalid": "INVALID0001",
                  "expired": "EXPIRED0001", "blocked": "BLOCKED0001", "parent": "PARENT0001"}
PINNED_CONFIGURATION = {
    "AllowOfflineTxForUnknownId": "false", "AuthorizationCacheEnabled": "true",
    "AuthorizeRemoteTxRequests": "false", "ClockAlignedDataInterval": "0",
    "ConnectionTimeOut": "60", "GetConfigurationMaxKeys": "50", "HeartbeatInterval": "300",
    "LocalAuthorizeOffline": "true", "LocalPreAuthorize": "false",
    "MeterValuesAlignedData": "Energy.Active.Import.Register",
    "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
    "MeterValueSampleInterval": "60", "MinimumStatusDuration": "0",
    "StopTransactionOnEVSideDisconnect": "true", "StopTransactionOnInvalidId": "true",
    "StopTxnAlignedData": "Energy.Active.Import.Register",
    "StopTxnSampledData": "Energy.Active.Import.Register", "TransactionMessageAttempts": "3",
    "TransactionMessageRetryInterval": "5", "UnlockConnectorOnEVSideDisconnect": "true",
    "LocalAuthListEnabled": "true", "LocalAuthListMaxLength": "100",
    "SendLocalListMaxLength": "20", "ReserveConnectorZeroSupported": "true",
    "ChargeProfileMaxStackLevel": "10", "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "ChargingScheduleMaxPeriods": "24", "MaxChargingProfilesInstalled": "10",
}


def stand_in_pics(sut: str = "cs", *, configuration: dict | None = None, **features: Any) -> Any:
    """The simulator's default PICS with the pinned values above, then ``[features]`` and
    ``[configuration]`` overridden as given."""
    import dataclasses

    from harness import pics as pics_module
    base = pics_module.load(pics_module.default_path(sut))
    given = dict(features)
    features = {**PINNED_FEATURES, **features}
    # fixed_cable is the shorthand of cable = "fixed" (harness/pics.py): keep the two agreeing.
    if "cable" in given:
        features["fixed_cable"] = given["cable"] == "fixed"
    elif "fixed_cable" in given:
        features["cable"] = "fixed" if given["fixed_cable"] else "socket_with_lock"
    config = {**base.configuration, **PINNED_CONFIGURATION}
    config["NumberOfConnectors"] = str(features.get("connectors", base.features.connectors))
    config["SupportedFeatureProfiles"] = ",".join(features["profiles"])
    config.update(configuration or {})
    return dataclasses.replace(
        base, dut=dataclasses.replace(base.dut, **PINNED_DUT),
        features=dataclasses.replace(base.features, **features),
        id_tags=dataclasses.replace(base.id_tags, **PINNED_ID_TAGS),
        timing=dataclasses.replace(base.timing, response_timeout=5),
        configuration=config)


class FileServer:
    """An HTTP server for firmware downloads and diagnostics uploads in tests: GET serves
    ``files[name]``, PUT ``/<name>`` and multipart POST store into ``uploads``."""

    def __init__(self, files: dict[str, bytes] | None = None):
        self.files = dict(files or {})
        self.uploads: dict[str, bytes] = {}
        self.uploaded = asyncio.Event()
        self._runner = None
        self.port = 0

    async def start(self) -> FileServer:
        from aiohttp import web

        async def get(request: web.Request) -> web.Response:
            name = request.match_info["name"]
            if name not in self.files:
                return web.Response(status=404)
            return web.Response(body=self.files[name])

        async def put(request: web.Request) -> web.Response:
            self.uploads[request.match_info["name"]] = await request.read()
            self.uploaded.set()
            return web.Response(status=201)

        app = web.Application()
        app.router.add_get("/{name:.*}", get)
        app.router.add_put("/{name:.*}", put)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FileServer:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


class FtpServer:
    """A minimal passive-mode FTP server for tests (USER, PASS, TYPE, PASV, CWD, RETR, STOR,
    QUIT): enough for a charge point's firmware download and diagnostics upload. ``files`` and
    ``uploads`` map absolute paths ("/fw/image.bin") to bytes."""

    def __init__(self, files: dict[str, bytes] | None = None, user: str = "ocpp",
                 password: str = "secret"):
        self.files = dict(files or {})
        self.uploads: dict[str, bytes] = {}
        self.user, self.password = user, password
        self._server = None
        self.port = 0

    async def start(self) -> FtpServer:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str) -> str:
        return f"ftp://{self.user}:{self.password}@127.0.0.1:{self.port}{path}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> FtpServer:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(text: str) -> None:
            writer.write(f"{text}\r\n".encode())

        cwd, user, authenticated = "/", None, False
        passive: asyncio.Queue | None = None
        data_server = None
        reply("220 test FTP server")
        try:
            while line := (await reader.readline()).decode().strip():
                command, _, argument = line.partition(" ")
                command = command.upper()
                if command == "USER":
                    user = argument
                    reply("331 password please")
                elif command == "PASS":
                    authenticated = user == self.user and argument == self.password
                    reply("230 logged in" if authenticated else "530 login incorrect")
                elif not authenticated:
                    reply("530 not logged in")
                elif command == "TYPE":
                    reply("200 type set")
                elif command == "CWD":
                    cwd = argument if argument.startswith("/") else cwd.rstrip("/") + "/" + argument
                    reply("250 ok")
                elif command == "PASV":
                    passive = asyncio.Queue()
                    data_server = await asyncio.start_server(
                        lambda r, w, q=passive: q.put_nowait((r, w)), "127.0.0.1", 0)
                    port = data_server.sockets[0].getsockname()[1]
                    reply(f"227 Entering Passive Mode (127,0,0,1,{port >> 8},{port & 255})")
                elif command in ("RETR", "STOR") and passive is not None:
                    path = argument if argument.startswith("/") else \
                        cwd.rstrip("/") + "/" + argument
                    if command == "RETR" and path not in self.files:
                        reply("550 no such file")
                        continue
                    reply("150 opening data connection")
                    data_reader, data_writer = await asyncio.wait_for(passive.get(), 5)
                    if command == "RETR":
                        data_writer.write(self.files[path])
                        await data_writer.drain()
                    else:
                        self.uploads[path] = await data_reader.read()
                    data_writer.close()
                    data_server.close()
                    reply("226 transfer complete")
                elif command == "QUIT":
                    reply("221 bye")
                    break
                else:
                    reply("502 not implemented")
                await writer.drain()
        finally:
            if data_server is not None:
                data_server.close()
            writer.close()
