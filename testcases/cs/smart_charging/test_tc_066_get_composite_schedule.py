"""TC_066_CS Get Composite Schedule (Smart Charging).

Conditions: MaxChargingProfilesInstalled >= 3 and ChargingScheduleMaxPeriods >= 5.
Memory state (three profiles): 1. ChargePointMaxProfile, connector 0, Absolute, stack level 0,
startSchedule now - max_time_deviation, duration 86400 + deviation, one period 10 A (x 1000 for W);
2. and 3. are cut off in our copy of the document (catalogue P-t). Reading chosen: two
TxDefaultProfiles on <Configured ConnectorId> that exercise both stacking and the
ChargePointMaxProfile cap: 2. stack level 0, five periods 6 / 12 / 7 / 9 / 14 A over 400 s;
3. stack level 1, two periods 8 / 11 A, duration 150 s. Step: GetCompositeSchedule.req
(connector, duration 400, configured unit) -> Accepted, connectorId and unit as asked, startSchedule
within the deviation of the request, and the periods the harness computes: the lower of the
ChargePointMaxProfile and the TxDefaultProfile of the highest stack level in force.
"""

from datetime import timedelta

from harness.cases import case
from harness.states.cs import booted, connector_under_test
from harness.states.smart_charging import (check_composite, config_int, deviation, now,
                                           profile, profiles_installed, set_profile)


def _too_few_profiles(pics):
    return config_int(pics, "MaxChargingProfilesInstalled", 0) < 3


def _too_few_periods(pics):
    return config_int(pics, "ChargingScheduleMaxPeriods", 0) < 5


@case("TC_066_CS", "Get Composite Schedule", profile="SmartCharging",
      needs=("Booted", "three charging profiles installed"),
      na_when=((_too_few_profiles, "the charge point holds fewer than 3 charging profiles "
                                   "(MaxChargingProfilesInstalled < 3)"),
               (_too_few_periods, "the charge point takes fewer than 5 periods per schedule "
                                  "(ChargingScheduleMaxPeriods < 5)")))
async def test_tc_066_cs_get_composite_schedule(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    dev_s = float(deviation(pics))
    dev = timedelta(seconds=dev_s)
    async with profiles_installed(cp, pics) as installed:
        t0 = now()
        # Memory state: three SetChargingProfile.req, each Accepted
        await set_profile(cp, installed, 0, profile(
            pics, 11, "ChargePointMaxProfile", [(0, 10)], start_schedule=t0 - dev,
            duration=86400 + int(dev_s + 1)), step="memory state (profile 1)")
        await set_profile(cp, installed, connector_id, profile(
            pics, 12, "TxDefaultProfile", [(0, 6), (60, 12), (120, 7), (200, 9), (300, 14)],
            start_schedule=t0 - dev, duration=400 + int(dev_s + 1)),
            step="memory state (profile 2)")
        await set_profile(cp, installed, connector_id, profile(
            pics, 13, "TxDefaultProfile", [(0, 8), (50, 11)], stack_level=1,
            start_schedule=t0 - dev, duration=150 + int(dev_s + 1)),
            step="memory state (profile 3)")
        # 1. Harness: GetCompositeSchedule.req (duration 400)  2. Charge point: .conf Accepted
        await check_composite(cp, pics, installed, connector_id=connector_id, step="1-2",
                              duration=400)
