"""TC_012_CS Remote Stop Charging Session (Core).

Reusable state Charging; RemoteStopTransaction.req with its transactionId answered Accepted;
StopTransaction.req reason Remote and StatusNotification Finishing, in either order.
"""

from harness import timing
from harness.cases import case
from harness.states.cs import booted, charging, conf_status, stopped


@case("TC_012_CS", "Remote Stop Charging Session", profile="Core", needs=("Charging",))
async def test_tc_012_cs_remote_stop(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # 1. Harness: RemoteStopTransaction.req  2. Charge point: .conf Accepted
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        conf_status(remote, "Accepted", step="step 2")

        # 3. StopTransaction.req and StatusNotification.req, in either order
        stop = await stopped(cp, pics, tx, step="step 3", after="after RemoteStopTransaction",
                             reasons=("Remote",))
        timing.triggered(cp, remote, stop)
