"""TC_057_CS Central Smart Charging - TxProfile (Smart Charging).

The catalogue marks the case S. Reading chosen, from the CSMS twin (which lists the shape of the
profile: no recurrencyKind; a Relative profile carries no startSchedule) and OCPP 1.6 5.16 / 3.13:
in the Charging state the harness installs a Relative TxProfile for the running transaction
(transactionId given); the charge point accepts it; its composite schedule of the connector must
then follow the profile counted from the transaction's start (the StartTransaction.req timestamp,
the charge point's own clock), within max_time_deviation.
"""

from harness.cases import case
from harness.states.cs import booted, charging
from harness.states.smart_charging import (check_composite, profile, profiles_installed,
                                           set_profile, transaction_of)


@case("TC_057_CS", "Central Smart Charging - TxProfile", profile="SmartCharging",
      needs=("Booted", "Charging", "no charging profile installed"))
async def test_tc_057_cs_tx_profile(cp, driver, pics):
    await booted(cp, pics)
    async with profiles_installed(cp, pics) as installed, charging(cp, driver, pics) as tx:
        installed.transaction = transaction_of(tx)
        tx_profile = profile(pics, 2, "TxProfile", [(0, 8), (120, 10), (300, 6)], kind="Relative",
                             duration=3600, transaction_id=tx.transaction_id)
        # 1. Harness: SetChargingProfile.req TxProfile (running transactionId)  2. .conf Accepted
        await set_profile(cp, installed, tx.connector_id, tx_profile, step="1-2")
        # 3. Harness: GetCompositeSchedule.req  4. .conf Accepted with the profile's periods
        await check_composite(cp, pics, installed, connector_id=tx.connector_id, step="3-4")
