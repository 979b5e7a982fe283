"""TC_047_CSMS Reservation of a Connector - Expire (Reservation).

1. [OPERATOR: ReserveNow on <Configured ConnectorId> for <Configured Valid IdTag>, expiry = now +
<Configured Expiry Date Offset>] Central system: ReserveNow.req; 2. harness: Accepted;
3-4. StatusNotification Reserved; 5-6. nobody comes: at the expiryDate the harness's charge point
reports StatusNotification Available.

Readings (the catalogue leaves the tolerance open): the expiryDate must be the one the operator was
asked for within the PICS max_time_deviation. The offset is the PICS triggered_function_timeout,
so that a request sent in time still lies in the future when it arrives. Until the expiry the
central system has no reason to cancel the reservation: a CancelReservation.req in that time fails
the case. The harness's charge point reports Available at the expiryDate of the request.
"""

from datetime import datetime, timezone

from harness.cases import case
from harness.states.cs import parse_time
from harness.states.csms import booted, configured_connector, notify_status
from harness.states.reservation import operator_reserves, reserve_request


@case("TC_047_CSMS", "Reservation of a Connector - Expire", profile="Reservation",
      needs=("Booted",))
async def test_tc_047_csms_reservation_expire(csms, driver, pics):
    await booted(csms, pics)
    connector_id, deviation = configured_connector(pics), pics.timing.max_time_deviation
    offset = pics.timing.triggered_function_timeout

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
    await csms.expect_silence("CancelReservation", duration=max(0.0, remaining))

    # 5-6. Harness: StatusNotification.req Available; central system: .conf
    await notify_status(csms, connector_id, "Available", step="5-6")
