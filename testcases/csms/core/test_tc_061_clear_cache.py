"""TC_061_CSMS Clear Authorization Data in Authorization Cache (Core).

The operator makes the central system clear the charge point's authorization cache; the harness's
charge point accepts. The request (an empty object) is judged by its schema.
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends


@case("TC_061_CSMS", "Clear Authorization Data in Authorization Cache", profile="Core",
      needs=("Booted",))
async def test_tc_061_csms_clear_cache(csms, driver, pics):
    await booted(csms, pics)

    # 1. [OPERATOR: clear the authorization cache] Central system: ClearCache.req
    # 2. Harness: ClearCache.conf Accepted
    await operator_sends(csms, driver, pics, "ClearCache", {},
                         answer={"status": "Accepted"}, step=1)
