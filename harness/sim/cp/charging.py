"""The charge point's sessions: status reporting, authorization, transactions and meter values.

A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`; it reads the attributes that class
sets up (config, outbox, connectors, auth, profiles, faults, events, tasks).
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from harness import clock
from harness.sim.cp.metering import power_for, sampled_values
from harness.sim.cp.model import Connector, PendingStart, Transaction, connector_status, is_free
from harness.sim.cp.outbox import Offline
from harness.sim.link import CallFailed

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim

ACCEPTED = "Accepted"


class ChargingMixin:
    # --- time ---------------------------------------------------------------------------------

    def now(self: ChargePointSim) -> datetime:
        """The charge point's clock: UTC, set from the CSMS's currentTime."""
        return clock.now() + self.clock_offset

    def sync_clock(self: ChargePointSim, current_time: str | None) -> None:
        moment = clock.parse_time(current_time, default_zone=clock.UTC) if current_time else None
        if moment is not None:
            offset = moment - clock.now()
            # Sub-second differences are transmission delay, not a wrong clock.
            self.clock_offset = offset if abs(offset) > timedelta(seconds=1) else timedelta(0)

    # --- status -------------------------------------------------------------------------------

    def all_connectors(self: ChargePointSim) -> list[Connector]:
        return [self.zero, *self.connectors]

    def connector(self: ChargePointSim, connector_id: int) -> Connector | None:
        if 1 <= connector_id <= len(self.connectors):
            return self.connectors[connector_id - 1]
        return self.zero if connector_id == 0 else None

    def cp_reserved(self: ChargePointSim, c: Connector) -> bool:
        """A connector-0 reservation blocks the free connectors when they are all it has left."""
        held = sum(1 for r in self.reservations.values() if r.connector_id == 0)
        if not held or not is_free(c, self.zero.operative) or c.reservation is not None:
            return False
        free = sum(1 for x in self.connectors
                   if is_free(x, self.zero.operative) and x.reservation is None)
        return free <= held

    def status_of(self: ChargePointSim, c: Connector) -> str:
        if c.id == 0:
            return "Faulted" if c.fault else "Available" if c.operative else "Unavailable"
        # A connector-0 reservation is enforced (reservation_allows) whether or not it is shown.
        shown = self.faults.get("reserve_zero_unreported") is None and self.cp_reserved(c)
        return connector_status(c, self.zero.operative, shown)

    def refresh(self: ChargePointSim, force: bool = False) -> None:
        """Report every connector whose status changed (or all of them, ``force``)."""
        for c in self.all_connectors():
            self._consider(c, force)

    def _consider(self: ChargePointSim, c: Connector, force: bool) -> None:
        status = self.status_of(c)
        if not force and status == c.queued:
            if c.status_timer is not None:
                c.status_timer.cancel()
                c.status_timer = None
            return
        delay = self.config.int("MinimumStatusDuration", 0)
        if delay > 0 and not force:
            # MinimumStatusDuration: report only a status that held this long (section 9.1.21).
            if c.status_timer is not None:
                c.status_timer.cancel()
            c.status_timer = asyncio.get_running_loop().call_later(delay, self.report_status, c)
            return
        self.report_status(c, force)

    def report_status(self: ChargePointSim, c: Connector, force: bool = False) -> None:
        c.status_timer = None
        status = self.status_of(c)
        if status == c.queued and not force:
            return
        if self.outbox.link is None:
            return  # offline: reported on reconnection
        skip = self.faults.get("skip_status_notification")
        c.queued = status
        if skip is not None and skip["connectorId"] == c.id:
            self.events.add("fault_skipped_status", connectorId=c.id, status=status)
            return
        wrong = self.faults.get("wrong_status")
        sent = wrong["sent"] if wrong is not None and wrong["real"] == status else status
        payload = {"connectorId": c.id, "errorCode": c.fault or "NoError", "status": sent,
                   "timestamp": clock.iso(self.now())}

        def acknowledged(_: dict) -> None:
            c.reported = status

        def lost(_: Exception) -> None:
            if c.queued == status:
                c.queued = c.reported

        self.outbox.post("StatusNotification", lambda: payload, on_result=acknowledged,
                         on_error=lost)

    # --- authorization ------------------------------------------------------------------------

    def list_enabled(self: ChargePointSim) -> bool:
        return (self.pics.supports("LocalAuthListManagement")
                and self.config.bool("LocalAuthListEnabled", True))

    def cache_enabled(self: ChargePointSim) -> bool:
        return (self.pics.features.authorization_cache
                and self.config.bool("AuthorizationCacheEnabled", True))

    def local_info(self: ChargePointSim, id_tag: str) -> dict | None:
        return self.auth.lookup(id_tag, list_enabled=self.list_enabled(),
                                cache_enabled=self.cache_enabled())

    def authorize_locally(self: ChargePointSim, id_tag: str,
                          need_parent: bool = False) -> dict | None:
        """IdTagInfo for ``id_tag`` when the charge point decides without the CSMS (online with
        LocalPreAuthorize and an Accepted local entry, or offline), None when it must send an
        Authorize.req. Synchronous, so that a card decided locally takes effect before the next
        physical action (a plug-in that follows must find the connector authorized)."""
        local = self.local_info(id_tag)
        if self.outbox.ready.is_set():
            pre = self.config.bool("LocalPreAuthorize") and \
                self.faults.get("ignore_local_pre_authorize") is None
            # need_parent: a card of the same group may stop a transaction; an entry without
            # its parentIdTag cannot tell, so the CSMS is asked.
            if pre and local is not None and local.get("status") == ACCEPTED \
                    and (local.get("parentIdTag") or not need_parent):
                self.events.add("authorized_locally", idTag=id_tag)
                return local
            return None
        return self._offline_decision(local)

    def _offline_decision(self: ChargePointSim, local: dict | None) -> dict:
        """Offline rules: LocalAuthorizeOffline, AllowOfflineTxForUnknownId (section 3.5)."""
        if local is not None and self.config.bool("LocalAuthorizeOffline"):
            return local
        if local is None and self.config.bool("AllowOfflineTxForUnknownId"):
            return {"status": ACCEPTED}
        return {"status": "Invalid"}

    async def authorize(self: ChargePointSim, id_tag: str, need_parent: bool = False) -> dict:
        """IdTagInfo for ``id_tag``: locally when allowed, else by Authorize.req, else offline rules
        (LocalAuthorizeOffline, AllowOfflineTxForUnknownId; section 3.5)."""
        decided = self.authorize_locally(id_tag, need_parent)
        if decided is not None:
            return decided
        try:
            conf = await self.outbox.call("Authorize", {"idTag": id_tag})
            info = conf.get("idTagInfo") or {"status": "Invalid"}
            self.auth.remember(id_tag, info, cache_enabled=self.cache_enabled())
            return info
        except (Offline, CallFailed, TimeoutError) as exc:
            self.events.add("authorize_failed", idTag=id_tag, error=repr(exc))
        return self._offline_decision(self.local_info(id_tag))

    # --- starting -----------------------------------------------------------------------------

    def set_pending(self: ChargePointSim, c: Connector, pending: PendingStart) -> None:
        """Authorized, waiting for the cable for ConnectionTimeOut seconds (section 9.1.9)."""
        self.cancel_pending(c)
        c.pending = pending
        timeout = max(1, self.config.int("ConnectionTimeOut", 60))
        if (late := self.faults.get("connection_timeout_late")) is not None:
            timeout += late["delay_ms"] / 1000
        if self.faults.get("ignore_connection_timeout") is None:
            pending.timer = asyncio.get_running_loop().call_later(timeout, self._pending_expired,
                                                                  c, pending)
        self.refresh()

    def cancel_pending(self: ChargePointSim, c: Connector) -> None:
        if c.pending is not None and c.pending.timer is not None:
            c.pending.timer.cancel()
        c.pending = None

    def _pending_expired(self: ChargePointSim, c: Connector, pending: PendingStart) -> None:
        if c.pending is pending:
            self.events.add("connection_timeout", connectorId=c.id, idTag=pending.id_tag)
            c.pending = None
            self.refresh()

    def start_transaction(self: ChargePointSim, c: Connector, id_tag: str,
                          parent_id_tag: str | None, reservation_id: int | None = None,
                          profile: dict | None = None) -> None:
        self.cancel_pending(c)
        if self.pics.features.has_lock:
            if c.lock_failure:
                # The plug cannot be locked: no energy, no transaction (TC_024).
                c.fault = "ConnectorLockFailure"
                self.events.add("lock_failed", connectorId=c.id)
                self.refresh()
                return
            c.locked = True
        c.finishing = False
        if reservation_id is not None:
            self.drop_reservation(reservation_id, report=False)
        c.meter.advance(0)
        tx = Transaction(c.id, id_tag, parent_id_tag, c.meter.register, self.now(),
                         time.monotonic(), reservation_id)
        c.transaction = tx
        self.idle.clear()
        if profile is not None and self.pics.supports("SmartCharging"):
            self.install_profile(c.id, profile, tx)
        self.events.add("transaction_started", connectorId=c.id, idTag=id_tag)
        self.history_update(tx)
        payload = {"connectorId": c.id, "idTag": id_tag, "meterStart": tx.meter_start,
                   "timestamp": clock.iso(tx.started)}
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        self.outbox.post("StartTransaction", lambda: payload, tx=True,
                         on_result=lambda conf: self._start_confirmed(c, tx, conf),
                         on_error=lambda exc: self._start_lost(tx, exc))
        self.stop_values(c, tx, "Transaction.Begin", "StopTxnSampledData")
        self.update_power(c)
        self.restart_sampler(c)
        self.refresh()

    def _start_confirmed(self: ChargePointSim, c: Connector, tx: Transaction, conf: dict) -> None:
        tx.transaction_id = conf.get("transactionId")
        tx.id_known.set()
        info = conf.get("idTagInfo") or {}
        self.auth.remember(tx.id_tag, info, cache_enabled=self.cache_enabled())
        if tx.parent_id_tag is None and info.get("parentIdTag"):
            tx.parent_id_tag = info["parentIdTag"]
        self.history_update(tx)
        if info.get("status") == ACCEPTED or c.transaction is not tx:
            return
        # The CSMS refused the idTag of a running transaction (section 3.6.1).
        if self.config.bool("StopTransactionOnInvalidId"):
            self.stop_transaction(c, "DeAuthorized")
        else:
            tx.deauthorized = True
            self.update_power(c)
            self.refresh()

    def _start_lost(self: ChargePointSim, tx: Transaction, exc: Exception) -> None:
        tx.start_failed = True
        tx.id_known.set()
        self.events.add("start_transaction_lost", idTag=tx.id_tag, error=repr(exc))

    def wire_transaction_id(self: ChargePointSim, tx: Transaction) -> int | None:
        if tx.transaction_id is None:
            return None
        wrong = self.faults.get("wrong_transaction_id")
        return tx.transaction_id + (wrong["offset"] if wrong is not None else 0)

    # --- stopping -----------------------------------------------------------------------------

    def stop_transaction(self: ChargePointSim, c: Connector, reason: str,
                         id_tag: str | None = None) -> None:
        tx = c.transaction
        if tx is None:
            return
        c.meter.advance(0)
        if tx.sampler is not None:
            tx.sampler.cancel()
        self.stop_values(c, tx, "Transaction.End", "StopTxnSampledData")
        c.transaction, c.ev_suspended = None, False
        c.finishing = True
        if self.faults.get("available_after_unplug") is not None and not c.ev_connected \
                and self.pics.features.nothing_left_after_unplug(
                    self.config.bool("UnlockConnectorOnEVSideDisconnect", True)):
            c.finishing = False  # nothing left at the connector: straight to Available
        # The cable left in the socket once the EV side is gone: held by the lock
        # (UnlockConnectorOnEVSideDisconnect=false), or left in by a cable_stays rig.
        locked = (not c.ev_connected and reason == "EVDisconnected"
                  and self.pics.features.has_lock
                  and not self.config.bool("UnlockConnectorOnEVSideDisconnect", True))
        stays = not c.ev_connected and self.cable_stays()
        c.cable_held, c.locked = locked or stays, locked
        if c.cable_held:
            c.finishing = True  # something is left at the connector: Finishing after all
        wrong = self.faults.get("wrong_stop_reason")
        sent = wrong["reason"] if wrong is not None and wrong["when"] in ("*", reason) else reason
        stop = {"meterStop": c.meter.register, "timestamp": clock.iso(self.now()), "reason": sent}
        if id_tag is not None:
            stop["idTag"] = id_tag
        if tx.stop_data:
            stop["transactionData"] = list(tx.stop_data)

        def build() -> dict | None:
            tx_id = self.wire_transaction_id(tx)
            if tx_id is None:
                self.events.add("stop_transaction_dropped", reason="StartTransaction never "
                                "confirmed", idTag=tx.id_tag)
                return None
            return {"transactionId": tx_id, **stop}

        def confirmed(conf: dict) -> None:
            if id_tag is not None and conf.get("idTagInfo"):
                self.auth.remember(id_tag, conf["idTagInfo"], cache_enabled=self.cache_enabled())

        self.outbox.post("StopTransaction", build, tx=True, on_result=confirmed)
        self.events.add("transaction_stopped", connectorId=c.id, reason=reason)
        self.history_stop(tx, reason, c.meter.register)
        self.profiles.end_transaction(c.id)
        self.apply_scheduled_availability(c)
        c.limit_a = self.current_limit(c)
        self.refresh()
        if not c.ev_connected and not c.cable_held:
            c.finishing = False  # nothing left at the connector: Finishing, then Available
            self.refresh()

    def apply_scheduled_availability(self: ChargePointSim, c: Connector) -> None:
        if c.scheduled_operative is not None:
            c.operative, c.scheduled_operative = c.scheduled_operative, None
        if not any(x.transaction for x in self.connectors):
            self.idle.set()

    # --- power and meter values ---------------------------------------------------------------

    def current_limit(self: ChargePointSim, c: Connector) -> float:
        tx = c.transaction
        amps, _ = self.profiles.limit_amps(
            c.id, self.now(), connectors=len(self.connectors),
            tx_id=tx.transaction_id if tx else None, tx_start=tx.started if tx else None,
            now=self.now())
        return amps

    def update_power(self: ChargePointSim, c: Connector) -> None:
        c.limit_a = self.current_limit(c)
        tx = c.transaction
        charging = (tx is not None and not tx.deauthorized and c.ev_connected
                    and not c.ev_suspended)
        c.meter.advance(power_for(c, charging))

    def restart_sampler(self: ChargePointSim, c: Connector) -> None:
        tx = c.transaction
        if tx is None:
            return
        if tx.sampler is not None:
            tx.sampler.cancel()
        tx.sampler = self.tasks.spawn(self._sample_loop(c, tx), f"sampler-{c.id}")

    async def _sample_loop(self: ChargePointSim, c: Connector, tx: Transaction) -> None:
        interval = self.config.int("MeterValueSampleInterval", 0)
        if interval <= 0:
            return
        if (wrong := self.faults.get("meter_values_wrong_interval")) is not None:
            interval *= wrong["factor"]
        loop = asyncio.get_running_loop()
        anchor, wall = loop.time(), self.now()
        for k in range(1, 1 << 62):
            # The sample interval is a protocol timer: samples at anchor + k x interval, no drift,
            # each stamped with the moment it was due.
            await asyncio.sleep(max(0.0, anchor + k * interval - loop.time()))
            if c.transaction is not tx:
                return
            due = wall + timedelta(seconds=k * interval)
            self.send_meter_values(c, "Sample.Periodic", self.config.list("MeterValuesSampledData"),
                                   due)
            self.stop_values(c, tx, "Sample.Periodic", "StopTxnSampledData", due)

    async def aligned_loop(self: ChargePointSim) -> None:
        """Clock-aligned meter values at every multiple of ClockAlignedDataInterval after midnight
        (UTC), for the connectors with a transaction: an idle connector has nothing to meter."""
        while True:
            interval = self.config.int("ClockAlignedDataInterval", 0)
            if interval <= 0:
                await self.aligned_changed.wait()
                self.aligned_changed.clear()
                continue
            now = self.now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed = (now - midnight).total_seconds()
            boundary = midnight + timedelta(seconds=(math.floor(elapsed / interval) + 1) * interval)
            try:
                await asyncio.wait_for(self.aligned_changed.wait(),
                                       (boundary - now).total_seconds())
                self.aligned_changed.clear()
                continue
            except TimeoutError:
                pass
            for c in self.connectors:
                if c.transaction is not None:
                    self.send_meter_values(c, "Sample.Clock",
                                           self.config.list("MeterValuesAlignedData"), boundary)
                    self.stop_values(c, c.transaction, "Sample.Clock", "StopTxnAlignedData",
                                     boundary)

    def _meter_value(self: ChargePointSim, c: Connector, context: str, measurands: list[str],
                     at: datetime | None) -> dict:
        self.update_power(c)
        values = sampled_values(measurands, c, context) or \
            sampled_values(["Energy.Active.Import.Register"], c, context)
        return {"timestamp": clock.iso(at or self.now()), "sampledValue": values}

    def send_meter_values(self: ChargePointSim, c: Connector, context: str,
                          measurands: list[str], at: datetime | None = None,
                          queued: bool = True) -> None:
        meter_value = self._meter_value(c, context, measurands, at)
        tx = c.transaction
        if tx is None:
            self.outbox.post("MeterValues", lambda: {"connectorId": c.id,
                                                     "meterValue": [meter_value]})
            return

        def build() -> dict | None:
            tx_id = self.wire_transaction_id(tx)
            if tx_id is None:
                return None
            return {"connectorId": c.id, "transactionId": tx_id, "meterValue": [meter_value]}

        self.outbox.post("MeterValues", build, tx=queued)

    def stop_values(self: ChargePointSim, c: Connector, tx: Transaction, context: str, key: str,
                    at: datetime | None = None) -> None:
        """Collect transactionData for StopTransaction (StopTxnSampledData / StopTxnAlignedData)."""
        measurands = self.config.list(key)
        if not measurands:
            return
        tx.stop_data.append(self._meter_value(c, context, measurands, at))
