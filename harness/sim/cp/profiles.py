"""The optional feature profiles: Local Auth List Management, Reservation, Smart Charging, Remote
Trigger, Firmware Management. A profile the PICS does not claim answers CALLERROR NotSupported
(except GetLocalListVersion / SendLocalList, whose answers carry "not supported" themselves).

A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from harness import filetransfer as files
from harness import clock
from harness.sim.common import seconds_until, wait_event
from harness.sim.cp.model import Reservation, Transaction
from harness.sim.link import Answer, Reply

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim


def installable(image: bytes) -> bool:
    """The simulated firmware's acceptance check: an empty image, or one whose first bytes say
    ``INVALID``, fails installation (how a test rig provokes InstallationFailed, TC_044_3)."""
    return bool(image) and not image.lstrip().upper().startswith(b"INVALID")


class ProfileHandlers:
    def require(self: ChargePointSim, profile: str) -> None:
        if not self.pics.supports(profile):
            raise Reply("NotSupported", f"the {profile} feature profile is not supported")

    # --- Local Auth List Management -----------------------------------------------------------

    async def on_GetLocalListVersion(self: ChargePointSim, p: dict) -> dict:
        if not self.list_enabled():
            return {"listVersion": -1}  # section 5.9: -1, no local list in use
        return {"listVersion": self.auth.list_version if self.auth.local_list else 0}

    async def on_SendLocalList(self: ChargePointSim, p: dict) -> dict:
        if not self.pics.supports("LocalAuthListManagement"):
            return {"status": "NotSupported"}
        entries = p.get("localAuthorizationList")
        per_message = self.config.int("SendLocalListMaxLength", 0)
        if per_message and entries and len(entries) > per_message:
            return {"status": "Failed"}
        total = self.config.int("LocalAuthListMaxLength", 0) or None
        before, update_type = self.auth.list_version, p["updateType"]
        if update_type == "Differential":
            if self.faults.get("local_list_differential_as_full") is not None:
                update_type = "Full"
            if self.faults.get("local_list_version_not_checked") is not None:
                self.auth.list_version = min(before, p["listVersion"] - 1)
        status = self.auth.update(p["listVersion"], update_type, entries, total)
        if status == "Accepted" and self.faults.get("local_list_version_stuck") is not None:
            self.auth.list_version = before
        elif status != "Accepted":
            self.auth.list_version = before
        self.events.add("local_list_update", version=p["listVersion"], type=p["updateType"],
                        status=status)
        return {"status": status}

    # --- Reservation --------------------------------------------------------------------------

    def reservation_allows(self: ChargePointSim, c, id_tag: str, parent: str | None,
                           may_ask: bool) -> bool:
        """May ``id_tag`` use connector ``c``? ``may_ask``: a reservation with a parentIdTag could
        still match once an Authorize told us the idTag's parent."""
        if self.faults.get("reservation_not_enforced") is not None:
            return True
        if self.faults.get("reservation_ignores_parent") is not None:
            parent, may_ask = None, False

        def ok(r: Reservation) -> bool:
            return r.matches(id_tag, parent) or (may_ask and parent is None
                                                 and r.parent_id_tag is not None)
        if c.reservation is not None:
            return ok(c.reservation)
        if self.cp_reserved(c):
            return any(ok(r) for r in self.reservations.values() if r.connector_id == 0)
        return True

    def reservation_for(self: ChargePointSim, c, id_tag: str, parent: str | None) -> int | None:
        """The reservation a session of ``id_tag`` on ``c`` uses up, if any."""
        if self.faults.get("reservation_ignores_parent") is not None:
            parent = None
        if c.reservation is not None and c.reservation.matches(id_tag, parent):
            return c.reservation.reservation_id
        for r in self.reservations.values():
            if r.connector_id == 0 and r.matches(id_tag, parent):
                return r.reservation_id
        return None

    def drop_reservation(self: ChargePointSim, reservation_id: int, report: bool = True) -> None:
        r = self.reservations.pop(reservation_id, None)
        if r is None:
            return
        if r.timer is not None:
            r.timer.cancel()
        c = self.connector(r.connector_id)
        if c is not None and c.reservation is r:
            c.reservation = None
        if report:
            self.refresh()

    def _reservation_expired(self: ChargePointSim, reservation_id: int) -> None:
        self.events.add("reservation_expired", reservationId=reservation_id)
        self.drop_reservation(reservation_id)

    async def on_ReserveNow(self: ChargePointSim, p: dict) -> dict:
        self.require("Reservation")
        rid, connector_id = p["reservationId"], p["connectorId"]
        expiry = clock.parse_time(p["expiryDate"], default_zone=clock.UTC)
        c = self.connector(connector_id)
        if c is None or expiry is None:
            return {"status": "Rejected"}
        if self.refuse_next_reservation:  # "configured not to accept reservations" (5.13)
            self.refuse_next_reservation = False
            return {"status": "Rejected"}
        if connector_id == 0:
            supported = self.pics.features.reserve_connector_zero and self.config.bool(
                "ReserveConnectorZeroSupported", True)
            if not supported:
                return {"status": "Rejected"}
            if self.zero.fault:
                return {"status": "Faulted"}
            if not self.zero.operative:
                return {"status": "Unavailable"}
            held = sum(1 for r in self.reservations.values()
                       if r.connector_id == 0 and r.reservation_id != rid)
            free = sum(1 for x in self.connectors if self.status_of(x) == "Available")
            if free <= held:
                return {"status": "Occupied"}
        else:
            if c.fault or self.zero.fault:
                return {"status": "Faulted"}
            if not c.operative or not self.zero.operative:
                return {"status": "Unavailable"}
            other = c.reservation is not None and c.reservation.reservation_id != rid
            if (c.transaction or c.ev_connected or c.pending or c.finishing or c.cable_held
                    or other):
                return {"status": "Occupied"}
        # The expiryDate is a moment on the charge point's own clock (set from the CSMS's time).
        remaining = (expiry - self.now()).total_seconds()
        if remaining <= 0:
            return {"status": "Rejected"}
        shift = self.faults.get("reservation_expiry_shift")
        if shift is not None:
            remaining = max(0.0, remaining + shift["offset_ms"] / 1000)
        self.drop_reservation(rid, report=False)  # the same id replaces a reservation (5.13)
        r = Reservation(rid, connector_id, p["idTag"], p.get("parentIdTag"), expiry)
        r.timer = asyncio.get_running_loop().call_later(remaining, self._reservation_expired, rid)
        self.reservations[rid] = r
        if connector_id != 0:
            c.reservation = r
        self.events.add("reserved", reservationId=rid, connectorId=connector_id)
        self.refresh()
        return {"status": "Accepted"}

    async def on_CancelReservation(self: ChargePointSim, p: dict) -> dict:
        self.require("Reservation")
        if p["reservationId"] not in self.reservations:
            return {"status": "Rejected"}
        self.drop_reservation(p["reservationId"])
        return {"status": "Accepted"}

    # --- Smart Charging -----------------------------------------------------------------------

    def smart_faults(self: ChargePointSim) -> None:
        """Hand the active Smart Charging faults to the profile store."""
        self.profiles.lowest_stack_wins = self.faults.get("stack_level_inverted") is not None
        self.profiles.default_skips_running_tx = \
            self.faults.get("tx_default_skips_running_tx") is not None

    def install_profile(self: ChargePointSim, connector_id: int, raw: dict,
                        tx: Transaction | None) -> str:
        self.smart_faults()
        c = self.config
        status = self.profiles.install(
            connector_id, raw, self.now(), connectors=len(self.connectors),
            tx_id=tx.transaction_id if tx else None, tx_running=tx is not None,
            max_stack=c.int("ChargeProfileMaxStackLevel", 8),
            max_periods=c.int("ChargingScheduleMaxPeriods", 24),
            allowed_units=c.list("ChargingScheduleAllowedChargingRateUnit"),
            max_installed=c.int("MaxChargingProfilesInstalled", 10))
        self.events.add("charging_profile", connectorId=connector_id,
                        id=raw.get("chargingProfileId"), status=status)
        for x in self.connectors:
            self.update_power(x)
        self.refresh()
        return status

    async def on_SetChargingProfile(self: ChargePointSim, p: dict) -> dict:
        self.require("SmartCharging")
        c = self.connector(p["connectorId"])
        if c is None:
            return {"status": "Rejected"}
        tx = c.transaction if c.id else None
        return {"status": self.install_profile(c.id, p["csChargingProfiles"], tx)}

    async def on_ClearChargingProfile(self: ChargePointSim, p: dict) -> dict:
        self.require("SmartCharging")
        stack = None if self.faults.get("clear_ignores_stack_level") is not None \
            else p.get("stackLevel")
        removed = self.profiles.clear(p.get("id"), p.get("connectorId"),
                                      p.get("chargingProfilePurpose"), stack)
        for x in self.connectors:
            self.update_power(x)
        self.refresh()
        return {"status": "Accepted" if removed else "Unknown"}

    async def on_GetCompositeSchedule(self: ChargePointSim, p: dict) -> dict:
        self.require("SmartCharging")
        c = self.connector(p["connectorId"])
        if c is None:
            return {"status": "Rejected"}
        unit = {"A": "A", "W": "W"}.get(p.get("chargingRateUnit"))
        self.smart_faults()
        start = self.now()
        tx = c.transaction if c.id else None
        schedule = self.profiles.composite(
            c.id, start, p["duration"], unit, connectors=len(self.connectors),
            tx_id=tx.transaction_id if tx else None, tx_start=tx.started if tx else None)
        schedule["startSchedule"] = clock.iso(start)
        if self.faults.get("composite_negative_sentinel") is not None and not self.profiles.profiles:
            for period in schedule["chargingSchedulePeriod"]:
                period["limit"], period["numberPhases"] = -1, -1
        if self.faults.get("composite_limits_shifted") is not None:
            periods = schedule["chargingSchedulePeriod"]
            limits = [period["limit"] for period in periods]
            for period, late in zip(periods[1:], limits):
                period["limit"] = late
        return {"status": "Accepted", "connectorId": c.id, "scheduleStart": clock.iso(start),
                "chargingSchedule": schedule}

    # --- Remote Trigger -----------------------------------------------------------------------

    async def on_TriggerMessage(self: ChargePointSim, p: dict) -> dict | Answer:
        self.require("RemoteTrigger")
        what, connector_id = p["requestedMessage"], p.get("connectorId")
        if connector_id is not None and self.connector(connector_id) is None:
            if self.faults.get("trigger_unknown_connector") is not None:
                return {"status": "Accepted"}
            return {"status": "Rejected"}
        left_out = self.faults.get("trigger_not_sent")
        if left_out is not None and left_out["requestedMessage"] in ("*", what):
            return {"status": "Accepted"}
        send = self.trigger_senders(connector_id).get(what)
        if send is None:
            return {"status": "NotImplemented"}
        return Answer({"status": "Accepted"}, send)

    def trigger_senders(self: ChargePointSim, connector_id: int | None) -> dict:
        """What TriggerMessage (and ExtendedTriggerMessage) can make it send, by message."""
        return {
            "BootNotification": self._trigger_boot,
            "DiagnosticsStatusNotification": lambda: self.post_diagnostics_status(
                "Uploading" if self.diagnostics_status == "Uploading" else "Idle"),
            "FirmwareStatusNotification": lambda: self.post_firmware_status(
                self.firmware_status if self.firmware_status in
                ("Downloading", "Downloaded", "Installing") else "Idle"),
            "Heartbeat": self._trigger_heartbeat,
            "MeterValues": lambda: self._trigger_meter_values(connector_id),
            "StatusNotification": lambda: self._trigger_status(connector_id),
        }

    async def _trigger_boot(self: ChargePointSim) -> None:
        if self.registration != "Accepted":
            self.boot_now.set()  # cut the Pending/Rejected retry wait short
            return
        try:
            conf = await self.outbox.call("BootNotification", self.boot_payload())
        except Exception as exc:  # offline, CALLERROR, timeout: nothing more to do
            self.events.add("boot_failed", error=repr(exc))
            return
        self.sync_clock(conf.get("currentTime"))
        if conf.get("status") == "Accepted" and conf.get("interval", 0) > 0:
            self.config.set("HeartbeatInterval", str(conf["interval"]))
            self.heartbeat_changed.set()

    async def _trigger_heartbeat(self: ChargePointSim) -> None:
        try:
            conf = await self.outbox.call("Heartbeat", {})
            self.sync_clock(conf.get("currentTime"))
        except Exception as exc:
            self.events.add("heartbeat_failed", error=repr(exc))

    def _trigger_meter_values(self: ChargePointSim, connector_id: int | None) -> None:
        targets = [self.connector(connector_id)] if connector_id else self.connectors
        for c in targets:
            if c is not None and c.id != 0:
                self.send_meter_values(c, "Trigger", self.config.list("MeterValuesSampledData"),
                                       queued=False)

    def _trigger_status(self: ChargePointSim, connector_id: int | None) -> None:
        targets = [self.connector(connector_id)] if connector_id is not None \
            else self.all_connectors()
        for c in targets:
            if c is not None:
                self.report_status(c, force=True)

    # --- Firmware Management ------------------------------------------------------------------

    async def on_UpdateFirmware(self: ChargePointSim, p: dict) -> Answer:
        self.require("FirmwareManagement")
        when = clock.parse_time(p["retrieveDate"], default_zone=clock.UTC) or clock.now()
        return Answer({}, lambda: self._firmware_job(p["location"], when, p.get("retries"),
                                                     p.get("retryInterval")))

    def _tries(self: ChargePointSim, retries: int | None) -> int:
        return max(1, retries) if isinstance(retries, int) else 1

    async def _firmware_job(self: ChargePointSim, location: str, when: datetime,
                            retries: int | None, interval: int | None) -> None:
        # retrieveDate is a protocol timer: nothing happens before it.
        await asyncio.sleep(max(0.0, seconds_until(when)))
        self.post_firmware_status("Downloading")
        image = None
        for attempt in range(self._tries(retries)):
            try:
                if self.faults.get("firmware_fake_download") is not None:
                    image = b"firmware that was never downloaded"
                    break
                image = await files.download(location, self.response_timeout)
                break
            except files.TransferError as exc:
                self.events.add("download_failed", location=location, error=str(exc))
                if attempt + 1 < self._tries(retries):
                    await asyncio.sleep(interval or 0)
        if image is None:
            self.post_firmware_status("DownloadFailed")
            self.firmware_status = "Idle"
            return
        self.post_firmware_status("Downloaded")
        await self.idle.wait()  # install only when no transaction is running
        self.post_firmware_status("Installing")
        if not installable(image):
            self.post_firmware_status("InstallationFailed")
            self.firmware_status = "Idle"
            return
        name = location.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        self.firmware_version = (name or "updated")[:50]
        self.firmware_installed_pending = True
        # Let the status notifications out before the reboot (bounded: they are not kept).
        await wait_event(self.outbox.empty, self.response_timeout)
        late = self.faults.get("firmware_reboot_late")
        if late is not None:
            await asyncio.sleep(late["delay_ms"] / 1000)
        await self.reboot("FirmwareUpdate", graceful=True)

    async def on_GetDiagnostics(self: ChargePointSim, p: dict) -> dict | Answer:
        self.require("FirmwareManagement")
        start = clock.parse_time(p.get("startTime"), default_zone=clock.UTC)
        stop = clock.parse_time(p.get("stopTime"), default_zone=clock.UTC)
        name = f"diagnostics-{self.id}-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.log"[:255]
        return Answer({"fileName": name}, lambda: self._diagnostics_job(
            p["location"], name, start, stop, p.get("retries"), p.get("retryInterval")))

    def diagnostics_text(self: ChargePointSim, start: datetime | None,
                         stop: datetime | None) -> bytes:
        lines = [f"charge point {self.id} firmware {self.firmware_version}"]
        for event in self.events.events:
            moment = clock.parse_time(event["ts"], default_zone=clock.UTC)
            if (start and moment and moment < start) or (stop and moment and moment > stop):
                continue
            lines.append(" ".join(f"{k}={v}" for k, v in event.items()))
        return ("\n".join(lines) + "\n").encode()

    async def _diagnostics_job(self: ChargePointSim, location: str, name: str,
                               start: datetime | None, stop: datetime | None,
                               retries: int | None, interval: int | None) -> None:
        self.post_diagnostics_status("Uploading")
        data = self.diagnostics_text(start, stop)
        for attempt in range(self._tries(retries)):
            try:
                if self.faults.get("diagnostics_fake_upload") is None:
                    await files.upload(location, name, data, self.response_timeout)
                self.post_diagnostics_status("Uploaded")
                self.diagnostics_status = "Idle"
                return
            except files.TransferError as exc:
                self.events.add("upload_failed", location=location, error=str(exc))
                if attempt + 1 < self._tries(retries):
                    await asyncio.sleep(interval or 0)
        self.post_diagnostics_status("UploadFailed")
        self.diagnostics_status = "Idle"

