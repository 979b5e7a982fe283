"""One WebSocket connection of the charge point to its central system: the ``ocpp`` library's
ChargePoint with a handler for every Core request the central system may send.

The handlers decide the answer from the station's state; what the request sets off (stopping a
transaction, a reboot) runs in an ``@after`` handler, once the answer has gone out, so that the
central system sees the .conf before the messages it causes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

if TYPE_CHECKING:
    from interop.cp_station import Station

VENDOR_ID = "org.interop.ocpplib"


class Link(ChargePoint):
    def __init__(self, charge_point_id: str, connection: Any, station: "Station",
                 response_timeout: float):
        super().__init__(charge_point_id, connection, response_timeout=response_timeout)
        self.station = station

    # --- configuration ---------------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        known, unknown = self.station.config.report(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self.station.config.change(key, value))

    @on(Action.clear_cache)
    def on_clear_cache(self) -> call_result.ClearCache:
        if not self.station.has_cache:
            return call_result.ClearCache(status="Rejected")  # section 5.4: no cache to clear
        self.station.cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **payload: Any) -> call_result.DataTransfer:
        status = "UnknownMessageId" if vendor_id == VENDOR_ID else "UnknownVendorId"
        return call_result.DataTransfer(status=status)

    # --- availability and reset ------------------------------------------------------------

    # The library passes the payload as keyword arguments, so the parameter is named after the
    # field "type" (shadowing the builtin inside these two handlers only).
    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(
            status=self.station.change_availability(connector_id, type == "Operative"))

    @after(Action.change_availability)
    def after_change_availability(self, connector_id: int, type: str) -> None:
        self.station.report_all()

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    async def after_reset(self, type: str) -> None:
        await self.station.reset(type)

    # --- transactions ----------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        **payload: Any) -> call_result.RemoteStartTransaction:
        accepted = self.station.remote_start_target(connector_id) is not None
        return call_result.RemoteStartTransaction(status="Accepted" if accepted else "Rejected")

    @after(Action.remote_start_transaction)
    async def after_remote_start(self, id_tag: str, connector_id: int | None = None,
                                 **payload: Any) -> None:
        target = self.station.remote_start_target(connector_id)
        if target is not None:
            await self.station.remote_start(target, id_tag)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        found = self.station.connector_of_transaction(transaction_id) is not None
        return call_result.RemoteStopTransaction(status="Accepted" if found else "Rejected")

    @after(Action.remote_stop_transaction)
    def after_remote_stop(self, transaction_id: int) -> None:
        connector = self.station.connector_of_transaction(transaction_id)
        if connector is not None:
            self.station.stop_transaction(connector, "Remote")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=self.station.unlock_status(connector_id))

    @after(Action.unlock_connector)
    def after_unlock_connector(self, connector_id: int) -> None:
        if self.station.unlock_status(connector_id) == "Unlocked":
            self.station.unlock(connector_id)
