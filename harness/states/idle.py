"""Reusable state Idle for a charge point under test: every case starts from a known idle device.

A case that FAILs half-way leaves the charge point dirty (cable plugged, transaction running,
authorization pending, powered off, reservation held, a connector Inoperative, a firmware update or
a diagnostics upload under way, a charging profile installed, a configuration key changed).
Without this state the next cases fail their preparation on that leftover and a single device bug
shows as a cascade of unrelated verdicts. The plugin's ``cp`` fixture runs :func:`idle` before
every case.

Rules:

- The harness knows the device's state from what it has seen on the wire, across cases
  (:class:`Tracker`, kept on the session's stash): the last StatusNotification of every
  connector, the transactions started and not stopped, the reservations it made, the connectors it
  made Inoperative, the charging profiles it installed, the configuration keys it changed (each
  with the device's own value before the harness's first change, read with GetConfiguration just
  before that change when the harness had not read it: ``Session.call_preparers``; a key whose
  original stays unknown is reported "could not be restored", never given the harness's value), the
  firmware update and diagnostics upload it asked for and their last status, the cables it
  plugged, the ConnectionTimeOut in force. It learns the harness's own calls through the session's
  call observer hook and the driver's actions through a wrapper of ``driver.perform``.
- A device the harness saw idle costs nothing: no traffic at all.
- What is left is undone from that knowledge and from the device's own timers, each wait bounded by
  the PICS or the protocol: a transaction is stopped (RemoteStopTransaction), a reservation
  cancelled, a connector made Operative, a profile cleared by its id, a key restored, a cable the
  harness plugged unplugged; a firmware update or a diagnostics upload is waited for to its end
  state (and the firmware's reboot taken); a pending authorization with no cable is **waited out
  for ConnectionTimeOut** (the value the harness read or configured when it began, bounded by
  :data:`MAX_CONNECTION_TIMEOUT_S`). The idTag is never presented again while ConnectionTimeOut
  runs: many charge points read a second presentation as a new authorization and restart the
  timeout. Only a device that keeps the authorization past its ConnectionTimeOut (a device bug) is
  offered the idTag once, as a last resort.
- A transaction message the harness could not read (answered with a CALLERROR) is retried by the
  device (OCPP 1.6 section 4.7: TransactionMessageAttempts, TransactionMessageRetryInterval x the
  attempts so far), and many devices hold back every later message meanwhile. Those retries belong
  to the case that caused them: the Idle state waits them out within that bound, the violations
  they repeat kept out of the next case's verdict (its wire log still shows them). A retry is the
  same message again (same action and payload, whatever its uniqueId): the wait ends the
  triggered function timeout after its TransactionMessageAttempts-th attempt (time for a next
  refused message queued behind it), or when its next attempt is overdue. What the device sends
  meanwhile (Heartbeats it held back, sent back to back) is not measured for the next case.
- A device whose last BootNotification was not accepted (a case answered it Pending or Rejected
  and ended, or it broke the protocol and got a CALLERROR) sends nothing else until a boot is
  (section 4.2): no clean-up reaches it. The rig power-cycles it and its new boot is left to the
  case's Booted state, as on a fresh device, so the case's verdict is the one it has alone; a rig
  that cannot power-cycle leaves it stuck (NotIdle, later cases BLOCKED).
- A device that cannot be brought idle raises :class:`NotIdle` (an INCONCLUSIVE: the case under
  test has not started, so never a FAIL), naming what it stays in. The plugin then reports every
  later case BLOCKED by the case that left the device so, after a cheap re-check
  (:func:`recheck`), not with another clean-up each.
- At the start of a run (:func:`known_state`, the first case) the device is put in a known state
  from what it reports itself: a connector it reports Reserved by a reservation the harness does
  not know is freed where the protocol allows (it asks for the statuses when the device supports
  RemoteTrigger), and the rig's optional ``reset_device`` action is called when the driver has it.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Any

from harness.session import (DeviceTimeout, ProtocolViolation, Request, Response, Session,
                             StashKey, Violation)
from harness.states import connector_ids
from harness.states.cs import take_cable_out
from harness.verdicts import Inconclusive

BUSY = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing")
"""Statuses that mean an EV, a transaction or a pending authorization on the connector."""
RUNNING = ("Charging", "SuspendedEV", "SuspendedEVSE")
"""Statuses of a connector with a transaction running."""

MAX_RETRY_WAIT_S = 300.0
"""The longest the Idle state waits for a device's retries of a refused transaction message."""

MAX_CONNECTION_TIMEOUT_S = 300.0
"""The longest ConnectionTimeOut the Idle state waits out; a longer one is not waited for (the
case is INCONCLUSIVE and the next ones BLOCKED, with the value in the reason)."""

FIRMWARE_END = ("Installed", "DownloadFailed", "InstallationFailed", "Idle")
"""FirmwareStatusNotification statuses after which no update is under way (OCPP 1.6 section 7.25;
Idle only answers a TriggerMessage when nothing is going on)."""
DIAGNOSTICS_END = ("Uploaded", "UploadFailed", "Idle")
"""DiagnosticsStatusNotification statuses after which no upload is under way (section 7.24)."""


TRANSACTION_MESSAGES = ("StartTransaction", "StopTransaction", "MeterValues")
"""The messages a charge point retries after a CALLERROR (section 4.7; MeterValues: those of a
transaction)."""
_TRANSACTION_CALL = re.compile(r'^\s*\[\s*2\s*,\s*"([^"\\]{0,36})"\s*,\s*"('
                               + "|".join(TRANSACTION_MESSAGES) + ')"')
_BOOT_CALL = re.compile(r'^\s*\[\s*2\s*,\s*"[^"\\]{0,36}"\s*,\s*"BootNotification"')


def retried_message(violation: Violation) -> str | None:
    """What identifies the transaction message CALL a violation is about, if it is one: its action
    and its payload as written, so the device's retries of it (OCPP 1.6 section 4.7: the same
    message again, under a new uniqueId or the same) are counted as attempts of one message. Read
    from the frame by a pattern: the device's text never reaches a JSON parser here."""
    text = violation.text if isinstance(violation.text, str) else ""
    match = _TRANSACTION_CALL.match(text[:200])
    return f"{match.group(2)} {text[match.end():].strip()}" if match else None


class NotIdle(Inconclusive):
    """The charge point could not be brought idle before a case. ``stays`` says what it stays in,
    in words that follow "the device stayed": "Preparing (connector 1)", "disconnected", "in a
    firmware update (last status 'Installing')"."""

    def __init__(self, reason: str, stays: str) -> None:
        super().__init__(reason)
        self.stays = stays


WRITE_ONLY_KEYS = frozenset({"AuthorizationKey"})
"""Keys GetConfiguration never shows (the security white paper: AuthorizationKey is write-only):
not read before a change; their original is the value the PICS declares (security
basic_auth_password, which the device's accepted connection proves), else it could not be
restored. A secret: never in device-state.json, a remark or a reason."""


@dataclass
class Transfer:
    """A firmware update or a diagnostics upload the harness asked for and has not seen end."""
    status: str = "Requested"
    """The last status notification of it ("Requested": none yet)."""
    deadline: float = 0.0
    """time.monotonic() after which the Idle state waits for it no longer."""
    rebooted: bool = False
    """A firmware update: the BootNotification of its reboot came."""


@dataclass
class Stuck:
    """The device could not be brought idle: what it stayed in and since which case."""
    stays: str
    root: str
    """The case that left the device so: the last case that ran before the one that found it."""
    root_verdict: str
    found_by: str

    @property
    def how(self) -> str:
        return {"FAIL": "failed", "INCONCLUSIVE": "ended INCONCLUSIVE", "ERROR": "ended in ERROR",
                "PASS": "passed"}.get(self.root_verdict, f"ended {self.root_verdict}")

    @property
    def since(self) -> str:
        return f"{self.root} {self.how}"

    def blocked_reason(self) -> str:
        return f"not run: the device stayed {self.stays} since {self.since}"


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
        attempts = _seconds(self.config_known.get("TransactionMessageAttempts", ""), None) or 3
        interval = _seconds(self.config_known.get("TransactionMessageRetryInterval", ""), None)
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
            if _BOOT_CALL.match(text[:200]):
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
        lapse = _seconds(value, None)
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
                            _seconds(item["value"], None) != self.connection_timeout:
                        self._connection_timeout_now(item["value"])
        elif action == "UpdateFirmware" and response.error is None:
            self.firmware = Transfer(deadline=time.monotonic() + _transfer_bound(self.pics, payload))
        elif action == "GetDiagnostics" and response.error is None and response.get("fileName"):
            self.diagnostics = Transfer(deadline=time.monotonic()
                                        + _transfer_bound(self.pics, payload))

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


def _seconds(value: Any, default: float | None) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return default
    return number if number >= 0 else default


def _transfer_bound(pics: Any, payload: dict) -> float:
    """How long a firmware update or a diagnostics upload may go on by itself: every attempt
    (``retries`` + 1) one PICS transfer_timeout, the ``retryInterval`` between them, then a reboot
    (boot_timeout) and the triggered function timeout for its last status; counted from its start
    date when it lies ahead."""
    from harness.clock import parse_time
    files = getattr(pics, "files", None)
    transfer = files.transfer_timeout if files is not None else 60.0
    timing = getattr(pics, "timing", None)
    boot = timing.boot_timeout if timing is not None else 120.0
    triggered = timing.triggered_function_timeout if timing is not None else 30.0
    retries = payload.get("retries") if isinstance(payload.get("retries"), int) else 1
    interval = payload.get("retryInterval") if isinstance(payload.get("retryInterval"), int) else 0
    retries, interval = max(0, min(retries, 5)), max(0, min(interval, 600))
    ahead = 0.0
    start = parse_time(payload.get("retrieveDate") or payload.get("startTime") or "")
    if start is not None and start.tzinfo is not None:
        ahead = max(0.0, min((start - datetime.now(timezone.utc)).total_seconds(), 600.0))
    return ahead + (retries + 1) * transfer + retries * interval + boot + triggered


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
        known.connection_timeout = _seconds(pics.configuration.get("ConnectionTimeOut", ""), None)
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
