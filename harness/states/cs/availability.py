"""Availability: ChangeAvailability and the statuses after a boot. Rule: a connector made
Inoperative by a case is Operative again when the case ends.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from harness.session import Response, Session
from harness.states import connector_ids
from harness.states.assertions import cite
from harness.states.cs.messages import quietly, status_until


async def change_availability(cp: Session, pics: Any, connector_id: int, kind: str, *,
                              step: str) -> Response:
    response = await cp.call("ChangeAvailability", {"connectorId": connector_id, "type": kind})
    assert response.error is None, (
        f"{step}: ChangeAvailability {kind} for connector {connector_id} was answered with CALLERROR "
        f"{response.error.error_code if response.error else ''}, expected Accepted ({cite(response)})")
    return response


@asynccontextmanager
async def operative_at_end(cp: Session, pics: Any, connector_id: int) -> AsyncIterator[list[bool]]:
    """Makes ``connector_id`` (0: the whole charge point) Operative again at the end if the case
    left it Inoperative. The case sets ``flag[0] = False`` once it restored it itself."""
    flag = [True]
    failed = False
    try:
        yield flag
    except BaseException:
        failed = True
        raise
    finally:
        async def undo() -> None:
            if flag[0]:
                if not cp.connected:
                    await cp.wait_connected(pics.timing.boot_timeout)
                await cp.call("ChangeAvailability", {"connectorId": connector_id,
                                                     "type": "Operative"})
                targets = connector_ids(pics, with_zero=False) if connector_id == 0 else [connector_id]
                for c in targets:
                    await status_until(cp, pics, c, "Available")
        await quietly(undo, failed)
