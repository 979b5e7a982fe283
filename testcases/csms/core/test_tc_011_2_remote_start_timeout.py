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
from harness.states.csms import (authorize, booted, configured_connector, notify_status,
                                 operator_sends, same_id_tag)


@case("TC_011_2_CSMS", "Remote Start Charging Session - Time Out", profile="Core",
      needs=("Booted",))
async def test_tc_011_2_csms_remote_start_timeout(csms, driver, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1. [OPERATOR: remote start for the valid idTag] Central system: RemoteStartTransaction.req
    # 2. Harness: RemoteStartTransaction.conf Accepted
    remote = await operator_sends(csms, driver, pics, "RemoteStartTransaction",
                                  {"connectorId": connector_id, "idTag": id_tag},
                                  answer={"status": "Accepted"}, step=1)
    assert same_id_tag(remote["idTag"], id_tag), (
        f"step 1: RemoteStartTransaction.req idTag is {remote['idTag']!r}, expected the valid "
        f"idTag {id_tag!r} the operator asked for (wire log line {remote.line})")
    assert remote.get("connectorId", connector_id) == connector_id, (
        f"step 1: RemoteStartTransaction.req connectorId is {remote['connectorId']!r}, expected "
        f"{connector_id} as the operator asked, or none (wire log line {remote.line})")

    # 3-4. Harness: Authorize.req with the idTag of step 1; central system: Authorize.conf
    authorized = await authorize(csms, pics, remote["idTag"], step="3-4")
    status = authorized["idTagInfo"]["status"]
    assert status == "Accepted", (
        f"step 4: Authorize.conf idTagInfo.status for {remote['idTag']!r} is {status!r}, "
        f"expected 'Accepted' (wire log line {authorized.line})")

    # 5-6. [Cable plugged in] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="5-6")

    # 7-8. [ConnectionTimeOut] Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available", step="7-8")
