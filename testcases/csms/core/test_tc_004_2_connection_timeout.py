"""TC_004_2_CSMS Regular Charging Session - Identification First - ConnectionTimeOut (Core).

After the card was authorized the cable is plugged in, but no EV connects before the charge point's
ConnectionTimeOut: the connector goes back to Available and no transaction starts. The central
system must answer both status notifications. The timeout belongs to the harness's charge point,
which lets it expire at once (no wait: nothing the central system does depends on its length).
"""

from harness.cases import case
from harness.states.csms import authorized, booted, configured_connector, notify_status


@case("TC_004_2_CSMS", "Regular Charging Session - Identification First - ConnectionTimeOut",
      profile="Core", needs=("Booted", "Authorized"))
async def test_tc_004_2_csms_connection_timeout(csms, pics):
    await booted(csms, pics)
    await authorized(csms, pics)
    connector_id = configured_connector(pics)

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3-4. [ConnectionTimeOut] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available", step="3-4")
