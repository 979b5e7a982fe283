"""How late the harness itself is: the event loop's lag and the harness's processing time per
frame, measured while the cases run, so that a timing judged while the harness was too slow to
judge it is never held against the device.

Every timestamp the harness judges a device by is taken by the event loop (a frame is stamped
when the loop reads it off the socket, a deadline expires when the loop runs its timer). When the
loop is held up -- a synchronous step of the harness, a garbage collection, a machine so loaded
that the process does not get the CPU -- a stamp is late by as much as the loop was, and a
deadline may expire before the frame that was already in the socket is read.

:class:`LagMonitor` is a callback the loop runs every :data:`PERIOD_S`; how late it runs is the
loop's lag. A tick later than :data:`LAG_FLOOR_S` is kept as a *stall*: the span from the
previous tick (the loop was surely running then) to this one, with the lateness. A timing sample
or a deadline over ``[start, end]`` asks :meth:`LagMonitor.lag_during` for the worst stall that
overlaps it; beyond :data:`LAG_BOUND_S` the sample is unreliable (harness/timing.py) and the
deadline's expiry is not the device's (harness/session.py): INCONCLUSIVE with the figure, never a
FAIL.

The bound, :data:`LAG_BOUND_S` = 100 ms: a lag shifts a stamp late by up to its length, so it is
the harness's measurement error. The tightest tolerance the harness judges is the PICS
``max_time_deviation`` of its own simulator's PICS, 0.5 s (the OCTT default is 4 s); 100 ms is a
fifth of it, and a tenth of the one-second resolution the certificates print timings at. A
smaller lag is within what the timings can be judged to.

Measured (2026-12-04, the project's 2-core machine shared by other work, load 11-15): the charge
point suite, 101 cases in 53 s, 828 frames: the loop's worst lag 522 ms (TC_002_CS), 13 stalls
beyond the bound, none over a sample's span or at a deadline (0 unreliable, all verdicts as
without the monitor); the harness's time per frame median 64 us, max 30 ms. Between two cases
pytest runs its hooks (the report is written) with the loop stopped: a frame arriving then is
stamped when the loop runs again, so that is lag too, and it is measured as such.

No pytest, no harness module: the session, the timing recorder and the report read it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

LAG_BOUND_S = 0.1
"""A sample or deadline during which the loop lagged more than this is not judged (see above)."""
PERIOD_S = 0.05
"""How often the monitor's tick is due: 20 wake-ups a second, a few microseconds each."""
LAG_FLOOR_S = 0.01
"""Ticks later than this are kept as stalls (smaller lateness is the selector's granularity)."""
MAX_STALLS = 10_000
"""Stalls kept for lookup (a day of a stall every 9 s); the worst of the run is kept apart."""
MAX_FRAMES = 100_000
"""Per-frame processing times kept for the median; the count and the worst are exact."""


@dataclass(frozen=True)
class Stall:
    since_ns: int
    """time.monotonic_ns() of the tick before: the loop was running then."""
    until_ns: int
    """When the late tick finally ran."""
    lag_s: float
    case: str | None


class LagMonitor:
    """The event loop's lag and the harness's per-frame time over a run (:meth:`start` in the
    loop, :meth:`stop` at the end); :meth:`to_json` for the report."""

    def __init__(self, *, bound_s: float = LAG_BOUND_S, period_s: float = PERIOD_S) -> None:
        self.bound_s = bound_s
        self.period_s = period_s
        self.case: str | None = None
        """The test case under way (stalls and frames are attributed to it)."""
        self.stalls: deque[Stall] = deque(maxlen=MAX_STALLS)
        self.worst: Stall | None = None
        self.ticks = 0
        self.lagged_deadlines = 0
        """Deadlines that expired while the loop lagged beyond the bound (harness.session)."""
        self.frames = 0
        self.frame_worst_s = 0.0
        self.frame_worst_case: str | None = None
        self._frame_times: deque[float] = deque(maxlen=MAX_FRAMES)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._last_ns = 0
        self._due = 0.0

    # --- the loop's lag -------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start ticking in ``loop`` (default: the running one). Idempotent."""
        if self._handle is not None:
            return
        self._loop = loop or asyncio.get_running_loop()
        self._last_ns = time.monotonic_ns()
        self._due = self._loop.time() + self.period_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        assert self._loop is not None
        now, now_ns = self._loop.time(), time.monotonic_ns()
        lag = now - self._due
        self.ticks += 1
        if lag > LAG_FLOOR_S:
            self._stall(Stall(self._last_ns, now_ns, lag, self.case))
        self._last_ns = now_ns
        self._due = now + self.period_s
        self._handle = self._loop.call_at(self._due, self._tick)

    def _stall(self, stall: Stall) -> None:
        self.stalls.append(stall)
        if self.worst is None or stall.lag_s > self.worst.lag_s:
            self.worst = stall

    def pending_lag_s(self) -> float:
        """How late the next tick is already (the loop is held up right now, e.g. a deadline's
        timer running in the same late iteration as the tick): 0 when it is not yet due."""
        if self._loop is None or self._handle is None:
            return 0.0
        return max(0.0, self._loop.time() - self._due)

    def lag_during(self, start_ns: int, end_ns: int | None = None, *,
                   start_read: bool = False) -> float:
        """The worst lag of a stall overlapping ``[start_ns, end_ns]`` (time.monotonic_ns(); end
        default now), including one still in progress; 0.0 when the loop kept time.

        ``start_read``: the start is the stamp of a frame read off the socket (an interval between
        two of the device's frames). Read as the loop comes back from a stall, it is late by it,
        though the late tick that records the stall may run just before the read (an iteration or
        two): then a stall that ended within one period before the start counts too. A stamp the
        harness takes when it sends is not late by a stall that ended before it."""
        end = time.monotonic_ns() if end_ns is None else end_ns
        worst = self.pending_lag_s() if end_ns is None or end_ns >= self._last_ns else 0.0
        since = start_ns - (int(self.period_s * 1e9) if start_read else 0)
        for stall in reversed(self.stalls):
            if stall.until_ns < since:
                break  # appended in time order: the rest ended before the interval
            if stall.since_ns <= end:
                worst = max(worst, stall.lag_s)
        return worst

    def lagged(self, start_ns: int, end_ns: int | None = None) -> float | None:
        """The lag over ``[start_ns, end_ns]`` when it exceeds the bound, else None."""
        lag = self.lag_during(start_ns, end_ns)
        return lag if lag > self.bound_s else None

    # --- the harness's own time per frame -------------------------------------------------------

    def frame_processed(self, seconds: float) -> None:
        """The harness spent ``seconds`` on one frame (check, wire log, routing, answer)."""
        self.frames += 1
        self._frame_times.append(seconds)
        if seconds > self.frame_worst_s:
            self.frame_worst_s, self.frame_worst_case = seconds, self.case

    # --- the report -----------------------------------------------------------------------------

    def to_json(self, unreliable: int = 0) -> dict[str, Any]:
        """report.json ``harness``: the worst lag (where), how many stalls beyond the bound, the
        per-frame time, and what was not judged for it: ``unreliable_samples`` (timing samples)
        and ``lagged_deadlines`` (waits that expired while the loop lagged)."""
        over = sum(1 for s in self.stalls if s.lag_s > self.bound_s)
        return {
            "lag_bound_s": self.bound_s, "lag_period_s": self.period_s, "ticks": self.ticks,
            "worst_lag_s": round(self.worst.lag_s, 6) if self.worst else 0.0,
            "worst_lag_case": self.worst.case if self.worst else None,
            "stalls_over_bound": over, "unreliable_samples": unreliable,
            "lagged_deadlines": self.lagged_deadlines,
            "frames": self.frames,
            "frame_median_s": (round(statistics.median(self._frame_times), 6)
                               if self._frame_times else None),
            "frame_max_s": round(self.frame_worst_s, 6) if self.frames else None,
            "frame_max_case": self.frame_worst_case,
        }


def lag_reason(lag_s: float, what: str, bound_s: float = LAG_BOUND_S) -> str:
    """'harness lagged 730 ms while measuring ...': the INCONCLUSIVE reason."""
    return (f"harness lagged {lag_s * 1000:.0f} ms while {what} (beyond its {bound_s * 1000:.0f} "
            f"ms bound: the timing is not judged)")
