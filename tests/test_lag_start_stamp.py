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
    assert monitor.lag_during(2561 * MS, 3003 * MS, start_read=True) == 1.56
    # A span that starts at a stamp the harness takes as it sends (a round trip) is not late by a
    # stall that ended before it: the next case's first call after pytest's pause between cases.
    assert monitor.lag_during(2561 * MS, 3003 * MS) == 0.0


def test_a_stall_that_ended_well_before_the_sample_does_not():
    monitor = _monitor_with_a_stall(1000, 2560, 1.56)
    # 140 ms after: the loop kept time
    assert monitor.lag_during(2700 * MS, 3100 * MS, start_read=True) == 0.0


def test_a_heartbeat_interval_read_just_after_a_stall_is_not_a_failure():
    """The Recorder's interval samples start at a frame read: the TC_041_CS case of the module
    docstring is an unreliable sample (INCONCLUSIVE with the lag), not a FAIL."""
    from types import SimpleNamespace

    from harness import timing
    from harness.pics import Timing

    t = Timing(response_timeout=5, triggered_function_timeout=2, remote_start_response=5,
               authorize_response=5, boot_timeout=10, max_time_deviation=0.5)
    monitor = _monitor_with_a_stall(1000, 2560, 1.56)
    rec = timing.Recorder(t, "cs", lag=monitor)
    rec.begin_case("TC_041_CS", None)

    def heartbeat(at_ms: int, line: int):
        return SimpleNamespace(frame=SimpleNamespace(mono_ns=at_ms * MS), answer_frame=None,
                               action="Heartbeat", line=line)

    rec._interval("heartbeat_interval", heartbeat(2561, 10), heartbeat(3003, 12), 2.0)
    assert rec.failures() == []
    assert len(rec.unreliable()) == 1 and "harness lagged 1560 ms" in rec.unreliable()[0]
