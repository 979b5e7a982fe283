"""harness.lag: a sample whose first stamp was taken as the loop came back from a stall is judged
with that stall's lag (found under a stalled loop: two Heartbeats read 442 ms apart, the first read
1 ms after a 1.56 s stall ended, FAILed 'Heartbeat interval accuracy' though sent 2 s apart)."""

from __future__ import annotations

from harness.lag import LagMonitor, Stall

MS = 1_000_000


def _monitor_with_a_stall(since_ms: int, until_ms: int, lag_s: float) -> LagMonitor:
    monitor = LagMonitor()
    monitor._stall(Stall(since_ms * MS, until_ms * MS, lag_s, "TC_041_CS"))
    return monitor


def test_a_stall_that_ended_just_before_the_first_stamp_counts():
    monitor = _monitor_with_a_stall(1000, 2560, 1.56)
    # The sample of the wire log: the first Heartbeat read 1 ms after the late tick, the next 442
    # ms later.
    assert monitor.lag_during(2561 * MS, 3003 * MS) == 1.56
    assert monitor.lagged(2561 * MS, 3003 * MS) == 1.56


def test_a_stall_that_ended_well_before_the_sample_does_not():
    monitor = _monitor_with_a_stall(1000, 2560, 1.56)
    assert monitor.lag_during(2700 * MS, 3100 * MS) == 0.0  # 140 ms after: the loop kept time
    assert monitor.lagged(2700 * MS, 3100 * MS) is None
