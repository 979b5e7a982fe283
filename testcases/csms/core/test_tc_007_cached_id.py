"""TC_007_CSMS Regular Start Charging Session - Cached Id (Core).

The harness's charge point has the valid idTag in its authorization cache, so it starts the
transaction without an Authorize.req: the central system must accept a StartTransaction that no
Authorize preceded.
"""

from harness.cases import case
from harness.states.csms import (booted, configured_connector, end_charging, notify_status,
                                 transaction_started)


@case("TC_007_CSMS", "Regular Start Charging Session - Cached Id", profile="Core",
      needs=("Booted",))
async def test_tc_007_csms_cached_id(csms, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3-4. [Cached card: no Authorize] Harness: StartTransaction.req; central system: .conf
    # 5-6. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, id_tag, step=3)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
