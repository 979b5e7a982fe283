"""The Booted state: the charge point connected and its BootNotification Accepted, and the
settling after a (re)boot. Rule: one connection's boot; nothing here starts a transaction.
"""

from __future__ import annotations

from typing import Any

from harness.rpc import CP_ACTIONS
from harness.session import DeviceTimeout, HarnessError, Request, Session, StashKey
from harness.states import connector_ids, cs_connected
from harness.states.assertions import cite
from harness.transport import Link
from harness.states.cs.data import triggered
from harness.states.cs.messages import expect_since, next_status


SETTLED = StashKey[Link]()
"""The connection on which the harness last saw the charge point settle (booted and reported its
connectors, or reconnected without a boot), on :attr:`Session.stash`: the current connection is
settled when it is this one (a new connection never is)."""


def settled(cp: Session) -> None:
    """Mark the current connection as settled: a case that rebooted or reconnected the charge point
    and took its BootNotification and StatusNotifications itself says so at its end."""
    if cp.link is not None:
        cp.stash[SETTLED] = cp.link


async def booted(cp: Session, pics: Any) -> None:
    """Reusable state Booted: the charge point is connected and accepted, and has reported its
    connectors. On a connection the harness has not seen settle yet (the first case of a run, or
    after a reboot done outside these states) the harness waits for its BootNotification (answered
    Accepted by default) and the StatusNotification of connector 0 and every connector; a
    connection that brings no BootNotification is a reconnection and is taken as it is."""
    await cs_connected(cp, pics)
    if cp.link is not None and cp.stash.get(SETTLED) is cp.link:
        return
    try:
        await cp.expect("BootNotification", timeout=triggered(pics),
                        what="Booted: BootNotification on a new connection")
    except DeviceTimeout:
        # A reconnection, or a boot answered before the case began: the StatusNotifications the
        # device sent meanwhile are its start-up report, not answers to what the case does next
        # (a charge point that is the run's first case, still reporting as the case starts, had
        # its boot 'Available' taken for the Preparing of the case's first card).
        while True:
            try:
                await cp.expect("StatusNotification", timeout=0)
            except DeviceTimeout:
                break
        settled(cp)
        return
    await booted_statuses(cp, pics, step="Booted")
    settled(cp)


async def boot_retried(cp: Session, previous: Request, interval: float, *, since_ns: int,
                       not_on: Link | None, timeout: float, step: str) -> Request:
    """The charge point's next request after a BootNotification answered Rejected or Pending
    (``previous``): it must be a BootNotification again (OCPP 1.6 4.2: while not Accepted it sends
    nothing else), not before the ``interval`` it was given. Requests from before ``since_ns`` or on
    the connection ``not_on`` are passed over (see :func:`expect_since`)."""
    status = previous.answer["status"]
    again = await expect_since(cp, CP_ACTIONS, since_ns, not_on=not_on, timeout=timeout,
                               what=f"{step}: a new BootNotification after the {status} one")
    assert again.action == "BootNotification", (
        f"{step}: while {status} the charge point may send only BootNotification; it sent "
        f"{again.action} ({cite(again)})")
    if previous.answer_frame is None:
        raise HarnessError(f"{step}: the harness did not answer the {status} BootNotification")
    waited = (again.frame.mono_ns - previous.answer_frame.mono_ns) / 1e9
    assert waited >= interval, (
        f"{step}: the charge point retried BootNotification {waited:.3f} s after the {status} "
        f"answer, before the {interval:g} s interval it was given ({cite(again)})")
    return again


async def booted_statuses(cp: Session, pics: Any, *, step: str) -> dict[int, Request]:
    """After a BootNotification: one StatusNotification per connector and for connector 0."""
    seen: dict[int, Request] = {}
    for connector_id in connector_ids(pics):
        seen[connector_id] = await next_status(
            cp, pics, connector_id,
            what=f"{step}: StatusNotification for connector {connector_id} after the boot")
    return seen
