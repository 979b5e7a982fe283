"""TC_046_1_CS Reservation of a Connector - Local start transaction, and TC_046_2_CS Reservation of a
Connector - Remote start transaction (Reservation).

TC_046_1: Reusable state SetConnectorUnavailable for the unused connectors. 1-2. ReserveNow.req
(<Configured ConnectorId>, <Configured Valid IdTag>) -> Accepted; 3. StatusNotification Reserved;
[present another valid idTag] -> no Authorize.req for it (the connector is reserved for somebody
else); [present the reserved idTag] -> Authorize.req optional, StatusNotification Preparing;
[plug in] -> StartTransaction.req with the reservationId of step 1, and StatusNotification Charging.

TC_046_2: ReserveNow.req Accepted; StatusNotification Reserved; then the Charging state by a remote
start: RemoteStartTransaction.req for the reserved idTag on the reserved connector, Accepted;
(Authorize.req when AuthorizeRemoteTxRequests is true); StatusNotification Preparing; [plug in] ->
StartTransaction.req whose idTag and reservationId are those of the ReserveNow, Charging.

Readings (the catalogue marks the validations after step 2 as truncated): the other idTag is
watched for the harness's quiet period (triggered_function_timeout), which is the longest an
Authorize.req caused by the card could take; the reservation has no parentIdTag, so the charge point
has no reason to ask about another idTag (section 5.13).
"""

from harness.cases import case
from harness.states.cs import (assert_id_tag, authorize_remote_tx_requests, authorized, booted,
                               expect_status, quiet_period, remote_start, start_after_plug_in,
                               transaction, triggered)
from harness.states.reservation import (VALID2_NA, other_connectors_unavailable,
                                        reservation_id_problem, reserved)

NO_READER = (lambda pics: pics.features.rfid_readers == 0,
             "the charge point has no RFID reader to present an idTag to")


@case("TC_046_1_CS", "Reservation of a Connector - Local start transaction", profile="Reservation",
      needs=("SetConnectorUnavailable (unused connectors)",), na_when=(NO_READER, VALID2_NA))
async def test_tc_046_1_cs_reservation_local_start(cp, driver, pics):
    await booted(cp, pics)
    other_tag = pics.id_tags.valid2
    async with other_connectors_unavailable(cp, pics), \
            reserved(cp, pics, step="steps 1-3") as r, \
            transaction(cp, driver, pics, id_tag=r.id_tag, connector_id=r.connector_id) as tx:
        # 1-2. Harness: ReserveNow.req  Charge point: .conf Accepted
        # 3. StatusNotification.req Reserved (both in the Reserved state above)

        # 5. [Present a different valid idTag] -> no Authorize.req: the connector is reserved
        await driver.present_id_tag(other_tag, r.connector_id, timeout=pics.timing.response_timeout)
        await cp.expect_silence(
            "Authorize", duration=quiet_period(pics),
            where=lambda p: str(p.get("idTag", "")).casefold() == other_tag.casefold())

        # 7. [Present the reserved idTag] -> (Authorize.req) StatusNotification.req Preparing
        await authorized(cp, driver, pics, id_tag=r.id_tag, connector_id=r.connector_id,
                         expect_authorize=None, state="step 7")

        # 9. [Plug in] -> StartTransaction.req with the reservationId; StatusNotification Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 9-12")
        r.held = False  # used up by the transaction
        problem = reservation_id_problem(tx.start, r.reservation_id)
        assert problem is None, f"step 9: {problem}"


@case("TC_046_2_CS", "Reservation of a Connector - Remote start transaction", profile="Reservation",
      needs=("Reserved", "Charging (remote start)"))
async def test_tc_046_2_cs_reservation_remote_start(cp, driver, pics):
    await booted(cp, pics)
    async with reserved(cp, pics, step="steps 1-3") as r, \
            transaction(cp, driver, pics, id_tag=r.id_tag, connector_id=r.connector_id) as tx:
        # 1-3. ReserveNow.req Accepted, StatusNotification.req Reserved (the Reserved state above)

        # 4. Harness: RemoteStartTransaction.req (reserved idTag, reserved connector): Accepted
        authorize_first, _ = await authorize_remote_tx_requests(cp, pics, step="step 4")
        await remote_start(cp, pics, tx, step="step 4")
        if authorize_first:
            authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                        what="step 5: Authorize.req (AuthorizeRemoteTxRequests=true)")
            assert_id_tag(authorize, "idTag", r.id_tag, step="step 5")
        await expect_status(cp, pics, r.connector_id, "Preparing", step="step 6",
                            when="after the remote start for the reserved idTag")

        # 7. [Plug in] -> StartTransaction.req (idTag and reservationId of the ReserveNow), Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 7-10")
        r.held = False
        problem = reservation_id_problem(tx.start, r.reservation_id)
        assert problem is None, f"step 7: {problem}"
