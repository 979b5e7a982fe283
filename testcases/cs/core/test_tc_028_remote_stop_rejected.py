"""TC_028_CS Remote Stop Transaction - Rejected (Core).

Reusable state Charging; RemoteStopTransaction.req with a transactionId the charge point does not know
is answered Rejected. The running transaction is unaffected: no StopTransaction.req follows, and a
RemoteStopTransaction.req with its own transactionId is then Accepted and stops it with reason Remote.
"""

from harness.cases import case
from harness.states.cs import booted, charging, cite, requests_of, triggered


@case("TC_028_CS", "Remote Stop Transaction - Rejected", profile="Core", needs=("Charging",))
async def test_tc_028_cs_remote_stop_rejected(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        unknown = tx.transaction_id + 1000
        # 1. Harness: RemoteStopTransaction.req unknown transactionId  2. .conf Rejected
        answer = await cp.call("RemoteStopTransaction", {"transactionId": unknown})
        assert answer.status == "Rejected", (
            f"step 2: RemoteStopTransaction.conf for the unknown transaction {unknown} is "
            f"{answer.status if answer.error is None else 'CALLERROR ' + answer.error.error_code!r}"
            f", expected 'Rejected' ({cite(answer)})")

        # The running transaction is unaffected.
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        early = [r for r in requests_of(cp, "StopTransaction") if r.frame.mono_ns < remote.request.mono_ns]
        assert not early, (
            f"after step 2: the charge point stopped a transaction on a rejected request "
            f"({cite(early[0])})")
        assert remote.status == "Accepted", (
            f"after step 2: RemoteStopTransaction.conf for the running transaction is "
            f"{remote.status!r}, expected 'Accepted' ({cite(remote)})")
        stop = await cp.expect("StopTransaction", timeout=triggered(pics))
        tx.running = False
        assert stop["transactionId"] == tx.transaction_id and stop.get("reason") == "Remote", (
            f"after step 2: StopTransaction.req for transaction {stop['transactionId']} reason "
            f"{stop.get('reason')!r}, expected {tx.transaction_id} reason 'Remote' ({cite(stop)})")
