"""Waiting for the device's messages and answering them: the next request of an action (since
a moment, not on an old connection), StatusNotifications, the harness's answers to idTags.
Rule: every wait is bounded by a PICS timeout and woken by the message; what the harness
sends wrong is a HarnessError (ERROR), never the device's FAIL.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from harness.session import DeviceTimeout, HarnessError, Request, Session
from harness.states.assertions import cite
from harness.transport import Link
from harness.states.cs.data import DEFAULT, triggered


async def expect_since(cp: Session, actions: str | tuple[str, ...] | frozenset[str], since_ns: int,
                       where: Callable[[dict], bool] | None = None, *, timeout: float,
                       what: str, not_on: Link | None = None) -> Request:
    """The charge point's next ``actions`` request sent at or after ``since_ns`` (the harness's
    time.monotonic_ns(), the clock frames are stamped with) and not on the connection ``not_on``.
    Requests still waiting from before -- sent on the connection a power cycle closed, say, even
    as the power cycle was being asked for -- are passed over, not judged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            request = await cp.expect(actions, where, timeout=max(0.0, deadline - loop.time()),
                                      what=what)
        except DeviceTimeout:
            raise DeviceTimeout(f"expected {what} within {timeout:g} s; it did not come") from None
        if request.frame.mono_ns >= since_ns and (not_on is None or request.link is not not_on):
            return request


async def next_status(cp: Session, pics: Any, connector_id: int, *, timeout: float | None = None,
                      what: str | None = None) -> Request:
    """The next StatusNotification the charge point sends for ``connector_id`` (earlier ones not
    yet taken count: the OCTT judges the sequence, so none is skipped)."""
    return await cp.expect("StatusNotification", lambda p: p.get("connectorId") == connector_id,
                           timeout=triggered(pics) if timeout is None else timeout,
                           what=what or f"a StatusNotification for connector {connector_id}")


async def status_until(cp: Session, pics: Any, connector_id: int, status: str, *,
                       timeout: float | None = None) -> Request:
    """The first StatusNotification with ``status`` for ``connector_id``, skipping others
    (clean-up, where the path to the state does not matter)."""
    return await cp.expect("StatusNotification",
                           lambda p: p.get("connectorId") == connector_id and p.get("status") == status,
                           timeout=triggered(pics) if timeout is None else timeout,
                           what=f"StatusNotification {status} for connector {connector_id}")


def harness_answered(request: Request, status: str, *, step: str) -> None:
    """The OCTT's "Central System side" validation: the harness answered ``request`` with
    ``status`` (the answer's status, or its idTagInfo.status). What the harness sends is the
    harness's business: a wrong answer is a :class:`HarnessError` (ERROR), never the device's FAIL."""
    answer = request.answer if isinstance(request.answer, dict) else {}
    given = answer.get("status", (answer.get("idTagInfo") or {}).get("status"))
    if given != status:
        raise HarnessError(f"{step}: the harness answered {request.action}.req ({cite(request)}) "
                           f"with status {given!r}, the case needs {status!r}: a responder of the "
                           "case or the PICS id tags are wrong")


def requests_of(cp: Session, action: str, where: Callable[[dict], bool] | None = None) -> list[Request]:
    """Every ``action`` request the charge point sent during this test case."""
    return [r for r in cp.requests if r.action == action and (where is None or where(r.payload))]


def id_tag_info(pics: Any, id_tag: str, *, parent: Any = DEFAULT) -> dict:
    """The IdTagInfo the harness gives ``id_tag``: the PICS status; ``parent`` None leaves the
    parentIdTag out, a string sets it."""
    from harness.defaults import id_tag_statuses
    info = dict(id_tag_statuses(pics).get(id_tag, {"status": "Invalid"}))
    if parent is None:
        info.pop("parentIdTag", None)
    elif parent is not DEFAULT:
        info["parentIdTag"] = parent
    return info


def answer_id_tags(cp: Session, pics: Any, table: dict[str, dict]) -> None:
    """Answer Authorize / StartTransaction / StopTransaction for the idTags in ``table`` with the
    IdTagInfo given there; other idTags get the default answer. StartTransaction keeps the
    harness's transactionId numbering."""
    defaults = cp.defaults

    def default(action: str, p: dict) -> dict:
        responder = defaults[action]
        if not callable(responder):
            raise HarnessError(f"the harness's default {action} answer is not a function")
        return responder(p)

    def info_for(payload: dict) -> dict | None:
        tag = payload.get("idTag")
        for known, info in table.items():
            if tag is not None and tag.casefold() == known.casefold():
                return dict(info)
        return None

    def authorize(p: dict) -> dict:
        info = info_for(p)
        return {"idTagInfo": info} if info is not None else default("Authorize", p)

    def start(p: dict) -> dict:
        answer = default("StartTransaction", p)
        info = info_for(p)
        if info is not None:
            answer["idTagInfo"] = info
        return answer

    def stop(p: dict) -> dict:
        info = info_for(p)
        return {"idTagInfo": info} if info is not None else default("StopTransaction", p)

    cp.on("Authorize", authorize)
    cp.on("StartTransaction", start)
    cp.on("StopTransaction", stop)


async def quietly(step: Callable[[], Any], quiet: bool) -> None:
    """Run a clean-up step; after a failure of the case its own errors are dropped."""
    try:
        await step()
    except Exception:
        if not quiet:
            raise
