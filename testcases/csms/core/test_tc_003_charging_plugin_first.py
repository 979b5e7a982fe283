"""TC_003_CSMS Regular Charging Session - Plugin First (Core).

The harness is the charge point: the EV driver plugs in first, then presents the valid card; the
central system must authorize the idTag and accept the transaction, giving a transactionId.
"""

from harness.cases import case
from harness.states.csms import (authorized, booted, configured_connector, end_charging,
                                 notify_status, transaction_started)


@case("TC_003_CSMS", "Regular Charging Session - Plugin First", profile="Core",
      needs=("Booted",))
async def test_tc_003_csms_charging_plugin_first(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3-4. [The valid card is presented] Harness: Authorize.req; central system: Authorize.conf
    await authorized(csms, pics, id_tag, step=3)

    # 5-6. Harness: StartTransaction.req; central system: StartTransaction.conf with a transactionId
    # 7-8. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, id_tag, step=5)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
