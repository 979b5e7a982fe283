"""TC_001_CS Cold Boot Charge Point (Core).

Reading chosen: the first BootNotification is answered Rejected with a short retry interval; while
Rejected the charge point sends nothing but BootNotification (OCPP 1.6 section 4.2: "the Charge Point
SHALL NOT send any OCPP message to the Central System until" accepted), and not before the interval.
The heartbeat period is judged between two consecutive Heartbeats against the interval of the
Accepted BootNotification.conf, within the PICS max_time_deviation.
"""

from harness.cases import case
from harness.defaults import now_iso
from harness.rpc import CP_ACTIONS
from harness.states import connector_ids, cs_connected, heartbeat_interval
from harness.states.cs import harness_answered

RETRY_INTERVAL = 2
"""Seconds given in the Rejected answer: long enough to tell an immediate retry from a patient one,
short enough to keep the case quick."""


@case("TC_001_CS", "Cold Boot Charge Point", profile="Core")
async def test_tc_001_cs_cold_boot(cp, driver, pics):
    timing = pics.timing
    interval = heartbeat_interval(pics)
    await cs_connected(cp, pics)
    cp.forget()

    # 1. [Power cycle the charge point] -> BootNotification.req
    cp.on("BootNotification", lambda p: {"status": "Rejected", "currentTime": now_iso(),
                                         "interval": RETRY_INTERVAL})
    await driver.power_cycle(timeout=timing.boot_timeout)
    first = await cp.expect("BootNotification", timeout=timing.boot_timeout)
    # 2. Harness: BootNotification.conf status Rejected, interval RETRY_INTERVAL (answered above)
    harness_answered(first, "Rejected", step="step 2")

    # 3. Charge point: BootNotification.req again, nothing else before it, not before the interval
    cp.on("BootNotification", lambda p: {"status": "Accepted", "currentTime": now_iso(),
                                         "interval": interval})
    second = await cp.expect(CP_ACTIONS, timeout=RETRY_INTERVAL + timing.triggered_function_timeout,
                             what="a new BootNotification after the Rejected one")
    assert second.action == "BootNotification", (
        f"step 3: while Rejected the charge point may send only BootNotification; it sent "
        f"{second.action} (wire log line {second.line})")
    waited = (second.frame.mono_ns - first.answer_frame.mono_ns) / 1e9
    assert waited >= RETRY_INTERVAL, (
        f"step 3: the charge point retried BootNotification {waited:.3f} s after the Rejected "
        f"answer, before the {RETRY_INTERVAL} s interval it was given (wire log line {second.line})")
    # 4. Harness: BootNotification.conf status Accepted, interval = <Configured Heartbeat interval>

    # 5. Charge point: StatusNotification.req for connector 0 and every connector: Available
    for connector_id in connector_ids(pics):
        status = await cp.expect("StatusNotification", lambda p: p["connectorId"] == connector_id,
                                 timeout=timing.triggered_function_timeout,
                                 what=f"StatusNotification for connector {connector_id}")
        assert status["status"] == "Available", (
            f"step 5: connector {connector_id} reported {status['status']!r}, expected "
            f"'Available' (wire log line {status.line})")

    # 6. Charge point: Heartbeat.req every <interval> seconds; harness: Heartbeat.conf
    deviation = timing.max_time_deviation
    beat1 = await cp.expect("Heartbeat", timeout=interval + deviation)
    beat2 = await cp.expect("Heartbeat", timeout=interval + deviation)
    period = (beat2.frame.mono_ns - beat1.frame.mono_ns) / 1e9
    assert abs(period - interval) <= deviation, (
        f"step 6: Heartbeats came {period:.3f} s apart, expected {interval} s "
        f"± {deviation} s (wire log lines {beat1.line} and {beat2.line})")
