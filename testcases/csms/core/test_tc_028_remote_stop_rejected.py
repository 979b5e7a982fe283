"""TC_028_CSMS Remote Stop Transaction - Rejected (Core).

During a transaction the operator makes the central system stop a transaction remotely; the
harness's charge point rejects the request, as a charge point does for a transactionId it does not
know. What is tested is that the central system copes with the rejection.

Reading: the document's description speaks of "an unknown transactionId" but its validations check
nothing on the request. A central system can usually only stop transactions it knows, so the
operator is asked to stop the running one, and whatever transactionId the request carries is
rejected (not checked, as in the OCTT). The transaction then is still running: the harness stops it
locally, and the central system must still accept that StopTransaction (clean-up, not an OCTT step).
"""

from harness.cases import case
from harness.states.csms import booted, charging, end_charging, operator_sends


@case("TC_028_CSMS", "Remote Stop Transaction - Rejected", profile="Core",
      needs=("Booted", "Charging"))
async def test_tc_028_csms_remote_stop_rejected(csms, driver, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)

    # 1. [OPERATOR: remote stop] Central system: RemoteStopTransaction.req
    # 2. Harness: RemoteStopTransaction.conf Rejected
    await operator_sends(csms, driver, pics, "RemoteStopTransaction",
                         {"transactionId": tx.transaction_id},
                         answer={"status": "Rejected"}, step=1)

    # Clean-up (not in the OCTT table): the transaction still runs; stopped locally, cable removed.
    await end_charging(csms, tx)
