"""The Idle procedure the plugin runs before every charge-point case: from the Tracker's
knowledge, undo what earlier cases left (stop, cancel, make Operative, clear, restore, unplug),
wait out the device's own timers and retries, power-cycle a device stuck unbooted, re-check a
blocked one. Rule: every wait bounded by the PICS or the protocol; a device that cannot be
brought idle is NotIdle (INCONCLUSIVE, never a FAIL).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from harness.session import (DeviceTimeout, ProtocolViolation, Request, Response, Session)
from harness.states import connector_ids
from harness.states.cs import take_cable_out
from harness.verdicts import Inconclusive
from harness.states.idle.model import (BUSY, MAX_CONNECTION_TIMEOUT_S, MAX_RETRY_WAIT_S, NotIdle,
                                       RUNNING, TRANSACTION_MESSAGES, retried_message)
from harness.states.idle.tracker import Tracker, observe, tracker, watch_driver


async def idle(cp: Session, driver: Any, pics: Any) -> None:
    """Reusable state Idle: powered, connected, no transaction, no EV, no pending authorization, no
    reservation, no transfer under way, no profile or changed key of the harness, every connector
    Operative and Available. No traffic when the harness saw the device idle; :class:`NotIdle`
    (INCONCLUSIVE) when it cannot be brought there."""
    track = observe(cp, pics)
    watch_driver(driver, track)
    if not track.started:
        track.started = True
        await known_state(cp, driver, pics, track)
    if track.retrying and track.retries_until() <= time.monotonic():
        track.retrying.clear()  # over: the device gave up (or succeeded) long ago
    if track.clean(pics) and not track.retrying:
        # Not connected yet (the run's first case) or rebooting: the case's Booted state waits.
        track.tags.clear()  # only the last case's idTags can be pending
        track.last_violation = None
        return
    try:
        if track.retrying and track.open_tx and cp.connected and not track.powered_off:
            # A transaction left running keeps making messages (MeterValues) that the device
            # queues behind its retries: stopped first, so that the retries come to an end.
            await _stop_transactions(cp, track, 0.0)
        await _retries_out(cp, pics, track)
        if track.not_accepted and not track.powered_off:
            await _boot_again(cp, driver, pics, track)
            return  # its boot is the case's, as on a fresh device
        await _make_idle(cp, driver, pics, track)
    except (Inconclusive, DeviceTimeout, AssertionError, OSError) as exc:
        why = str(exc) if isinstance(exc, Inconclusive) else f"{type(exc).__name__}: {exc}"
        if cp.violations:
            # Why it is stuck, most likely: the device's own protocol violations.
            why += "; the device broke the protocol meanwhile: " + str(cp.violations[-1])
        elif track.last_violation:
            why += ("; the last protocol violation of the device (in an earlier case): "
                    + track.last_violation)
        observe(cp)
        stays = exc.stays if isinstance(exc, NotIdle) else (
            "disconnected" if not cp.connected else track.dirt(pics))
        raise NotIdle(f"Idle: the charge point could not be brought idle before the case: "
                      f"{why}", stays) from None
    # Statuses still on their way (a charge point that held its messages back sends them now)
    # belong to the clean-up, not to the case: taken until none comes for the PICS triggered
    # function timeout.
    for _ in range(20):
        if await _quiet_expect(cp, "StatusNotification", None,
                               pics.timing.triggered_function_timeout) is None:
            break
    _afresh(cp, track)


def _afresh(cp: Session, track: Tracker) -> None:
    """What the clean-up made the device send is not the case's: the case starts afresh (the
    wire log keeps it), its intervals and times measured from here."""
    observe(cp)
    _forgive_retries(cp, track)
    track.retrying.clear()
    track.tags.clear()
    cp.requests.clear()
    track.seen = 0
    cp.forget()
    if cp.timing is not None:
        cp.timing.restart_case()


async def _boot_again(cp: Session, driver: Any, pics: Any, track: Tracker) -> None:
    """A device whose last boot the harness did not accept (a case refused it, or its
    BootNotification broke the protocol and was answered with a CALLERROR) sends nothing else
    until a new boot is accepted (section 4.2), so no clean-up can reach it. What the harness did
    to it is undone by the rig (its cables out), then it is power-cycled -- the rig's
    ``power_cycle``, what a lab does with a charger that is not registered -- and the Idle state
    ends as soon as it is connected again: its BootNotification and start-up statuses are the
    case's own Booted state's to take and judge, as on a fresh device (the case's verdict is the
    one it has run alone). A rig that cannot power-cycle leaves it so: NotIdle."""
    timing = pics.timing
    for connector_id in sorted(track.plugged):
        try:
            await take_cable_out(driver, pics, connector_id)
        except Inconclusive:
            pass  # already out
        track.plugged.discard(connector_id)
    cannot = getattr(driver, "cannot", None)
    if cannot is not None and cannot(["power_cycle"]):
        raise NotIdle("the charge point's last BootNotification was not accepted, and the rig "
                      "cannot power-cycle it (its capabilities do not list power_cycle)",
                      track.dirt(pics))
    _afresh(cp, track)
    before = cp.link
    await driver.power_cycle(timeout=timing.boot_timeout)
    try:
        if before is not None:
            await asyncio.wait_for(before.closed.wait(), timing.boot_timeout)
        await cp.wait_connected(timing.boot_timeout)
    except TimeoutError:
        raise NotIdle(f"the charge point's connection stayed open {timing.boot_timeout:g} s "
                      f"(PICS boot_timeout) after the rig's power_cycle", track.dirt(pics)) from None
    except DeviceTimeout as exc:
        raise NotIdle(str(exc), "disconnected") from None
    # What it was in before the power cycle went with it: its new boot tells.
    track.status.clear()
    track.pending_until.clear()
    track.open_tx.clear()
    track.boot_refused_at = track.boot_accepted_at = 0.0


async def recheck(cp: Session, pics: Any) -> bool:
    """After the device could not be brought idle: is it idle again now? Cheap: what it sent since
    (a status Available, the end of a firmware update), and, when it has RemoteTrigger and is
    connected, its present status of the connectors it was stuck on (one TriggerMessage each). True:
    the case may run (:func:`idle` follows); False: it is BLOCKED."""
    track = observe(cp, pics)
    if not track.clean(pics) and cp.connected and "RemoteTrigger" in pics.features.profiles:
        for connector_id in connector_ids(pics, with_zero=False):
            if track.status.get(connector_id, "Available") == "Available":
                continue
            try:
                response = await _call(cp, "TriggerMessage",
                                       {"requestedMessage": "StatusNotification",
                                        "connectorId": connector_id})
            except (DeviceTimeout, AssertionError):
                return False
            if response.error is None and response.status == "Accepted":
                await _quiet_expect(cp, "StatusNotification",
                                    lambda p, c=connector_id: p.get("connectorId") == c,
                                    pics.timing.triggered_function_timeout)
            observe(cp)
        cp.forget()
    if not track.clean(pics):
        return False
    track.stuck = None
    return True


async def known_state(cp: Session, driver: Any, pics: Any, track: Tracker) -> None:
    """At the start of the run: the rig's optional ``reset_device`` action (back to the rig's known
    starting state) when the rig declares it among its capabilities, before the device's first boot
    is taken. A rig that declares nothing is not asked (the action is optional)."""
    declared = getattr(driver, "declared", None)
    if declared is None or "reset_device" not in declared:
        return
    from harness.drivers.base import acting_for
    with acting_for("run"):
        await driver.reset_device(timeout=pics.timing.boot_timeout)


async def _make_idle(cp: Session, driver: Any, pics: Any, track: Tracker) -> None:
    timing = pics.timing
    triggered = timing.triggered_function_timeout
    if track.reset_unseen and not track.powered_off:
        # A reboot after a Reset may still be under way: take its boot before anything else.
        track.reset_unseen = False
        if await _quiet_expect(cp, "BootNotification", None, triggered) is not None:
            await _rebooted(cp, pics)
    if track.firmware is not None and not track.powered_off:
        await _transfer_ends(cp, pics, track, "firmware")
    if track.diagnostics is not None and not track.powered_off:
        await _transfer_ends(cp, pics, track, "diagnostics")
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
        try:
            await cp.wait_connected(timing.boot_timeout)
        except DeviceTimeout as exc:
            raise NotIdle(str(exc), "disconnected") from None
        from harness.states.cs import booted
        await booted(cp, pics)
        observe(cp)
    await _stop_transactions(cp, track, triggered)
    for reservation_id in list(track.reservations):
        await _call(cp, "CancelReservation", {"reservationId": reservation_id})
        track.reservations.pop(reservation_id, None)
    for connector_id in sorted(track.inoperative):
        await _call(cp, "ChangeAvailability", {"connectorId": connector_id, "type": "Operative"})
        track.inoperative.discard(connector_id)
    for profile_id in sorted(track.profiles):
        # What the harness installed, by its id: nothing else of the device's goes.
        await _call(cp, "ClearChargingProfile", {"id": profile_id})
        track.profiles.pop(profile_id, None)
    for key, value in sorted(track.config_original.items()):
        response = await _call(cp, "ChangeConfiguration", {"key": key, "value": value})
        if response.error is not None or response.status not in ("Accepted", "RebootRequired"):
            # It does not take it back: not the case's to wait for; never an original again.
            track.config_original.pop(key, None)
            track.config_device.discard(key)
            track.config_lost[key] = (f"the device answered "
                                      f"{response.error.error_code if response.error else response.status}"
                                      f" to putting its original value back")
    observe(cp)
    for connector_id in sorted(track.plugged):
        # The cable the harness plugged in comes out, whatever the device reported.
        try:
            await take_cable_out(driver, pics, connector_id)
        except Inconclusive:
            pass  # already out (the case's driver action failed half-way)
        track.plugged.discard(connector_id)
        await _available_within(cp, track, connector_id, triggered)
    for connector_id in connector_ids(pics, with_zero=False):
        await _connector_available(cp, driver, pics, track, connector_id)


async def _stop_transactions(cp: Session, track: Tracker, wait: float) -> None:
    """RemoteStopTransaction for every transaction the harness saw start and not stop, its
    StopTransaction waited for ``wait`` seconds."""
    for transaction_id in list(track.open_tx):
        response = await _call(cp, "RemoteStopTransaction", {"transactionId": transaction_id})
        if response.error is None and response.status == "Accepted" and wait > 0:
            await _quiet_expect(cp, "StopTransaction",
                                lambda p, t=transaction_id: p.get("transactionId") == t, wait)
        track.open_tx.pop(transaction_id, None)


async def _call(cp: Session, action: str, payload: dict) -> Response:
    """A CALL of the clean-up. The session fails every wait, a CALL's too, when the device breaks
    the protocol; a retry of a refused transaction message arriving meanwhile is the earlier
    case's (forgiven, :func:`_forgive_retries`) and the CALL is made again, its first answer
    passed over (the clean-up's CALLs are safe to repeat: a second RemoteStopTransaction of a
    transaction stopped is Rejected, a second CancelReservation of one cancelled too). Any other
    violation ends the clean-up."""
    for _ in range(3):
        try:
            return await cp.call(action, payload)
        except ProtocolViolation:
            if not _forgive_retries(cp, tracker(cp)):
                raise
    return await cp.call(action, payload)


async def _transfer_ends(cp: Session, pics: Any, track: Tracker, kind: str) -> None:
    """A firmware update or diagnostics upload a case left under way: its status notifications
    taken to an end state, the firmware's reboot taken as it comes, within its bound."""
    action = ("FirmwareStatusNotification" if kind == "firmware"
              else "DiagnosticsStatusNotification")
    while (transfer := getattr(track, kind)) is not None:
        left = transfer.deadline - time.monotonic()
        if left <= 0 and transfer.status == "Requested":
            # Not one status notification within the whole bound: nothing is known to be going
            # on; the device is not held for it.
            setattr(track, kind, None)
            break
        if left <= 0:
            raise NotIdle(f"the {kind} {'update' if kind == 'firmware' else 'upload'} a case "
                          f"left under way did not end within its bound (last {action} "
                          f"{transfer.status!r})", track.dirt(pics))
        request = await _quiet_expect(cp, (action, "BootNotification"), None, left)
        if request is None:
            continue
        observe(cp)
        if request.action == "BootNotification":
            await _rebooted(cp, pics)
            if kind == "firmware" and track.firmware is not None:
                # Rebooted to install: its last status comes now, or never (some devices
                # report nothing more after the boot).
                if await _quiet_expect(cp, action, None,
                                       pics.timing.triggered_function_timeout) is not None:
                    observe(cp)
                track.firmware = None


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
        response = await _call(cp, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                                      "connectorId": connector_id})
        if response.error is None and response.status == "Accepted":
            await _quiet_expect(cp, "StatusNotification",
                                lambda p: p.get("connectorId") == connector_id, triggered)
            observe(cp)
            if track.status.get(connector_id) == "Available":
                return
    pending = track.status.get(connector_id) == "Preparing" and connector_id in track.pending_until
    lapse = track.pending_lapse.get(connector_id, 0.0)
    if pending:
        # An authorization waiting for a cable the harness never plugged: it ends by itself
        # after ConnectionTimeOut (section 9.1.9). Presenting the idTag again would restart it on
        # many charge points; so it is waited out, counted from its last (re)start.
        until = track.pending_until[connector_id]
        if until == float("inf"):
            raise NotIdle(f"connector {connector_id} stays 'Preparing' (an authorization "
                          f"waiting for a cable) and its ConnectionTimeOut "
                          f"{track.pending_lapse.get(connector_id, 0):g} s is longer than the Idle state waits "
                          f"({MAX_CONNECTION_TIMEOUT_S:g} s)", f"Preparing (connector {connector_id})")
        wait = max(0.0, until - time.monotonic()) + triggered
        if await _available_within(cp, track, connector_id, wait):
            return
    elif track.status.get(connector_id) in BUSY:
        try:
            await take_cable_out(driver, pics, connector_id)
        except Inconclusive:
            pass  # no cable in: nothing to unplug
        if await _available_within(cp, track, connector_id, triggered):
            return
        if (track.status.get(connector_id) in RUNNING and pics.features.rfid_readers
                and await _stop_by_id_tag(cp, driver, pics, track, connector_id)):
            return
    if track.status.get(connector_id) == "Preparing" and pics.features.rfid_readers:
        # Still authorized past its ConnectionTimeOut (the device does not honour it): the last
        # resort is the idTag presented once more, which ends the authorization on a charge
        # point that reads it so. The harness knows the candidates, latest first: the idTags it
        # presented or remote-started.
        for id_tag in _known_tags(track, connector_id):
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
        await _call(cp, "UnlockConnector", {"connectorId": connector_id})
        if await _available_within(cp, track, connector_id, triggered):
            return
    if track.status.get(connector_id) == "Unavailable":
        await _call(cp, "ChangeAvailability", {"connectorId": connector_id, "type": "Operative"})
    # A status on its way (a cancelled reservation, a stop, an unlock): give it the time a
    # triggered message may take.
    if await _available_within(cp, track, connector_id, triggered):
        return
    status = track.status.get(connector_id)
    raise NotIdle(f"connector {connector_id} stays {status!r}, not Available"
                  + (f" (an authorization pending past its ConnectionTimeOut "
                     f"{lapse:g} s, waited out, then the "
                     f"idTag presented once more and UnlockConnector)" if pending else ""),
                  f"{status} (connector {connector_id})")


def _known_tags(track: Tracker, connector_id: int) -> list[str]:
    """The idTags the harness knows for a connector, latest first: those it presented or
    remote-started there or naming no connector, the last authorized, the last that started a
    transaction there."""
    candidates = [*reversed(track.tags.get(connector_id, [])),
                  *reversed(track.tags.get(None, [])), track.last_authorized,
                  track.last_tag.get(connector_id)]
    return list(dict.fromkeys(t for t in candidates if t))


async def _stop_by_id_tag(cp: Session, driver: Any, pics: Any, track: Tracker,
                          connector_id: int) -> bool:
    """A transaction still running with the EV gone (SuspendedEV/SuspendedEVSE after an EV-side
    unplug with StopTransactionOnEVSideDisconnect false) whose transactionId the harness does not
    know (its StartTransaction was refused, so RemoteStopTransaction cannot name it): stopped the
    way a user ends it, the idTag that started it presented again (OCPP 1.6: a
    StopTransaction with reason Local), then the cable taken out. True when the connector is
    Available."""
    triggered = pics.timing.triggered_function_timeout
    for id_tag in _known_tags(track, connector_id):
        try:
            await driver.present_id_tag(id_tag, connector_id,
                                        timeout=pics.timing.response_timeout)
        except Inconclusive:
            continue
        await _quiet_expect(cp, "StatusNotification",
                            lambda p: p.get("connectorId") == connector_id
                            and p.get("status") not in RUNNING, triggered)
        observe(cp)
        if track.status.get(connector_id) in RUNNING:
            continue
        try:
            await take_cable_out(driver, pics, connector_id)
        except Inconclusive:
            pass  # the cable left with the EV
        return await _available_within(cp, track, connector_id, triggered)
    return False


async def _available_within(cp: Session, track: Tracker, connector_id: int, timeout: float) -> bool:
    observe(cp)
    if track.status.get(connector_id) == "Available":
        return True
    request = await _quiet_expect(
        cp, "StatusNotification",
        lambda p: p.get("connectorId") == connector_id and p.get("status") == "Available", timeout)
    observe(cp)
    return request is not None or track.status.get(connector_id) == "Available"


async def _quiet_expect(cp: Session, action: Any, where: Any, timeout: float) -> Request | None:
    """The device's next ``action`` request within ``timeout``, None if none came. A retry of a
    refused transaction message (its violation) does not end the wait: it is the earlier case's,
    forgiven here (:func:`_forgive_retries`) while the retries may last."""
    until = time.monotonic() + timeout
    while True:
        try:
            return await cp.expect(action, where, timeout=max(0.0, until - time.monotonic()),
                                   what=f"Idle: {action}")
        except DeviceTimeout:
            return None
        except ProtocolViolation:
            if not _forgive_retries(cp, tracker(cp)):
                raise
            if time.monotonic() >= until:
                return None


def _forgive_retries(cp: Session, track: Tracker) -> bool:
    """Move the session's violations that are retries of a refused transaction message out of
    the verdict of the case being prepared (its wire log keeps them); True if every violation was
    one (the others still make the Idle state INCONCLUSIVE)."""
    track.took_violations(cp.violations)
    retries = [v for v in cp.violations if retried_message(v) in track.retrying]
    for violation in retries:
        cp.violations.remove(violation)
        track.last_violation = str(violation)
    return bool(retries) and not cp.violations


async def _retries_out(cp: Session, pics: Any, track: Tracker) -> None:
    """Wait out the device's retries of the transaction messages the harness refused (they hold
    back its other messages on many devices), bounded by its own retry timers: the bound is
    counted again at every attempt that comes (:meth:`Tracker.retries_until`), and all of them
    within :data:`MAX_RETRY_WAIT_S` (a device that keeps making messages it gets
    refused, one after the other, is stuck)."""
    deadline = time.monotonic() + MAX_RETRY_WAIT_S
    while track.retrying and (left := track.retries_until() - time.monotonic()) > 0:
        if time.monotonic() >= deadline:
            raise NotIdle(f"the device kept retrying transaction messages the harness refused "
                          f"for {MAX_RETRY_WAIT_S:g} s (last: {track.last_violation})",
                          "retrying refused transaction messages")
        left = min(left, deadline - time.monotonic())
        try:
            await cp.expect(TRANSACTION_MESSAGES, lambda p: False, timeout=left,
                            what="Idle: the end of the device's retries")
        except DeviceTimeout:
            pass
        except ProtocolViolation:
            if not _forgive_retries(cp, track):
                raise
        observe(cp)
