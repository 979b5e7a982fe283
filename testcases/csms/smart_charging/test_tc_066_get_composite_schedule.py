"""TC_066_CSMS Get Composite Schedule (Smart Charging).

The operator makes the central system ask for the composite schedule of <Configured ConnectorId>
over <Configured duration> in <Configured chargingRateUnit>; the harness's charge point answers
Accepted with its schedule (one period at its own limit of 16 A, no profile being installed).
Checks: connectorId, duration and chargingRateUnit as configured.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, operator_sends
from harness.states.smart_charging import COMPOSITE_DURATION, composite_answer, rate_unit


@case("TC_066_CSMS", "Get Composite Schedule", profile="SmartCharging", needs=("Booted",))
async def test_tc_066_csms_get_composite_schedule(csms, driver, pics):
    await booted(csms, pics)
    connector_id, unit = configured_connector(pics), rate_unit(pics)

    # 1. [OPERATOR: get the composite schedule] Central system: GetCompositeSchedule.req
    # 2. Harness: GetCompositeSchedule.conf Accepted with a schedule
    request = await operator_sends(csms, driver, pics, "GetCompositeSchedule",
                                   {"connectorId": connector_id, "duration": COMPOSITE_DURATION,
                                    "chargingRateUnit": unit},
                                   answer=composite_answer(pics), step=1)
    wrong = [f"{key} {request.get(key)!r}, expected {value!r}" for key, value in
             (("connectorId", connector_id), ("duration", COMPOSITE_DURATION),
              ("chargingRateUnit", unit)) if request.get(key) != value]
    assert not wrong, ("step 1: GetCompositeSchedule.req: " + "; ".join(wrong)
                       + f" (wire log line {request.line})")
