"""A harness that knows when it lags (harness/lag.py): the event loop's lag is measured while the
cases run; a timing sample or a deadline during which the harness lagged beyond its bound is
INCONCLUSIVE with the figure, never a FAIL; the same timing without the lag still FAILs; the
worst lag is in report.json and report.html."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from harness import timing
from harness.pics import Timing
from harness.lag import LAG_BOUND_S, LagMonitor, Stall
from harness.verdicts import DeviceTimeout, HarnessLagged, lagged_timeout

ROOT = Path(__file__).resolve().parents[1]


def busy_wait(seconds: float) -> None:
    """Hold the event loop: a synchronous step of the harness that takes ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def test_the_monitor_sees_a_blocked_loop_and_only_over_the_span_it_blocked():
    monitor = LagMonitor()
    monitor.start()
    try:
        await asyncio.sleep(0.25)
        # Before the block, short of the tick before it (a stall spans from that tick: the
        # loop was surely running then, and the block may have begun right after it).
        quiet = (time.monotonic_ns() - 200_000_000, time.monotonic_ns() - 80_000_000)
        start = time.monotonic_ns()
        busy_wait(0.3)
        end = time.monotonic_ns()
        assert monitor.pending_lag_s() > 0.2  # the tick is overdue while the loop is held
        await asyncio.sleep(0.1)  # the loop runs again: the late tick records the stall
    finally:
        monitor.stop()
    assert 0.2 < monitor.lag_during(start, end) < 0.5
    assert monitor.lagged(start, end) is not None
    assert monitor.lag_during(*quiet) < LAG_BOUND_S
    assert monitor.worst is not None and monitor.worst.lag_s > 0.2
    figures = monitor.to_json()
    assert figures["worst_lag_s"] > 0.2 and figures["stalls_over_bound"] == 1
    assert figures["ticks"] >= 4


def test_a_sample_over_its_limit_taken_while_the_harness_lagged_is_not_a_failure():
    """Recorder: the same over-limit sample FAILs its case when the loop kept time, and is an
    unreliable one (not in the figures, a reason with the lag) when a stall overlaps its span."""
    t = Timing(response_timeout=0.3, triggered_function_timeout=4, remote_start_response=2,
               authorize_response=None, boot_timeout=10, max_time_deviation=1)
    for stalled in (False, True):
        monitor = LagMonitor()
        rec = timing.Recorder(t, "cs", lag=monitor)
        rec.begin_case("TC_X", None)
        base = time.monotonic_ns()
        rec.add("response_time", 0.6, lines=[1, 2], what="ClearCache answered in 600.0 ms",
                span=(base, base + 600_000_000))
        rec.add("response_time", 0.01, lines=[3, 4], what="Heartbeat answered in 10.0 ms",
                span=(base + 2_000_000_000, base + 2_010_000_000))
        if stalled:
            monitor._stall(Stall(base + 100_000_000, base + 650_000_000, 0.5, "TC_X"))
        if not stalled:
            assert rec.failures() == ["OCPP response timeout: ClearCache answered in 600.0 ms, "
                                      "PICS declares 0.3 s (wire lines 1, 2)"]
            assert rec.unreliable() == []
            continue
        assert rec.failures() == []
        assert rec.unreliable() == [
            "harness lagged 500 ms while measuring OCPP response timeout: ClearCache answered in "
            "600.0 ms, PICS declares 0.3 s (wire lines 1, 2) (beyond its 100 ms bound: the timing "
            "is not judged)"]
        measured = {m.name: m for m in rec.measurements()}["response_time"]
        assert measured.unreliable == 1 and measured.n == 1 and measured.max_s == 0.01
        # Over its limit by more than the lag (2.0 s against 0.3 s, 0.5 s lag): a FAIL all the same.
        rec.add("response_time", 2.0, lines=[5, 6], what="ClearCache answered in 2000.0 ms",
                span=(base + 50_000_000, base + 2_050_000_000))
        assert rec.failures() == ["OCPP response timeout: ClearCache answered in 2000.0 ms, "
                                  "PICS declares 0.3 s (wire lines 5, 6)"]
        assert len(rec.unreliable()) == 1
        assert measured.ok is None  # over only where the harness lagged: no verdict
        assert measured.samples[0]["unreliable"] is True and measured.samples[0]["lag_s"] == 0.5
        assert "unreliable" not in measured.samples[1]


def test_a_device_timeout_re_raised_by_a_step_keeps_the_lag_behind_it():
    lagged = HarnessLagged("harness lagged 400 ms while waiting ...", 0.4)
    try:
        try:
            raise lagged
        except DeviceTimeout:
            raise DeviceTimeout("step 3: expected StatusNotification within 5 s") from None
    except DeviceTimeout as exc:
        assert lagged_timeout(exc) is lagged
    assert lagged_timeout(DeviceTimeout("plain")) is None
    assert lagged_timeout(AssertionError("not a timeout")) is None


# --- the plugin: INCONCLUSIVE when blocked, FAIL when not; the figure in both reports ---------

LAG_CASES = """
import asyncio
import time

from harness.cases import case


def busy_wait(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def block_later(after, seconds):
    # A synchronous busy wait of the harness's loop, starting ``after`` s from now.
    asyncio.get_running_loop().call_later(after, busy_wait, seconds)


@case("TC_960_CS", "Slow answer measured while the harness is blocked", profile="Core")
async def test_tc_960_cs(cp, pics):
    await cp.wait_connected(pics.timing.boot_timeout)
    block_later(0.1, 0.5)  # inside the 450 ms the answer takes
    response = await cp.call("ClearCache", {}, timeout=5)
    assert response.status == "Accepted"


@case("TC_961_CS", "Slow answer measured while the harness keeps time", profile="Core")
async def test_tc_961_cs(cp, pics):
    response = await cp.call("ClearCache", {}, timeout=5)
    assert response.status == "Accepted"


@case("TC_962_CS", "Deadline reached while the harness is blocked", profile="Core")
async def test_tc_962_cs(cp, pics):
    block_later(0.2, 0.4)  # across the 0.3 s deadline
    await cp.call("ClearCache", {}, timeout=0.3)


@case("TC_964_CS", "Deadline reached while the harness is blocked; nothing ever comes", profile="Core")
async def test_tc_964_cs(cp, pics):
    block_later(0.2, 0.4)  # across the 0.3 s deadline, as TC_962_CS, but no answer at all
    await cp.call("DataTransfer", {"vendorId": "lag.test"}, timeout=0.3)


@case("TC_963_CS", "Deadline reached while the harness keeps time", profile="Core")
async def test_tc_963_cs(cp, pics):
    await cp.expect_silence("Authorize", duration=0.8)  # TC_962_CS's late answer goes by
    await cp.call("ClearCache", {}, timeout=0.3)
"""


def test_a_timing_judged_while_the_harness_lagged_is_inconclusive_not_a_failure(pytester, tmp_path):
    """Five cases against the reference charge point answering ClearCache 450 ms late, PICS
    response_timeout 0.3 s: the measured round trip and the call's deadline each FAIL when the
    harness keeps time (TC_961, TC_963), and are INCONCLUSIVE with the lag when the case holds
    the event loop in a synchronous busy wait over the measured span or across the deadline
    (TC_960, TC_962); a device that never answers is FAIL also across a lagged deadline (TC_964:
    the harness waits a grace of the lag before it judges). report.json and report.html carry the
    harness's worst lag."""
    pics_text = (ROOT / "harness/sim/default_cs.toml").read_text()
    pytester.path.joinpath("pics.toml").write_text(
        pics_text.replace("response_timeout = 5", "response_timeout = 0.3"))
    pytester.makepyfile(test_lag_cases=LAG_CASES)
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ocpp-pics", "pics.toml", "--ocpp-report", str(out),
        "--ocpp-sim-fault", "late_answer:action=ClearCache,delay_ms=450",
        "--ocpp-sim-fault", "no_answer:action=DataTransfer", timeout=120)
    report = json.loads((out / "report.json").read_text())
    cases = {c["id"]: c for c in report["test_cases"]}
    verdicts = {k: c["verdict"] for k, c in cases.items()}
    assert verdicts == {"TC_960_CS": "INCONCLUSIVE", "TC_961_CS": "FAIL",
                        "TC_962_CS": "INCONCLUSIVE", "TC_963_CS": "FAIL",
                        "TC_964_CS": "FAIL"}, cases
    result.assert_outcomes(failed=5)
    # A lag at the deadline never hides a silent device: the wait went on for the grace.
    assert cases["TC_964_CS"]["reason"].startswith("no answer to DataTransfer"), cases["TC_964_CS"]
    assert "the harness lagged" in cases["TC_964_CS"]["reason"], cases["TC_964_CS"]
    assert cases["TC_960_CS"]["reason"].startswith("harness lagged "), cases["TC_960_CS"]
    assert " ms while measuring OCPP response timeout: ClearCache answered in " in \
        cases["TC_960_CS"]["reason"]
    assert cases["TC_961_CS"]["reason"].startswith("OCPP response timeout: ClearCache answered")
    assert cases["TC_962_CS"]["reason"].startswith("harness lagged "), cases["TC_962_CS"]
    assert "no answer to ClearCache" in cases["TC_962_CS"]["reason"]
    assert cases["TC_963_CS"]["reason"].startswith("no answer to ClearCache"), cases["TC_963_CS"]
    lag = int(cases["TC_960_CS"]["reason"].split()[2])
    assert 350 <= lag < 2000, lag  # the 500 ms busy wait, less the tick's period at most

    harness = report["harness"]
    assert harness["worst_lag_s"] >= 0.3 and harness["worst_lag_case"] in ("TC_960_CS",
                                                                          "TC_962_CS")
    assert harness["lag_bound_s"] == LAG_BOUND_S and harness["stalls_over_bound"] >= 2
    assert harness["unreliable_samples"] >= 1 and harness["lagged_deadlines"] >= 1
    assert harness["frames"] >= 5 and 0 < harness["frame_median_s"] <= harness["frame_max_s"]
    response_time = {m["name"]: m for m in report["measurements"]}["response_time"]
    blocked = [s for s in response_time["samples"] if s["case"] == "TC_960_CS"][-1]
    assert blocked["unreliable"] is True and blocked["lag_s"] > LAG_BOUND_S
    kept = [s for s in response_time["samples"] if s["case"] == "TC_961_CS"][-1]
    assert "unreliable" not in kept and kept["lag_s"] <= LAG_BOUND_S
    assert response_time["ok"] is False and response_time["unreliable"] >= 1

    html = (out / "report.html").read_text()
    assert "Harness&#39;s worst event-loop lag" in html or "Harness's worst event-loop lag" in html
    worst_ms = f"{harness['worst_lag_s'] * 1000:,.1f} ms"
    assert worst_ms in html, worst_ms
    assert "<b>unreliable</b>" in html


def test_a_case_judging_its_own_span_is_inconclusive_only_where_the_harness_lagged():
    """timing.judge, for the intervals a case measures itself between two of the harness's
    stamps (TC_001's Heartbeats, TC_004_2's ConnectionTimeOut): FAIL when the loop kept time,
    INCONCLUSIVE with the lag when a stall overlaps the span, nothing when the timing holds."""
    import pytest

    from harness.transport import Frame
    from harness.verdicts import Inconclusive

    class Cp:
        lag = LagMonitor()

    base = time.monotonic_ns()
    first, second = Frame("cp", "[]", base, 0), Frame("cp", "[]", base + 3_000_000_000, 0)
    timing.judge(Cp, first, second, True, "never shown")
    with pytest.raises(AssertionError, match="^step 6: Heartbeats came 3.000 s apart"):
        timing.judge(Cp, first, second, False, "step 6: Heartbeats came 3.000 s apart")
    Cp.lag._stall(Stall(base + 1_000_000_000, base + 1_800_000_000, 0.73, "TC_001_CS"))
    with pytest.raises(Inconclusive, match="^harness lagged 730 ms while measuring: step 6: Hea"):
        timing.judge(Cp, first, second, False, "step 6: Heartbeats came 3.000 s apart")
    with pytest.raises(Inconclusive):  # missed by 0.5 s: the 730 ms lag may explain it
        timing.judge(Cp, first, second, False, "step 6: ...", by_s=0.5)
    with pytest.raises(AssertionError, match="^step 6"):  # missed by more than the lag: FAIL
        timing.judge(Cp, first, second, False, "step 6: Heartbeats came 3.000 s apart", by_s=1.0)
    later = Frame("cp", "[]", base + 5_000_000_000, 0)
    with pytest.raises(AssertionError):  # a span after the stall is judged as measured
        timing.judge(Cp, second, later, False, "step 6: ...")


async def test_the_operator_steps_deadline_is_judged_against_the_lag_like_the_sessions_own():
    """harness.states.csms.operator_sends: the driver is done, the central system's request never
    comes within the PICS triggered_function_timeout: a DeviceTimeout (FAIL) whose deadline was
    judged by Session.within, which waits the grace of the lag when the loop lagged at it and says
    so ('nor in a further ...'); before, its own wait_for ignored the lag."""
    from types import SimpleNamespace

    from harness.session import Session
    from harness.states.csms import operator_sends

    class Done:
        async def csms_send(self, action, charge_point_id, payload, *, timeout):
            return {}

    pics = SimpleNamespace(timing=SimpleNamespace(triggered_function_timeout=0.3,
                                                  response_timeout=0.2),
                           dut=SimpleNamespace(charge_point_id="CP1"))
    session = Session("cp", response_timeout=0.2)
    with pytest.raises(DeviceTimeout, match=r"no GetConfiguration.req reached the harness's "
                                            r"charge point within 0.3 s \(PICS triggered_functi"):
        await operator_sends(session, Done(), pics, "GetConfiguration", {}, answer={}, step=1)
    session.lag = LagMonitor()
    now = time.monotonic_ns()  # a stall over the whole of the coming deadline
    session.lag._stall(Stall(now, now + 2_000_000_000, 0.25, None))
    with pytest.raises(DeviceTimeout) as caught:
        await operator_sends(session, Done(), pics, "GetConfiguration", {}, answer={}, step=1)
    assert not isinstance(caught.value, HarnessLagged)  # nothing came in the grace either
    assert "(nor in a further 0.35 s: the harness lagged 250 ms at the deadline)" in \
        str(caught.value)
