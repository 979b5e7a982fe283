"""TC_031_CSMS Unlock Connector - Unknown Connector (Core).

The operator makes the central system unlock a connector the harness's charge point does not have;
the charge point answers NotSupported. What is tested is that the central system copes with it.

Reading: the name says "unknown connector", the purpose "a charge point that does not support
UnlockConnector"; OCPP 1.6 answers both with NotSupported. The operator is asked for the connector
after the last one (connectors + 1); as in the OCTT, the connectorId the request carries is not
checked (a central system that only offers known connectors meets the purpose's reading).
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends


@case("TC_031_CSMS", "Unlock Connector - Unknown Connector", profile="Core", needs=("Booted",))
async def test_tc_031_csms_unlock_unknown_connector(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: unlock a connector the charge point lacks] Central system: UnlockConnector.req
    # 2. Harness: UnlockConnector.conf NotSupported
    await operator_sends(csms, driver, pics, "UnlockConnector",
                         {"connectorId": pics.features.connectors + 1},
                         answer={"status": "NotSupported"}, step=1)
