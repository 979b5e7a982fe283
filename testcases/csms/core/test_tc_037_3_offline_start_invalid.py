"""TC_037_3_CSMS Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = true
(Core).

The harness's charge point loses its connection and, offline, starts a transaction for an idTag the
central system does not know. When the connection comes back (no reboot) it sends the queued
StartTransaction.req; the central system must answer idTagInfo.status Invalid and still give a
transactionId (required in every StartTransaction.conf, whatever the idTag's status), which the
charge point, configured StopTransactionOnInvalidId = true, uses to stop the transaction with
reason DeAuthorized.
"""

from harness.cases import case
from harness.clock import now_iso
from harness.states.assertions import assert_value
from harness.states.csms import (back_online, booted, configured_connector, go_offline,
                                 notify_status, start_transaction, stop_transaction)


@case("TC_037_3_CSMS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId = "
      "true", profile="Core", needs=("Booted", "idTag unknown to the central system: [id_tags] "
                                               "invalid"))
async def test_tc_037_3_csms_offline_start_invalid(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.invalid

    # [The connection is lost; offline, the invalid card is presented, the cable plugged in and a
    #  transaction starts; the connection comes back]
    await go_offline(csms)
    started_offline = now_iso()
    await back_online(csms)

    # 1-2. Harness: StartTransaction.req (its offline timestamp); central system: .conf
    tx = await start_transaction(csms, connector_id, id_tag, timestamp=started_offline, step="1-2")
    assert_value(tx.start, "idTagInfo.status", "Invalid", step="step 2",
                 when=f"for the invalid idTag {id_tag!r}")

    # 3-4. Harness: StatusNotification.req Charging; central system: .conf
    await notify_status(csms, connector_id, "Charging", step="3-4")

    # 5-6. Harness: StopTransaction.req reason DeAuthorized with the transactionId of step 2
    await stop_transaction(csms, tx, "DeAuthorized", step="5-6")

    # 7-8. Harness: StatusNotification.req Finishing; central system: .conf
    await notify_status(csms, connector_id, "Finishing", step="7-8")

    # Clean-up (not in the OCTT table): the cable is removed.
    await notify_status(csms, connector_id, "Available", step="clean-up")
