"""TC_047_CSMS Reservation of a Connector - Expire (Reservation).

1. [OPERATOR: ReserveNow on <Configured ConnectorId> for <Configured Valid IdTag>, expiry = now +
<Configured Expiry Date Offset>] Central system: ReserveNow.req; 2. harness: Accepted;
3-4. StatusNotification Reserved; 5-6. nobody comes: at the expiryDate the harness's charge point
reports StatusNotification Available.

Readings (the catalogue leaves the tolerance open): the expiryDate must be the one the operator was
asked for within the PICS max_time_deviation. The <Configured Expiry Date Offset> only has to keep
the expiry in the future until the ReserveNow.req reaches the charge point, and the case waits for
the whole of it: the reservation states' expiry_offset (at least twice max_time_deviation, so
that an expiry the central system moved cannot pass as "within the deviation") when a machine
makes the central system send it (sim, http, python drivers: milliseconds to seconds); a human
operator at the prompt is given the operator's time on top (harness.states.csms.operator_timeout).
A request that arrives after its own expiryDate leaves nothing to watch: INCONCLUSIVE. Until the
expiry the central system has no reason to cancel the reservation: a CancelReservation.req in that
time fails the case. The harness's charge point reports Available at the expiryDate of the request.
"""

from datetime import datetime, timezone

from harness.cases import case
from harness.clock import parse_time
from harness.drivers import PromptDriver
from harness.states.csms import booted, configured_connector, notify_status, operator_timeout
from harness.states.reservation import expiry_offset, operator_reserves, reserve_request
from harness.verdicts import Inconclusive


@case("TC_047_CSMS", "Reservation of a Connector - Expire", profile="Reservation",
      needs=("Booted",))
async def test_tc_047_csms_reservation_expire(csms, driver, pics):
    await booted(csms, pics)
    connector_id, deviation = configured_connector(pics), pics.timing.max_time_deviation
    offset = expiry_offset(pics)
    if isinstance(driver, PromptDriver):
        offset += operator_timeout(pics)

    # 1. [OPERATOR: reserve, expiry = now + offset] Central system: ReserveNow.req
    # 2. Harness: ReserveNow.conf Accepted
    asked = reserve_request(pics, connector_id=connector_id, expires_in=offset)
    request = await operator_reserves(csms, driver, pics, asked, answer="Accepted", step=1)
    expiry, wanted = parse_time(request["expiryDate"]), parse_time(asked["expiryDate"])
    drift = (expiry - wanted).total_seconds()
    assert abs(drift) <= deviation, (
        f"step 1: ReserveNow.req expiryDate is {request['expiryDate']}, {drift:+.3f} s from the "
        f"{asked['expiryDate']} the operator asked for, expected within ±{deviation:g} s "
        f"(max_time_deviation) (wire log line {request.line})")

    # 3-4. Harness: StatusNotification.req Reserved; central system: .conf
    await notify_status(csms, connector_id, "Reserved", step="3-4")

    # [The expiry passes with no driver]: the central system leaves the reservation alone
    remaining = (expiry - datetime.now(timezone.utc)).total_seconds()
    if remaining <= 0:
        raise Inconclusive(f"step 1: the ReserveNow.req came after its own expiryDate "
                           f"{request['expiryDate']} (asked {offset:g} s ahead): nothing left to "
                           f"watch (wire log line {request.line})")
    await csms.expect_silence("CancelReservation", duration=remaining)

    # 5-6. Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available", step="5-6")
