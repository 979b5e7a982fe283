"""Everything the charge point sends after its boot goes through one queue, in order.

One worker sends one CALL at a time (OCPP-J 4.1.1). Transaction-related messages (StartTransaction,
StopTransaction, MeterValues of a transaction) stay queued while the charge point is offline and
are retried after a CALLERROR or a missing answer, TransactionMessageAttempts times in all, waiting
TransactionMessageRetryInterval x the attempts so far between tries (OCPP 1.6 section 4.7). Other
messages are not kept offline: a caller gets :class:`Offline` at once and decides (an Authorize
falls back to local authorization; a status is reported again on reconnection).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass

from harness.sim.common import EventLog
from harness.sim.cp.config import Configuration
from harness.sim.faults import Faults
from harness.sim.link import CallFailed, Link, LinkDown


class Offline(Exception):
    """The charge point is not connected (or not yet accepted by the CSMS)."""


@dataclass
class Item:
    action: str
    build: Callable[[], dict | None]
    """The payload, built when it is sent (a queued MeterValues learns its transactionId late);
    None drops the message."""
    tx: bool
    on_result: Callable[[dict], None] | None = None
    on_error: Callable[[Exception], None] | None = None
    future: asyncio.Future | None = None
    attempts: int = 0


class Outbox:
    def __init__(self, config: Configuration, events: EventLog, faults: Faults):
        self._config, self._events, self._faults = config, events, faults
        self._items: collections.deque[Item] = collections.deque()
        self._wake = asyncio.Event()
        self.empty = asyncio.Event()
        self.empty.set()
        self.ready = asyncio.Event()
        """Connected and accepted by the CSMS: the worker may send."""
        self.link: Link | None = None

    def __len__(self) -> int:
        return len(self._items)

    def pending_actions(self) -> list[str]:
        return [item.action for item in self._items]

    def attach(self, link: Link) -> None:
        self.link = link
        if self._faults.get("meter_values_out_of_order") is not None:
            # The fault: a LIFO where a FIFO belongs. Queued MeterValues go out newest first.
            slots = [i for i, item in enumerate(self._items) if item.action == "MeterValues"]
            values = [self._items[i] for i in reversed(slots)]
            for slot, item in zip(slots, values):
                self._items[slot] = item
        self.ready.set()
        self._wake.set()

    def detach(self) -> None:
        self.ready.clear()
        self.link = None
        for item in [i for i in self._items if not i.tx]:
            self._items.remove(item)
            self._fail(item, Offline("connection lost"))
        self._update_empty()

    def post(self, action: str, build: Callable[[], dict | None], *, tx: bool = False,
             on_result: Callable[[dict], None] | None = None,
             on_error: Callable[[Exception], None] | None = None) -> None:
        item = Item(action, build, tx, on_result, on_error)
        if not self.ready.is_set():
            if not tx:
                self._fail(item, Offline("not connected"))
                return
            self._events.add("queued_offline", action=action)
        self._items.append(item)
        self.empty.clear()
        self._wake.set()

    async def call(self, action: str, payload: dict) -> dict:
        """Send a non-transaction CALL through the queue and return its answer."""
        if not self.ready.is_set():
            raise Offline("not connected")
        future = asyncio.get_running_loop().create_future()
        item = Item(action, lambda: payload, False, future=future)
        self._items.append(item)
        self.empty.clear()
        self._wake.set()
        return await future

    def drop_volatile(self) -> None:
        """A reboot: what was not transaction-related is forgotten."""
        for item in [i for i in self._items if not i.tx]:
            self._items.remove(item)
            self._fail(item, Offline("rebooted"))
        self._update_empty()

    def _fail(self, item: Item, exc: Exception) -> None:
        if item.future is not None and not item.future.done():
            item.future.set_exception(exc)
        if item.on_error is not None:
            item.on_error(exc)

    def _update_empty(self) -> None:
        if self._items:
            self.empty.clear()
        else:
            self.empty.set()

    async def run(self) -> None:
        while True:
            await self.ready.wait()
            if not self._items:
                self._wake.clear()
                self.empty.set()
                await self._wake.wait()
                continue
            item, link = self._items[0], self.link
            if link is None:
                self.ready.clear()
                continue
            payload = item.build()
            if payload is None:
                self._items.popleft()
                self._update_empty()
                continue
            try:
                result = await link.call(item.action, payload)
            except LinkDown:
                if not item.tx:
                    self._pop(item)
                    self._fail(item, Offline("connection lost"))
                if self.link is link:
                    self.ready.clear()  # the connection loop re-attaches after reconnecting
                continue
            except (CallFailed, TimeoutError) as exc:
                if item.tx:
                    item.attempts += 1
                    limit = max(1, self._config.int("TransactionMessageAttempts", 3))
                    self._events.add("transaction_message_failed", action=item.action,
                                     attempt=item.attempts, of=limit, error=repr(exc))
                    if item.attempts < limit:
                        # The retry interval is a protocol timer (section 4.7), not a poll.
                        interval = self._config.int("TransactionMessageRetryInterval", 60)
                        await asyncio.sleep(interval * item.attempts)
                        continue
                    self._events.add("transaction_message_dropped", action=item.action)
                self._pop(item)
                self._fail(item, exc)
                continue
            self._pop(item)
            if item.future is not None and not item.future.done():
                item.future.set_result(result)
            if item.on_result is not None:
                item.on_result(result)

    def _pop(self, item: Item) -> None:
        if self._items and self._items[0] is item:
            self._items.popleft()
        self._update_empty()

    def count_tx(self) -> int:
        return sum(1 for item in self._items if item.tx)

