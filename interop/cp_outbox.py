"""The charge point's outgoing requests, sent one at a time in order (OCPP-J allows one outstanding
CALL per direction).

Transaction-related messages (StartTransaction, StopTransaction, MeterValues of a transaction) are
kept while the central system cannot be reached and sent when it can again, in the order they
happened (OCPP 1.6 section 4.7); a CALLERROR answer is retried TransactionMessageAttempts times,
TransactionMessageRetryInterval apart (the wait growing with each attempt). Other messages are
sent only while the charge point is registered and connected, and dropped when the link goes.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from ocpp.exceptions import OCPPError

log = logging.getLogger("interop.cp.outbox")


class Offline(Exception):
    """The central system cannot be reached (no connection, or it closed while a call waited)."""


@dataclass
class Outgoing:
    build: Callable[[], Any]
    """Makes the request when it is its turn (a transaction's id may be known only by then);
    returning None drops it."""
    transactional: bool = False
    on_result: Callable[[Any], None] | None = None
    future: asyncio.Future | None = None
    attempts: int = 0
    label: str = field(default="")


class Outbox:
    def __init__(self, send: Callable[[Any], Any], is_ready: Callable[[], bool],
                 retry_policy: Callable[[], tuple[int, int]]):
        self._send, self._is_ready, self._retry_policy = send, is_ready, retry_policy
        self._items: collections.deque[Outgoing] = collections.deque()
        self._changed = asyncio.Event()

    def put(self, item: Outgoing, *, front: bool = False) -> Outgoing:
        (self._items.appendleft if front else self._items.append)(item)
        self.poke()
        return item

    def poke(self) -> None:
        """Something changed (an item, the link, the registration): look again."""
        self._changed.set()

    def drop_volatile(self) -> None:
        """The link is gone: what is not transaction-related is not worth sending later."""
        kept = collections.deque()
        for item in self._items:
            if item.transactional:
                kept.append(item)
            elif item.future is not None and not item.future.done():
                item.future.set_exception(Offline("the connection to the central system was lost"))
        self._items = kept

    def __len__(self) -> int:
        return len(self._items)

    async def run(self) -> None:
        while True:
            while not (self._items and self._is_ready()):
                self._changed.clear()
                await self._changed.wait()
            item = self._items[0]
            request = item.build()
            if request is None:
                self._items.popleft()
                continue
            try:
                result = await self._send(request)
            except (Offline, asyncio.TimeoutError) as exc:
                if not item.transactional:
                    self._finish(item, error=Offline(str(exc)))
                else:
                    # Kept at the head: sent again once the link is back.
                    log.info("%s kept for later: %s", type(request).__name__, exc)
                    self._changed.clear()
                    await self._changed.wait()
                continue
            except OCPPError as error:
                attempts, interval = self._retry_policy()
                item.attempts += 1
                if item.transactional and item.attempts < attempts:
                    log.info("%s answered %s; attempt %d of %d in %d s", type(request).__name__,
                             error.code, item.attempts + 1, attempts, interval * item.attempts)
                    await asyncio.sleep(interval * item.attempts)
                    continue
                self._finish(item, error=error)
                continue
            self._finish(item, result=result)

    def _finish(self, item: Outgoing, *, result: Any = None, error: Exception | None = None) -> None:
        if self._items and self._items[0] is item:
            self._items.popleft()
        if error is None and item.on_result is not None:
            try:
                item.on_result(result)
            except Exception:  # a bug in a callback must not stop the outbox
                log.exception("handling the answer to %s failed", item.label)
        if item.future is not None and not item.future.done():
            if error is None:
                item.future.set_result(result)
            else:
                item.future.set_exception(error)
