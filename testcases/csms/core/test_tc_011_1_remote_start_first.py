"""TC_011_1_CSMS Remote Start Charging Session - Remote Start First (Core).

The operator makes the central system start a transaction remotely before any cable is plugged in;
the harness's charge point accepts, authorizes the idTag, then the cable is plugged in and the
transaction starts.

Readings: the document labels the Authorize check "step 6" where the Authorize.conf is step 4 (a
numbering slip); the check is made on the Authorize.conf. As in TC_010, the harness always sends
the Authorize, and the RemoteStartTransaction.req must carry the valid idTag asked for and, if it
has a connectorId, the connector asked for.
"""

from harness.cases import case
from harness.states.csms import (booted, configured_connector, end_charging, notify_status,
                                 remote_started, transaction_started)


@case("TC_011_1_CSMS", "Remote Start Charging Session - Remote Start First", profile="Core",
      needs=("Booted",))
async def test_tc_011_1_csms_remote_start_first(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1. [OPERATOR: remote start for the valid idTag] Central system: RemoteStartTransaction.req
    # 2. Harness: RemoteStartTransaction.conf Accepted
    # 3-4. Harness: Authorize.req with the idTag of step 1; central system: Authorize.conf Accepted
    remote = await remote_started(csms, driver, pics, step=1, connector_id=connector_id)

    # 5-6. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="5-6")

    # 7-8. Harness: StartTransaction.req; central system: StartTransaction.conf
    # 9-10. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, remote.id_tag, step=7)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
