"""TC_036_CS Connection Loss During Transaction (Core).

Configuration: MeterValueSampleInterval = <Configured Meter Value interval>. Reusable states:
GetConfiguration MeterValuesSampledData, Charging. After one sampled MeterValues.req the connection
to the central system is cut ([go offline]); while at least three sample intervals pass the charge
point can send nothing (the harness watches that it does not come back before it is let); [go
online] -> the charge point reconnects (no new BootNotification needed) and sends the
MeterValues.req it queued (transaction related messages, OCPP 1.6 section 4.7), then goes on
sampling.

Validations: every MeterValues.req of the transaction up to the first one taken after the
reconnection comes in chronological order (queued values before new ones), consecutive sampled
timestamps are spaced by the interval within max_time_deviation, the first one interval after the
transaction's start (so none is missing), each carries the transaction's connectorId and
transactionId, context Sample.Periodic or omitted, format Raw or omitted, and the measurands of
MeterValuesSampledData.

Reading chosen: the harness takes as many MeterValues.req after the reconnection as there were
sample ticks since the transaction started, plus one taken online. Clock-aligned MeterValues.req
(every value context Sample.Clock) are legitimate beside them when the charge point's
ClockAlignedDataInterval is not 0 (OCPP 1.6 section 3.16.2): they are not counted among the sampled
ones, and each must still belong to the connector, carry the transaction's transactionId if it
carries one (the field is optional), and the measurands of MeterValuesAlignedData; one with
ClockAlignedDataInterval 0 fails. Their spacing is TC_071's business.
"""

import dataclasses
import math
import time

from harness.cases import case
from harness.clock import parse_time
from harness.session import DeviceTimeout
from harness.states.cs import (booted, charging, cite, configured, configured_list,
                               meter_value_problems, offline, read_configuration, requests_of,
                               sample_interval, sample_times)
from harness.verdicts import Inconclusive

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
        aligned_every = await _clock_aligned_interval(cp)
        async with charging(cp, driver, pics) as tx:
            where = lambda p: p.get("connectorId") == tx.connector_id \
                and not _clock_aligned(p)  # noqa: E731
            started_at = time.monotonic()

            # 1. [Cut the connection between charge point and central system]
            async with offline(cp, driver, pics):
                # 2. Wait until at least 3 sample intervals have passed (a reconnection before
                # step 3 would mean the cut did not hold)
                await _stays_offline(cp, INTERVALS_OFFLINE * interval)
            # 3. [Restore the connection] -> the charge point reconnects (offline() waits for it)
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

            # Clock-aligned values beside them, if the charge point sends any
            clock = requests_of(cp, "MeterValues", lambda p: p.get("connectorId") == tx.connector_id
                                and _clock_aligned(p))
            if clock:
                assert aligned_every > 0, (
                    f"step 4: clock-aligned MeterValues.req ({cite(clock[0])}) although "
                    "ClockAlignedDataInterval is 0")
                aligned = await configured_list(cp, "MeterValuesAlignedData",
                                                step="GetConfiguration MeterValuesAlignedData")
            for request in clock:
                owner = tx if request.get("transactionId") is not None \
                    else dataclasses.replace(tx, transaction_id=None)
                problems = meter_value_problems(request, owner, aligned, ("Sample.Clock",))
                assert not problems, (
                    f"step 4: clock-aligned MeterValues.req: {'; '.join(problems)} "
                    f"({cite(request)})")


async def _stays_offline(cp, duration: float) -> None:
    """The cut lasts ``duration`` seconds: the charge point cannot reach the harness meanwhile, so
    the wait ends early only if it reconnects -- the driver's cut did not hold (INCONCLUSIVE)."""
    try:
        await cp.wait_connected(duration)
    except DeviceTimeout:
        return
    raise Inconclusive(f"step 2: the charge point reconnected within the {duration:g} s the "
                       "connection was to stay cut: the network cut did not hold")


def _clock_aligned(payload: dict) -> bool:
    """A clock-aligned MeterValues.req: every value it carries has context Sample.Clock."""
    contexts = [value.get("context") for meter_value in payload.get("meterValue") or []
                for value in meter_value.get("sampledValue") or []]
    return bool(contexts) and all(c == "Sample.Clock" for c in contexts)


async def _clock_aligned_interval(cp) -> int:
    """The charge point's ClockAlignedDataInterval (0: it sends no clock-aligned values)."""
    known, _, _ = await read_configuration(cp, ["ClockAlignedDataInterval"])
    try:
        return int(str(known.get("ClockAlignedDataInterval", {}).get("value", "0")).strip())
    except ValueError:
        return 0
