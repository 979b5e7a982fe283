"""The reference charge point: OCPP 1.6J, all six feature profiles, driven by the control protocol.

    sim = ChargePointSim(pics, "ws://127.0.0.1:9000/ocpp", faults=["late_answer:delay_ms=500"])
    await sim.start()                       # connects, boots, reports its connectors
    await sim.control("plug_in", {"connectorId": 1})
    await sim.stop()

The behaviour lives in mixins, one concern each: the connection and boot (connection.py), sessions
and metering (charging.py), Core answers (handlers.py), optional profiles (profiles.py) and the
physical actions (actions.py). This module holds the state they share and the two entry points:
``dispatch`` for the CSMS's CALLs and ``control`` for the test rig.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from harness.sim.common import EventLog, TaskSet
from harness.sim.control import ControlError, check_params
from harness.sim.cp.actions import SPECS, Actions
from harness.sim.cp.auth import LocalAuth
from harness.sim.cp.charging import ChargingMixin
from harness.sim.cp.config import Configuration
from harness.sim.cp.connection import ConnectionMixin
from harness.sim.cp.handlers import CoreHandlers
from harness.sim.cp.model import Connector, Reservation
from harness.sim.cp.outbox import Outbox
from harness.sim.cp.profiles import ProfileHandlers
from harness.sim.cp.security import SecurityHandlers
from harness.sim.cp.smart import ProfileStore
from harness.sim.faults import FaultError, Faults
from harness.sim.link import Reply

FAULT_INPUTS = frozenset({"report_fault", "clear_fault", "lock_failure", "unlock_failure",
                          "local_list_failure"})
"""Rig actions that provoke a hardware fault: a rig may have none of them."""


class ChargePointSim(ConnectionMixin, ChargingMixin, CoreHandlers, ProfileHandlers, SecurityHandlers,
                     Actions):
    def __init__(self, pics: Any, csms_url: str, *, charge_point_id: str | None = None,
                 faults: Iterable[Any] = (), configuration: Mapping[str, str] | None = None,
                 on_frame: Callable[[str, str], None] | None = None,
                 response_timeout: float | None = None, reconnect_min: float = 0.5,
                 reconnect_max: float = 30.0, trusted_roots: tuple[str, ...] = (),
                 client_cert: tuple[str, str] | None = None):
        """``pics``: a :class:`harness.pics.Pics` (the charge point's hardware, identity and
        configuration keys). ``csms_url``: the CSMS endpoint; the charge point id is appended as
        the last path segment. ``configuration``: key values overriding the PICS's (tests shorten
        intervals this way). ``on_frame(sender, text)`` sees every frame, "cp" or "csms" as sender.
        ``faults``: names, "name:key=value,..." strings or (name, params) pairs.
        ``trusted_roots``: CentralSystemRootCertificates (PEM) in its certificate store from the
        factory (the harness's per-run CSMS root); ``client_cert``: (certificate file, key file) it
        presents on security profile 3."""
        self.pics = pics
        self.id = charge_point_id or pics.dut.charge_point_id
        self.url = csms_url.rstrip("/") + "/" + self.id
        self.faults = Faults("cp", faults)
        self.config = Configuration(pics.configuration, tuple(pics.features.profiles),
                                    pics.features.connectors, configuration)
        self.response_timeout = response_timeout or pics.timing.response_timeout
        self.client_cert = client_cert
        self.security_init(trusted_roots)
        self.reconnect_min, self.reconnect_max = reconnect_min, reconnect_max
        self.on_frame = on_frame
        self.events = EventLog(f"cp {self.id}")
        self.tasks = TaskSet(f"cp {self.id}")
        self.frames: collections.Counter[str] = collections.Counter()
        self.outbox = Outbox(self.config, self.events, self.faults)
        self.zero = Connector(0)
        self.connectors = [Connector(i) for i in range(1, pics.features.connectors + 1)]
        self.auth = LocalAuth()
        self.profiles = ProfileStore()
        self.reservations: dict[int, Reservation] = {}
        self.refuse_next_reservation = False
        """Control action refuse_reservation: set not to accept reservations (TC_048_4)."""
        self.history: collections.deque[dict] = collections.deque(maxlen=50)
        self.firmware_version = pics.dut.firmware_version
        self.firmware_status = self.diagnostics_status = "Idle"
        self.firmware_installed_pending = False
        self.clock_offset = timedelta(0)
        self.registration: str | None = None
        self.link = None
        self.power: asyncio.Task | None = None
        self.heartbeat: asyncio.Task | None = None
        self.online_wanted = True
        self.powered = False
        self._started = False
        # Created in start(), inside the event loop that will run the simulator.
        self.connected = self.online_kick = self.boot_now = None
        self.heartbeat_changed = self.aligned_changed = self.idle = None

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Power on: connect (retrying with back-off) and boot. Returns at once; use
        :meth:`wait_booted` to wait for the CSMS's Accepted."""
        if self._started:
            return
        self._started = True
        self.connected, self.online_kick = asyncio.Event(), asyncio.Event()
        self.boot_now, self.heartbeat_changed = asyncio.Event(), asyncio.Event()
        self.aligned_changed, self.idle = asyncio.Event(), asyncio.Event()
        self.idle.set()
        self.tasks.spawn(self.outbox.run(), "outbox")
        self.tasks.spawn(self.aligned_loop(), "clock-aligned")
        self.power_on()

    async def stop(self) -> None:
        """Close the connection cleanly and end every task and timer."""
        if not self._started:
            return
        self._started = False
        self.online_wanted = False
        if self.link is not None:
            await self.link.close(1000, "simulator stopped")
        for c in self.all_connectors():
            self.cancel_pending(c)
            if c.status_timer is not None:
                c.status_timer.cancel()
        for r in self.reservations.values():
            if r.timer is not None:
                r.timer.cancel()
        await self.tasks.cancel_all()
        self.power = None
        if self.cert_folder is not None:
            self.cert_folder.cleanup()  # the key of a certificate signed for it

    async def wait_booted(self, timeout: float) -> None:
        """Until the CSMS accepted the BootNotification and the connection is up."""
        await asyncio.wait_for(self.connected.wait(), timeout)

    async def __aenter__(self) -> ChargePointSim:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # --- the CSMS's CALLs ---------------------------------------------------------------------

    async def dispatch(self, action: str, payload: dict) -> Any:
        handler = getattr(self, f"on_{action}", None)
        if handler is None:
            raise Reply("NotSupported", f"{action} is not supported by a charge point")
        return await handler(payload)

    # --- the test rig -------------------------------------------------------------------------

    def capabilities(self) -> list[str]:
        """The rig actions this simulated charge point can perform (``GET /capabilities``); a rig
        without fault inputs (legal behaviour ``rig_without_fault_inputs``) declares none of the
        actions that provoke a hardware fault, and refuses them."""
        if self.faults.get("rig_without_fault_inputs") is not None:
            return sorted(set(SPECS) - FAULT_INPUTS)
        return sorted(SPECS)

    async def control(self, action: str, params: dict) -> dict:
        """The control protocol's single entry point (DESIGN 2.5). Raises :class:`ControlError`."""
        params = check_params(action, params, SPECS)
        if action in FAULT_INPUTS and self.faults.get("rig_without_fault_inputs") is not None:
            raise ControlError(501, f"{action}: this rig has no fault inputs")
        if action == "status":
            return self.status()
        if action == "inject_fault":
            name = params.pop("name")
            try:
                self.faults.inject(name, params)
            except FaultError as exc:
                raise ControlError(400, str(exc)) from exc
            self.fault_changed(name)
            return {"faults": self.faults.to_json()}
        if action == "clear_faults":
            self.faults.clear(params["name"])
            self.fault_changed(None)
            return {"faults": self.faults.to_json()}
        if not self._started:
            raise ControlError(409, f"{action}: the charge point is not running")
        if not self.powered and action not in ("power_on", "power_cycle"):
            raise ControlError(409, f"{action}: the charge point is powered off (power_on first)")
        return await getattr(self, f"act_{action}")(params)

    def fault_changed(self, name: str | None) -> None:
        """A fault that changes a timer takes effect now, not at the next tick."""
        if self.heartbeat_changed is not None:
            self.heartbeat_changed.set()
        if name == "garbage_frame" and self.link is not None:
            self.tasks.spawn(self.send_garbage_if_faulty(self.link), "garbage")

    def status(self) -> dict:
        connectors = []
        for c in self.all_connectors():
            tx = c.transaction
            connectors.append({
                "connectorId": c.id, "status": self.status_of(c), "reported": c.reported,
                "errorCode": c.fault or "NoError", "operative": c.operative,
                "evConnected": c.ev_connected, "locked": c.locked,
                "transactionId": tx.transaction_id if tx else None,
                "idTag": tx.id_tag if tx else (c.pending.id_tag if c.pending else None),
                "meterWh": c.meter.register, "powerW": round(c.meter.power_w),
                "reservationId": c.reservation.reservation_id if c.reservation else None,
            })
        return {
            "role": "cp", "chargePointId": self.id, "url": self.url,
            "powered": self.powered,
            "connected": bool(self.connected and self.connected.is_set()),
            "online": self.online_wanted, "registration": self.registration,
            "firmwareVersion": self.firmware_version, "firmwareStatus": self.firmware_status,
            "diagnosticsStatus": self.diagnostics_status,
            "connectors": connectors,
            "transactions": [{k: v for k, v in e.items() if k != "tx"} for e in self.history],
            "queued": self.outbox.pending_actions(),
            "reservations": [{"reservationId": r.reservation_id, "connectorId": r.connector_id,
                              "idTag": r.id_tag} for r in self.reservations.values()],
            "localListVersion": self.auth.list_version, "cacheSize": len(self.auth.cache),
            "chargingProfiles": [{"connectorId": p.connector_id, **p.raw}
                                 for p in self.profiles.profiles],
            "configuration": self.config.snapshot(),
            "frames": dict(self.frames),
            "garbageReceived": self.events.counters.get("garbage_received", 0),
            "faults": self.faults.to_json(),
            **self.events.snapshot(),
        }

    # --- transaction history (GET /status) ----------------------------------------------------

    def history_update(self, tx) -> None:
        for entry in self.history:
            if entry["tx"] is tx:
                entry["transactionId"] = tx.transaction_id
                return
        self.history.append(self._history_entry(tx))

    def history_stop(self, tx, reason: str, meter_stop: int) -> None:
        for entry in self.history:
            if entry["tx"] is tx:
                break
        else:
            entry = self._history_entry(tx)
            self.history.append(entry)
        entry.update(stopReason=reason, meterStop=meter_stop)

    @staticmethod
    def _history_entry(tx) -> dict:
        return {"tx": tx, "transactionId": tx.transaction_id, "connectorId": tx.connector_id,
                "idTag": tx.id_tag, "meterStart": tx.meter_start,
                "reservationId": tx.reservation_id}
