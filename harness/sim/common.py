"""Small pieces both simulators share: the event log behind GET /status, and a set of background
tasks that is cancelled as a whole on stop (tests start many simulators in one process, so nothing
may outlive its simulator). OCPP time is :mod:`harness.clock`'s."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from harness import clock

log = logging.getLogger("harness.sim")


class EventLog:
    """What happened, newest last, bounded so a long-running simulator does not grow without end.
    Counters survive the bound: GET /status reports both."""

    def __init__(self, name: str = "sim", limit: int = 500):
        self.name = name
        self.events: collections.deque[dict] = collections.deque(maxlen=limit)
        self.counters: collections.Counter[str] = collections.Counter()
        self._added = asyncio.Event()

    def add(self, kind: str, **detail: Any) -> None:
        self.counters[kind] += 1
        self.events.append({"ts": clock.now_iso(), "kind": kind, **detail})
        # Standalone (python -m harness.sim) this is the simulator's console log.
        log.info("%s: %s %s", self.name, kind,
                 " ".join(f"{k}={v}" for k, v in detail.items()))
        added, self._added = self._added, asyncio.Event()
        added.set()

    async def wait(self, kind: str, count: int = 1, timeout: float = 10) -> None:
        """Until ``kind`` has happened ``count`` times in all (event-driven, bounded)."""
        async with asyncio.timeout(timeout):
            while self.counters[kind] < count:
                await self._added.wait()

    def snapshot(self, last: int = 200) -> dict:
        return {"counters": dict(self.counters), "events": list(self.events)[-last:]}


class TaskSet:
    """Background tasks owned by one simulator object. ``cancel_all`` cancels and awaits them all."""

    def __init__(self, owner: str):
        self.owner = owner
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.owner}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.error("%s failed: %r", task.get_name(), exc, exc_info=exc)

    async def cancel_all(self) -> None:
        # Tasks may spawn others while being cancelled; loop until none is left.
        while self._tasks:
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._tasks.difference_update(tasks)

    def __len__(self) -> int:
        return len(self._tasks)


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """True when ``event`` was set within ``timeout`` seconds; a protocol timer that an event may cut
    short (a boot retry interval, a reconnect back-off) waits with this."""
    if timeout is not None and timeout <= 0:
        return event.is_set()
    try:
        await asyncio.wait_for(event.wait(), timeout)
        return True
    except TimeoutError:
        return False


def seconds_until(moment: datetime) -> float:
    return (moment - clock.now()) / timedelta(seconds=1)
