"""TC_053_CS Use a reserved Connector with parentIdTag (Reservation): TC_053_1_CS local start and
TC_053_2_CS remote start (the OCTT tool's split, catalogue section 0.1).

Reusable state SetConnectorUnavailable for the unused connectors. 1-2. ReserveNow.req
(<Configured Valid IdTag>, parentIdTag <Configured ParentId>) -> Accepted; 3. StatusNotification
Reserved; then <Configured Valid IdTag 2>, a different idTag with the same parent, uses the
reservation:
- 053_1 (local): reusable state Authorized with it ([present it] -> Authorize.req optional,
  Preparing); [plug in] -> StartTransaction.req and StatusNotification Charging, in either order;
- 053_2 (remote): RemoteStartTransaction.req for it on the reserved connector -> Accepted;
  Authorize.req optional; Preparing; [plug in] -> StartTransaction.req and Charging.
Validation: the StartTransaction.req carries the reservationId of the ReserveNow.

Readings (validations truncated in the catalogue): section 5.13 lets the charge point find the
parent of idTag 2 in its local list or cache, and otherwise it SHALL send an Authorize.req; so the
Authorize.req is optional, and when it comes the harness answers Accepted with parentIdTag
<Configured ParentId> (the PICS id_tags). AuthorizeRemoteTxRequests does not change this.
"""

from harness.cases import case
from harness.states.cs import (authorized, booted, expect_status, remote_start, start_after_plug_in,
                               transaction)
from harness.states.reservation import (PARENT_NA, other_connectors_unavailable,
                                        reservation_id_problem, reserved)

NO_READER = (lambda pics: pics.features.rfid_readers == 0,
             "the charge point has no RFID reader to present an idTag to")
NEEDS = ("SetConnectorUnavailable (unused connectors)", "Reserved with parentIdTag")


@case("TC_053_CS", "Use a reserved Connector with parentIdTag - Local start", profile="Reservation",
      needs=(*NEEDS, "Authorized"), na_when=(PARENT_NA, NO_READER), aliases=("TC_053_1_CS",))
async def test_tc_053_cs_reserved_parent_local(cp, driver, pics):
    await booted(cp, pics)
    tags = pics.id_tags
    async with other_connectors_unavailable(cp, pics), \
            reserved(cp, pics, id_tag=tags.valid, parent=tags.parent, step="steps 1-3") as r, \
            transaction(cp, driver, pics, id_tag=tags.valid2, connector_id=r.connector_id) as tx:
        # 4. Authorized with <Configured Valid IdTag 2>: (Authorize.req) StatusNotification Preparing
        await authorized(cp, driver, pics, id_tag=tx.id_tag, connector_id=tx.connector_id,
                         expect_authorize=None, state="step 4 (Authorized with idTag 2)")
        # 6. [Plug in] -> StartTransaction.req with the reservationId, StatusNotification Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 6-9")
        r.held = False
        problem = reservation_id_problem(tx.start, r.reservation_id)
        assert problem is None, f"step 6: {problem}"


@case("TC_053_2_CS", "Use a reserved Connector with parentIdTag - Remote start",
      profile="Reservation", needs=NEEDS, na_when=(PARENT_NA,))
async def test_tc_053_2_cs_reserved_parent_remote(cp, driver, pics):
    await booted(cp, pics)
    tags = pics.id_tags
    async with other_connectors_unavailable(cp, pics), \
            reserved(cp, pics, id_tag=tags.valid, parent=tags.parent, step="steps 1-3") as r, \
            transaction(cp, driver, pics, id_tag=tags.valid2, connector_id=r.connector_id) as tx:
        # 4-5. Harness: RemoteStartTransaction.req (idTag 2, reserved connector)  .conf Accepted
        await remote_start(cp, pics, tx, step="step 5")
        # (Authorize.req for idTag 2, answered with the parent) StatusNotification.req Preparing
        await expect_status(cp, pics, tx.connector_id, "Preparing", step="step 6",
                            when=f"after the remote start for idTag {tx.id_tag} (same parent as the reservation)")
        # 8. [Plug in] -> StartTransaction.req with the reservationId, StatusNotification Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 8-11")
        r.held = False
        problem = reservation_id_problem(tx.start, r.reservation_id)
        assert problem is None, f"step 8: {problem}"
