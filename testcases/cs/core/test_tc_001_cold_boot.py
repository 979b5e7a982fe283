"""TC_001_CS Cold Boot Charge Point (Core).

Reading chosen: the first BootNotification is answered Rejected with a short retry interval; while
Rejected the charge point sends nothing but BootNotification (OCPP 1.6 section 4.2: "the Charge Point
SHALL NOT send any OCPP message to the Central System until" accepted), and not before the interval.
The heartbeat period is judged between two consecutive Heartbeats against the interval of the
Accepted BootNotification.conf, within the PICS max_time_deviation.
"""

import time

from harness.cases import case
from harness.timing import judge
from harness.clock import now_iso
from harness.states import connector_ids, cs_connected, heartbeat_interval
from harness.states.cs import assert_status, boot_retried, expect_since, harness_answered, settled

RETRY_INTERVAL = 1
"""Seconds given in the Rejected answer (as TC_002 gives in its Pending one): an immediate retry
comes within milliseconds, so one second tells it from a patient one and keeps the case quick."""


@case("TC_001_CS", "Cold Boot Charge Point", profile="Core")
async def test_tc_001_cs_cold_boot(cp, driver, pics):
    timing = pics.timing
    interval = heartbeat_interval(pics)
    await cs_connected(cp, pics)
    cp.forget()

    # 1. [Power cycle the charge point] -> BootNotification.req
    # What the charge point sent before the power cycle (start-up traffic of a charge point that
    # connected as the run began may still be waiting) is not judged: every step takes only
    # requests sent after the cut on a connection opened after it.
    cp.on("BootNotification", lambda p: {"status": "Rejected", "currentTime": now_iso(),
                                         "interval": RETRY_INTERVAL})
    cut, before = time.monotonic_ns(), cp.link
    await driver.power_cycle(timeout=timing.boot_timeout)
    first = await expect_since(cp, "BootNotification", cut, not_on=before,
                               timeout=timing.boot_timeout,
                               what="step 1: BootNotification.req after the power cycle")
    # 2. Harness: BootNotification.conf status Rejected, interval RETRY_INTERVAL (answered above)
    harness_answered(first, "Rejected", step="step 2")

    # 3. Charge point: BootNotification.req again, nothing else before it, not before the interval
    cp.on("BootNotification", lambda p: {"status": "Accepted", "currentTime": now_iso(),
                                         "interval": interval})
    await boot_retried(cp, first, RETRY_INTERVAL, since_ns=cut, not_on=before,
                       timeout=RETRY_INTERVAL + timing.triggered_function_timeout, step="step 3")
    # 4. Harness: BootNotification.conf status Accepted, interval = <Configured Heartbeat interval>

    # 5. Charge point: StatusNotification.req for connector 0 and every connector: Available
    for connector_id in connector_ids(pics):
        status = await expect_since(cp, "StatusNotification", cut,
                                    lambda p: p["connectorId"] == connector_id,
                                    not_on=before, timeout=timing.triggered_function_timeout,
                                    what=f"step 5: StatusNotification for connector {connector_id}")
        assert_status(status, "Available", step="step 5")

    # 6. Charge point: Heartbeat.req every <interval> seconds; harness: Heartbeat.conf
    deviation = timing.max_time_deviation
    beat1 = await expect_since(cp, "Heartbeat", cut, not_on=before,
                               timeout=interval + deviation, what="step 6: the first Heartbeat.req")
    beat2 = await expect_since(cp, "Heartbeat", cut, not_on=before,
                               timeout=interval + deviation,
                               what="step 6: the second Heartbeat.req")
    period = (beat2.frame.mono_ns - beat1.frame.mono_ns) / 1e9
    judge(cp, beat1, beat2, abs(period - interval) <= deviation,
          f"step 6: Heartbeats came {period:.3f} s apart, expected {interval} s "
          f"± {deviation} s (wire log lines {beat1.line} and {beat2.line})",
          by_s=abs(period - interval) - deviation)
    settled(cp)
