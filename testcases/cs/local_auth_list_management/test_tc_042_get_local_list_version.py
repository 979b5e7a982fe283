"""TC_042_1_CS Get Local List Version (not supported) and TC_042_2_CS Get Local List Version
(empty) (Local Auth List Management).

TC_042_1 applies to a charge point without the profile, and to one that lets LocalAuthListEnabled be
set false: GetLocalListVersion.conf listVersion -1 (no list in use, OCPP 1.6 section 5.10), or a
CALLERROR NotSupported. Since it must run for a charge point that does not claim the profile, it is
declared under Core (the plugin makes every case of an unclaimed profile N/A) and keeps the
local_auth_list_management marker for selection. A charge point that claims the profile and cannot
disable its list makes it N/A.

Where the OCTT is stricter than the specification (harness/severity.py, rule 3): OCPP 1.6 reserves
listVersion -1 for a charge point that "does not support Local Authorization Lists"; the OCTT
expects -1 from one that supports them with LocalAuthListEnabled false too. The harness keeps the
OCTT's verdict (it predicts the lab) and says in the reason that it is the OCTT's reading.

TC_042_2: with LocalAuthListEnabled=true, SendLocalList Full, listVersion 1, no list (which empties
it) is Accepted, and GetLocalListVersion then reports 0 (an empty list).
"""

import pytest

from harness.cases import case
from harness.states.cs import booted, cite, configured
from harness.states.local_auth_list_management import (assert_version, lal_disabled, local_list,
                                                       send_list)
from harness.verdicts import NotApplicable


@pytest.mark.local_auth_list_management
@case("TC_042_1_CS", "Get Local List Version (not supported)", profile="Core",
      needs=("LocalAuthListEnabled=false (if implemented)",))
async def test_tc_042_1_cs_get_local_list_version_not_supported(cp, driver, pics):
    await booted(cp, pics)
    async with configured(cp, pics, if_implemented={"LocalAuthListEnabled": "false"}) as config:
        if not lal_disabled(pics) and not config.has("LocalAuthListEnabled"):
            raise NotApplicable("the charge point claims LocalAuthListManagement and its "
                                "LocalAuthListEnabled cannot be set false "
                                f"({config.skipped.get('LocalAuthListEnabled')})")
        # 1. Harness: GetLocalListVersion.req  2. Charge point: listVersion -1 (or NotSupported)
        response = await cp.call("GetLocalListVersion", {})
        if response.error is not None:
            assert response.error.error_code == "NotSupported", (
                f"step 2: GetLocalListVersion was answered with CALLERROR "
                f"{response.error.error_code}, expected listVersion -1 or CALLERROR NotSupported "
                f"({cite(response)})")
            return
        octt_reading = "" if lal_disabled(pics) else (
            "; this is the OCTT's reading: OCPP 1.6 reserves -1 for a charge point that does not "
            "support local lists, the OCTT expects it with LocalAuthListEnabled false too")
        assert response["listVersion"] == -1, (
            f"step 2: GetLocalListVersion.conf listVersion is {response['listVersion']!r}, "
            f"expected -1 (no local list in use){octt_reading} ({cite(response)})")


@case("TC_042_2_CS", "Get Local List Version (empty)", profile="LocalAuthListManagement",
      needs=("LocalAuthListEnabled=true",))
async def test_tc_042_2_cs_get_local_list_version_empty(cp, driver, pics):
    await booted(cp, pics)
    async with local_list(cp, pics):
        # 1. Harness: SendLocalList.req (listVersion 1, Full, no list)  2. Charge point: Accepted
        await send_list(cp, 1, "Full", None, step="step 2")
        # 3. Harness: GetLocalListVersion.req  4. Charge point: listVersion 0 (empty list)
        await assert_version(cp, 0, step="step 4")
