"""TC_050_1_CS Faulted, TC_050_2_CS Occupied, TC_050_3_CS Unavailable, TC_050_4_CS Rejected:
Reservation of a Charge Point refused (Reservation).

Only where the charge point supports reservations of connector 0 (ReserveConnectorZeroSupported;
the PICS features.reserve_connector_zero). The whole charge point is brought into a state in which
it cannot be reserved, ReserveNow.req connectorId 0 (<Configured Valid IdTag>) must be answered with
the status that says why (OCPP 1.6 section 7.39), and nothing is reserved: a CancelReservation of
that reservationId is Rejected.

Readings (the catalogue marks 050_1, 050_2 and 050_4 as reconstructed):
- 050_1: the charge point faulted is the driver's ``report_fault`` on connector 0 (the charge point
  itself), which it reports as StatusNotification connectorId 0 Faulted.
- 050_2: every connector occupied: a cable plugged into each (Preparing): no connector is left to
  hold for the idTag, so Occupied.
- 050_3: reusable state SetChargePointUnavailable (ChangeAvailability connectorId 0 Inoperative,
  every connector and 0 reported Unavailable).
- 050_4: the driver's ``refuse_reservation`` sets the charge point not to accept reservations.
"""

from harness.cases import case
from harness.states import connector_ids
from harness.states.cs import (booted, change_availability, conf_status, expect_status,
                               operative_at_end, status_until, take_cable_out)
from harness.states.reservation import (CONNECTOR_ZERO_NA, assert_cancel_status,
                                        assert_reserve_status, cancel_reservation, reserve_now)

ERROR_CODE = "OtherError"
NEEDS = ("ReserveConnectorZeroSupported=true",)


async def _refused(cp, pics, expected: str, *, step: str):
    r = await reserve_now(cp, pics, connector_id=0)
    r.held = False
    assert_reserve_status(r, expected, step=step)
    cancel = await cancel_reservation(cp, r.reservation_id)
    assert_cancel_status(cancel, "Rejected",
                         step=f"{step} (check: the {expected} reservation was not made)")


@case("TC_050_1_CS", "Reservation of a Charge Point - Faulted", profile="Reservation",
      needs=(*NEEDS, "a fault can be provoked"), na_when=(CONNECTOR_ZERO_NA,))
async def test_tc_050_1_cs_reserve_charge_point_faulted(cp, driver, pics):
    await booted(cp, pics)
    timeout = pics.timing.response_timeout
    # 1. [Put the charge point into a fault] -> StatusNotification.req connectorId 0 Faulted
    await driver.report_fault(0, ERROR_CODE, timeout=timeout)
    try:
        await expect_status(cp, pics, 0, "Faulted", step="step 1",
                            when="with a fault of the charge point")
        # 3. Harness: ReserveNow.req connectorId 0  4. Charge point: .conf Faulted
        await _refused(cp, pics, "Faulted", step="step 4")
    finally:
        await driver.clear_fault(0, timeout=timeout)
        await status_until(cp, pics, 0, "Available")


@case("TC_050_2_CS", "Reservation of a Charge Point - Occupied", profile="Reservation",
      needs=(*NEEDS, "every connector occupied"), na_when=(CONNECTOR_ZERO_NA,))
async def test_tc_050_2_cs_reserve_charge_point_occupied(cp, driver, pics):
    await booted(cp, pics)
    timeout = pics.timing.response_timeout
    plugged = []
    try:
        # 1. [Plug a cable into every connector] -> StatusNotification.req Preparing for each
        for connector_id in connector_ids(pics, with_zero=False):
            await driver.plug_in(connector_id, timeout=timeout)
            plugged.append(connector_id)
            await expect_status(cp, pics, connector_id, "Preparing", step="step 1",
                                when="after the plug-in")
        # 3. Harness: ReserveNow.req connectorId 0  4. Charge point: .conf Occupied
        await _refused(cp, pics, "Occupied", step="step 4")
    finally:
        for connector_id in plugged:
            await take_cable_out(driver, pics, connector_id)
        for connector_id in plugged:
            await status_until(cp, pics, connector_id, "Available")


@case("TC_050_3_CS", "Reservation of a Charge Point - Unavailable", profile="Reservation",
      needs=(*NEEDS, "SetChargePointUnavailable"), na_when=(CONNECTOR_ZERO_NA,))
async def test_tc_050_3_cs_reserve_charge_point_unavailable(cp, driver, pics):
    await booted(cp, pics)
    async with operative_at_end(cp, pics, 0):
        # SetChargePointUnavailable: ChangeAvailability.req connectorId 0 Inoperative: Accepted
        change = await change_availability(cp, pics, 0, "Inoperative",
                                           step="SetChargePointUnavailable")
        conf_status(change, "Accepted", step="SetChargePointUnavailable")
        # StatusNotification.req Unavailable per connector and connectorId 0
        for connector_id in connector_ids(pics):
            await expect_status(cp, pics, connector_id, "Unavailable",
                                step="SetChargePointUnavailable")
        # 1. Harness: ReserveNow.req connectorId 0  2. Charge point: .conf Unavailable
        await _refused(cp, pics, "Unavailable", step="step 2")


@case("TC_050_4_CS", "Reservation of a Charge Point - Rejected", profile="Reservation",
      needs=(*NEEDS, "the charge point is set not to accept reservations"),
      na_when=(CONNECTOR_ZERO_NA,))
async def test_tc_050_4_cs_reserve_charge_point_rejected(cp, driver, pics):
    await booted(cp, pics)
    # [The charge point is set not to accept reservations]
    await driver.refuse_reservation(timeout=pics.timing.response_timeout)
    # 1. Harness: ReserveNow.req connectorId 0  2. Charge point: .conf Rejected
    await _refused(cp, pics, "Rejected", step="step 2")
