"""TC_048_1_CSMS Faulted, TC_048_2_CSMS Occupied, TC_048_3_CSMS Unavailable, TC_048_4_CSMS Rejected:
Reservation of a Connector refused (Reservation).

The operator makes the central system reserve <Configured ConnectorId> for <Configured Valid IdTag>;
the harness's charge point refuses with the status of the case. The central system must send a
valid request with the connectorId and idTag asked for, and take the refusal in its stride.
- 048_2: first [cable plugged] StatusNotification Preparing on the connector, so it is Occupied.
- 048_3: first [OPERATOR: ChangeAvailability Inoperative] ChangeAvailability.req (connectorId as
  asked, type Inoperative), Accepted, StatusNotification Unavailable. Clean-up (harness teardown
  in the catalogue): the operator makes the connector Operative again, reported Available.
Reading for 048_1 and 048_4: the OCTT table has only the two messages; the harness's charge point
reports no Faulted status first (what a Faulted answer means is the charge point's to say).
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, notify_status, operator_sends
from harness.states.reservation import operator_reserves, reserve_request


async def _refused(csms, driver, pics, status: str, *, step: int) -> None:
    asked = reserve_request(pics, connector_id=configured_connector(pics))
    await operator_reserves(csms, driver, pics, asked, answer=status, step=step)


@case("TC_048_1_CSMS", "Reservation of a Connector - Faulted", profile="Reservation",
      needs=("Booted",))
async def test_tc_048_1_csms_reserve_faulted(csms, driver, pics):
    await booted(csms, pics)
    # 1. [OPERATOR: reserve] Central system: ReserveNow.req  2. Harness: .conf Faulted
    await _refused(csms, driver, pics, "Faulted", step=1)


@case("TC_048_2_CSMS", "Reservation of a Connector - Occupied", profile="Reservation",
      needs=("Booted",))
async def test_tc_048_2_csms_reserve_occupied(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)
    # 1-2. [Cable plugged] Harness: StatusNotification.req Preparing; central system: .conf
    await notify_status(csms, connector_id, "Preparing", step="1-2")
    # 3. [OPERATOR: reserve that connector] Central system: ReserveNow.req  4. Harness: Occupied
    await _refused(csms, driver, pics, "Occupied", step=3)
    # Clean-up: the cable is taken out.
    await notify_status(csms, connector_id, "Available", step="clean-up")


@case("TC_048_3_CSMS", "Reservation of a Connector - Unavailable", profile="Reservation",
      needs=("Booted",))
async def test_tc_048_3_csms_reserve_unavailable(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)
    # 1. [OPERATOR: connector Inoperative] Central system: ChangeAvailability.req
    # 2. Harness: ChangeAvailability.conf Accepted
    asked = {"connectorId": connector_id, "type": "Inoperative"}
    change = await operator_sends(csms, driver, pics, "ChangeAvailability", asked,
                                  answer={"status": "Accepted"}, step=1)
    assert (change.get("connectorId"), change.get("type")) == (connector_id, "Inoperative"), (
        f"step 1: ChangeAvailability.req is connectorId {change.get('connectorId')!r} type "
        f"{change.get('type')!r}, expected connectorId {connector_id} type 'Inoperative' (wire log "
        f"line {change.line})")
    # 3-4. Harness: StatusNotification.req Unavailable; central system: .conf
    await notify_status(csms, connector_id, "Unavailable", step="3-4")
    try:
        # 5. [OPERATOR: reserve that connector] Central system: ReserveNow.req  6. Harness: Unavailable
        await _refused(csms, driver, pics, "Unavailable", step=5)
    finally:
        # Clean-up: the operator makes the connector Operative again; reported Available.
        await operator_sends(csms, driver, pics, "ChangeAvailability",
                             {"connectorId": connector_id, "type": "Operative"},
                             answer={"status": "Accepted"}, step="clean-up")
        await notify_status(csms, connector_id, "Available", step="clean-up")


@case("TC_048_4_CSMS", "Reservation of a Connector - Rejected", profile="Reservation",
      needs=("Booted",))
async def test_tc_048_4_csms_reserve_rejected(csms, driver, pics):
    await booted(csms, pics)
    # 1. [OPERATOR: reserve] Central system: ReserveNow.req  2. Harness: .conf Rejected
    await _refused(csms, driver, pics, "Rejected", step=1)
