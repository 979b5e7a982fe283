"""Shared steps of the Remote Trigger cases, for both roles.

SUT charge point: :func:`trigger` sends TriggerMessage.req and :func:`triggered_message` waits for
the message it asked for, which must come after the TriggerMessage.conf (OCPP 1.6 section 5.17:
the charge point first answers, then sends). Messages of the same kind sent before the answer --
a periodic Heartbeat, a StatusNotification of an earlier change -- do not count.
"""

from __future__ import annotations

from typing import Any, Callable

from harness.session import Request, Response, Session
from harness.states.cs import cite, triggered


def answer_of(response: Response) -> str:
    return response.status if response.error is None else f"CALLERROR {response.error.error_code}"


async def trigger(cp: Session, message: str, connector_id: int | None = None) -> Response:
    """Harness: TriggerMessage.req for ``message`` (on ``connector_id`` if given)."""
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    return await cp.call("TriggerMessage", payload)


async def triggered_message(cp: Session, pics: Any, response: Response, action: str, *,
                            where: Callable[[dict], bool] | None = None, step: str) -> Request:
    """The ``action`` request the TriggerMessage answered by ``response`` caused: the first one
    (matching ``where``) sent after the answer, within the PICS triggered_function_timeout."""
    while True:
        request = await cp.expect(action, where, timeout=triggered(pics),
                                  what=f"{step}: the triggered {action}.req after "
                                       f"TriggerMessage.conf ({cite(response)})")
        if request.frame.mono_ns > response.frame.mono_ns:
            return request
