"""TC_072_CS Stacking Charging Profiles (Smart Charging).

Memory state: two TxDefaultProfiles on <Configured ConnectorId>, validFrom now - deviation, validTo
now + deviation + 401 s: stack level 0 with periods 0 / 100 / 200 s at 6 / 8 / 10 A (x 1000 for W),
duration 400 + deviation; stack level 1 with duration 150 + deviation (its limits are cut off in
our copy, catalogue P-t; reading chosen: one period of 7 A, between the lower profile's first two
limits, so that "the higher stack level wins" differs from "the lowest limit wins"). Step:
GetCompositeSchedule.req (duration 400) -> Accepted with 7 A until 150 s (the stack level 1
profile overrides 6 and 8 A), then 8 A until 200 s and 10 A after it (the stack level 0 profile
again, once the higher one's duration has run out).
"""

from datetime import timedelta

from harness.cases import case
from harness.states.cs import booted, connector_under_test
from harness.states.smart_charging import (check_composite, deviation, now, profile,
                                           profiles_installed, set_profile)


@case("TC_072_CS", "Stacking Charging Profiles", profile="SmartCharging",
      needs=("Booted", "two TxDefaultProfiles installed"))
async def test_tc_072_cs_stacking_profiles(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    dev_s = float(deviation(pics))
    dev = timedelta(seconds=dev_s)
    async with profiles_installed(cp, pics) as installed:
        t0 = now()
        valid = {"valid_from": t0 - dev, "valid_to": t0 + dev + timedelta(seconds=401)}
        # Memory state: SetChargingProfile.req stack level 0, then stack level 1; each Accepted
        await set_profile(cp, installed, connector_id, profile(
            pics, 31, "TxDefaultProfile", [(0, 6), (100, 8), (200, 10)], stack_level=0,
            start_schedule=t0 - dev, duration=400 + int(dev_s + 1), **valid),
            step="memory state (stack level 0)")
        await set_profile(cp, installed, connector_id, profile(
            pics, 32, "TxDefaultProfile", [(0, 7)], stack_level=1, start_schedule=t0 - dev,
            duration=150 + int(dev_s), **valid), step="memory state (stack level 1)")
        # 1. Harness: GetCompositeSchedule.req (duration 400)  2. Charge point: .conf Accepted
        await check_composite(cp, pics, installed, connector_id=connector_id, step="1-2",
                              duration=400)
