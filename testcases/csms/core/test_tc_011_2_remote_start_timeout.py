"""TC_011_2_CSMS Remote Start Charging Session - Time Out (Core).

The operator makes the central system start a transaction remotely; the harness's charge point
accepts and authorizes the idTag, the cable is plugged in but no EV connects before
ConnectionTimeOut, so the connector goes back to Available and no StartTransaction follows. The
central system must authorize the idTag and answer both status notifications. The timeout belongs
to the harness's charge point, which lets it expire at once.

Readings as TC_011_1: the RemoteStartTransaction.req must carry the valid idTag asked for and, if
it has a connectorId, the connector asked for.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, notify_status, remote_started


@case("TC_011_2_CSMS", "Remote Start Charging Session - Time Out", profile="Core",
      needs=("Booted",))
async def test_tc_011_2_csms_remote_start_timeout(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1. [OPERATOR: remote start for the valid idTag] Central system: RemoteStartTransaction.req
    # 2. Harness: RemoteStartTransaction.conf Accepted
    # 3-4. Harness: Authorize.req with the idTag of step 1; central system: Authorize.conf Accepted
    await remote_started(csms, driver, pics, step=1, connector_id=connector_id)

    # 5-6. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="5-6")

    # 7-8. [ConnectionTimeOut] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available", step="7-8")
