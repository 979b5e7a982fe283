"""TC_005_1_CSMS EV Side Disconnected (Core).

The harness's charge point is configured StopTransactionOnEVSideDisconnect = true and
UnlockConnectorOnEVSideDisconnect = true: when the EV unplugs during a transaction, it stops the
transaction with reason EVDisconnected. The central system must answer every request; the OCTT
checks nothing else.
"""

from harness.cases import case
from harness.states.csms import booted, charging, notify_status, stop_transaction


@case("TC_005_1_CSMS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect = true - "
      "UnlockConnectorOnEVSideDisconnect = true", profile="Core", needs=("Booted", "Charging"))
async def test_tc_005_1_csms_ev_side_disconnect(csms, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)

    # 1-2. [EV side unplugged] Harness: StatusNotification.req SuspendedEV; central system: .conf
    await notify_status(csms, tx.connector_id, "SuspendedEV", step="1-2")

    # 3-4. Harness: StopTransaction.req reason EVDisconnected, the Charging state's transactionId
    await stop_transaction(csms, tx, "EVDisconnected", step="3-4")

    # 5-6. Harness: StatusNotification.req Finishing; central system: .conf
    await notify_status(csms, tx.connector_id, "Finishing", step="5-6")

    # 7-8. [The cable is removed] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, tx.connector_id, "Available", step="7-8")
