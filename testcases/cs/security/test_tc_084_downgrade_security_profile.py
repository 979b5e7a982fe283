"""TC_084_CS Downgrade security profile - Rejected (Security, profiles 2 and 3).

The charge point is connected on security profile 2 or 3 (the PICS security.profile). Step:
ChangeConfiguration.req SecurityProfile = the current profile - 1 -> Rejected (white paper: a
charge point does not go to a lower security profile). A charge point that accepts is put back
(ChangeConfiguration SecurityProfile = the current profile, best effort) before the case fails.
"""

from harness.cases import case
from harness.states.cs import booted, cite
from harness.states.security import on_profiles


@case("TC_084_CS", "Downgrade security profile - Rejected", profile="Security",
      na_when=(on_profiles(2, 3),))
async def test_tc_084_cs_downgrade_security_profile(cp, driver, pics):
    await booted(cp, pics)
    current = pics.security.profile

    # 1. ChangeConfiguration.req SecurityProfile = current - 1  2. .conf Rejected
    change = await cp.call("ChangeConfiguration", {"key": "SecurityProfile",
                                                   "value": str(current - 1)})
    got = change.status if change.error is None else f"CALLERROR {change.error.error_code}"
    if got != "Rejected" and change.error is None:
        try:
            await cp.call("ChangeConfiguration", {"key": "SecurityProfile",
                                                  "value": str(current)})
        except Exception:  # noqa: BLE001 -- best effort; the verdict is the answer above
            pass
    assert got == "Rejected", (
        f"step 2: ChangeConfiguration.conf SecurityProfile = {current - 1} (a downgrade from "
        f"profile {current}) is {got!r}, expected 'Rejected' ({cite(change)})")
