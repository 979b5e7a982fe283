"""TC_049_CSMS Reservation of a Charge Point - Transaction (Reservation).

1. [OPERATOR: ReserveNow for the whole charge point] Central system: ReserveNow.req with
connectorId 0 and <Configured Valid IdTag>; 2. harness: Accepted; 3-4. StatusNotification Reserved.

Readings: the scenario ends at Reserved, despite "Transaction" in the title (the catalogue notes it).
Connector 0 can only be Available, Unavailable or Faulted (OCPP 1.6 section 4.9), so the harness's
charge point reports Reserved for the connector it holds for the idTag (<Configured ConnectorId>).
Clean-up (not in the OCTT table): the harness's charge point lets the reservation go and reports the
connector Available. The case does not depend on the PICS reserve_connector_zero, which describes
the harness's charge point towards a central system, not the central system.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, notify_status
from harness.states.reservation import operator_reserves, reserve_request


@case("TC_049_CSMS", "Reservation of a Charge Point - Transaction", profile="Reservation",
      needs=("Booted",))
async def test_tc_049_csms_reserve_charge_point(csms, driver, pics):
    await booted(csms, pics)
    held = configured_connector(pics)
    # 1. [OPERATOR: reserve the charge point] Central system: ReserveNow.req connectorId 0
    # 2. Harness: ReserveNow.conf Accepted
    asked = reserve_request(pics, connector_id=0)
    await operator_reserves(csms, driver, pics, asked, answer="Accepted", step=1)
    # 3-4. Harness: StatusNotification.req Reserved (the connector held); central system: .conf
    await notify_status(csms, held, "Reserved", step="3-4")
    # Clean-up: the reservation is let go; the connector is Available again.
    await notify_status(csms, held, "Available", step="clean-up")
