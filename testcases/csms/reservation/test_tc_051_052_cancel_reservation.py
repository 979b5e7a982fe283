"""TC_051_CSMS Cancel Reservation and TC_052_CSMS Cancel Reservation - Rejected (Reservation).

TC_051: 1. [OPERATOR: reserve a specific connector] ReserveNow.req (connectorId not 0); 2. harness:
Accepted; 3-4. StatusNotification Reserved; 5. [OPERATOR: cancel that reservation]
CancelReservation.req with the reservationId of step 1; 6. harness: Accepted; 7-8. StatusNotification
Available.

TC_052: the same reservation; 5. [OPERATOR: cancel the reservation] CancelReservation.req; 6. harness:
Rejected. The central system must take the rejection in its stride. Reading: the OCTT prints no check
on the CancelReservation.req of 052; the harness asks for the reservation of step 1 and checks it
is the one cancelled, as in 051. Clean-up (not in the table): the harness's charge point lets the
reservation go, connector Available.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, notify_status, operator_sends
from harness.states.reservation import operator_reserves, reserve_request


async def _reserve_then_cancel(csms, driver, pics, answer: str):
    connector_id = configured_connector(pics)
    # 1. [OPERATOR: reserve a connector] Central system: ReserveNow.req  2. Harness: Accepted
    asked = reserve_request(pics, connector_id=connector_id)
    reservation = await operator_reserves(csms, driver, pics, asked, answer="Accepted", step=1)
    assert reservation["connectorId"] != 0, (
        f"step 1: ReserveNow.req reserves connectorId 0, expected a specific connector (wire log "
        f"line {reservation.line})")
    # 3-4. Harness: StatusNotification.req Reserved; central system: .conf
    await notify_status(csms, connector_id, "Reserved", step="3-4")
    # 5. [OPERATOR: cancel that reservation] Central system: CancelReservation.req
    # 6. Harness: CancelReservation.conf (answer)
    cancel = await operator_sends(csms, driver, pics, "CancelReservation",
                                  {"reservationId": reservation["reservationId"]},
                                  answer={"status": answer}, step=5)
    assert cancel["reservationId"] == reservation["reservationId"], (
        f"step 5: CancelReservation.req reservationId is {cancel['reservationId']!r}, expected "
        f"{reservation['reservationId']!r} of the ReserveNow.req of step 1 (wire log line "
        f"{cancel.line})")
    # 7-8. (051) / clean-up (052): Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available",
                        step="7-8" if answer == "Accepted" else "clean-up")


@case("TC_051_CSMS", "Cancel Reservation", profile="Reservation", needs=("Booted",))
async def test_tc_051_csms_cancel_reservation(csms, driver, pics):
    await booted(csms, pics)
    await _reserve_then_cancel(csms, driver, pics, "Accepted")


@case("TC_052_CSMS", "Cancel Reservation - Rejected", profile="Reservation", needs=("Booted",))
async def test_tc_052_csms_cancel_reservation_rejected(csms, driver, pics):
    await booted(csms, pics)
    await _reserve_then_cancel(csms, driver, pics, "Rejected")
