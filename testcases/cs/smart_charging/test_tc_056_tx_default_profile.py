"""TC_056_CS Central Smart Charging - TxDefaultProfile (Smart Charging).

The catalogue marks the case S (no primary text). Reading chosen, from the CSMS twin and OCPP 1.6
5.16 / 3.13: the harness installs a TxDefaultProfile on <Configured ConnectorId>, Absolute, stack
level <Configured stackLevel>, with validFrom / validTo, a startSchedule max_time_deviation in the
past, a duration and three periods (6 / 8 / 10 A, x 1000 in W); the charge point accepts it; its
composite schedule of that connector (no transaction running) must then be that profile, as the
harness computes it (harness.smart_charging), within max_time_deviation.
"""

from datetime import timedelta

from harness.cases import case
from harness.states.cs import booted, connector_under_test
from harness.states.smart_charging import (COMPOSITE_DURATION, check_composite, deviation, now,
                                           profile, profiles_installed, set_profile)


@case("TC_056_CS", "Central Smart Charging - TxDefaultProfile", profile="SmartCharging",
      needs=("Booted", "no charging profile installed"))
async def test_tc_056_cs_tx_default_profile(cp, driver, pics):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    dev = timedelta(seconds=float(deviation(pics)))
    async with profiles_installed(cp, pics) as installed:
        t0 = now()
        tx_default = profile(pics, 1, "TxDefaultProfile", [(0, 6), (60, 8), (200, 10)],
                             start_schedule=t0 - dev, duration=COMPOSITE_DURATION + 60,
                             valid_from=t0 - dev, valid_to=t0 + timedelta(hours=1))
        # 1. Harness: SetChargingProfile.req TxDefaultProfile  2. Charge point: .conf Accepted
        await set_profile(cp, installed, connector_id, tx_default, step="1-2")
        # 3. Harness: GetCompositeSchedule.req  4. .conf Accepted with the profile's periods
        await check_composite(cp, pics, installed, connector_id=connector_id, step="3-4")
