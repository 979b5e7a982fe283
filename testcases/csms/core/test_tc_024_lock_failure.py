"""TC_024_CSMS Start Charging Session Lock Failure (Core).

After the card was authorized the cable is plugged in, but the connector lock fails: the harness's
charge point reports the connector Faulted with errorCode ConnectorLockFailure and starts no
transaction. The central system must answer both status notifications.
"""

from harness.cases import case
from harness.states.csms import authorized, booted, configured_connector, notify_status


@case("TC_024_CSMS", "Start Charging Session Lock Failure", profile="Core",
      needs=("Booted", "Authorized"))
async def test_tc_024_csms_lock_failure(csms, pics):
    await booted(csms, pics)
    await authorized(csms, pics)
    connector_id = configured_connector(pics)

    # 1-2. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")

    # 3-4. [The lock fails] Harness: StatusNotification.req Faulted, ConnectorLockFailure;
    #      central system: .conf
    await notify_status(csms, connector_id, "Faulted", "ConnectorLockFailure", step="3-4")

    # Clean-up (not in the OCTT table): the cable is removed and the fault clears.
    await notify_status(csms, connector_id, "Available", step="clean-up")
