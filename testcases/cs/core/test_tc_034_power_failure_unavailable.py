"""TC_034_CS Power Failure with Unavailable Status (Core).

ChangeAvailability.req connectorId 0 Inoperative, Accepted; StatusNotification Unavailable for
connector 0 and every connector; [power cycle] -> BootNotification.req (Accepted); StatusNotification
for connector 0 and every connector: still Unavailable (the availability persists across the
reboot, OCPP 1.6 section 5.2). Clean-up: ChangeAvailability Operative, every connector Available.
"""

from harness import timing
from harness.cases import case
from harness.states import connector_ids
from harness.states.cs import (assert_status, booted, booted_statuses, change_availability,
                               conf_status, next_status, operative_at_end, settled)


@case("TC_034_CS", "Power Failure with Unavailable Status", profile="Core", needs=("power cycle",))
async def test_tc_034_cs_power_failure_unavailable(cp, driver, pics):
    await booted(cp, pics)
    async with operative_at_end(cp, pics, 0):
        # 1. Harness: ChangeAvailability.req connectorId 0 Inoperative  2. .conf Accepted
        change = await change_availability(cp, pics, 0, "Inoperative", step="step 2")
        conf_status(change, "Accepted", step="step 2")
        # 3. StatusNotification.req per connector and connectorId 0: Unavailable
        for connector_id in connector_ids(pics):
            status = await next_status(cp, pics, connector_id)
            timing.triggered(cp, change, status)
            assert_status(status, "Unavailable", step="step 3")

        # [Power cycle] 5. BootNotification.req; harness: Accepted
        await driver.power_cycle(timeout=pics.timing.boot_timeout)
        await cp.expect("BootNotification", timeout=pics.timing.boot_timeout,
                        what="step 5: BootNotification.req after the power cycle")
        # 7. StatusNotification.req per connector and connectorId 0: still Unavailable
        statuses = await booted_statuses(cp, pics, step="step 7")
        settled(cp)
        for connector_id, status in statuses.items():
            assert_status(status, "Unavailable", step="step 7", when="after the power cycle")
