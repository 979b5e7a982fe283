"""TC_030_CS Unlock Connector - Unlock Failure (Core).

Only on a socket with a cable lock (PICS features.cable = "socket_with_lock"), and only where the
lock can be made to fail (the driver's ``unlock_failure``; a driver or operator that cannot do it
makes the case INCONCLUSIVE). [Make the connector lock fail to open] -> UnlockConnector.req is
answered UnlockFailed. Clean-up: the failure is repaired (``clear_fault``).
"""

from harness.cases import case
from harness.states.cs import NO_LOCK
from harness.states.cs import booted, conf_status, connector_under_test


@case("TC_030_CS", "Unlock Connector - Unlock Failure", profile="Core",
      needs=("unlock failure can be provoked",),
      na_when=(NO_LOCK,))
async def test_tc_030_cs_unlock_failure(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    # [Make the connector lock fail to unlock]
    await driver.unlock_failure(connector_id, timeout=pics.timing.response_timeout)
    try:
        # 1. Harness: UnlockConnector.req  2. Charge point: UnlockConnector.conf UnlockFailed
        unlock = await cp.call("UnlockConnector", {"connectorId": connector_id})
        conf_status(unlock, "UnlockFailed", step="step 2")
    finally:
        await driver.clear_fault(connector_id, timeout=pics.timing.response_timeout)
