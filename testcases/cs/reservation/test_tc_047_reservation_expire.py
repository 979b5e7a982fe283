"""TC_047_CS Reservation of a Connector - Expire (Reservation).

Reusable state SetConnectorUnavailable for the unused connectors. 1-2. ReserveNow.req
(<Configured ConnectorId>, <Configured Valid IdTag>, expiryDate = now + <Configured Reservation Expiry
offset>) -> Accepted; 3. StatusNotification Reserved; nobody comes; 5. at the expiryDate
StatusNotification Available for the same connector; then a Charging session with
<Configured Valid IdTag 2> proves the reservation is gone: its StartTransaction.req carries no
reservationId.

Readings (the catalogue marks the case's timing as truncated):
- "now" is the charge point's clock, not the harness's: the expiryDate is a moment on the device's
  clock, which the harness estimates from the timestamps of the frames the device sent in this case
  (the SetConnectorUnavailable StatusNotifications come right before the ReserveNow), see
  :func:`harness.states.reservation.device_clock`; the StatusNotification Reserved refines it.
- The offset is :func:`harness.states.reservation.expiry_offset` (at least twice max_time_deviation).
- The reservation must end at the expiryDate within max_time_deviation: the Available's own
  timestamp within expiry ± max_time_deviation, and its arrival not earlier than expiry -
  max_time_deviation nor later than expiry + max_time_deviation (+ MinimumStatusDuration, which
  lets a charge point hold a status back that long). A late one is waited for a little longer
  (triggered_function_timeout) so that it is reported with its lateness.
"""

from harness.cases import case
from harness.states.cs import assert_status, booted, charging, cite, next_status
from harness.states.reservation import (VALID2_NA, end_wait, ended_at_expiry_problems,
                                        expiry_offset, other_connectors_unavailable,
                                        reservation_id_problem, reserved)


@case("TC_047_CS", "Reservation of a Connector - Expire", profile="Reservation",
      needs=("SetConnectorUnavailable (unused connectors)", "Reserved"), na_when=(VALID2_NA,))
async def test_tc_047_cs_reservation_expire(cp, driver, pics):
    await booted(cp, pics)
    async with other_connectors_unavailable(cp, pics):
        # 1-2. Harness: ReserveNow.req, expiryDate = device now + offset  Charge point: Accepted
        # 3. StatusNotification.req Reserved
        async with reserved(cp, pics, expires_in=expiry_offset(pics), step="steps 1-3") as r:
            # 5. [Nobody comes] At the expiryDate: StatusNotification.req Available
            available = await next_status(
                cp, pics, r.connector_id, timeout=end_wait(r, pics),
                what=f"step 5: StatusNotification Available when the reservation expires at "
                     f"{r.expiry.isoformat()} (charge point's clock)")
            assert_status(available, "Available", step="step 5",
                          when="while the reservation was to expire")
            r.held = False
            problems = ended_at_expiry_problems(available, r, pics)
            assert not problems, (
                f"step 5: the reservation did not end at its expiryDate: the StatusNotification "
                f"Available ({cite(available)}): " + "; ".join(problems))

        # 7. Charging with <Configured Valid IdTag 2>: the StartTransaction.req has no reservationId
        async with charging(cp, driver, pics, id_tag=pics.id_tags.valid2,
                            connector_id=r.connector_id, expect_authorize=None) as tx:
            problem = reservation_id_problem(tx.start, None)
            assert problem is None, f"step 7: {problem}"
