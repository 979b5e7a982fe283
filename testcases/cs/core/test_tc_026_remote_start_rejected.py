"""TC_026_CS Remote Start Charging Session - Rejected (Core).

Configuration: LocalPreAuthorize=false. Reusable state Charging; RemoteStartTransaction.req for the
connector that is charging is answered Rejected. Afterwards the running transaction is the only one:
no other StartTransaction.req, and it is still there to be stopped (clean-up's
RemoteStopTransaction.req must be Accepted).
"""

from harness.cases import case
from harness.states.cs import booted, charging, cite, conf_status, configured, requests_of


@case("TC_026_CS", "Remote Start Charging Session - Rejected", profile="Core",
      needs=("LocalPreAuthorize=false", "Charging"))
async def test_tc_026_cs_remote_start_rejected(cp, driver, pics):
    await booted(cp, pics)
    async with configured(cp, pics, {"LocalPreAuthorize": "false"}), \
            charging(cp, driver, pics) as tx:
        # 1. Harness: RemoteStartTransaction.req on the busy connector  2. .conf Rejected
        answer = await cp.call("RemoteStartTransaction",
                               {"connectorId": tx.connector_id, "idTag": pics.id_tags.valid},
                               timeout=pics.timing.remote_start_response or pics.timing.response_timeout)
        conf_status(answer, "Rejected", step="step 2", when="for the connector that is charging")

        # The transaction goes on.
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        conf_status(remote, "Accepted", step="after step 2",
                    why=" (the running transaction should be unaffected)")
        await cp.expect("StopTransaction", lambda p: p.get("transactionId") == tx.transaction_id,
                        timeout=pics.timing.triggered_function_timeout)
        tx.running = False
        starts = requests_of(cp, "StartTransaction")
        assert len(starts) == 1, (
            f"after step 2: the charge point started another transaction ({cite(starts[-1])})")
