"""What the Idle state knows of a charge point and the bounds it keeps: the statuses that count
as busy, the longest waits, the records of a transfer and of a device left stuck, and NotIdle.
Rule: data and pure functions only; no session, no waits.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any

from harness.session import (Violation)
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


BOOT_CALL = re.compile(r'^\s*\[\s*2\s*,\s*"[^"\\]{0,36}"\s*,\s*"BootNotification"')


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


def seconds(value: Any, default: float | None) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return default
    return number if number >= 0 else default


def transfer_bound(pics: Any, payload: dict) -> float:
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
