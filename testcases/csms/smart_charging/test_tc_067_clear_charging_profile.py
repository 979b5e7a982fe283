"""TC_067_CSMS Clear Charging Profile (Smart Charging).

Before: Charging. The operator makes the central system set three profiles -- a
ChargePointMaxProfile on connector 0, a TxDefaultProfile and a TxProfile (for the running
transaction) on <Configured ConnectorId>, all at the configured stack level, with three different
ids -- then clear them: by id (the first profile's id and no other field), by criteria (no id;
connectorId, purpose TxDefaultProfile and stackLevel as configured), and all (no field). The
harness's charge point accepts each request.
"""

from harness.cases import case
from harness.states.csms import (booted, charging, configured_connector, end_charging,
                                 operator_sends)
from harness.states.smart_charging import STACK_LEVEL, assert_profile, profile

ACCEPTED = {"status": "Accepted"}


@case("TC_067_CSMS", "Clear Charging Profile", profile="SmartCharging",
      needs=("Booted", "Charging"))
async def test_tc_067_csms_clear_charging_profile(csms, driver, pics):
    await booted(csms, pics)
    tx = await charging(csms, pics)
    connector_id = configured_connector(pics)
    wanted = [(0, profile(pics, 11, "ChargePointMaxProfile", [(0, 16)], kind="Relative")),
              (connector_id, profile(pics, 12, "TxDefaultProfile", [(0, 10)], kind="Relative")),
              (connector_id, profile(pics, 13, "TxProfile", [(0, 8)], kind="Relative",
                                     transaction_id=tx.transaction_id))]

    # 1-2. [OPERATOR: set three profiles] SetChargingProfile.req x 3, each answered Accepted
    ids = []
    for number, (connector, asked) in enumerate(wanted, start=1):
        request = await operator_sends(csms, driver, pics, "SetChargingProfile",
                                       {"connectorId": connector, "csChargingProfiles": asked},
                                       answer=ACCEPTED, step=f"1 (profile {number})")
        raw = request["csChargingProfiles"]
        purpose = asked["chargingProfilePurpose"]
        assert_profile(request, raw, step=f"1 (profile {number})", purpose=purpose,
                       connector_id=connector, given_connector=request["connectorId"])
        assert raw["stackLevel"] == STACK_LEVEL, (
            f"step 1 (profile {number}): stackLevel is {raw['stackLevel']}, expected "
            f"{STACK_LEVEL} (wire log line {request.line})")
        expected_tx = tx.transaction_id if purpose == "TxProfile" else None
        assert raw.get("transactionId") == expected_tx, (
            f"step 1 (profile {number}): transactionId is {raw.get('transactionId')!r}, expected "
            f"{expected_tx!r} (wire log line {request.line})")
        ids.append(raw["chargingProfileId"])
    assert len(set(ids)) == 3, f"step 1: the three chargingProfileIds {ids} are not all different"

    # 3-4. [OPERATOR: clear by id] ClearChargingProfile.req id only; harness: Accepted
    by_id = await operator_sends(csms, driver, pics, "ClearChargingProfile", {"id": ids[0]},
                                 answer=ACCEPTED, step=3)
    assert by_id.payload == {"id": ids[0]}, (
        f"step 3: ClearChargingProfile.req is {by_id.payload}, expected id {ids[0]} and no other "
        f"field (wire log line {by_id.line})")
    # 5-6. [OPERATOR: clear by criteria] connectorId, TxDefaultProfile, stackLevel; no id
    criteria = {"connectorId": connector_id, "chargingProfilePurpose": "TxDefaultProfile",
                "stackLevel": STACK_LEVEL}
    by_criteria = await operator_sends(csms, driver, pics, "ClearChargingProfile", criteria,
                                       answer=ACCEPTED, step=5)
    assert by_criteria.payload == criteria, (
        f"step 5: ClearChargingProfile.req is {by_criteria.payload}, expected {criteria} and no "
        f"id (wire log line {by_criteria.line})")
    # 7-8. [OPERATOR: clear all] ClearChargingProfile.req with no field
    clear_all = await operator_sends(csms, driver, pics, "ClearChargingProfile", {},
                                     answer=ACCEPTED, step=7)
    assert clear_all.payload == {}, (
        f"step 7: ClearChargingProfile.req is {clear_all.payload}, expected no field (wire log "
        f"line {clear_all.line})")

    # Clean-up (not in the OCTT table): stopped locally, cable removed.
    await end_charging(csms, tx)
