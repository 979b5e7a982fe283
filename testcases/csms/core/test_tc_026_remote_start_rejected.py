"""TC_026_CSMS Remote Start Charging Session - Rejected (Core).

The operator makes the central system start a transaction remotely; the harness's charge point
rejects it. What is tested is that the central system copes with the rejection; the OCTT checks
nothing on the request (any valid RemoteStartTransaction.req will do), and nothing follows.
"""

from harness.cases import case
from harness.states.csms import booted, configured_connector, operator_sends


@case("TC_026_CSMS", "Remote Start Charging Session - Rejected", profile="Core",
      needs=("Booted",))
async def test_tc_026_csms_remote_start_rejected(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: remote start for the valid idTag] Central system: RemoteStartTransaction.req
    # 2. Harness: RemoteStartTransaction.conf Rejected
    await operator_sends(csms, driver, pics, "RemoteStartTransaction",
                         {"connectorId": configured_connector(pics), "idTag": pics.id_tags.valid},
                         answer={"status": "Rejected"}, step=1)
