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
from harness.states.csms import (authorize, booted, configured_connector, end_charging,
                                 notify_status, operator_sends, same_id_tag, start_transaction)


@case("TC_011_1_CSMS", "Remote Start Charging Session - Remote Start First", profile="Core",
      needs=("Booted",))
async def test_tc_011_1_csms_remote_start_first(csms, driver, pics):
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

    # 7-8. Harness: StartTransaction.req; central system: StartTransaction.conf
    tx = await start_transaction(csms, connector_id, remote["idTag"], step="7-8")
    assert tx.id_tag_status == "Accepted", (
        f"step 8: StartTransaction.conf idTagInfo.status for {remote['idTag']!r} is "
        f"{tx.id_tag_status!r}, expected 'Accepted' (wire log line {tx.start.line})")

    # 9-10. Harness: StatusNotification.req Charging; central system: .conf
    await notify_status(csms, connector_id, "Charging", step="9-10")

    # Clean-up (not in the OCTT table): stopped locally with the same card, cable removed.
    await end_charging(csms, tx)
