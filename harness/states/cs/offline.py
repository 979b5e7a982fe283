"""Offline: the connection cut and restored around a case, and the authorization of a
transaction started offline. Rule: the connection is always restored, even after a failure.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from harness.clock import parse_time
from harness.session import Request, Session
from harness.states.assertions import assert_status, cite
from harness.verdicts import Inconclusive, NotApplicable
from harness.states.cs.data import valid_tag
from harness.states.cs.messages import id_tag_info, next_status, quietly
from harness.states.cs.booted import settled
from harness.states.cs.configuration import Configuration
from harness.states.cs.charging import id_tag_cached


@dataclass
class Offline:
    """What :func:`offline` saw: when the charge point was told to go online again (harness wall
    clock, seconds since the epoch)."""
    online_wall: float | None = None


@asynccontextmanager
async def offline(cp: Session, driver: Any, pics: Any) -> AsyncIterator[Offline]:
    """[Cut the network] for the block, then [restore it] and wait for the charge point to
    reconnect (a reconnection, not a reboot: no BootNotification is needed)."""
    import time
    state = Offline()
    failed = False
    await driver.go_offline(timeout=pics.timing.response_timeout)
    if cp.connected:
        await cp.wait_disconnected(pics.timing.response_timeout)
    try:
        yield state
    except BaseException:
        failed = True
        raise
    finally:
        async def back() -> None:
            state.online_wall = time.time()
            await driver.go_online(timeout=pics.timing.response_timeout)
            await cp.wait_connected(pics.timing.boot_timeout)
            settled(cp)
        await quietly(back, failed)


async def status_after_reconnect(cp: Session, pics: Any, connector_id: int, wanted: tuple[str, ...],
                                 online_wall: float, *, step: str,
                                 timeout: float | None = None,
                                 passing: tuple[str, ...] = ()) -> Request:
    """The first StatusNotification for ``connector_id`` with a status in ``wanted`` after a
    reconnection. Statuses the charge point kept from its offline time (timestamp before the cut
    ended) are history and skipped, and so are the ``passing`` ones (states the offline session
    really went through, reported as the connection came back); any other fails."""
    while True:
        status = await next_status(cp, pics, connector_id, timeout=timeout,
                                   what=f"{step}: StatusNotification {' or '.join(wanted)} for "
                                        f"connector {connector_id}")
        if status["status"] in wanted:
            return status
        moment = parse_time(status.get("timestamp", ""))
        queued = moment is not None and moment.timestamp() <= online_wall
        if not queued and status["status"] not in passing:
            assert_status(status, *wanted, step=step)


@asynccontextmanager
async def offline_authorization(cp: Session, driver: Any, pics: Any, config: Configuration,
                                id_tag: str | None = None) -> AsyncIterator[str]:
    """Memory state for starting offline with a valid idTag (TC_037_1, TC_039): IdTagCached when the
    charge point has an authorization cache, else IdTagLocalAuthList (the idTag added with a
    Differential SendLocalList, removed again at the end), else the case relies on
    AllowOfflineTxForUnknownId=true -- and is N/A without any of the three. Yields how."""
    id_tag = id_tag or valid_tag(pics)
    if pics.features.authorization_cache and "AuthorizationCacheEnabled" not in config.skipped:
        await id_tag_cached(cp, driver, pics, id_tag)
        yield "IdTagCached"
        return
    if pics.features.local_auth_list and "LocalAuthListEnabled" not in config.skipped:
        version = await cp.call("GetLocalListVersion", {})
        current = max(0, int(version.get("listVersion", 0) or 0))
        # An empty list reports version 0 (section 5.10) whatever version the charge point keeps
        # for it, so a Differential update numbered 1 may be a VersionMismatch: into an empty list
        # the idTag goes with a Full update (no version check, the same list).
        kind = "Full" if current == 0 else "Differential"
        send = await cp.call("SendLocalList", {
            "listVersion": current + 1, "updateType": kind,
            "localAuthorizationList": [{"idTag": id_tag, "idTagInfo": id_tag_info(pics, id_tag)}]})
        if send.status != "Accepted":
            raise Inconclusive(f"memory state IdTagLocalAuthList: SendLocalList was answered "
                               f"{send.status!r} ({cite(send)})")
        failed = False
        try:
            yield "IdTagLocalAuthList"
        except BaseException:
            failed = True
            raise
        finally:
            await quietly(lambda: cp.call("SendLocalList", {
                "listVersion": current + 2, "updateType": kind,
                **({"localAuthorizationList": [{"idTag": id_tag}]} if kind == "Differential"
                   else {})}), failed)
        return
    if config.has("AllowOfflineTxForUnknownId"):
        yield "AllowOfflineTxForUnknownId"
        return
    raise NotApplicable("the charge point has no authorization cache, no local authorization list "
                        "and no AllowOfflineTxForUnknownId: it cannot authorize offline")
