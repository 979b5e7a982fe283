"""The Tracker: what the harness has seen of the device on the wire, across cases (last status
of every connector, open transactions, reservations, Inoperative connectors, profiles, changed
keys, transfers, cables, ConnectionTimeOut), learnt from the session's call observer and the
driver's actions, kept on the session's stash and in device-state.json between runs.
Rule: it only observes and records; it sends nothing and waits for nothing.
"""

from __future__ import annotations

import functools
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from harness.session import (DeviceTimeout, Request, Response, Session,
                             StashKey, Violation)
from harness.states import connector_ids
from harness.states.idle.model import (BOOT_CALL, DIAGNOSTICS_END, FIRMWARE_END,
                                       MAX_CONNECTION_TIMEOUT_S, MAX_RETRY_WAIT_S, Stuck, Transfer,
                                       WRITE_ONLY_KEYS, retried_message, seconds, transfer_bound)


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
    connection_timeout: float | None = None
    """The ConnectionTimeOut in force, seconds, as the harness last configured or read it (the
    PICS value until then)."""
    connection_timeouts: list[tuple[float, float]] = field(default_factory=list)
    """(time.monotonic(), value) of every ConnectionTimeOut the harness set or read: the value in
    force when an authorization began is the one its timer runs with."""
    pending_lapse: dict[int, float] = field(default_factory=dict)
    """connectorId -> the ConnectionTimeOut the pending authorization there runs with."""
    pending_until: dict[int, float] = field(default_factory=dict)
    """connectorId -> time.monotonic() by which the authorization pending there (Preparing, no
    cable of the harness) ends by ConnectionTimeOut, as counted from its last (re)start."""
    firmware: Transfer | None = None
    """A firmware update under way (UpdateFirmware Accepted, no end status seen)."""
    diagnostics: Transfer | None = None
    """A diagnostics upload under way (GetDiagnostics answered with a fileName, no end status)."""
    profiles: dict[int, int] = field(default_factory=dict)
    """chargingProfileId -> connectorId of profiles the harness installed and did not clear."""
    config_known: dict[str, str] = field(default_factory=dict)
    """Configuration key -> its value as the device last reported it (GetConfiguration) or the
    harness last set it; the PICS [configuration] until then."""
    config_original: dict[str, str] = field(default_factory=dict)
    """Key -> the device's value before the harness first changed it, for keys changed and not
    restored."""
    config_device: set[str] = field(default_factory=set)
    """Keys whose ``config_known`` value is the device's own: reported by GetConfiguration, or
    put back to its original (a PICS value is a claim, not a reading)."""
    config_lost: dict[str, str] = field(default_factory=dict)
    """Key -> why it could not be restored: changed by the harness with its original unknown
    (unreadable before the change), or not taken back. Never taken for an original again."""
    unreadable: dict[str, str] = field(default_factory=dict)
    """Key -> why the read before the harness's change gave no value (:meth:`prepare`)."""
    session: Any = None
    """The session whose case a key that cannot be restored is remarked on."""
    retrying: dict[str, set[float]] = field(default_factory=dict)
    """A transaction message the device will retry (answered with a CALLERROR), as
    :func:`retried_message` names it -> the times (time.monotonic()) the harness saw its attempts."""
    boot_refused_at: float = 0.0
    """time.monotonic() of the device's last BootNotification the harness did not accept (a
    violation answered with a CALLERROR, or answered Pending or Rejected by a case)."""
    boot_accepted_at: float = 0.0
    """time.monotonic() of its last BootNotification answered Accepted."""
    stuck: Stuck | None = None
    """Set when the device could not be brought idle: later cases are BLOCKED (plugin)."""
    started: bool = False
    """The start-of-run known state (:func:`known_state`) was done."""
    last_violation: str | None = None
    """The device's last protocol violation the harness saw (in an earlier case, maybe)."""
    seen: int = 0
    """How many of the session's current ``requests`` were already taken in."""
    requests: Any = None
    """The session's ``requests`` list ``seen`` counts in (a new case starts a new list)."""
    pics: Any = None

    def take(self, request: Request) -> None:
        action, p = request.action, request.payload
        at = request.frame.mono_ns / 1e9 if request.frame is not None else time.monotonic()
        if action == "StatusNotification":
            connector_id, status = p.get("connectorId"), p.get("status")
            before = self.status.get(connector_id)
            self.status[connector_id] = status
            if status == "Preparing" and before != "Preparing":
                self._authorization_started(connector_id, at)
            elif status != "Preparing":
                self.pending_until.pop(connector_id, None)
            if status == "Available":
                # A connector Available has no transaction and no reservation left.
                self.open_tx = {t: v for t, v in self.open_tx.items() if v[0] != connector_id}
                self.reservations = {r: c for r, c in self.reservations.items()
                                     if c != connector_id}
        elif action == "StartTransaction":
            answer = request.answer if isinstance(request.answer, dict) else {}
            if answer.get("transactionId") is not None:
                self.open_tx[answer["transactionId"]] = (p.get("connectorId"), p.get("idTag"))
            self.reservations.pop(p.get("reservationId"), None)  # the reservation is used
            self.last_tag[p.get("connectorId")] = p.get("idTag")
            self.pending_until.pop(p.get("connectorId"), None)
        elif action == "Authorize":
            self.last_authorized = p.get("idTag")
            # It names no connector: a Preparing connector may have just been authorized again,
            # which restarts its ConnectionTimeOut.
            for connector_id in self.pending_until:
                self._authorization_started(connector_id, at)
        elif action == "StopTransaction":
            self.open_tx.pop(p.get("transactionId"), None)
        elif action == "BootNotification":
            self.powered_off = self.reset_unseen = False
            answer = request.answer if isinstance(request.answer, dict) else {}
            if answer.get("status") == "Accepted":
                self.boot_accepted_at = max(self.boot_accepted_at, at)
            else:
                self.boot_refused_at = max(self.boot_refused_at, at)
            self.status.clear()  # the boot reports every connector again
            self.pending_until.clear()
            if self.firmware is not None:
                self.firmware.rebooted = True
        elif action == "FirmwareStatusNotification" and self.firmware is not None:
            self.firmware.status = str(p.get("status"))
            if self.firmware.status in FIRMWARE_END:
                self.firmware = None
        elif action == "DiagnosticsStatusNotification" and self.diagnostics is not None:
            self.diagnostics.status = str(p.get("status"))
            if self.diagnostics.status in DIAGNOSTICS_END:
                self.diagnostics = None

    def _authorization_started(self, connector_id: int, at: float) -> None:
        if connector_id in self.plugged:
            return  # Preparing because of the harness's cable: unplugging ends it
        lapse = self.connection_timeout_at(at)
        self.pending_lapse[connector_id] = lapse
        self.pending_until[connector_id] = at + min(lapse, MAX_CONNECTION_TIMEOUT_S)
        if lapse > MAX_CONNECTION_TIMEOUT_S:
            self.pending_until[connector_id] = float("inf")

    def retries_until(self) -> float:
        """When the device's retries of the transaction messages the harness refused end at the
        latest (time.monotonic()), from its own timers (section 4.7): a message refused n times
        is tried again TransactionMessageRetryInterval x n after its last attempt, unless n is
        TransactionMessageAttempts (the device's values as the harness knows them, else the
        PICS's); plus the triggered function timeout for the attempt to arrive. After the last
        allowed attempt the device sends what it queued behind it at once, maybe another message
        it gets refused (the MeterValues of a transaction, one after the other): the wait lasts
        the triggered function timeout more for it. Bounded by :data:`MAX_RETRY_WAIT_S` after the
        first attempt."""
        if not self.retrying:
            return 0.0
        attempts = seconds(self.config_known.get("TransactionMessageAttempts", ""), None) or 3
        interval = seconds(self.config_known.get("TransactionMessageRetryInterval", ""), None)
        interval = 60.0 if interval is None else interval
        limit = max(1, min(int(attempts), 10))
        triggered = (self.pics.timing.triggered_function_timeout if self.pics is not None
                     else 30.0)
        ends = []
        for seen in self.retrying.values():
            first, last, n = min(seen), max(seen), len(seen)
            end = last + (0.0 if n >= limit else interval * n) + triggered
            ends.append(min(end, first + MAX_RETRY_WAIT_S))
        return max(ends)

    @property
    def not_accepted(self) -> bool:
        """The device's last boot was not accepted: it sends nothing but BootNotification until
        it is (OCPP 1.6 section 4.2), and only a new boot brings it back."""
        return self.boot_refused_at > self.boot_accepted_at

    def took_violations(self, violations: list[Violation]) -> None:
        for violation in violations:
            text = violation.text if isinstance(violation.text, str) else ""
            if BOOT_CALL.match(text[:200]):
                self.boot_refused_at = max(self.boot_refused_at, violation.at)
            message = retried_message(violation)
            if message is not None:
                self.retrying.setdefault(message, set()).add(violation.at)

    def connection_timeout_at(self, at: float) -> float:
        """The ConnectionTimeOut in force at ``at`` (time.monotonic()), as the harness knows it."""
        lapse = None
        for when, value in self.connection_timeouts:
            if when <= at:
                lapse = value
        if lapse is None:
            lapse = self.connection_timeout
        return lapse if lapse is not None else 60.0  # the key's usual default

    def _connection_timeout_now(self, value: Any) -> None:
        lapse = seconds(value, None)
        if lapse is not None:
            self.connection_timeout = lapse
            self.connection_timeouts.append((time.monotonic(), lapse))

    # --- the harness's own calls (Session.call_observers) --------------------------------------

    def sending(self, action: str, payload: dict) -> None:
        if action == "RemoteStartTransaction":
            # Noted as it leaves: the charge point may act on it even if its answer never comes.
            self.tags.setdefault(payload.get("connectorId"), []).append(payload.get("idTag"))

    def answered(self, action: str, payload: dict, response: Response) -> None:
        """A CALL the harness made and its answer."""
        status = response.status if response.error is None else None
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
        elif action == "SetChargingProfile" and status == "Accepted":
            profile = payload.get("csChargingProfiles") or {}
            # A TxProfile ends with its transaction (section 3.13.4), which the Idle state
            # stops anyway; the others stay installed until cleared.
            if profile.get("chargingProfileId") is not None \
                    and profile.get("chargingProfilePurpose") != "TxProfile":
                self.profiles[profile["chargingProfileId"]] = payload.get("connectorId")
        elif action == "ClearChargingProfile" and status in ("Accepted", "Unknown"):
            if payload.get("id") is not None:
                self.profiles.pop(payload["id"], None)
            elif not any(k in payload for k in ("connectorId", "chargingProfilePurpose",
                                                "stackLevel")):
                self.profiles.clear()  # every profile
            elif status == "Unknown":
                # Nothing matched the criteria: the harness's record of what matched was stale.
                self.profiles = {i: c for i, c in self.profiles.items()
                                 if payload.get("connectorId") not in (None, c)}
        elif action == "ChangeConfiguration" and status in ("Accepted", "RebootRequired"):
            key, value = str(payload.get("key")), str(payload.get("value"))
            self._changed(key)
            self.config_known[key] = value
            if self.config_original.get(key) == value:
                self.config_original.pop(key)  # restored
                self.config_device.add(key)
            if key == "ConnectionTimeOut":
                self._connection_timeout_now(value)
        elif action == "GetConfiguration" and response.error is None:
            for item in response.get("configurationKey") or []:
                if isinstance(item, dict) and isinstance(item.get("key"), str) \
                        and item.get("value") is not None:
                    self.config_known[item["key"]] = str(item["value"])
                    self.config_device.add(item["key"])
                    if item["key"] == "ConnectionTimeOut" and \
                            seconds(item["value"], None) != self.connection_timeout:
                        self._connection_timeout_now(item["value"])
        elif action == "UpdateFirmware" and response.error is None:
            self.firmware = Transfer(deadline=time.monotonic() + transfer_bound(self.pics, payload))
        elif action == "GetDiagnostics" and response.error is None and response.get("fileName"):
            self.diagnostics = Transfer(deadline=time.monotonic()
                                        + transfer_bound(self.pics, payload))

    def _changed(self, key: str) -> None:
        """The harness's change of ``key`` was accepted: its original is the device's value before
        the harness's first change, known from a reading (or, for a write-only key, the PICS),
        else the key could not be restored -- never the harness's own earlier value."""
        if key in self.config_original or key in self.config_lost:
            return
        declared = self._declared_secret(key)
        if key in self.config_device:
            self.config_original[key] = self.config_known[key]
        elif declared is not None:
            self.config_original[key] = declared
        else:
            why = self.unreadable.pop(key, "its value before the change was never read")
            self.config_lost[key] = why
            if self.session is not None:
                self.session.remark(f"ChangeConfiguration {key}: {why}; the harness cannot put "
                                    f"back the device's original value: {key} could not be "
                                    "restored after the case")

    def _declared_secret(self, key: str) -> str | None:
        if key not in WRITE_ONLY_KEYS or self.pics is None:
            return None
        return getattr(getattr(self.pics, "security", None), "basic_auth_password", None)

    async def prepare(self, cp: Session, action: str, payload: dict) -> None:
        """Before a CALL of the harness leaves (:attr:`Session.call_preparers`): a key about to be
        changed for the first time whose device value the harness never read is read now
        (GetConfiguration), so that it can be put back. A write-only key is not read."""
        key = payload.get("key")
        if action != "ChangeConfiguration" or not isinstance(key, str):
            return
        self.session = cp
        if key in self.config_original or key in self.config_lost \
                or key in self.config_device or key in WRITE_ONLY_KEYS:
            return
        try:
            response = await cp.call("GetConfiguration", {"key": [key]})
        except DeviceTimeout as exc:
            self.unreadable[key] = f"GetConfiguration of it before the change: {exc}"
            return
        if key not in self.config_device:
            self.unreadable[key] = (
                f"GetConfiguration of it before the change was answered with CALLERROR "
                f"{response.error.error_code}" if response.error is not None
                else "GetConfiguration of it before the change reported no value")

    def clean(self, pics: Any) -> bool:
        from harness.clock import parse_time
        now = datetime.now(timezone.utc)
        for reservation_id in list(self.reservations):
            ends = parse_time(self.expiry.get(reservation_id) or "")
            if ends is not None and ends.tzinfo is not None and ends <= now:
                self.reservations.pop(reservation_id)  # expired
        return (not self.powered_off and not self.reset_unseen and not self.plugged
                and not self.not_accepted
                and not self.open_tx and not self.reservations
                and not self.inoperative and self.firmware is None and self.diagnostics is None
                and not self.profiles and not self.config_original
                and all(self.status.get(c, "Available") == "Available"
                        for c in connector_ids(pics, with_zero=False)))

    # --- across runs ----------------------------------------------------------------------------

    def leftovers(self, charge_point_id: str) -> dict[str, Any]:
        """What the harness made on the device and did not undo, for the next run against it
        (:data:`STATE_FILE`): reservations (with their expiry), charging profiles, changed keys."""
        return {"charge_point_id": charge_point_id,
                "reservations": [{"reservationId": r, "connectorId": c,
                                  "expiryDate": self.expiry.get(r)}
                                 for r, c in sorted(self.reservations.items())],
                "charging_profiles": [{"chargingProfileId": i, "connectorId": c}
                                      for i, c in sorted(self.profiles.items())],
                "configuration": {k: v for k, v in sorted(self.config_original.items())
                                  if k not in WRITE_ONLY_KEYS},
                **({"configuration_not_restored": dict(sorted(self.config_lost.items()))}
                   if self.config_lost else {})}

    def adopt(self, data: Any, charge_point_id: str) -> list[str]:
        """Take over what an earlier run left (``leftovers``) for the same charge point; returns
        what was taken, in words. Anything malformed is ignored, never trusted."""
        if not isinstance(data, dict) or data.get("charge_point_id") != charge_point_id:
            return []
        taken = []
        for item in data.get("reservations") or []:
            if isinstance(item, dict) and isinstance(item.get("reservationId"), int) \
                    and isinstance(item.get("connectorId"), int):
                self.reservations[item["reservationId"]] = item["connectorId"]
                if isinstance(item.get("expiryDate"), str):
                    self.expiry[item["reservationId"]] = item["expiryDate"]
                taken.append(f"reservation {item['reservationId']}")
        for item in data.get("charging_profiles") or []:
            if isinstance(item, dict) and isinstance(item.get("chargingProfileId"), int):
                self.profiles[item["chargingProfileId"]] = item.get("connectorId")
                taken.append(f"charging profile {item['chargingProfileId']}")
        for key, value in (data.get("configuration") or {}).items():
            if isinstance(key, str) and isinstance(value, str):
                self.config_original[key] = value
                taken.append(f"configuration key {key}")
        for key, why in (data.get("configuration_not_restored") or {}).items():
            if isinstance(key, str) and isinstance(why, str):
                # Its value now is an earlier run's, not the device's: never an original.
                self.config_lost[key] = why
                taken.append(f"configuration key {key} (not restored)")
        return taken

    def took_action(self, action: str, params: dict) -> None:
        """A driver action done (:func:`watch_driver`)."""
        connector_id = params.get("connectorId")
        if action == "present_id_tag":
            self.tags.setdefault(connector_id, []).append(params.get("idTag"))
            # A new authorization (or a second presentation read as one): ConnectionTimeOut
            # starts again on a Preparing connector.
            for pending in list(self.pending_until):
                if connector_id in (None, pending):
                    self._authorization_started(pending, time.monotonic())
        elif action == "plug_in":
            self.plugged.add(connector_id)
            self.pending_until.pop(connector_id, None)
        elif action in ("unplug", "remove_cable"):
            self.plugged.discard(connector_id)
        elif action == "power_off":
            self.powered_off = True
        elif action in ("power_on", "power_cycle"):
            self.powered_off = False

    def dirt(self, pics: Any) -> str:
        """What is left, in the words of "the device stayed ...", most telling first."""
        if self.powered_off:
            return "powered off"
        if self.not_accepted:
            return "not accepted (its last BootNotification refused)"
        if self.firmware is not None:
            return f"in a firmware update (last status {self.firmware.status!r})"
        if self.diagnostics is not None:
            return f"in a diagnostics upload (last status {self.diagnostics.status!r})"
        busy = [(c, s) for c in connector_ids(pics, with_zero=False)
                if (s := self.status.get(c, "Available")) != "Available"]
        if busy:
            return ", ".join(f"{s} (connector {c})" for c, s in busy)
        if self.open_tx:
            return f"in transaction {min(self.open_tx)}"
        if self.reservations:
            return f"reserved (reservation {min(self.reservations)})"
        if self.profiles:
            return f"with charging profile {min(self.profiles)} installed"
        if self.config_original:
            return f"with {', '.join(sorted(self.config_original))} changed"
        return "busy"


STATE_FILE = "device-state.json"
"""In the report directory: what the harness left on the charge point at the end of a run
(:meth:`Tracker.leftovers`), undone at the start of the next run against the same charge point."""


TRACKER = StashKey[Tracker]()
"""The session's tracker, on :attr:`Session.stash`."""


def tracker(cp: Session, pics: Any = None) -> Tracker:
    """The session's tracker; the first time, it also starts observing the harness's own calls."""
    known = cp.stash.get(TRACKER)
    if known is None:
        known = cp.stash[TRACKER] = Tracker()
        cp.call_observers.append(known)
        if hasattr(cp, "call_preparers"):
            cp.call_preparers.append(functools.partial(known.prepare, cp))
    if pics is not None and known.pics is None:
        known.pics = pics
        known.connection_timeout = seconds(pics.configuration.get("ConnectionTimeOut", ""), None)
        known.config_known.update({k: str(v) for k, v in pics.configuration.items()})
    return known


def observe(cp: Session, pics: Any = None) -> Tracker:
    """Take in what the charge point sent since the last look (the plugin calls it before a case's
    ``begin`` clears the session's requests, so nothing sent between two cases is missed)."""
    track = tracker(cp, pics)
    if track.requests is not cp.requests:
        track.requests, track.seen = cp.requests, 0
    for request in cp.requests[track.seen:]:
        track.take(request)
    track.seen = len(cp.requests)
    if cp.violations:
        track.last_violation = str(cp.violations[-1])
        track.took_violations(cp.violations)
    return track


def watch_driver(driver: Any, track: Tracker) -> None:
    """Note the driver's actions that change the device (a cable plugged, a card presented, the
    power cut) even when the case fails before undoing them: through the driver's action observer
    hook (:meth:`harness.drivers.base.Driver.observe_actions`), or, for a driver object without
    it, by wrapping its ``perform``."""
    if getattr(driver, "_idle_watched", False):
        return
    driver._idle_watched = True
    observe_actions = getattr(driver, "observe_actions", None)
    if callable(observe_actions):
        observe_actions(track.took_action)
        return
    perform = driver.perform

    async def watched(action: str, params: dict, *, timeout: float) -> dict:
        result = await perform(action, params, timeout=timeout)
        track.took_action(action, params)
        return result

    driver.perform = watched
