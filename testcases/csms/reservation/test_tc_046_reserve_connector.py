"""TC_046_CSMS Reservation of a Connector - Transaction (Reservation).

1. [OPERATOR: ReserveNow on <Configured ConnectorId> for <Configured Valid IdTag>, expiry in the
future] Central system: ReserveNow.req (connectorId and idTag as asked); 2. harness: Accepted;
3-4. StatusNotification Reserved; 5. reusable state Charging with the same idTag: Authorize
(Accepted), StatusNotification Preparing, StartTransaction.req with the reservationId of step 1
(Accepted), StatusNotification Charging. Clean-up (not in the OCTT table): stopped locally.

Reading: the central system picks the reservationId (the operator is offered one); the harness's
charge point uses the one that came on the wire.
"""

from harness.cases import case
from harness.states.assertions import assert_value
from harness.states.csms import (authorized, booted, configured_connector, end_charging,
                                 notify_status)
from harness.states.reservation import operator_reserves, reserve_request, start_reserved


@case("TC_046_CSMS", "Reservation of a Connector - Transaction", profile="Reservation",
      needs=("Booted", "Charging"))
async def test_tc_046_csms_reserve_connector(csms, driver, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid

    # 1. [OPERATOR: reserve the connector for the valid idTag] Central system: ReserveNow.req
    # 2. Harness: ReserveNow.conf Accepted
    asked = reserve_request(pics, connector_id=connector_id, id_tag=id_tag)
    request = await operator_reserves(csms, driver, pics, asked, answer="Accepted", step=1)

    # 3-4. Harness: StatusNotification.req Reserved; central system: .conf
    await notify_status(csms, connector_id, "Reserved", step="3-4")

    # 5. Charging with the reserved idTag: Authorize, Preparing, StartTransaction with the
    # reservationId, Charging
    await authorized(csms, pics, id_tag)
    await notify_status(csms, connector_id, "Preparing", step=5)
    tx = await start_reserved(csms, connector_id, id_tag, request["reservationId"], step=5)
    assert_value(tx.start, "idTagInfo.status", "Accepted", step="step 5",
                 when=f"(reservationId {request['reservationId']})")
    await notify_status(csms, connector_id, "Charging", step=5)

    await end_charging(csms, tx)
