"""TC_071_CS Clock-aligned Meter Values (Core).

Configuration: MeterValueSampleInterval = 0, ClockAlignedDataInterval = <Configured Clock Aligned Data
interval> (the harness's short test interval). Reusable states: GetConfiguration
MeterValuesAlignedData, then Charging. The harness watches three intervals.

Validations: MeterValues.req for the transaction's connector, consecutive timestamps spaced by the
interval within max_time_deviation and each on a clock boundary -- a whole multiple of the interval
after midnight (OCPP 1.6 section 9.1.5: "...20 minutes apart, synchronised on the hour") -- within
min(max_time_deviation, interval / 4), the timestamp being one the charge point writes itself;
context Sample.Clock; format Raw or omitted; location EV only for SoC; the measurands of
MeterValuesAlignedData (an empty key means Energy.Active.Import.Register).

Reading chosen: clock-aligned values of the transaction's connector carry its transactionId, like
every transaction-related MeterValues.req (section 4.7).
"""

from harness.cases import case
from harness.states.cs import (booted, charging, clock_aligned_interval, configured,
                               configured_list, meter_value_problems, sample_times)

SAMPLES = 3


@case("TC_071_CS", "Clock-aligned Meter Values", profile="Core",
      needs=("MeterValueSampleInterval=0", "ClockAlignedDataInterval=<Configured interval>",
             "GetConfiguration MeterValuesAlignedData", "Charging"))
async def test_tc_071_cs_clock_aligned_meter_values(cp, driver, pics):
    await booted(cp, pics)
    interval = clock_aligned_interval(pics)
    deviation = pics.timing.max_time_deviation
    on_boundary = min(deviation, interval / 4)
    async with configured(cp, pics, {"MeterValueSampleInterval": "0",
                                     "ClockAlignedDataInterval": str(interval)}):
        measurands = await configured_list(cp, "MeterValuesAlignedData",
                                           step="GetConfiguration MeterValuesAlignedData")
        async with charging(cp, driver, pics) as tx:
            # 1. MeterValues.req at every clock-aligned interval during 3 intervals
            previous = None
            for n in range(1, SAMPLES + 1):
                values = await cp.expect(
                    "MeterValues", lambda p: p.get("connectorId") == tx.connector_id,
                    timeout=interval + deviation + pics.timing.response_timeout,
                    what=f"clock-aligned MeterValues.req {n} of the transaction")
                problems = meter_value_problems(values, tx, measurands, ("Sample.Clock",))
                assert not problems, (
                    f"step 1, value {n}: {'; '.join(problems)} (wire log line {values.line})")
                for moment in sample_times(values):
                    assert moment is not None, f"step 1: unreadable timestamp (wire log line {values.line})"
                    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
                    offset = (moment - midnight).total_seconds() % interval
                    off = min(offset, interval - offset)
                    assert off <= on_boundary, (
                        f"step 1, value {n}: timestamp {moment.isoformat()} is {off:.3f} s off the "
                        f"{interval} s clock boundary, expected within {on_boundary:g} s "
                        f"(wire log line {values.line})")
                    if previous is not None:
                        gap = (moment - previous).total_seconds()
                        assert abs(gap - interval) <= deviation, (
                            f"step 1, value {n}: {gap:.3f} s after the previous value, expected "
                            f"ClockAlignedDataInterval = {interval} s ± {deviation} s "
                            f"(wire log line {values.line})")
                    previous = moment
