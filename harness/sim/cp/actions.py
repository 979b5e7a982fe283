"""What a person (or a test rig) does to a charge point: the control actions of DESIGN 2.5.

A physical action returns as soon as it has happened; what the charge point then says to the CSMS
(an Authorize, a StartTransaction, StatusNotifications) follows on the wire, where the test waits
for it. A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.control import REQUIRED, ControlError, Spec
from harness.sim.cp.model import Connector, PendingStart

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim

_C = {"connectorId": (int, REQUIRED)}
ERROR_CODES = ("ConnectorLockFailure", "EVCommunicationError", "GroundFailure",
               "HighTemperature", "InternalError", "LocalListConflict", "OtherError",
               "OverCurrentFailure", "OverVoltage", "PowerMeterFailure", "PowerSwitchFailure",
               "ReaderFailure", "ResetFailure", "UnderVoltage", "WeakSignal")

SPECS: dict[str, Spec] = {
    "plug_in": Spec(_C, "connect an EV with a cable (both ends)"),
    "unplug": Spec(_C, "disconnect the EV (and take the cable away when it is not locked, unless "
                       "the PICS says unplug_at_ev = cable_stays)"),
    "remove_cable": Spec(_C, "take the cable out of the socket (the EV already disconnected)"),
    "present_id_tag": Spec({"idTag": (str, REQUIRED), "connectorId": (int, None)},
                           "hold an RFID card to the reader"),
    "power_cycle": Spec({}, "cut the power and restore it"),
    "power_off": Spec({}, "cut the power and leave it off"),
    "power_on": Spec({}, "restore the power"),
    "go_offline": Spec({}, "cut the network"),
    "go_online": Spec({}, "restore the network"),
    "report_fault": Spec({"connectorId": (int, REQUIRED), "errorCode": (str, REQUIRED),
                          "info": (str, None)}, "a hardware fault (0: the charge point)"),
    "clear_fault": Spec(_C, "repair: clears the fault and lock/unlock failures"),
    "ev_suspend": Spec(_C, "the EV stops drawing energy"),
    "ev_resume": Spec(_C, "the EV draws energy again"),
    "lock_failure": Spec(_C, "the connector lock will fail when a session starts"),
    "unlock_failure": Spec(_C, "the connector lock will not open"),
    "local_list_failure": Spec({}, "the next SendLocalList cannot be stored"),
    "refuse_reservation": Spec({}, "the next ReserveNow is Rejected (set not to accept "
                                   "reservations)"),
    "data_transfer": Spec({"vendorId": (str, REQUIRED), "messageId": (str, None),
                           "data": (str, None)}, "send DataTransfer.req; returns the answer"),
    "inject_fault": Spec({"name": (str, REQUIRED)}, "activate a fault (see docs/faults.md)",
                         open=True),
    "clear_faults": Spec({"name": (str, None)}, "deactivate one fault, or all"),
    "status": Spec({}, "what GET /status returns"),
}


class Actions:
    def _target(self: ChargePointSim, action: str, connector_id: int,
                zero: bool = False) -> Connector:
        c = self.connector(connector_id)
        if c is None or (c.id == 0 and not zero):
            low = 0 if zero else 1
            raise ControlError(400, f"{action}: connectorId must be {low} to "
                                    f"{len(self.connectors)}, got {connector_id}")
        return c

    async def act_plug_in(self: ChargePointSim, p: dict) -> dict:
        c = self._target("plug_in", p["connectorId"])
        if c.ev_connected:
            raise ControlError(409, f"plug_in: connector {c.id} already has an EV plugged in")
        c.ev_connected, c.cable_held, c.ev_suspended = True, False, False
        if c.transaction is not None:
            self.update_power(c)  # the EV is back: a suspended transaction resumes
            self.refresh()
            return {"connectorId": c.id, "outcome": "resumed"}
        pending = c.pending or self._floating_pending(c)
        if pending is not None and c.fault is None:
            self.start_transaction(c, pending.id_tag, pending.parent_id_tag,
                                   pending.reservation_id, pending.charging_profile)
            return {"connectorId": c.id, "outcome": "transaction started"}
        self.refresh()
        return {"connectorId": c.id, "outcome": "plugged in"}

    def _floating_pending(self: ChargePointSim, c: Connector) -> PendingStart | None:
        """An idTag presented without a connector goes to the connector the cable goes into."""
        for other in self.connectors:
            if other is not c and other.pending is not None and other.pending.floating \
                    and other.reservation is None:
                pending = other.pending
                self.cancel_pending(other)
                return pending
        return None

    async def act_unplug(self: ChargePointSim, p: dict) -> dict:
        c = self._target("unplug", p["connectorId"])
        if not c.ev_connected:
            raise ControlError(409, f"unplug: no EV is plugged in at connector {c.id}")
        c.ev_connected, c.ev_suspended = False, False
        if c.transaction is not None:
            if self.config.bool("StopTransactionOnEVSideDisconnect", True):
                self.stop_transaction(c, "EVDisconnected")
                return {"connectorId": c.id, "outcome": "transaction stopped"}
            self.update_power(c)  # the transaction stays open, suspended (section 9.1.30)
            self.refresh()
            return {"connectorId": c.id, "outcome": "transaction suspended"}
        c.finishing = c.locked = False
        if self.cable_stays():
            c.cable_held = True  # in the socket, not locked: Finishing until it is taken out
        self.refresh()
        return {"connectorId": c.id, "outcome": "unplugged"}

    def cable_stays(self: ChargePointSim) -> bool:
        """The PICS hardware model: the rig's unplug leaves a socket's cable in (cable_stays)."""
        f = self.pics.features
        return f.cable != "fixed" and f.unplug_at_ev == "cable_stays"

    async def act_remove_cable(self: ChargePointSim, p: dict) -> dict:
        c = self._target("remove_cable", p["connectorId"])
        if self.pics.features.fixed_cable:
            raise ControlError(409, "remove_cable: the cable is fixed to the charge point")
        if c.ev_connected:
            raise ControlError(409, f"remove_cable: an EV is still plugged in at connector {c.id}")
        if c.locked:
            raise ControlError(409, f"remove_cable: the cable lock of connector {c.id} holds it")
        c.cable_held = c.finishing = False
        self.refresh()
        return {"connectorId": c.id, "outcome": "cable removed"}

    async def act_present_id_tag(self: ChargePointSim, p: dict) -> dict:
        id_tag, connector_id = p["idTag"], p["connectorId"]
        if self.pics.features.rfid_readers == 0:
            raise ControlError(409, "present_id_tag: this charge point has no RFID reader")
        if connector_id is not None:
            self._target("present_id_tag", connector_id)
        scope = [c for c in self.connectors if connector_id in (None, c.id)]
        # The card that started a transaction stops it.
        for c in scope:
            if c.transaction is not None and c.transaction.id_tag.casefold() == id_tag.casefold():
                self.stop_transaction(c, "Local", id_tag)
                return {"connectorId": c.id, "outcome": "stopping"}
        # Presented again while waiting for the cable: de-authorize.
        for c in scope:
            if c.pending is not None and c.pending.id_tag.casefold() == id_tag.casefold():
                if self.faults.get("reauthorize_on_present") is not None:
                    # Read as a new authorization: asked again, ConnectionTimeOut restarted.
                    pending = c.pending
                    info = await self.authorize(id_tag)
                    if info.get("status") == "Accepted" and c.pending is pending:
                        self.set_pending(c, pending)
                    return {"connectorId": c.id, "outcome": "authorized again"}
                self.cancel_pending(c)
                self.refresh()
                return {"connectorId": c.id, "outcome": "deauthorized"}
        busy = [c for c in scope if c.transaction is not None]
        target = None if connector_id is None else self.connector(connector_id)
        if target is None:
            target = self.pick_connector(id_tag)
        if target is None or target.transaction is not None:
            # Only a card of the same group (parentIdTag) may stop somebody else's transaction.
            group = [c for c in busy if c.transaction.parent_id_tag]
            if group:
                decided = self.authorize_locally(id_tag, need_parent=True)
                if decided is not None:  # decided now: in order with the actions that follow
                    return {"connectorId": group[0].id,
                            "outcome": self._group_card_decided(id_tag, group, decided)}
                self.tasks.spawn(self._stop_by_group(id_tag, group), "present-stop")
                return {"connectorId": group[0].id, "outcome": "authorizing"}
            if target is None and any(self._reserved_for_others(c, id_tag) for c in scope):
                return {"connectorId": None, "outcome": "refused: reserved"}
            return {"connectorId": target.id if target else None, "outcome": "ignored"}
        if target.fault or not target.operative or not self.zero.operative:
            return {"connectorId": target.id, "outcome": "refused: connector not available"}
        if not self.reservation_allows(target, id_tag, None, True):
            return {"connectorId": target.id, "outcome": "refused: reserved"}
        decided = self.authorize_locally(id_tag)
        if decided is not None:
            # Decided locally (offline, or LocalPreAuthorize): it takes effect now, so that a
            # plug-in or unplug that follows finds the connector authorized, as a person would.
            return {"connectorId": target.id,
                    "outcome": self._card_decided(target, id_tag, decided, connector_id is None)}
        self.tasks.spawn(self._start_by_card(target, id_tag, connector_id is None),
                         "present-start")
        return {"connectorId": target.id, "outcome": "authorizing"}

    def _reserved_for_others(self: ChargePointSim, c: Connector, id_tag: str) -> bool:
        from harness.sim.cp.model import is_free
        return is_free(c, self.zero.operative) and \
            not self.reservation_allows(c, id_tag, None, True)

    async def _stop_by_group(self: ChargePointSim, id_tag: str, group: list[Connector]) -> None:
        self._group_card_decided(id_tag, group, await self.authorize(id_tag, need_parent=True))

    def _group_card_decided(self: ChargePointSim, id_tag: str, group: list[Connector],
                            info: dict) -> str:
        parent = info.get("parentIdTag")
        if info.get("status") != "Accepted" or not parent:
            return "refused"
        for c in group:
            tx = c.transaction
            if tx is not None and tx.parent_id_tag and \
                    tx.parent_id_tag.casefold() == parent.casefold():
                self.stop_transaction(c, "Local", id_tag)
                return "stopping"
        return "ignored"

    async def _start_by_card(self: ChargePointSim, c: Connector, id_tag: str,
                             floating: bool) -> None:
        self._card_decided(c, id_tag, await self.authorize(id_tag), floating)

    def _card_decided(self: ChargePointSim, c: Connector, id_tag: str, info: dict,
                      floating: bool) -> str:
        """Act on the IdTagInfo of a presented card: start, or wait for the cable."""
        if info.get("status") != "Accepted":
            self.events.add("authorization_refused", idTag=id_tag, status=info.get("status"))
            return f"refused: {info.get('status')}"
        parent = info.get("parentIdTag")
        if not self.reservation_allows(c, id_tag, parent, False):
            self.events.add("authorization_refused", idTag=id_tag, status="Reserved")
            return "refused: reserved"
        if c.transaction is not None or c.pending is not None:
            return "ignored"
        reservation = self.reservation_for(c, id_tag, parent)
        if c.ev_connected:
            self.start_transaction(c, id_tag, parent, reservation)
            return "transaction started"
        pending = PendingStart(id_tag, parent, reservation)
        pending.floating = floating
        self.set_pending(c, pending)
        return "authorized"

    async def act_power_cycle(self: ChargePointSim, p: dict) -> dict:
        await self.reboot("PowerLoss", graceful=False)
        return {"outcome": "rebooting"}

    async def act_power_off(self: ChargePointSim, p: dict) -> dict:
        await self.shut_down("PowerLoss", graceful=False)
        self.events.add("power_off")
        return {"outcome": "off"}

    async def act_power_on(self: ChargePointSim, p: dict) -> dict:
        if self.powered:
            raise ControlError(409, "power_on: the charge point is already on")
        self.events.add("power_on")
        self.power_on()
        return {"outcome": "booting"}

    async def act_go_offline(self: ChargePointSim, p: dict) -> dict:
        await self.go_offline()
        return {"outcome": "offline"}

    async def act_go_online(self: ChargePointSim, p: dict) -> dict:
        self.go_online()
        return {"outcome": "reconnecting"}

    async def act_report_fault(self: ChargePointSim, p: dict) -> dict:
        c = self._target("report_fault", p["connectorId"], zero=True)
        if p["errorCode"] not in ERROR_CODES:
            raise ControlError(400, f"report_fault: errorCode must be one of "
                                    f"{', '.join(ERROR_CODES)}, got {p['errorCode']!r}")
        c.fault = p["errorCode"]
        victims = self.connectors if c.id == 0 else [c]
        for x in victims:
            if x.transaction is not None:
                self.stop_transaction(x, "Other")
            self.cancel_pending(x)
        self.refresh()
        return {"connectorId": c.id, "status": self.status_of(c)}

    async def act_clear_fault(self: ChargePointSim, p: dict) -> dict:
        c = self._target("clear_fault", p["connectorId"], zero=True)
        c.fault, c.lock_failure, c.unlock_failure = None, False, False
        self.refresh()
        return {"connectorId": c.id, "status": self.status_of(c)}

    async def _ev(self: ChargePointSim, action: str, p: dict, suspended: bool) -> dict:
        c = self._target(action, p["connectorId"])
        if c.transaction is None:
            raise ControlError(409, f"{action}: no transaction on connector {c.id}")
        c.ev_suspended = suspended
        self.update_power(c)
        self.refresh()
        return {"connectorId": c.id, "status": self.status_of(c)}

    async def act_ev_suspend(self: ChargePointSim, p: dict) -> dict:
        return await self._ev("ev_suspend", p, True)

    async def act_ev_resume(self: ChargePointSim, p: dict) -> dict:
        return await self._ev("ev_resume", p, False)

    async def act_lock_failure(self: ChargePointSim, p: dict) -> dict:
        c = self._target("lock_failure", p["connectorId"])
        if not self.pics.features.has_lock:
            raise ControlError(409, f"lock_failure: no connector lock (features.cable is "
                                    f"{self.pics.features.cable!r})")
        c.lock_failure = True
        return {"connectorId": c.id}

    async def act_unlock_failure(self: ChargePointSim, p: dict) -> dict:
        c = self._target("unlock_failure", p["connectorId"])
        if not self.pics.features.has_lock:
            raise ControlError(409, f"unlock_failure: no connector lock (features.cable is "
                                    f"{self.pics.features.cable!r})")
        c.unlock_failure = True
        return {"connectorId": c.id}

    async def act_local_list_failure(self: ChargePointSim, p: dict) -> dict:
        self.auth.fail_next_update = True
        return {}

    async def act_refuse_reservation(self: ChargePointSim, p: dict) -> dict:
        self.refuse_next_reservation = True
        return {}

    async def act_data_transfer(self: ChargePointSim, p: dict) -> dict:
        payload = {k: v for k, v in p.items() if v is not None}
        try:
            return {"response": await self.outbox.call("DataTransfer", payload)}
        except Exception as exc:
            raise ControlError(409 if exc.__class__.__name__ == "Offline" else 502,
                               f"data_transfer: {exc!r}") from exc
