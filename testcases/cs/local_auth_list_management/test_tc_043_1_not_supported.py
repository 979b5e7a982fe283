"""TC_043_1_CS Send Local Authorization List - NotSupported (Local Auth List Management).

For a charge point that does not support the profile: SendLocalList Full is answered with status
NotSupported or a CALLERROR NotSupported. Declared under Core, like TC_042_1_CS, since it must run
for a charge point that does not claim LocalAuthListManagement (the plugin makes every case of an
unclaimed profile N/A); N/A for one that claims it.
"""

import pytest

from harness.cases import case
from harness.states.cs import booted, valid_tag
from harness.states.local_auth_list_management import answered, entry


@pytest.mark.local_auth_list_management
@case("TC_043_1_CS", "Send Local Authorization List - NotSupported", profile="Core",
      na_when=((lambda pics: pics.features.local_auth_list,
                "the charge point supports LocalAuthListManagement; this case is for one that "
                "does not"),))
async def test_tc_043_1_cs_not_supported(cp, driver, pics):
    await booted(cp, pics)
    # 1. Harness: SendLocalList.req Full  2. Charge point: NotSupported (or CALLERROR NotSupported)
    response = await cp.call("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                               "localAuthorizationList": [entry(pics,
                                                                                valid_tag(pics))]})
    assert answered(response) in ("NotSupported", "CALLERROR NotSupported"), (
        f"step 2: SendLocalList was answered {answered(response)}, expected NotSupported "
        f"(wire log line {response.line})")
