"""TC_004_1_CSMS Regular Charging Session - Identification First (Core).

The document lists no reusable state, but its whole scenario is the Charging state: the valid card
first, then the cable, then the transaction (the reading open-ocpp-tck takes too).
"""

from harness.cases import case
from harness.states.csms import (authorized, booted, configured_connector, end_charging,
                                 notify_status, transaction_started)


@case("TC_004_1_CSMS", "Regular Charging Session - Identification First", profile="Core",
      needs=("Booted",))
async def test_tc_004_1_csms_charging_id_first(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1-2. [The valid card is presented] Harness: Authorize.req; central system: Authorize.conf
    await authorized(csms, pics, id_tag, step=1)

    # 3-4. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="3-4")

    # 5-6. Harness: StartTransaction.req; central system: StartTransaction.conf
    # 7-8. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, id_tag, step=5)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
