"""TC_010_CSMS Remote Start Charging Session - Cable Plugged in First (Core).

The cable is plugged in first; then the operator makes the central system start a transaction
remotely for the valid idTag. The harness's charge point accepts, authorizes the idTag it was sent
and starts the transaction.

Readings: the harness always sends the Authorize of steps 5-6 (a charge point does so when
AuthorizeRemoteTxRequests is true), so that the central system's Authorize.conf is exercised. The
operator is asked for the configured connector; the central system may leave connectorId out
(it is optional in RemoteStartTransaction.req), but if it sends one it must be the one asked for,
and the idTag must be the valid idTag asked for (compared case-insensitively).
"""

from harness.cases import case
from harness.states.csms import (booted, configured_connector, end_charging, notify_status,
                                 remote_started, transaction_started)


@case("TC_010_CSMS", "Remote Start Charging Session - Cable Plugged in First", profile="Core",
      needs=("Booted",))
async def test_tc_010_csms_remote_start_cable_first(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3. [OPERATOR: remote start for the valid idTag] Central system: RemoteStartTransaction.req
    # 4. Harness: RemoteStartTransaction.conf Accepted
    # 5-6. Harness: Authorize.req with the idTag of step 3; central system: Authorize.conf Accepted
    remote = await remote_started(csms, driver, pics, step=3, connector_id=connector_id)

    # 7-8. Harness: StartTransaction.req; central system: StartTransaction.conf
    # 9-10. Harness: StatusNotification.req Charging; central system: .conf
    tx = await transaction_started(csms, pics, connector_id, remote.id_tag, step=7)

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
