"""TC_012_CSMS Remote Stop Charging Session (Core).

During a transaction the operator makes the central system stop it remotely; the harness's charge
point accepts and stops it with reason Remote. The OCTT prints no check on the request; the one its
purpose implies is made: the RemoteStopTransaction.req carries the transactionId the central system
gave in the Charging state.
"""

from harness.cases import case
from harness.states.csms import booted, charging, notify_status, operator_sends, stop_transaction


@case("TC_012_CSMS", "Remote Stop Charging Session", profile="Core",
      needs=("Booted", "Charging"))
async def test_tc_012_csms_remote_stop(csms, driver, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)

    # 1. [OPERATOR: stop the running transaction] Central system: RemoteStopTransaction.req
    # 2. Harness: RemoteStopTransaction.conf Accepted
    remote = await operator_sends(csms, driver, pics, "RemoteStopTransaction",
                                  {"transactionId": tx.transaction_id},
                                  answer={"status": "Accepted"}, step=1)
    assert remote["transactionId"] == tx.transaction_id, (
        f"step 1: RemoteStopTransaction.req transactionId is {remote['transactionId']!r}, expected "
        f"{tx.transaction_id}, the id the central system gave at StartTransaction (wire log line "
        f"{remote.line}; StartTransaction.conf at line {tx.start.line})")

    # 3-4. Harness: StopTransaction.req reason Remote; central system: StopTransaction.conf
    await stop_transaction(csms, tx, "Remote", step="3-4")

    # 5-6. Harness: StatusNotification.req Finishing; central system: .conf
    await notify_status(csms, tx.connector_id, "Finishing", step="5-6")

    # 7-8. [Cable removed] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, tx.connector_id, "Available", step="7-8")
