"""TC_049_CS Reservation of a Charge Point - Transaction (Reservation).

Only where the charge point supports reservations of connector 0 (ReserveConnectorZeroSupported;
the PICS features.reserve_connector_zero). 1-2. ReserveNow.req connectorId 0, <Configured Valid
IdTag> -> Accepted; 3. the reservation is reported: StatusNotification Reserved; only the reserved
idTag can then charge: [present <Configured Valid IdTag 2>] -> no Authorize.req for it (watched for
the quiet period, triggered_function_timeout, as in TC_046_1); [present the reserved idTag] ->
(Authorize.req) Preparing; [plug in] -> StartTransaction.req with the reservationId of step 1, and
Charging.

Readings (the catalogue marks the case as reconstructed): section 5.13 says a charge point holding a
reservation of connector 0 "SHALL make sure that at any time during the validity of the reservation,
one connector remains available for the reserved IdTag"; it asks for no StatusNotification and
does not say which connector reports Reserved. The harness first makes every connector but the one
under test Unavailable (reusable state SetConnectorUnavailable, as in TC_046_1/TC_047), so the
connector under test is the one that must be held. Step 3 then takes StatusNotification Reserved for
that connector, or no status at all within the triggered function timeout (connector 0 itself may
report only Available, Unavailable or Faulted, section 4.9;
:func:`harness.states.reservation.expect_reserved`); any other status fails. What the spec does
require is judged by behaviour in steps 4-10: another idTag is refused on the held connector (no
Authorize.req for it), the reserved idTag charges there with the reservationId.
"""

from harness.cases import case
from harness.states.cs import (authorized, booted, quiet_period, start_after_plug_in,
                               transaction)
from harness.states.reservation import (CONNECTOR_ZERO_NA, VALID2_NA,
                                        other_connectors_unavailable, reservation_id_problem,
                                        reserved)

NO_READER = (lambda pics: pics.features.rfid_readers == 0,
             "the charge point has no RFID reader to present an idTag to")


@case("TC_049_CS", "Reservation of a Charge Point - Transaction", profile="Reservation",
      needs=("ReserveConnectorZeroSupported=true", "SetConnectorUnavailable (unused connectors)"),
      na_when=(CONNECTOR_ZERO_NA, NO_READER, VALID2_NA))
async def test_tc_049_cs_reserve_charge_point(cp, driver, pics):
    await booted(cp, pics)
    async with other_connectors_unavailable(cp, pics), \
            reserved(cp, pics, connector_id=0, step="steps 1-3") as r, \
            transaction(cp, driver, pics, id_tag=r.id_tag, connector_id=r.watched_connector) as tx:
        # 1-2. Harness: ReserveNow.req connectorId 0  Charge point: .conf Accepted
        # 3. StatusNotification.req Reserved for the connector held for the idTag, or none
        #    (section 5.13 asks for none)

        # 4. [Present another valid idTag] -> no Authorize.req: the one free connector is held
        other_tag = pics.id_tags.valid2
        await driver.present_id_tag(other_tag, tx.connector_id, timeout=pics.timing.response_timeout)
        await cp.expect_silence(
            "Authorize", duration=quiet_period(pics),
            where=lambda p: str(p.get("idTag", "")).casefold() == other_tag.casefold())

        # 5. [Present the reserved idTag] -> (Authorize.req) StatusNotification.req Preparing
        await authorized(cp, driver, pics, id_tag=r.id_tag, connector_id=tx.connector_id,
                         expect_authorize=None, state="step 5")
        # 7. [Plug in] -> StartTransaction.req with the reservationId; StatusNotification Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 7-10")
        r.held = False
        problem = reservation_id_problem(tx.start, r.reservation_id)
        assert problem is None, f"step 7: {problem}"
