"""TC_031_CS Unlock Connector - Unknown Connector (Core).

UnlockConnector.req for a connectorId the charge point does not have (NumberOfConnectors + 1) is
answered NotSupported (OCPP 1.6 section 7.44: "NotSupported: Charge Point has no connector lock, or
ConnectorId is unknown").
"""

from harness.cases import case
from harness.states.cs import booted, conf_status


@case("TC_031_CS", "Unlock Connector - Unknown Connector", profile="Core")
async def test_tc_031_cs_unlock_unknown_connector(cp, driver, pics):
    await booted(cp, pics)
    unknown = pics.features.connectors + 1
    # 1. Harness: UnlockConnector.req connectorId NumberOfConnectors + 1  2. Charge point: .conf
    unlock = await cp.call("UnlockConnector", {"connectorId": unknown})
    conf_status(unlock, "NotSupported", step="step 2", when=f"for the unknown connector {unknown}")
