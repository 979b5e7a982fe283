"""TC_003_CSMS Regular Charging Session - Plugin First (Core).

The harness is the charge point: the EV driver plugs in first, then presents the valid card; the
central system must authorize the idTag and accept the transaction, giving a transactionId.
"""

from harness.cases import case
from harness.states.csms import (authorize, booted, configured_connector, end_charging,
                                 notify_status, start_transaction)


@case("TC_003_CSMS", "Regular Charging Session - Plugin First", profile="Core",
      needs=("Booted",))
async def test_tc_003_csms_charging_plugin_first(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3-4. [The valid card is presented] Harness: Authorize.req; central system: Authorize.conf
    authorized = await authorize(csms, pics, id_tag, step="3-4")
    status = authorized["idTagInfo"]["status"]
    assert status == "Accepted", (
        f"step 4: Authorize.conf idTagInfo.status for the valid idTag {id_tag!r} is {status!r}, "
        f"expected 'Accepted' (wire log line {authorized.line})")

    # 5-6. Harness: StartTransaction.req; central system: StartTransaction.conf with a transactionId
    tx = await start_transaction(csms, connector_id, id_tag, step="5-6")
    assert tx.id_tag_status == "Accepted", (
        f"step 6: StartTransaction.conf idTagInfo.status for the valid idTag {id_tag!r} is "
        f"{tx.id_tag_status!r}, expected 'Accepted' (wire log line {tx.start.line})")

    # 7-8. Harness: StatusNotification.req Charging; central system: .conf
    await notify_status(csms, connector_id, "Charging", step="7-8")

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
