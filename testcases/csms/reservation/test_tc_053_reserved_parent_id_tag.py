"""TC_053_CSMS Use a reserved Connector with parentIdTag (Reservation).

1. [OPERATOR: reserve a connector for <Configured Valid IdTag> with parentIdTag <Configured ParentId>]
Central system: ReserveNow.req (connectorId not 0, idTag and parentIdTag as asked); 2. harness:
Accepted; 3-4. StatusNotification Reserved; 5. a driver presents <Configured Valid IdTag 2>, a
different idTag with the same parent: reusable state Charging with it: Authorize.req, whose
Authorize.conf must be Accepted with parentIdTag <Configured ParentId> (that is how the charge point
knows idTag 2 may use the reservation, section 5.13), StatusNotification Preparing,
StartTransaction.req with the reservationId of step 1 (Accepted), StatusNotification Charging.
Clean-up (not in the table): stopped locally.
"""

from harness.cases import case
from harness.states.assertions import assert_value
from harness.states.csms import (authorize, booted, configured_connector, end_charging,
                                 notify_status)
from harness.states.reservation import (PARENT_NA, operator_reserves, reserve_request,
                                        start_reserved)


@case("TC_053_CSMS", "Use a reserved Connector with parentIdTag", profile="Reservation",
      needs=("Booted", "Charging"), na_when=(PARENT_NA,))
async def test_tc_053_csms_reserved_parent_id_tag(csms, driver, pics):
    await booted(csms, pics)
    connector_id, tags = configured_connector(pics), pics.id_tags

    # 1. [OPERATOR: reserve for idTag A with parent P] Central system: ReserveNow.req
    # 2. Harness: ReserveNow.conf Accepted
    asked = reserve_request(pics, connector_id=connector_id, id_tag=tags.valid, parent=tags.parent)
    request = await operator_reserves(csms, driver, pics, asked, answer="Accepted", step=1)
    assert request["connectorId"] != 0, (
        f"step 1: ReserveNow.req reserves connectorId 0, expected a specific connector (wire log "
        f"line {request.line})")

    # 3-4. Harness: StatusNotification.req Reserved; central system: .conf
    await notify_status(csms, connector_id, "Reserved", step="3-4")

    # 5. [Idtag B with the same parent is presented] Charging with B
    authorized = await authorize(csms, pics, tags.valid2, step=5)
    info = authorized.get("idTagInfo") or {}
    parent = info.get("parentIdTag")
    assert info.get("status") == "Accepted" and isinstance(parent, str) \
        and parent.casefold() == tags.parent.casefold(), (
            f"step 5: Authorize.conf for {tags.valid2!r} is status {info.get('status')!r} "
            f"parentIdTag {parent!r}, expected 'Accepted' with parentIdTag {tags.parent!r}, the "
            f"parent of the reservation (wire log line {authorized.line})")
    await notify_status(csms, connector_id, "Preparing", step=5)
    tx = await start_reserved(csms, connector_id, tags.valid2, request["reservationId"], step=5)
    assert_value(tx.start, "idTagInfo.status", "Accepted", step="step 5",
                 when=f"for {tags.valid2!r} (reservationId {request['reservationId']})")
    await notify_status(csms, connector_id, "Charging", step=5)

    await end_charging(csms, tx)
