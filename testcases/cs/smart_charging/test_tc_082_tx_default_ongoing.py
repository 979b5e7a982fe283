"""TC_082_CS Central Smart Charging - TxDefaultProfile with ongoing transaction (Smart Charging).

The catalogue marks the case S. Reading chosen (OCPP 1.6 3.13.2: a TxDefaultProfile is the default
for every transaction on the connector; nothing exempts one already running, and the case's name
says it applies): in the Charging state the harness installs a TxDefaultProfile on the connector
(Absolute, startSchedule now - max_time_deviation, periods 0 / 120 s at 10 / 6 A); the charge
point accepts it and the composite schedule of the running transaction must follow it.
"""

from datetime import timedelta

from harness.cases import case
from harness.states.cs import booted, charging
from harness.states.smart_charging import (check_composite, deviation, now, profile,
                                           profiles_installed, set_profile, transaction_of)


@case("TC_082_CS", "Central Smart Charging - TxDefaultProfile with ongoing transaction",
      profile="SmartCharging", needs=("Booted", "Charging"))
async def test_tc_082_cs_tx_default_ongoing(cp, driver, pics):
    await booted(cp, pics)
    dev = timedelta(seconds=float(deviation(pics)))
    async with profiles_installed(cp, pics) as installed, charging(cp, driver, pics) as tx:
        installed.transaction = transaction_of(tx)
        t0 = now()
        # 1. Harness: SetChargingProfile.req TxDefaultProfile  2. Charge point: .conf Accepted
        await set_profile(cp, installed, tx.connector_id, profile(
            pics, 41, "TxDefaultProfile", [(0, 10), (120, 6)], start_schedule=t0 - dev,
            duration=3600), step="1-2")
        # 3. Harness: GetCompositeSchedule.req  4. .conf Accepted: the transaction follows it
        await check_composite(cp, pics, installed, connector_id=tx.connector_id, step="3-4")
