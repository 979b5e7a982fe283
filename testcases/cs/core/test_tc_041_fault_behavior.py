"""TC_041_CS Fault Behavior (Core).

Only where a fault can be provoked (the driver's ``report_fault``; a driver or operator that cannot
do it makes the case INCONCLUSIVE). [Put the connector in a fault] -> StatusNotification Faulted with
an errorCode other than NoError; [the EV driver tries to start a session: presents
<Configured Valid IdTag> and plugs in] -> no StartTransaction.req. The OCTT watches for
<Configured Transaction Duration>; the harness watches for its quiet period
(triggered_function_timeout) after the attempt. Clean-up: the fault is cleared (``clear_fault``),
the cable taken out, the connector Available.
"""

from harness.cases import case
from harness.states.cs import (booted, cite, connector_under_test, expect_status, quiet_period,
                               requests_of, status_until, take_cable_out)

ERROR_CODE = "OtherError"


@case("TC_041_CS", "Fault Behavior", profile="Core", needs=("a fault can be provoked",))
async def test_tc_041_cs_fault_behavior(cp, driver, pics):
    await booted(cp, pics)
    connector_id, timeout = connector_under_test(pics), pics.timing.response_timeout
    plugged = False
    # 1. [Put the connector into a fault] -> StatusNotification.req Faulted
    await driver.report_fault(connector_id, ERROR_CODE, timeout=timeout)
    try:
        faulted = await expect_status(cp, pics, connector_id, "Faulted", step="step 1",
                                      when="with a fault")
        assert faulted.get("errorCode") not in (None, "NoError"), (
            f"step 1: the Faulted status carries errorCode {faulted.get('errorCode')!r}, expected "
            f"an error ({cite(faulted)})")

        # 2. [The EV driver tries to start a transaction] -> no StartTransaction.req
        if pics.features.rfid_readers:
            await driver.present_id_tag(pics.id_tags.valid, connector_id, timeout=timeout)
        await driver.plug_in(connector_id, timeout=timeout)
        plugged = True
        await cp.expect_silence("StartTransaction", duration=quiet_period(pics))
        starts = requests_of(cp, "StartTransaction")
        assert not starts, (
            f"step 2: the connector is Faulted, yet the charge point sent StartTransaction.req "
            f"({cite(starts[0])})")
    finally:
        await driver.clear_fault(connector_id, timeout=timeout)
        if plugged:
            await take_cable_out(driver, pics, connector_id)
        await status_until(cp, pics, connector_id, "Available")
