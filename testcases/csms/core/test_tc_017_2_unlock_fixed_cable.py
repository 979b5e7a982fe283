"""TC_017_2_CSMS Unlock connector - no charging session running (Fixed cable) (Core).

With no transaction, the operator makes the central system unlock the configured connector; the
harness's charge point has a fixed cable and answers NotSupported. What is tested is that the
central system copes with that answer; the request must still be for the connector asked for.

Reading: the cable type is the harness's charge point's, not the central system's, so the case
applies to every central system whatever the PICS says of fixed_cable.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, operator_sends


@case("TC_017_2_CSMS", "Unlock connector - no charging session running (Fixed cable)",
      profile="Core", needs=("Booted",))
async def test_tc_017_2_csms_unlock_fixed_cable(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1. [OPERATOR: unlock the configured connector] Central system: UnlockConnector.req
    # 2. Harness: UnlockConnector.conf NotSupported (a fixed cable cannot be unlocked)
    unlock = await operator_sends(csms, driver, pics, "UnlockConnector",
                                  {"connectorId": connector_id},
                                  answer={"status": "NotSupported"}, step=1)
    assert unlock["connectorId"] == connector_id, (
        f"step 1: UnlockConnector.req connectorId is {unlock['connectorId']!r}, expected "
        f"{connector_id} as the operator asked (wire log line {unlock.line})")
