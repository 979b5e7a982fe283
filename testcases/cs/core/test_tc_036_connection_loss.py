"""TC_036_CS Connection Loss During Transaction (Core).

Configuration: MeterValueSampleInterval = <Configured Meter Value interval>. Reusable states:
GetConfiguration MeterValuesSampledData, Charging. After one sampled MeterValues.req the connection
to the central system is cut ([go offline]); while at least three sample intervals pass the charge
point can send nothing (the harness watches that it does not); [go online] -> the charge point
reconnects (no new BootNotification needed) and sends the MeterValues.req it queued (transaction
related messages, OCPP 1.6 section 4.7), then goes on sampling.

Validations: every MeterValues.req of the transaction up to the first one taken after the
reconnection comes in chronological order (queued values before new ones), consecutive sampled
timestamps are spaced by the interval within max_time_deviation, the first one interval after the transaction's
start (so none is missing), each carries
the transaction's connectorId and transactionId, context Sample.Periodic or omitted, format Raw or
omitted, and the measurands of MeterValuesSampledData.

Reading chosen: the harness takes as many MeterValues.req after the reconnection as there were sample
ticks since the transaction started, plus one taken online.
"""

import math
import time

from harness.cases import case
from harness.rpc import CP_ACTIONS
from harness.states.cs import (booted, charging, configured, configured_list, meter_value_problems,
                               parse_time, sample_interval, sample_times, settled)

INTERVALS_OFFLINE = 3


@case("TC_036_CS", "Connection Loss During Transaction", profile="Core",
      needs=("MeterValueSampleInterval=<Configured interval>", "GetConfiguration "
             "MeterValuesSampledData", "Charging"))
async def test_tc_036_cs_connection_loss(cp, driver, pics):
    await booted(cp, pics)
    interval = sample_interval(pics)
    deviation = pics.timing.max_time_deviation
    wait = interval + deviation + pics.timing.response_timeout
    async with configured(cp, pics, {"MeterValueSampleInterval": str(interval)}):
        measurands = await configured_list(cp, "MeterValuesSampledData",
                                           step="GetConfiguration MeterValuesSampledData")
        async with charging(cp, driver, pics) as tx:
            where = lambda p: p.get("connectorId") == tx.connector_id  # noqa: E731
            started_at = time.monotonic()

            # 1. [Cut the connection between charge point and central system]
            await driver.go_offline(timeout=pics.timing.response_timeout)
            # 2. Wait until at least 3 sample intervals have passed; nothing can come meanwhile
            await cp.expect_silence(CP_ACTIONS, duration=INTERVALS_OFFLINE * interval)
            # 3. [Restore the connection] -> the charge point reconnects
            await driver.go_online(timeout=pics.timing.response_timeout)
            await cp.wait_connected(pics.timing.boot_timeout)
            settled(cp)
            ticks = math.floor((time.monotonic() - started_at) / interval)

            # 4. The queued MeterValues.req, then new ones
            received = []
            for n in range(1, ticks + 2):
                received.append(await cp.expect(
                    "MeterValues", where, timeout=wait,
                    what=f"MeterValues.req {n} after the reconnection ({ticks} were queued)"))
            previous = (parse_time(tx.start["timestamp"]), tx.start.line)
            for request in received:
                problems = meter_value_problems(request, tx, measurands, ("Sample.Periodic", None))
                assert not problems, (
                    f"step 4: {'; '.join(problems)} (wire log line {request.line})")
                for moment in sample_times(request):
                    assert moment is not None, f"step 4: unreadable timestamp (wire log line {request.line})"
                    if previous is not None:
                        gap = (moment - previous[0]).total_seconds()
                        assert gap > 0, (
                            f"step 4: the value of wire log line {request.line} ({moment.isoformat()})"
                            f" is not later than that of line {previous[1]}: the queued values are "
                            f"not sent in chronological order")
                        assert abs(gap - interval) <= deviation, (
                            f"step 4: {gap:.3f} s between the values of wire log lines "
                            f"{previous[1]} and {request.line}, expected MeterValueSampleInterval = "
                            f"{interval} s ± {deviation} s (a sample is missing or out of step)")
                    previous = (moment, request.line)
