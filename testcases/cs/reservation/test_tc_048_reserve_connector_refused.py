"""TC_048_1_CS Faulted, TC_048_2_CS Occupied, TC_048_3_CS Unavailable, TC_048_4_CS Rejected:
Reservation of a Connector refused (Reservation).

Each brings the connector under test into a state in which it cannot be reserved, sends ReserveNow.req
(<Configured ConnectorId>, <Configured Valid IdTag>) and expects the ReserveNowStatus that says why
(OCPP 1.6 section 7.39): Faulted, Occupied, Unavailable, Rejected. Nothing is reserved, so no
StatusNotification Reserved may follow.

Readings (the catalogue marks 048_1, 048_3 and 048_4 as reconstructed):
- 048_1: [put the connector in a fault] is the driver's ``report_fault`` (a charge point where no
  fault can be provoked makes the case INCONCLUSIVE); Faulted is reported first.
- 048_2: SetConnectorOccupied is a cable plugged in (StatusNotification Preparing): the connector is
  in use, so Occupied; the charge point carries on (unplugging brings it back to Available).
- 048_3: ChangeAvailability Inoperative for the connector, reported Unavailable.
- 048_4: "the charge point is set not to accept reservations" is the driver's ``refuse_reservation``
  action (on a real charge point: the operator configures it so; OCPP 1.6 has no key for it).
- That nothing was reserved is checked by a CancelReservation of the refused reservationId, which
  must be Rejected (the charge point knows no such reservation).
"""

from harness.cases import case
from harness.states.cs import (booted, change_availability, conf_status, connector_under_test,
                               expect_status, operative_at_end, status_until, take_cable_out)
from harness.states.reservation import (assert_cancel_status, assert_reserve_status,
                                        cancel_reservation, reserve_now)

ERROR_CODE = "OtherError"


async def _refused(cp, pics, expected: str, *, step: str):
    r = await reserve_now(cp, pics)
    r.held = False
    assert_reserve_status(r, expected, step=step)
    # Nothing was reserved: the refused reservationId is unknown to the charge point.
    cancel = await cancel_reservation(cp, r.reservation_id)
    assert_cancel_status(cancel, "Rejected",
                         step=f"{step} (check: the {expected} reservation was not made)")
    return r


@case("TC_048_1_CS", "Reservation of a Connector - Faulted", profile="Reservation",
      needs=("a fault can be provoked",))
async def test_tc_048_1_cs_reserve_faulted(cp, driver, pics):
    await booted(cp, pics)
    connector_id, timeout = connector_under_test(pics), pics.timing.response_timeout
    # 1. [Put the connector into a fault] -> StatusNotification.req Faulted
    await driver.report_fault(connector_id, ERROR_CODE, timeout=timeout)
    try:
        await expect_status(cp, pics, connector_id, "Faulted", step="step 1", when="with a fault")
        # 3. Harness: ReserveNow.req  4. Charge point: .conf Faulted
        await _refused(cp, pics, "Faulted", step="step 4")
    finally:
        await driver.clear_fault(connector_id, timeout=timeout)
        await status_until(cp, pics, connector_id, "Available")


@case("TC_048_2_CS", "Reservation of a Connector - Occupied", profile="Reservation",
      needs=("SetConnectorOccupied",))
async def test_tc_048_2_cs_reserve_occupied(cp, driver, pics):
    await booted(cp, pics)
    connector_id, timeout = connector_under_test(pics), pics.timing.response_timeout
    # SetConnectorOccupied: [plug in] -> StatusNotification.req Preparing
    await driver.plug_in(connector_id, timeout=timeout)
    try:
        await expect_status(cp, pics, connector_id, "Preparing",
                            step="SetConnectorOccupied", when="after the plug-in")
        # 1. Harness: ReserveNow.req  2. Charge point: .conf Occupied
        await _refused(cp, pics, "Occupied", step="step 2")
    finally:
        # The charge point carries on normally: the cable comes out, the connector is Available.
        await take_cable_out(driver, pics, connector_id)
        await status_until(cp, pics, connector_id, "Available")


@case("TC_048_3_CS", "Reservation of a Connector - Unavailable", profile="Reservation",
      needs=("SetConnectorUnavailable",))
async def test_tc_048_3_cs_reserve_unavailable(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    async with operative_at_end(cp, pics, connector_id):
        # 1-2. Harness: ChangeAvailability.req Inoperative  Charge point: .conf Accepted
        change = await change_availability(cp, pics, connector_id, "Inoperative", step="step 2")
        conf_status(change, "Accepted", step="step 2")
        # 3. StatusNotification.req Unavailable
        await expect_status(cp, pics, connector_id, "Unavailable", step="step 3")
        # 5. Harness: ReserveNow.req  6. Charge point: .conf Unavailable
        await _refused(cp, pics, "Unavailable", step="step 6")


@case("TC_048_4_CS", "Reservation of a Connector - Rejected", profile="Reservation",
      needs=("the charge point is set not to accept reservations",))
async def test_tc_048_4_cs_reserve_rejected(cp, driver, pics):
    await booted(cp, pics)
    # [The charge point is set not to accept reservations]
    await driver.refuse_reservation(timeout=pics.timing.response_timeout)
    # 1. Harness: ReserveNow.req  2. Charge point: .conf Rejected
    await _refused(cp, pics, "Rejected", step="step 2")
