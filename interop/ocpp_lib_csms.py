"""A Core OCPP 1.6J central system written with the PyPI ``ocpp`` library.

    python -m interop.ocpp_lib_csms --listen 127.0.0.1:0 --control 127.0.0.1:0

Charge points connect to ``ws://HOST:PORT/<any path>/<chargePointId>``. The central system accepts
every BootNotification, knows a small list of idTags (its "database": Accepted, Expired, Blocked,
with a parent group; anything else is Invalid), numbers transactions itself and refuses a second
concurrent transaction for the same idTag (ConcurrentTx, OCPP 1.6 section 7.3 AuthorizationStatus).

Its operator interface is the DUT control protocol's CSMS side: ``POST /<OcppAction>`` with
``{"chargePointId": ..., "payload": {...}}`` sends that request to the connected charge point and
replies ``{"response": {...}}`` with what came back (or ``{"callError": {...}}``). Only Core
operations are offered: the others answer 501. When it is listening it prints one line on standard
output: ``READY ws://HOST:PORT control=http://HOST:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from interop.control import ControlServer, Refused, host_port

log = logging.getLogger("interop.csms")

VENDOR_ID = "org.interop.ocpplib"
"""The only vendorId this central system understands in DataTransfer."""

CORE_OPERATIONS = ("ChangeAvailability", "ChangeConfiguration", "ClearCache", "DataTransfer",
                   "GetConfiguration", "RemoteStartTransaction", "RemoteStopTransaction", "Reset",
                   "UnlockConnector")

# The authorization database: idTag -> (status, parentIdTag). Declared in ocpp_lib_csms.toml.
ID_TAGS: dict[str, tuple[str, str | None]] = {
    "LIBTAG-VALID-1": ("Accepted", "LIBGROUP-1"),
    "LIBTAG-VALID-2": ("Accepted", "LIBGROUP-1"),
    "LIBGROUP-1": ("Accepted", None),
    "LIBTAG-EXPIRED": ("Expired", None),
    "LIBTAG-BLOCKED": ("Blocked", None),
}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class OpenTransaction:
    transaction_id: int
    charge_point_id: str
    connector_id: int
    id_tag: str


@dataclass
class Backend:
    """What the central system knows across connections: idTags, transactions, connector states."""
    heartbeat_interval: int
    tags: dict[str, tuple[str, str | None]] = field(default_factory=lambda: dict(ID_TAGS))
    transactions: dict[int, OpenTransaction] = field(default_factory=dict)
    statuses: dict[tuple[str, int], str] = field(default_factory=dict)
    stations: dict[str, "Station"] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))

    def id_tag_info(self, id_tag: str) -> dict:
        """IdTagInfo for ``id_tag``; idTags compare case-insensitively (IdToken is CiString20)."""
        for known, (status, parent) in self.tags.items():
            if known.casefold() == id_tag.casefold():
                return {"status": status, **({"parent_id_tag": parent} if parent else {})}
        return {"status": "Invalid"}

    def start(self, charge_point_id: str, connector_id: int, id_tag: str) -> tuple[int, dict]:
        info = self.id_tag_info(id_tag)
        busy = [t for t in self.transactions.values() if t.id_tag.casefold() == id_tag.casefold()]
        if info["status"] == "Accepted" and busy:
            info = {**info, "status": "ConcurrentTx"}
        transaction_id = next(self._ids)
        # Every StartTransaction.req gets an id, whatever the idTag's status: the charge point
        # needs it to send the StopTransaction.req of a transaction it started offline.
        self.transactions[transaction_id] = OpenTransaction(transaction_id, charge_point_id,
                                                            connector_id, id_tag)
        return transaction_id, info


class Station(ChargePoint):
    """One connected charge point, as the central system sees it."""

    def __init__(self, charge_point_id: str, connection: Any, backend: Backend,
                 response_timeout: float):
        super().__init__(charge_point_id, connection, response_timeout=response_timeout)
        self.backend = backend

    @on(Action.boot_notification)
    async def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        log.info("%s boots: %s", self.id, payload)
        return call_result.BootNotification(current_time=now(),
                                            interval=self.backend.heartbeat_interval,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    async def on_heartbeat(self, **payload: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    async def on_status_notification(self, connector_id: int, status: str,
                                     **payload: Any) -> call_result.StatusNotification:
        self.backend.statuses[(self.id, connector_id)] = status
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self.backend.id_tag_info(id_tag))

    @on(Action.start_transaction)
    async def on_start_transaction(self, connector_id: int, id_tag: str,
                                   **payload: Any) -> call_result.StartTransaction:
        transaction_id, info = self.backend.start(self.id, connector_id, id_tag)
        log.info("%s starts transaction %s on connector %s for %s: %s", self.id, transaction_id,
                 connector_id, id_tag, info["status"])
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=info)

    @on(Action.stop_transaction)
    async def on_stop_transaction(self, transaction_id: int, id_tag: str | None = None,
                                  **payload: Any) -> call_result.StopTransaction:
        # A StopTransaction for an unknown transaction is still answered: the energy was delivered.
        self.backend.transactions.pop(transaction_id, None)
        info = self.backend.id_tag_info(id_tag) if id_tag is not None else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.meter_values)
    async def on_meter_values(self, **payload: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, **payload: Any) -> call_result.DataTransfer:
        if vendor_id != VENDOR_ID:
            return call_result.DataTransfer(status="UnknownVendorId")
        return call_result.DataTransfer(status="Accepted")

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status(self, **payload: Any):
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, **payload: Any):
        return call_result.FirmwareStatusNotification()


class CentralSystem:
    def __init__(self, backend: Backend, response_timeout: float):
        self.backend, self.response_timeout = backend, response_timeout

    async def serve_connection(self, websocket: Any) -> None:
        charge_point_id = websocket.request.path.rstrip("/").rsplit("/", 1)[-1]
        station = Station(charge_point_id, websocket, self.backend, self.response_timeout)
        # A new connection from the same charge point (a reboot, a reconnection) replaces the old.
        self.backend.stations[charge_point_id] = station
        log.info("%s connected", charge_point_id)
        try:
            await station.start()
        except ConnectionClosed:
            pass
        finally:
            if self.backend.stations.get(charge_point_id) is station:
                del self.backend.stations[charge_point_id]
            log.info("%s disconnected", charge_point_id)

    async def operate(self, action: str, params: dict) -> dict:
        """The operator's action: send the OCPP ``action`` to the charge point, return its answer."""
        if not action[:1].isupper() or not hasattr(call, action):
            raise Refused(404, f"unknown operation {action!r}; this central system offers "
                               f"{', '.join(CORE_OPERATIONS)}")
        if action not in CORE_OPERATIONS:
            raise Refused(501, f"{action} is not offered: this central system implements the Core "
                               "profile only")
        charge_point_id, payload = params.get("chargePointId"), params.get("payload", {})
        if not isinstance(charge_point_id, str) or not isinstance(payload, dict):
            raise Refused(400, 'expected {"chargePointId": "<id>", "payload": {...}}')
        station = self.backend.stations.get(charge_point_id)
        if station is None:
            raise Refused(404, f"charge point {charge_point_id!r} is not connected")
        try:
            request = getattr(call, action)(**camel_to_snake_case(payload))
        except TypeError as exc:
            raise Refused(400, f"{action}: the payload does not fit the request: {exc}") from None
        try:
            result = await station.call(request, suppress=False)
        except OCPPError as error:
            return {"callError": {"errorCode": error.code, "errorDescription": error.description}}
        except asyncio.TimeoutError:
            raise Refused(504, f"{charge_point_id} did not answer {action} in time") from None
        except ConnectionClosed:
            raise Refused(409, f"{charge_point_id} disconnected before answering {action}") from None
        return {"response": snake_to_camel_case(remove_nones(serialize_as_dict(result)))}


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interop.ocpp_lib_csms", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT for charge points")
    parser.add_argument("--control", default="127.0.0.1:0", help="HOST:PORT of the operator API")
    parser.add_argument("--heartbeat-interval", type=int, default=300)
    parser.add_argument("--response-timeout", type=float, default=8.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    system = CentralSystem(Backend(args.heartbeat_interval), args.response_timeout)
    host, port = host_port(args.listen)
    control = ControlServer(system.operate, lambda: list(CORE_OPERATIONS), *host_port(args.control))
    async with serve(system.serve_connection, host, port, subprotocols=["ocpp1.6"]) as server:
        await control.start()
        ws_port = server.sockets[0].getsockname()[1]
        print(f"READY ws://{host}:{ws_port} control=http://{control.host}:{control.port}",
              flush=True)
        try:
            await asyncio.Future()
        finally:
            await control.stop()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
