"""The harness's charge point registering with a central system under test (OCPP 1.6 section 4.2).

A central system may answer a BootNotification Pending before it accepts the charge point (an
operator still has to register it, it first reads or sets the configuration). Section 4.2: with
Pending, ``interval`` is the minimum wait before the next BootNotification (zero: the charge point
chooses), the charge point SHOULD NOT send it earlier unless a TriggerMessage BootNotification asks
for it, and it sends no other request meanwhile; the central system MAY send requests, which the
session's default answers take. :func:`register` does exactly that, woken by the TriggerMessage or
the interval, bounded by the PICS ``timing.boot_timeout`` from the first BootNotification; the
caller judges the final answer (Accepted expected) as before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from harness.session import DeviceTimeout, Response, Session
from harness.states import boot_notification

__all__ = ["Registration", "register", "answered"]


def answered(response: Response, step: int | str | None = None) -> Response:
    """Every request of the charge point must get a CALLRESULT: a CALLERROR is a FAIL."""
    if response.error is not None:
        where = ("" if step is None else f"step {step}: " if str(step)[:1].isdigit()
                 else f"{step}: ")
        raise AssertionError(
            f"{where}{response.action}.req was answered with CALLERROR "
            f"{response.error.error_code} ({response.error.error_description!r}), expected a "
            f"{response.action}.conf (wire log line {response.line})")
    return response


@dataclass
class Registration:
    """The BootNotifications of one registration: the last answer and the Pending ones before."""
    boot: Response
    """The last BootNotification.conf."""
    pending: int = 0
    """Pending answers before it."""
    waited_s: float = 0.0
    note: str = ""
    """Why the harness stopped retrying while still Pending, if it did."""

    @property
    def status(self) -> Any:
        return self.boot.status

    @property
    def line(self) -> int:
        return self.boot.line

    @property
    def after_pending(self) -> str:
        """'' or ' (after 2 Pending answers over 3.1 s ...)', for the caller's message."""
        if not self.pending:
            return ""
        return (f" (after {self.pending} Pending answer{'s' if self.pending != 1 else ''} over "
                f"{self.waited_s:.1f} s{'; ' + self.note if self.note else ''})")


def _triggers_boot(payload: dict) -> bool:
    return payload.get("requestedMessage") == "BootNotification"


async def register(csms: Session, pics: Any, *, step: int | str | None) -> Registration:
    """BootNotification.req of the harness's charge point, again while the central system answers
    Pending (module docstring); returns the last answer for the caller to judge."""
    started = time.monotonic()
    bound = pics.timing.boot_timeout
    boot = answered(await csms.call("BootNotification", boot_notification(pics)), step)
    registration = Registration(boot)
    while boot.status == "Pending":
        registration.pending += 1
        left = bound - (time.monotonic() - started)
        interval = boot.get("interval")
        wait = float(interval) if isinstance(interval, int) and interval > 0 \
            else pics.timing.response_timeout  # zero: the charge point chooses (4.2)
        if left <= 0:
            registration.note = f"PICS timing.boot_timeout {bound:g} s reached"
            break
        sent: list[Response] = []
        try:
            trigger = await csms.expect("TriggerMessage", _triggers_boot, timeout=min(wait, left))
            if trigger.follow_up is not None:
                # It came while the harness's BootNotification was outstanding and was answered
                # by default: the follow-up (harness.states.triggered) sends it; not twice.
                sent = await trigger.follow_up
        except DeviceTimeout:
            if wait > left:
                registration.note = (f"its retry interval {wait:g} s ends past the PICS "
                                     f"timing.boot_timeout {bound:g} s and no TriggerMessage "
                                     "BootNotification came")
                break
        boot = answered(sent[0] if sent else
                        await csms.call("BootNotification", boot_notification(pics)), step)
        registration.boot = boot
    registration.waited_s = time.monotonic() - started
    return registration
