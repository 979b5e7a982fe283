"""TC_058_1_CS Central Smart Charging - No ongoing transaction, and TC_058_2_CS - Wrong
transactionId (Smart Charging).

TC_058_1 (P): with no transaction running, a TxProfile with a transactionId is answered Rejected (or
CALLERROR PropertyConstraintViolation, which the scenario also allows).

TC_058_2 (catalogue S). Reading chosen from OCPP 1.6 5.16 ("a TxProfile ... SHALL only be set on a
running transaction"; a transactionId names the transaction it belongs to): in the Charging state a
TxProfile whose transactionId is not the running one is answered Rejected. The harness then checks
that the refused profile did not creep in: with a TxDefaultProfile of 10 A installed first (an
addition to the OCTT table, so that the check can fail), the composite schedule of the connector
must still be 10 A, not the 6 A of the refused TxProfile.
"""

from harness.cases import case
from harness.states.cs import booted, charging, connector_under_test
from harness.states.smart_charging import (check_composite, profile, profiles_installed,
                                           set_profile, transaction_of)

REFUSED = ("Rejected", "CALLERROR PropertyConstraintViolation")


@case("TC_058_1_CS", "Central Smart Charging - No ongoing transaction", profile="SmartCharging",
      needs=("Booted", "no transaction"))
async def test_tc_058_1_cs_no_ongoing_transaction(cp, driver, pics):
    await booted(cp, pics)
    async with profiles_installed(cp, pics) as installed:
        tx_profile = profile(pics, 3, "TxProfile", [(0, 6)], kind="Relative", transaction_id=1)
        # 1. Harness: SetChargingProfile.req TxProfile with a transactionId, no transaction running
        # 2. Charge point: .conf Rejected (or CALLERROR PropertyConstraintViolation)
        await set_profile(cp, installed, connector_under_test(pics), tx_profile, step="1-2",
                          expected=REFUSED)


@case("TC_058_2_CS", "Central Smart Charging - Wrong transactionId", profile="SmartCharging",
      needs=("Booted", "Charging"))
async def test_tc_058_2_cs_wrong_transaction_id(cp, driver, pics):
    await booted(cp, pics)
    async with profiles_installed(cp, pics) as installed, charging(cp, driver, pics) as tx:
        installed.transaction = transaction_of(tx)
        # (memory) Harness: SetChargingProfile.req TxDefaultProfile 10 A; .conf Accepted
        await set_profile(cp, installed, tx.connector_id,
                          profile(pics, 5, "TxDefaultProfile", [(0, 10)], kind="Relative"),
                          step="memory state")
        wrong = profile(pics, 4, "TxProfile", [(0, 6)], kind="Relative",
                        transaction_id=tx.transaction_id + 1)
        # 1. Harness: SetChargingProfile.req TxProfile, transactionId = running + 1
        # 2. Charge point: .conf Rejected
        await set_profile(cp, installed, tx.connector_id, wrong, step="1-2", expected=("Rejected",))
        # (check) GetCompositeSchedule: still the TxDefaultProfile's 10 A
        await check_composite(cp, pics, installed, connector_id=tx.connector_id,
                              step="check after step 2")
