"""TC_002_CS Cold Boot Charge Point - Pending (Core).

Readings chosen (the catalogue's copy is cut off, P-t):
- The first BootNotification is answered Pending with a short interval. While Pending the charge point
  must answer the central system's requests (OCPP 1.6 section 4.2: "the Central System MAY send
  requests to the Charge Point" while Pending); the harness reads the whole configuration and changes
  one writable key (MeterValueSampleInterval, to the short test interval; put back at the end).
- The next BootNotification must not come before the Pending interval has elapsed. If the device's
  answers took longer than the interval, a BootNotification that arrives meanwhile is answered
  Pending again, and judged the same way; the first one after the configuration steps is Accepted.
- While Pending the charge point sends no StatusNotification, Heartbeat or transaction message
  (section 4.2.1: it "SHALL NOT send any other request" than BootNotification until Accepted, the
  errata allowing only the messages a TriggerMessage asks for, which this case sends none of).
- After Accepted: StatusNotification Available for connector 0 and every connector; the Heartbeat
  period between two Heartbeats equals the interval of the Accepted conf, within max_time_deviation.
"""

import time

from harness.cases import case
from harness.timing import judge
from harness.clock import now_iso
from harness.states import connector_ids, cs_connected, heartbeat_interval
from harness.states.cs import (assert_status, boot_retried, cite, conf_status, configured,
                               expect_since, harness_answered, sample_interval, settled, triggered)

PENDING_INTERVAL = 1
"""Seconds given in the Pending answer."""


@case("TC_002_CS", "Cold Boot Charge Point - Pending", profile="Core",
      needs=("power cycle",))
async def test_tc_002_cs_cold_boot_pending(cp, driver, pics):
    timing = pics.timing
    interval = heartbeat_interval(pics)
    await cs_connected(cp, pics)
    pending = lambda p: {"status": "Pending", "currentTime": now_iso(),  # noqa: E731
                         "interval": PENDING_INTERVAL}
    accepted = lambda p: {"status": "Accepted", "currentTime": now_iso(),  # noqa: E731
                          "interval": interval}
    cp.on("BootNotification", pending)

    # 1. [Power cycle the charge point] -> BootNotification.req
    # What the charge point sent before the power cycle is not judged: every step takes only
    # requests sent after the cut on a connection opened after it.
    cut, before = time.monotonic_ns(), cp.link
    await driver.power_cycle(timeout=timing.boot_timeout)
    boot = await expect_since(cp, "BootNotification", cut, not_on=before,
                              timeout=timing.boot_timeout,
                              what="step 1: BootNotification.req after the power cycle")
    # 2. Harness: BootNotification.conf status Pending, interval PENDING_INTERVAL (answered above)
    harness_answered(boot, "Pending", step="step 2")

    # 3. Harness: GetConfiguration.req (all keys)  4. Charge point: GetConfiguration.conf
    get = await cp.call("GetConfiguration", {})
    assert get.error is None, (
        f"step 4: while Pending the charge point answered GetConfiguration with CALLERROR "
        f"{get.error.error_code if get.error else ''}, expected GetConfiguration.conf ({cite(get)})")
    keys = {kv.get("key") for kv in get.get("configurationKey") or []}
    assert "MeterValueSampleInterval" in keys, (
        f"step 4: GetConfiguration.conf does not list MeterValueSampleInterval, a required Core key "
        f"({cite(get)})")

    # 5. Harness: ChangeConfiguration.req MeterValueSampleInterval  6. Charge point: .conf Accepted
    async with configured(cp, pics) as config:
        change = await cp.call("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                       "value": str(sample_interval(pics))})
        # Not named `before`: that is the connection the power cycle closed, which steps 7-11
        # pass over (a start-up StatusNotification sent on it as the cycle was asked for).
        old_value = next((kv.get("value") for kv in get.get("configurationKey") or []
                          if kv.get("key") == "MeterValueSampleInterval"), None)
        if change.status == "Accepted" and old_value is not None:
            config.applied["MeterValueSampleInterval"] = str(sample_interval(pics))
            config.original["MeterValueSampleInterval"] = old_value
        conf_status(change, "Accepted", step="step 6",
                    when=f"for MeterValueSampleInterval={sample_interval(pics)} while Pending")

        # 7. Charge point: BootNotification.req again, not before the interval, nothing else before
        # 8. Harness: BootNotification.conf Accepted, interval = <Configured Heartbeat interval>
        cp.on("BootNotification", accepted)
        previous = boot
        while True:
            again = await boot_retried(cp, previous, PENDING_INTERVAL, since_ns=cut,
                                       not_on=before,
                                       timeout=PENDING_INTERVAL + timing.triggered_function_timeout,
                                       step="step 7")
            if again.answer["status"] == "Accepted":
                break
            previous = again

        # 9. Charge point: StatusNotification.req for connector 0 and every connector: Available
        for connector_id in connector_ids(pics):
            status = await expect_since(cp, "StatusNotification", cut,
                                        lambda p: p["connectorId"] == connector_id,
                                        not_on=before, timeout=triggered(pics),
                                        what=f"step 9: StatusNotification for connector "
                                             f"{connector_id}")
            assert_status(status, "Available", step="step 9")
        settled(cp)

        # 11. Charge point: Heartbeat.req every <interval> seconds
        deviation = timing.max_time_deviation
        beat1 = await expect_since(cp, "Heartbeat", cut, not_on=before,
                                   timeout=interval + deviation,
                                   what="step 11: the first Heartbeat.req")
        beat2 = await expect_since(cp, "Heartbeat", cut, not_on=before,
                                   timeout=interval + deviation,
                                   what="step 11: the second Heartbeat.req")
        period = (beat2.frame.mono_ns - beat1.frame.mono_ns) / 1e9
        judge(cp, beat1, beat2, abs(period - interval) <= deviation,
              f"step 11: Heartbeats came {period:.3f} s apart, expected {interval} s ± "
              f"{deviation} s ({cite(beat1)} and {cite(beat2)})",
              by_s=abs(period - interval) - deviation)
