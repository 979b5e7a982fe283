"""TC_018_1_CSMS Unlock Connector - With Charging Session (Not fixed cable) (Core).

During a transaction the operator makes the central system unlock the charging connector; the
harness's charge point unlocks it, which ends the transaction (reason UnlockCommand). The OCTT
prints no check; the request must be for the charging connector, and every request of the charge
point must be answered.
"""

from harness.cases import case
from harness.states.csms import booted, charging, notify_status, operator_sends, stop_transaction


@case("TC_018_1_CSMS", "Unlock Connector - With Charging Session (Not fixed cable)",
      profile="Core", needs=("Booted", "Charging"))
async def test_tc_018_1_csms_unlock_with_session(csms, driver, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)

    # 1. [OPERATOR: unlock the charging connector] Central system: UnlockConnector.req
    # 2. Harness: UnlockConnector.conf Unlocked
    unlock = await operator_sends(csms, driver, pics, "UnlockConnector",
                                  {"connectorId": tx.connector_id},
                                  answer={"status": "Unlocked"}, step=1)
    assert unlock["connectorId"] == tx.connector_id, (
        f"step 1: UnlockConnector.req connectorId is {unlock['connectorId']!r}, expected "
        f"{tx.connector_id}, the connector of the transaction (wire log line {unlock.line})")

    # 3-4. Harness: StatusNotification.req Finishing; central system: .conf
    await notify_status(csms, tx.connector_id, "Finishing", step="3-4")

    # 5-6. Harness: StopTransaction.req reason UnlockCommand; central system: StopTransaction.conf
    await stop_transaction(csms, tx, "UnlockCommand", step="5-6")

    # 7-8. [Cable removed] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, tx.connector_id, "Available", step="7-8")
