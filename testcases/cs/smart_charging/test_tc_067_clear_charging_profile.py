"""TC_067_CS Clear Charging Profile (Smart Charging).

Memory state (catalogue P-t, cut off after the first profile): a TxDefaultProfile, Absolute, stack
level 1, on <Configured ConnectorId>, startSchedule now - max_time_deviation, duration 400 +
deviation, periods 0 / 60 / 200 s with 6 / 8 / 10 A (x 1000 for W). Reading chosen for the rest,
from the CSMS twin (clear by id, by criteria, all): two more profiles, a ChargePointMaxProfile of
9 A on connector 0 and a TxDefaultProfile of 7 A at stack level 0 on the connector, so that each
clearing changes the composite schedule. Steps: ClearChargingProfile by the id of the
ChargePointMaxProfile, then by criteria (connector, TxDefaultProfile, stack level 1), then with no
criteria; each answered Accepted and each followed by GetCompositeSchedule, which must show what is
left. Last, a ClearChargingProfile of the first id again must be answered Unknown (5.3: no profile
matched), which shows that the profile is really gone.
"""

from datetime import timedelta

from harness.cases import case
from harness.states.cs import booted, connector_under_test
from harness.states.smart_charging import (check_composite, clear_profile, deviation, now,
                                           profile, profiles_installed, set_profile)


@case("TC_067_CS", "Clear Charging Profile", profile="SmartCharging",
      needs=("Booted", "charging profiles installed"))
async def test_tc_067_cs_clear_charging_profile(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    dev_s = float(deviation(pics))
    dev = timedelta(seconds=dev_s)
    async with profiles_installed(cp, pics) as installed:
        t0 = now()
        # Memory state: SetChargingProfile.req x 3, each Accepted
        await set_profile(cp, installed, connector_id, profile(
            pics, 21, "TxDefaultProfile", [(0, 6), (60, 8), (200, 10)], stack_level=1,
            start_schedule=t0 - dev, duration=400 + int(dev_s + 1)), step="memory state")
        await set_profile(cp, installed, 0, profile(
            pics, 22, "ChargePointMaxProfile", [(0, 9)], start_schedule=t0 - dev,
            duration=86400), step="memory state")
        await set_profile(cp, installed, connector_id, profile(
            pics, 23, "TxDefaultProfile", [(0, 7)], start_schedule=t0 - dev, duration=86400),
            step="memory state")
        await check_composite(cp, pics, installed, connector_id=connector_id,
                              step="memory state (composite)")
        # 1. Harness: ClearChargingProfile.req id = the ChargePointMaxProfile's  2. .conf Accepted
        await clear_profile(cp, installed, {"id": 22}, step="1-2")
        # 3. Harness: GetCompositeSchedule.req  4. .conf: the TxDefaultProfiles alone
        await check_composite(cp, pics, installed, connector_id=connector_id, step="3-4")
        # 5. Harness: ClearChargingProfile.req connector, TxDefaultProfile, stack level 1
        # 6. Charge point: .conf Accepted
        await clear_profile(cp, installed, {"connectorId": connector_id,
                                            "chargingProfilePurpose": "TxDefaultProfile",
                                            "stackLevel": 1}, step="5-6")
        # 7. Harness: GetCompositeSchedule.req  8. .conf: the stack level 0 profile alone (7 A)
        await check_composite(cp, pics, installed, connector_id=connector_id, step="7-8")
        # 9. Harness: ClearChargingProfile.req, no criteria  10. .conf Accepted
        await clear_profile(cp, installed, {}, step="9-10")
        # 11. Harness: ClearChargingProfile.req id of the first cleared  12. .conf Unknown
        await clear_profile(cp, installed, {"id": 22}, step="11-12", expected="Unknown")
