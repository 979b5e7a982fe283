"""Reusable state Idle for a charge point under test: every case starts from a known idle device.

A case that FAILs half-way leaves the charge point dirty (cable plugged, transaction running,
authorization pending, powered off, reservation held, a connector Inoperative). Without this state
the next cases fail their preparation on that leftover and a single device bug shows as a cascade
of unrelated FAILs. The plugin's ``cp`` fixture runs :func:`idle` before every case.

The harness knows the device's state from what it has seen on the wire, across cases
(:class:`Tracker`): the last StatusNotification of every connector, the transactions started and
not stopped, the reservations it made and the connectors it made Inoperative. A device the harness
saw idle costs nothing (no traffic at all); otherwise the state undoes what is left, each wait
bounded by the PICS, and a device that cannot be brought idle makes the case INCONCLUSIVE with the
reason -- never a FAIL: the case under test has not started yet.
"""

from __future__ import annotations

import weakref
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from harness.session import DeviceTimeout, Request, Session
from harness.states import connector_ids
from harness.verdicts import Inconclusive

BUSY = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
"""Statuses that mean an EV, a transaction or a pending authorization on the connector."""


@dataclass
class Tracker:
    """What the harness has seen of the charge point, kept across test cases."""
    status: dict[int, str] = field(default_factory=dict)
    """connectorId -> last status reported."""
    open_tx: dict[int, tuple[int, str]] = field(default_factory=dict)
    """transactionId -> (connectorId, idTag) of transactions started and not (seen) stopped."""
    last_tag: dict[int, str] = field(default_factory=dict)
    """connectorId -> the idTag of the last transaction started there."""
    tags: dict[Any, list[str]] = field(default_factory=dict)
    """connectorId (None: not named) -> idTags the harness presented or remote-started there."""
    last_authorized: str | None = None
    """The idTag of the last Authorize.req (it names no connector)."""
    reservations: dict[int, int] = field(default_factory=dict)
    """reservationId -> connectorId of reservations the harness made (Accepted, not cancelled)."""
    expiry: dict[int, str] = field(default_factory=dict)
    """reservationId -> its expiryDate: after it the charge point holds it no more."""
    inoperative: set[int] = field(default_factory=set)
    """Connectors (0: the whole charge point) the harness made Inoperative."""
    plugged: set[int] = field(default_factory=set)
    """Connectors the harness plugged a cable into (driver plug_in) and has not unplugged: known
    whatever the charge point reports (a device may report a status it is not in)."""
    reset_unseen: bool = False
    """The harness sent Reset and has not seen the reboot's BootNotification (a charge point may
    reboot after its answer, even after a Rejected one)."""
    powered_off: bool = False
    """The harness cut the power (driver power_off) and has not restored it."""
    last_violation: str | None = None
    """The device's last protocol violation the harness saw (in an earlier case, maybe)."""
    seen: int = 0
    """How many of the session's current ``requests`` were already taken in."""
    requests: Any = None
    """The session's ``requests`` list ``seen`` counts in (a new case starts a new list)."""

    def take(self, request: Request) -> None:
        action, p = request.action, request.payload
        if action == "StatusNotification":
            self.status[p.get("connectorId")] = p.get("status")
            if p.get("status") == "Available":
                # A connector Available has no transaction and no reservation left.
                self.open_tx = {t: v for t, v in self.open_tx.items() if v[0] != p.get("connectorId")}
                self.reservations = {r: c for r, c in self.reservations.items()
                                     if c != p.get("connectorId")}
        elif action == "StartTransaction":
            answer = request.answer if isinstance(request.answer, dict) else {}
            if answer.get("transactionId") is not None:
                self.open_tx[answer["transactionId"]] = (p.get("connectorId"), p.get("idTag"))
            self.reservations.pop(p.get("reservationId"), None)  # the reservation is used
            self.last_tag[p.get("connectorId")] = p.get("idTag")
        elif action == "Authorize":
            self.last_authorized = p.get("idTag")
        elif action == "StopTransaction":
            self.open_tx.pop(p.get("transactionId"), None)
        elif action == "BootNotification":
            self.powered_off = self.reset_unseen = False
            self.status.clear()  # the boot reports every connector again

    def took_call(self, action: str, payload: dict, response: Any) -> None:
        """A CALL the harness made and its answer."""
        status = getattr(response, "status", None) if getattr(response, "error", None) is None else None
        if action == "Reset":
            self.reset_unseen = True
        elif action == "ReserveNow" and status == "Accepted":
            self.reservations[payload.get("reservationId")] = payload.get("connectorId")
            self.expiry[payload.get("reservationId")] = payload.get("expiryDate")
        elif action == "CancelReservation":
            self.reservations.pop(payload.get("reservationId"), None)
        elif action == "ChangeAvailability" and status in ("Accepted", "Scheduled"):
            if payload.get("type") == "Inoperative":
                self.inoperative.add(payload.get("connectorId"))
            else:
                self.inoperative.discard(payload.get("connectorId"))

    def clean(self, pics: Any) -> bool:
        from harness.states.cs import parse_time
        now = datetime.now(timezone.utc)
        for reservation_id in list(self.reservations):
            ends = parse_time(self.expiry.get(reservation_id) or "")
            if ends is not None and ends.tzinfo is not None and ends <= now:
                self.reservations.pop(reservation_id)  # expired
        return (not self.powered_off and not self.reset_unseen and not self.plugged
                and not self.open_tx and not self.reservations
                and not self.inoperative
                and all(self.status.get(c, "Available") == "Available"
                        for c in connector_ids(pics, with_zero=False)))


_TRACKERS: "weakref.WeakKeyDictionary[Session, Tracker]" = weakref.WeakKeyDictionary()


def tracker(cp: Session) -> Tracker:
    """The session's tracker; the first time, it also starts recording the harness's own calls
    (reservations, availability) and power actions."""
    known = _TRACKERS.get(cp)
    if known is None:
        known = _TRACKERS[cp] = Tracker()
        _record_calls(cp, known)
    return known


def _record_calls(cp: Session, track: Tracker) -> None:
    call = cp.call

    async def recorded(action: str, payload: dict, **kwargs: Any):
        if action == "RemoteStartTransaction":
            # Noted as it leaves: the charge point may act on it even if its answer never comes.
            track.tags.setdefault(payload.get("connectorId"), []).append(payload.get("idTag"))
        response = await call(action, payload, **kwargs)
        track.took_call(action, payload, response)
        return response

    cp.call = recorded  # type: ignore[method-assign]


def observe(cp: Session) -> Tracker:
    """Take in what the charge point sent since the last look (the plugin calls it before a case's
    ``begin`` clears the session's requests, so nothing sent between two cases is missed)."""
    track = tracker(cp)
    if track.requests is not cp.requests:
        track.requests, track.seen = cp.requests, 0
    for request in cp.requests[track.seen:]:
        track.take(request)
    track.seen = len(cp.requests)
    if cp.violations:
        track.last_violation = str(cp.violations[-1])
    return track


def watch_driver(driver: Any, track: Tracker) -> None:
    """Note the driver's power actions (a case that cut the power and failed before restoring it)."""
    if getattr(driver, "_idle_watched", False):
        return
    perform = driver.perform

    async def watched(action: str, params: dict, *, timeout: float) -> dict:
        result = await perform(action, params, timeout=timeout)
        if action == "present_id_tag":
            track.tags.setdefault(params.get("connectorId"), []).append(params.get("idTag"))
        elif action == "plug_in":
            track.plugged.add(params.get("connectorId"))
        elif action == "unplug":
            track.plugged.discard(params.get("connectorId"))
        elif action == "power_off":
            track.powered_off = True
        elif action in ("power_on", "power_cycle"):
            track.powered_off = False
        return result

    driver.perform = watched
    driver._idle_watched = True


async def idle(cp: Session, driver: Any, pics: Any) -> None:
    """Reusable state Idle: powered, connected, no transaction, no EV, no pending authorization, no
    reservation of the harness, every connector Operative and Available. No traffic when the
    harness saw the device idle; INCONCLUSIVE when it cannot be brought there."""
    track = observe(cp)
    watch_driver(driver, track)
    if track.clean(pics):
        # Not connected yet (the run's first case) or rebooting: the case's Booted state waits.
        track.tags.clear()  # only the last case's idTags can be pending
        track.last_violation = None
        return
    try:
        await _make_idle(cp, driver, pics, track)
    except (Inconclusive, DeviceTimeout, AssertionError, OSError) as exc:
        why = str(exc) if isinstance(exc, Inconclusive) else f"{type(exc).__name__}: {exc}"
        if cp.violations:
            # Why it is stuck, most likely: the device's own protocol violations.
            why += "; the device broke the protocol meanwhile: " + str(cp.violations[-1])
        elif track.last_violation:
            why += ("; the last protocol violation of the device (in an earlier case): "
                    + track.last_violation)
        raise Inconclusive(f"Idle: the charge point could not be brought idle before the case: "
                           f"{why}") from None
    # Statuses still on their way (a charge point that held its messages back sends them now)
    # belong to the clean-up, not to the case: taken until none comes for the PICS triggered
    # function timeout.
    for _ in range(20):
        if await _quiet_expect(cp, "StatusNotification", None,
                               pics.timing.triggered_function_timeout) is None:
            break
    # What the clean-up made the device send is not the case's: the case starts afresh (the
    # wire log keeps it).
    observe(cp)
    track.tags.clear()
    cp.requests.clear()
    track.seen = 0
    cp.forget()


async def _make_idle(cp: Session, driver: Any, pics: Any, track: Tracker) -> None:
    timing = pics.timing
    triggered = timing.triggered_function_timeout
    if track.reset_unseen and not track.powered_off:
        # A reboot after a Reset may still be under way: take its boot before anything else.
        track.reset_unseen = False
        if await _quiet_expect(cp, "BootNotification", None, triggered) is not None:
            await _rebooted(cp, pics)
    if track.powered_off or not cp.connected:
        if not track.powered_off:
            try:
                await cp.wait_connected(timing.boot_timeout)
            except DeviceTimeout:
                track.powered_off = True  # not back by itself: power it (on) again
        if track.powered_off:
            try:
                await driver.power_on(timeout=timing.boot_timeout)
            except Inconclusive:
                await driver.power_cycle(timeout=timing.boot_timeout)  # it was on after all
            track.powered_off = False
        await cp.wait_connected(timing.boot_timeout)
        from harness.states.cs import booted
        await booted(cp, pics)
        observe(cp)
    for transaction_id, (connector_id, _) in list(track.open_tx.items()):
        response = await cp.call("RemoteStopTransaction", {"transactionId": transaction_id})
        if response.error is None and response.status == "Accepted":
            await _quiet_expect(cp, "StopTransaction",
                                lambda p, t=transaction_id: p.get("transactionId") == t, triggered)
        track.open_tx.pop(transaction_id, None)
    for reservation_id in list(track.reservations):
        await cp.call("CancelReservation", {"reservationId": reservation_id})
        track.reservations.pop(reservation_id, None)
    for connector_id in sorted(track.inoperative):
        await cp.call("ChangeAvailability", {"connectorId": connector_id, "type": "Operative"})
        track.inoperative.discard(connector_id)
    observe(cp)
    for connector_id in sorted(track.plugged):
        # The cable the harness plugged in comes out, whatever the device reported.
        try:
            await driver.unplug(connector_id, timeout=timing.response_timeout)
        except Inconclusive:
            pass  # already out (the case's driver action failed half-way)
        track.plugged.discard(connector_id)
        await _available_within(cp, track, connector_id, triggered)
    for connector_id in connector_ids(pics, with_zero=False):
        await _connector_available(cp, driver, pics, track, connector_id)


async def _rebooted(cp: Session, pics: Any) -> None:
    """After a BootNotification the idle state took: the connectors' statuses, and the connection
    marked settled (the next Booted state does not wait for another boot)."""
    from harness.states.cs import booted_statuses, settled
    await booted_statuses(cp, pics, step="Idle")
    settled(cp)
    observe(cp)


async def _connector_available(cp: Session, driver: Any, pics: Any, track: Tracker,
                               connector_id: int) -> None:
    timing = pics.timing
    triggered = timing.triggered_function_timeout
    if track.status.get(connector_id, "Available") == "Available":
        return
    if "RemoteTrigger" in pics.features.profiles:
        # What the harness knows may be stale (statuses a charge point dropped while offline, a
        # stop it sent in a frame the harness could not read): ask for the present status.
        response = await cp.call("TriggerMessage", {"requestedMessage": "StatusNotification",
                                                    "connectorId": connector_id})
        if response.error is None and response.status == "Accepted":
            await _quiet_expect(cp, "StatusNotification",
                                lambda p: p.get("connectorId") == connector_id, triggered)
            observe(cp)
            if track.status.get(connector_id) == "Available":
                return
    if track.status.get(connector_id) in BUSY:
        try:
            await driver.unplug(connector_id, timeout=timing.response_timeout)
        except Inconclusive:
            pass  # no cable in (a pending authorization): nothing to unplug
        if await _available_within(cp, track, connector_id, triggered):
            return
    if track.status.get(connector_id) == "Preparing" and pics.features.rfid_readers:
        # Authorized and waiting for a cable: presenting the authorized idTag again ends it. The
        # harness knows the candidates, latest first: the idTags it presented or remote-started.
        candidates = [*reversed(track.tags.get(connector_id, [])),
                      *reversed(track.tags.get(None, [])), track.last_authorized,
                      track.last_tag.get(connector_id)]
        for id_tag in dict.fromkeys(t for t in candidates if t):
            try:
                await driver.present_id_tag(id_tag, connector_id, timeout=timing.response_timeout)
            except Inconclusive:
                continue
            if await _available_within(cp, track, connector_id, triggered):
                track.tags.clear()
                return
            if track.status.get(connector_id) != "Preparing":
                break
    if track.status.get(connector_id) in ("Finishing", "Preparing"):
        # A cable the charge point still holds locked is released by UnlockConnector.
        await cp.call("UnlockConnector", {"connectorId": connector_id})
        if await _available_within(cp, track, connector_id, triggered):
            return
    if track.status.get(connector_id) == "Unavailable":
        await cp.call("ChangeAvailability", {"connectorId": connector_id, "type": "Operative"})
    # A status on its way (a cancelled reservation, a stop, an unlock): give it the time a
    # triggered message may take.
    if await _available_within(cp, track, connector_id, triggered):
        return
    raise Inconclusive(f"connector {connector_id} stays {track.status.get(connector_id)!r}, "
                       "not Available")


async def _available_within(cp: Session, track: Tracker, connector_id: int, timeout: float) -> bool:
    observe(cp)
    if track.status.get(connector_id) == "Available":
        return True
    request = await _quiet_expect(
        cp, "StatusNotification",
        lambda p: p.get("connectorId") == connector_id and p.get("status") == "Available", timeout)
    observe(cp)
    return request is not None or track.status.get(connector_id) == "Available"


async def _quiet_expect(cp: Session, action: str, where: Any, timeout: float) -> Request | None:
    try:
        return await cp.expect(action, where, timeout=timeout, what=f"Idle: {action}")
    except DeviceTimeout:
        return None
