"""TC_070_CS Sampled Meter Values (Core).

Configuration: MeterValueSampleInterval = <Configured Meter Value interval> (the harness's short test
interval), ClockAlignedDataInterval = 0. Reusable states: GetConfiguration MeterValuesSampledData,
then Charging. The harness watches the first three sample intervals of the transaction.

Validations: a MeterValues.req every interval "from the start of the charging transaction" (OCPP 1.6
section 9.1.15): the sampled timestamps, starting from the StartTransaction timestamp, are spaced by
the interval within max_time_deviation; each carries the transaction's connectorId and
transactionId; context Sample.Periodic (or omitted, its default); format Raw or omitted; location EV
only for SoC; the measurands are those of MeterValuesSampledData (an empty key means
Energy.Active.Import.Register).

Reading chosen: a MeterValues.req whose values all carry context Transaction.Begin (a reading at the
start, which some charge points send) is not a periodic sample and is not counted.
"""

from harness.cases import case
from harness.clock import parse_time
from harness.states.cs import (booted, charging, configured, configured_list, meter_value_problems,
                               sample_interval, sample_times)

SAMPLES = 3


def _begin_only(request):
    values = [v for mv in request.get("meterValue") or [] for v in mv.get("sampledValue") or []]
    return bool(values) and all(v.get("context") == "Transaction.Begin" for v in values)


@case("TC_070_CS", "Sampled Meter Values", profile="Core",
      needs=("MeterValueSampleInterval=<Configured interval>", "ClockAlignedDataInterval=0",
             "GetConfiguration MeterValuesSampledData", "Charging"))
async def test_tc_070_cs_sampled_meter_values(cp, driver, pics):
    await booted(cp, pics)
    interval = sample_interval(pics)
    deviation = pics.timing.max_time_deviation
    async with configured(cp, pics, {"MeterValueSampleInterval": str(interval),
                                     "ClockAlignedDataInterval": "0"}):
        measurands = await configured_list(cp, "MeterValuesSampledData",
                                           step="GetConfiguration MeterValuesSampledData")
        async with charging(cp, driver, pics) as tx:
            # 1. MeterValues.req every interval during 3 intervals; harness: MeterValues.conf
            previous = parse_time(tx.start["timestamp"])
            for n in range(1, SAMPLES + 1):
                while True:
                    values = await cp.expect(
                        "MeterValues", lambda p: p.get("connectorId") == tx.connector_id,
                        timeout=interval + deviation + pics.timing.response_timeout,
                        what=f"MeterValues.req sample {n} of the transaction")
                    if not _begin_only(values):
                        break
                problems = meter_value_problems(values, tx, measurands,
                                                ("Sample.Periodic", None))
                assert not problems, (
                    f"step 1, sample {n}: {'; '.join(problems)} (wire log line {values.line})")
                for moment in sample_times(values):
                    assert moment is not None and previous is not None, (
                        f"step 1, sample {n}: a timestamp that cannot be read, in this sample or "
                        f"the StartTransaction.req (wire log lines {values.line}, "
                        f"{tx.start.line})")
                    gap = (moment - previous).total_seconds()
                    assert abs(gap - interval) <= deviation, (
                        f"step 1, sample {n}: sampled {gap:.3f} s after the previous "
                        f"{'sample' if n > 1 else 'transaction start'}, expected "
                        f"MeterValueSampleInterval = {interval} s ± {deviation} s "
                        f"(wire log line {values.line})")
                    previous = moment
