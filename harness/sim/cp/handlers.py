"""Core profile: how the charge point answers the CSMS (OCPP 1.6 chapter 5, Core messages).

A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`. A handler returns the
CALLRESULT payload, or an :class:`Answer` when something must happen after the answer is on the
wire (a remote start, a reset, an unlock that stops a transaction).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from harness.sim.cp.model import PendingStart, is_free
from harness.sim.link import Answer, Reply

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim

ACCEPTED, REJECTED = {"status": "Accepted"}, {"status": "Rejected"}


class CoreHandlers:
    async def on_ChangeAvailability(self: ChargePointSim, p: dict) -> dict:
        connector_id, operative = p["connectorId"], p["type"] == "Operative"
        target = self.connector(connector_id)
        if target is None:
            return REJECTED
        scheduled = False
        if connector_id == 0:
            # Connector 0 is the whole charge point: every connector follows it.
            self.zero.operative = operative
            for c in self.connectors:
                scheduled |= self._set_operative(c, operative)
        else:
            scheduled = self._set_operative(target, operative)
        self.refresh()
        return {"status": "Scheduled" if scheduled else "Accepted"}

    def _set_operative(self: ChargePointSim, c, operative: bool) -> bool:
        """Change now, or after the running transaction (section 5.2): True when scheduled."""
        if c.transaction is not None and c.operative != operative:
            c.scheduled_operative = operative
            return True
        c.operative, c.scheduled_operative = operative, None
        return False

    async def on_ChangeConfiguration(self: ChargePointSim, p: dict) -> dict:
        key, value = p["key"], p["value"]
        ignore = self.faults.get("ignore_config_change")
        if ignore is not None and ignore["key"] in ("*", key) and self.config.has(key):
            self.events.add("fault_ignored_config", key=key,
                            value="<hidden>" if key == "AuthorizationKey" else value)
            return {"status": "Accepted"}
        if key == "SecurityProfile" and self.config.has(key):
            status = self.security_profile_change(value)
            if status == "Accepted":
                status = self.config.change(key, value)
        else:
            status = self.config.change(key, value)
        # A write-only key's value (AuthorizationKey, a password) stays out of the event log.
        shown = "<hidden>" if key == "AuthorizationKey" else value
        self.events.add("configuration_changed", key=key, value=shown, status=status)
        if status == "Accepted":
            self.config_changed(key)
            self.security_key_changed(key)
        return {"status": status}

    def config_changed(self: ChargePointSim, key: str) -> None:
        """Apply a new value at once: timers restart with the new interval."""
        if key == "HeartbeatInterval":
            self.heartbeat_changed.set()
        elif key == "ClockAlignedDataInterval":
            self.aligned_changed.set()
        elif key == "MeterValueSampleInterval":
            for c in self.connectors:
                self.restart_sampler(c)

    async def on_GetConfiguration(self: ChargePointSim, p: dict) -> dict:
        keys = p.get("key")
        if keys:
            limit = self.config.int("GetConfigurationMaxKeys", 0)
            if limit and len(keys) > limit:
                raise Reply("OccurenceConstraintViolation",
                            f"{len(keys)} keys requested, GetConfigurationMaxKeys is {limit}")
            known = [kv for k in keys if (kv := self.config.describe(k)) is not None]
            unknown = [k for k in keys if not self.config.has(k)]
        else:
            known = [self.config.describe(k) for k in self.config.keys()]
            unknown = []
        answer: dict = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    async def on_ClearCache(self: ChargePointSim, p: dict) -> dict:
        if not self.pics.features.authorization_cache:
            return REJECTED
        self.auth.clear_cache()
        self.events.add("cache_cleared")
        return ACCEPTED

    async def on_DataTransfer(self: ChargePointSim, p: dict) -> dict:
        if p["vendorId"] != self.pics.dut.vendor:
            return {"status": "UnknownVendorId"}
        if p.get("messageId") not in (None, "Echo"):
            return {"status": "UnknownMessageId"}
        answer = {"status": "Accepted"}
        if "data" in p:
            answer["data"] = p["data"]
        return answer

    async def on_RemoteStartTransaction(self: ChargePointSim, p: dict) -> dict | Answer:
        id_tag, connector_id = p["idTag"], p.get("connectorId")
        profile = p.get("chargingProfile")
        if connector_id == 0:
            if self.faults.get("accept_remote_start_connector_zero") is None:
                return REJECTED
            connector_id = 1
        if profile is not None and profile.get("chargingProfilePurpose") != "TxProfile":
            return REJECTED  # section 5.11: only a TxProfile may come with a remote start
        if connector_id is not None:
            c = self.connector(connector_id)
            if c is None or c.id == 0:
                return REJECTED
        else:
            c = self.pick_connector(id_tag)
            if c is None:
                return REJECTED
        if (c.transaction is not None or c.fault or not c.operative or not self.zero.operative
                or c.pending is not None or not self.reservation_allows(c, id_tag, None, True)):
            return REJECTED
        return Answer(ACCEPTED, lambda: self._remote_start(c, id_tag, profile))

    async def _remote_start(self: ChargePointSim, c, id_tag: str, profile: dict | None) -> None:
        if self.config.bool("AuthorizeRemoteTxRequests"):
            info = await self.authorize(id_tag)
            if info.get("status") != "Accepted":
                self.events.add("remote_start_refused", idTag=id_tag, status=info.get("status"))
                return
        else:
            info = {"status": "Accepted"}
            if not self.reservation_allows(c, id_tag, None, False):
                # A reservation for a parentIdTag: the idTag's parent decides, looked up locally
                # or else asked for with an Authorize.req (section 5.13).
                info = self.local_info(id_tag) or await self.authorize(id_tag)
                if info.get("status") != "Accepted":
                    self.events.add("remote_start_refused", idTag=id_tag,
                                    status=info.get("status"))
                    return
        if not self.reservation_allows(c, id_tag, info.get("parentIdTag"), False):
            self.events.add("remote_start_refused", idTag=id_tag, status="Reserved")
            return
        reservation = self.reservation_for(c, id_tag, info.get("parentIdTag"))
        if c.transaction is not None:
            return
        if c.ev_connected and not c.cable_held:
            self.start_transaction(c, id_tag, info.get("parentIdTag"), reservation, profile)
        else:
            self.set_pending(c, PendingStart(id_tag, info.get("parentIdTag"), reservation,
                                             charging_profile=profile))

    async def on_RemoteStopTransaction(self: ChargePointSim, p: dict) -> dict | Answer:
        for c in self.connectors:
            tx = c.transaction
            if tx is not None and tx.transaction_id == p["transactionId"]:
                return Answer(ACCEPTED, lambda: self.stop_transaction(c, "Remote"))
        return REJECTED

    async def on_Reset(self: ChargePointSim, p: dict) -> Answer:
        kind = p["type"]

        async def reset() -> None:
            for c in self.connectors:
                if c.transaction is not None:
                    self.stop_transaction(c, f"{kind}Reset")
            # Let the StopTransactions reach the CSMS before going down (bounded: if they do
            # not, they stay queued and go out after the boot).
            from harness.sim.common import wait_event
            await wait_event(self.outbox.empty, self.response_timeout)
            exits = self.faults.get("exit_on_reset")
            if exits is None:
                await self.reboot(f"{kind}Reset", graceful=True)
                return
            # The firmware process ends (no WebSocket close); its supervisor starts it again.
            self.events.add("firmware_exit", reason=f"{kind}Reset")
            await self.shut_down(f"{kind}Reset", graceful=False)
            await asyncio.sleep(exits["restart_ms"] / 1000)
            if not self.powered:
                self.power_on()

        return Answer(ACCEPTED, reset)

    async def on_UnlockConnector(self: ChargePointSim, p: dict) -> dict | Answer:
        c = self.connector(p["connectorId"])
        if c is None or c.id == 0:
            if self.faults.get("unlock_unknown_connector") is not None:
                return {"status": "Unlocked"}
            return {"status": "NotSupported"}
        if not self.pics.features.has_lock:
            return {"status": "NotSupported"}  # section 7.44: no connector lock to open

        def unlock() -> None:
            if c.transaction is not None:
                self.stop_transaction(c, "UnlockCommand")  # section 5.18: stop first
            if c.unlock_failure:
                return
            c.locked = False
            if c.cable_held and not self.cable_stays():
                c.cable_held = c.finishing = False  # the driver takes the released cable
            self.refresh()

        if c.unlock_failure:
            return Answer({"status": "UnlockFailed"}, unlock)
        return Answer({"status": "Unlocked"}, unlock)

    def pick_connector(self: ChargePointSim, id_tag: str):
        """The connector a session without a connectorId goes to: one with a cable plugged in and
        nothing going on, else the first free one this idTag may use."""
        for c in self.connectors:
            if (c.ev_connected and c.transaction is None and c.pending is None and c.fault is None
                    and c.operative and self.zero.operative):
                return c
        for c in self.connectors:
            if is_free(c, self.zero.operative) and self.reservation_allows(c, id_tag, None, True):
                return c
        return None
