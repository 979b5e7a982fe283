"""TC_027_CS Remote start transaction - connector id shall not be 0 (Core).

RemoteStartTransaction.req with connectorId 0 is answered Rejected (OCPP 1.6 section 6.33,
RemoteStartTransaction.req: "connectorId ... SHALL be > 0"), or with a CALLERROR: the OCTT accepts
both.
"""

from harness.cases import case
from harness.states.cs import booted, cite


@case("TC_027_CS", "Remote start transaction - connector id shall not be 0", profile="Core")
async def test_tc_027_cs_remote_start_connector_zero(cp, driver, pics):
    await booted(cp, pics)
    # 1. Harness: RemoteStartTransaction.req connectorId 0  2. Charge point: .conf Rejected
    answer = await cp.call("RemoteStartTransaction", {"connectorId": 0, "idTag": pics.id_tags.valid},
                           timeout=pics.timing.remote_start_response or pics.timing.response_timeout)
    assert answer.error is not None or answer.status == "Rejected", (
        f"step 2: RemoteStartTransaction.conf for connectorId 0 is {answer.status!r}, expected "
        f"'Rejected' (or a CALLERROR) ({cite(answer)})")
