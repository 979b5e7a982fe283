"""TC_030_CSMS Unlock Connector - Unlock Failure (Core).

The operator makes the central system unlock the configured connector; the harness's charge point
fails to unlock it and answers UnlockFailed. What is tested is that the central system copes with
the failure; the request must be for the connector asked for.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, operator_sends


@case("TC_030_CSMS", "Unlock Connector - Unlock Failure", profile="Core", needs=("Booted",))
async def test_tc_030_csms_unlock_failure(csms, driver, pics):
    await booted(csms, pics)
    connector_id = configured_connector(pics)

    # 1. [OPERATOR: unlock the configured connector] Central system: UnlockConnector.req
    # 2. Harness: UnlockConnector.conf UnlockFailed
    unlock = await operator_sends(csms, driver, pics, "UnlockConnector",
                                  {"connectorId": connector_id},
                                  answer={"status": "UnlockFailed"}, step=1)
    assert unlock["connectorId"] == connector_id, (
        f"step 1: UnlockConnector.req connectorId is {unlock['connectorId']!r}, expected "
        f"{connector_id} as the operator asked (wire log line {unlock.line})")
