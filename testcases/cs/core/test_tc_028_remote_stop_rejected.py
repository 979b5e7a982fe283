"""TC_028_CS Remote Stop Transaction - Rejected (Core).

Reusable state Charging; RemoteStopTransaction.req with a transactionId the charge point does not know
is answered Rejected. The running transaction is unaffected: no StopTransaction.req follows, and a
RemoteStopTransaction.req with its own transactionId is then Accepted and stops it with reason Remote.
"""

from harness.cases import case
from harness.states.cs import (assert_value, booted, charging, cite, conf_status, requests_of,
                               triggered)


@case("TC_028_CS", "Remote Stop Transaction - Rejected", profile="Core", needs=("Charging",))
async def test_tc_028_cs_remote_stop_rejected(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        unknown = tx.transaction_id + 1000
        # 1. Harness: RemoteStopTransaction.req unknown transactionId  2. .conf Rejected
        answer = await cp.call("RemoteStopTransaction", {"transactionId": unknown})
        conf_status(answer, "Rejected", step="step 2", when=f"for the unknown transaction {unknown}")

        # The running transaction is unaffected.
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        early = [r for r in requests_of(cp, "StopTransaction") if r.frame.mono_ns < remote.request.mono_ns]
        assert not early, (
            f"after step 2: the charge point stopped a transaction on a rejected request "
            f"({cite(early[0])})")
        conf_status(remote, "Accepted", step="after step 2", when="for the running transaction")
        stop = await cp.expect("StopTransaction", timeout=triggered(pics))
        tx.running = False
        assert_value(stop, "transactionId", tx.transaction_id, step="after step 2")
        assert_value(stop, "reason", "Remote", step="after step 2")
