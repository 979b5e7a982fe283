"""TC_042_1_CSMS Get Local List Version (not supported) and TC_042_2_CSMS Get Local List Version
(empty) (Local Auth List Management).

The operator makes the central system ask for the local list version; the harness's charge point
answers -1 (no local list in use) in TC_042_1 and 0 (an empty list) in TC_042_2. The request is an
empty object (judged by its schema); the central system must cope with either answer, which the
harness sees as: the exchange completes and the central system stays connected and answering.
"""

from harness.cases import case
from harness.states.csms import booted, call, operator_sends


async def _get_version(csms, driver, pics, answer: int) -> None:
    # 1. [OPERATOR: GetLocalListVersion] Central system: GetLocalListVersion.req
    # 2. Harness: GetLocalListVersion.conf listVersion
    await operator_sends(csms, driver, pics, "GetLocalListVersion", {},
                         answer={"listVersion": answer}, step=1)
    # The central system is still there and answering after the answer it got.
    await call(csms, "Heartbeat", {}, step="after step 2")


@case("TC_042_1_CSMS", "Get Local List Version (not supported)",
      profile="LocalAuthListManagement", needs=("Booted",))
async def test_tc_042_1_csms_not_supported(csms, driver, pics):
    await booted(csms, pics)
    await _get_version(csms, driver, pics, -1)


@case("TC_042_2_CSMS", "Get Local List Version (empty)", profile="LocalAuthListManagement",
      needs=("Booted",))
async def test_tc_042_2_csms_empty(csms, driver, pics):
    await booted(csms, pics)
    await _get_version(csms, driver, pics, 0)
