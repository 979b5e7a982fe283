"""TC_017_1_CSMS Unlock connector - no charging session running (Not fixed cable) (Core).

With no transaction, the operator makes the central system unlock the configured connector; the
harness's charge point (a socket, not a fixed cable) unlocks it. The OCTT prints no check on the
request; the one its purpose implies is made: connectorId is the connector the operator asked for.

Reading: the cable type is the harness's charge point's, not the central system's, so the case
applies to every central system whatever the PICS says of fixed_cable (as does TC_017_2).
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, operator_sends


@case("TC_017_1_CSMS", "Unlock connector - no charging session running (Not fixed cable)",
      profile="Core", needs=("Booted",))
async def test_tc_017_1_csms_unlock_no_session(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1. [OPERATOR: unlock the configured connector] Central system: UnlockConnector.req
    # 2. Harness: UnlockConnector.conf Unlocked
    unlock = await operator_sends(csms, driver, pics, "UnlockConnector",
                                  {"connectorId": connector_id},
                                  answer={"status": "Unlocked"}, step=1)
    assert unlock["connectorId"] == connector_id, (
        f"step 1: UnlockConnector.req connectorId is {unlock['connectorId']!r}, expected "
        f"{connector_id} as the operator asked (wire log line {unlock.line})")
