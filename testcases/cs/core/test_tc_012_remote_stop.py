"""TC_012_CS Remote Stop Charging Session (Core).

Reusable state Charging; RemoteStopTransaction.req with its transactionId answered Accepted;
StopTransaction.req reason Remote and StatusNotification Finishing, in either order.
"""

from harness import timing
from harness.cases import case
from harness.states.cs import booted, charging, cite, next_status, triggered


@case("TC_012_CS", "Remote Stop Charging Session", profile="Core", needs=("Charging",))
async def test_tc_012_cs_remote_stop(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # 1. Harness: RemoteStopTransaction.req  2. Charge point: .conf Accepted
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        assert remote.status == "Accepted", (
            f"step 2: RemoteStopTransaction.conf status is "
            f"{remote.status if remote.error is None else 'CALLERROR ' + remote.error.error_code!r}"
            f", expected 'Accepted' ({cite(remote)})")

        # 3. StopTransaction.req and StatusNotification.req, in either order
        stop = await cp.expect("StopTransaction", timeout=triggered(pics),
                               what="step 3: StopTransaction.req after RemoteStopTransaction")
        timing.triggered(remote, stop)
        tx.running = False
        assert stop["transactionId"] == tx.transaction_id, (
            f"step 3: StopTransaction.req for transaction {stop['transactionId']}, expected "
            f"{tx.transaction_id} ({cite(stop)})")
        assert stop.get("reason") == "Remote", (
            f"step 3: StopTransaction.req reason is {stop.get('reason')!r}, expected 'Remote' "
            f"({cite(stop)})")
        finishing = await next_status(cp, pics, tx.connector_id)
        assert finishing["status"] == "Finishing", (
            f"step 3: connector {tx.connector_id} reported {finishing['status']!r} after the stop, "
            f"expected 'Finishing' ({cite(finishing)})")
