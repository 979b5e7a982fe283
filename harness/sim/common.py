"""Small pieces both simulators share: wall-clock timestamps, the event log behind GET /status, and
a set of background tasks that is cancelled as a whole on stop (tests start many simulators in one
process, so nothing may outlive its simulator)."""

from __future__ import annotations

import asyncio
import collections
import logging
import re
from collections.abc import Coroutine
from datetime import datetime, timedelta, timezone
from typing import Any

log = logging.getLogger("harness.sim")

UTC = timezone.utc


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a 'Z', the form every OCPP 1.6 timestamp here uses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def parse_iso(text: str) -> datetime | None:
    """A peer's date-time, or None when it is not one. A timestamp without a timezone is read as UTC
    (the simulators are lenient in what they accept; the harness is the one that judges)."""
    if not isinstance(text, str) or not _TS.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def looks_like_timestamp(value: Any) -> bool:
    return isinstance(value, str) and _TS.fullmatch(value) is not None


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
        self.events.append({"ts": iso(utc_now()), "kind": kind, **detail})
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
    return (moment - utc_now()) / timedelta(seconds=1)
