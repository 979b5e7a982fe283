"""TC_032_1_CSMS Power failure boot charging point - configured to stop transaction(s) (Core).

During a transaction the harness's charge point loses power. It boots again (a new connection),
reports the connector of the transaction Finishing and the others Available, and stops the
transaction with reason PowerLoss. The central system must accept the BootNotification and answer
the StopTransaction (and every other request).
"""

from harness.cases import case
from harness.clock import now_iso
from harness.states import connector_ids
from harness.states.assertions import conf_status
from harness.states.csms import (booted, charging, notify_status, record_boot, register,
                                 stop_transaction)


@case("TC_032_1_CSMS", "Power failure boot charging point - configured to stop transaction(s)",
      profile="Core", needs=("Booted", "Charging"))
async def test_tc_032_1_csms_power_failure_stop(csms, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)

    # [The charge point loses power, then power comes back: it reboots and reconnects]
    power_lost = now_iso()
    await csms.reconnect()

    # 1-2. Harness: BootNotification.req; central system: BootNotification.conf
    registration = await register(csms, pics, step="1-2")  # again while Pending (4.2)
    conf_status(registration.boot, "Accepted", step="step 2", why=registration.after_pending)
    record_boot(csms, registration.boot)

    # 3-4. Harness: StatusNotification.req for connector 0 and each connector: the connector of the
    #      transaction Finishing, the others Available; central system: .conf each
    for connector_id in connector_ids(pics):
        status = "Finishing" if connector_id == tx.connector_id else "Available"
        await notify_status(csms, connector_id, status, step="3-4")

    # 5-6. Harness: StopTransaction.req reason PowerLoss, the Charging state's transactionId
    await stop_transaction(csms, tx, "PowerLoss", timestamp=power_lost, step="5-6")

    # Clean-up (not in the OCTT table): the cable is removed.
    await notify_status(csms, tx.connector_id, "Available", step="clean-up")
