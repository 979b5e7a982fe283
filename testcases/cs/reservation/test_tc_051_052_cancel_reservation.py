"""TC_051_CS Cancel Reservation and TC_052_CS Cancel Reservation - Rejected (Reservation).

TC_051: reusable state Reserved (<Configured Valid IdTag>); 1-2. CancelReservation.req with the
reservationId of that reservation -> Accepted; 3. StatusNotification Available for the connector; then
a Charging session with <Configured Valid IdTag 2>: its StartTransaction.req carries no reservationId
(the reservation is gone).

TC_052: reusable state Reserved; 1-2. CancelReservation.req with another reservationId -> Rejected;
the existing reservation is untouched. Reading: "untouched" is checked twice: the connector reports
nothing (it stays Reserved) while the harness cancels the real reservation, and that cancellation is
Accepted and turns the connector Available, which it could not if the reservation had gone.
"""

from harness.cases import case
from harness.states.cs import booted, charging, expect_status
from harness.states.reservation import (VALID2_NA, assert_cancel_status, cancel_reservation,
                                        new_reservation_id, reservation_id_problem, reserved)


@case("TC_051_CS", "Cancel Reservation", profile="Reservation", needs=("Reserved",),
      na_when=(VALID2_NA,))
async def test_tc_051_cs_cancel_reservation(cp, driver, pics):
    await booted(cp, pics)
    async with reserved(cp, pics) as r:
        # 1. Harness: CancelReservation.req (reservationId of the reservation)  2. .conf Accepted
        cancel = await cancel_reservation(cp, r.reservation_id)
        assert_cancel_status(cancel, "Accepted", step="step 2")
        r.held = False
        # 3. StatusNotification.req Available
        await expect_status(cp, pics, r.connector_id, "Available", step="step 3",
                            when="after the reservation was cancelled")

    # 5. Charging with <Configured Valid IdTag 2>: StartTransaction.req without reservationId
    async with charging(cp, driver, pics, id_tag=pics.id_tags.valid2, connector_id=r.connector_id,
                        expect_authorize=None) as tx:
        problem = reservation_id_problem(tx.start, None)
        assert problem is None, f"step 5: {problem}"


@case("TC_052_CS", "Cancel Reservation - Rejected", profile="Reservation", needs=("Reserved",))
async def test_tc_052_cs_cancel_reservation_rejected(cp, driver, pics):
    await booted(cp, pics)
    async with reserved(cp, pics) as r:
        # 1. Harness: CancelReservation.req with a reservationId the charge point does not hold
        other = new_reservation_id()
        cancel = await cancel_reservation(cp, other)
        # 2. Charge point: CancelReservation.conf Rejected
        assert_cancel_status(cancel, "Rejected", step=f"step 2 (reservationId {other}, not "
                                                      f"{r.reservation_id})")

        # Check: the reservation is untouched: cancelling it is Accepted, and only then is the
        # connector Available (no status came in between).
        cancel = await cancel_reservation(cp, r.reservation_id)
        assert_cancel_status(cancel, "Accepted",
                             step=f"check after step 2: the reservation {r.reservation_id} is "
                                  f"still held")
        r.held = False
        await expect_status(cp, pics, r.connector_id, "Available", step="check after step 2",
                            why=" (Reserved until the reservation was cancelled, then Available)")
