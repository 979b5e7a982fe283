"""TC_059_CSMS Remote Start Transaction with Charging Profile (Smart Charging).

The operator makes the central system start a transaction remotely with a TxProfile attached; the
harness's charge point accepts, authorizes the idTag, is plugged in and starts. Checks on the
RemoteStartTransaction.req: idTag and connectorId as configured; chargingProfile purpose TxProfile,
no transactionId (the transaction does not exist yet), no recurrencyKind, the first period at
startPeriod 0, and the kind rules of TC_057. Authorize.conf and StartTransaction.conf Accepted.
"""

from harness.cases import case
from harness.states.assertions import assert_value
from harness.states.csms import (authorize, booted, configured_connector, end_charging,
                                 notify_status, operator_sends, same_id_tag, start_transaction)
from harness.states.smart_charging import assert_profile, profile


@case("TC_059_CSMS", "Remote Start Transaction with Charging Profile", profile="SmartCharging",
      needs=("Booted",))
async def test_tc_059_csms_remote_start_with_profile(csms, driver, pics):
    await booted(csms, pics)
    connector_id, id_tag = configured_connector(pics), pics.id_tags.valid
    asked = profile(pics, 3, "TxProfile", [(0, 6), (300, 10)], kind="Relative")

    # 1. [OPERATOR: remote start with a TxProfile] Central system: RemoteStartTransaction.req
    # 2. Harness: RemoteStartTransaction.conf Accepted
    remote = await operator_sends(csms, driver, pics, "RemoteStartTransaction",
                                  {"connectorId": connector_id, "idTag": id_tag,
                                   "chargingProfile": asked},
                                  answer={"status": "Accepted"}, step=1)
    assert same_id_tag(remote["idTag"], id_tag), (
        f"step 1: RemoteStartTransaction.req idTag is {remote['idTag']!r}, expected {id_tag!r} "
        f"(wire log line {remote.line})")
    assert remote.get("connectorId") == connector_id, (
        f"step 1: RemoteStartTransaction.req connectorId is {remote.get('connectorId')!r}, "
        f"expected {connector_id} as the operator asked (wire log line {remote.line}); the "
        f"OCTT's check of TC_059 step 1: 6.33 makes connectorId optional, and TC_010/TC_011 "
        f"accept none")
    raw = remote.get("chargingProfile")
    assert_profile(remote, raw, step=1, purpose="TxProfile")
    assert "transactionId" not in raw, (
        f"step 1: the chargingProfile of RemoteStartTransaction.req carries transactionId "
        f"{raw['transactionId']!r}; the transaction does not exist yet (wire log line "
        f"{remote.line})")
    if raw.get("chargingProfileKind") == "Absolute":
        missing = [k for k in ("validFrom", "validTo") if k not in raw] + [
            f"chargingSchedule.{k}" for k in ("startSchedule", "duration")
            if k not in raw["chargingSchedule"]]
        assert not missing, (f"step 1: an Absolute TxProfile without {', '.join(missing)} "
                             f"(wire log line {remote.line})")

    # 3-4. Harness: Authorize.req; central system: Authorize.conf Accepted
    authorized = await authorize(csms, pics, remote["idTag"], step="3-4")
    assert_value(authorized, "idTagInfo.status", "Accepted", step="step 4")
    # 5-6. [Cable plugged in] Harness: StatusNotification.req Preparing
    await notify_status(csms, connector_id, "Preparing", step="5-6")
    # 7-8. Harness: StartTransaction.req; central system: .conf Accepted
    tx = await start_transaction(csms, connector_id, remote["idTag"], step="7-8")
    assert_value(tx.start, "idTagInfo.status", "Accepted", step="step 8")
    # 9-10. Harness: StatusNotification.req Charging
    await notify_status(csms, connector_id, "Charging", step="9-10")

    # Clean-up (not in the OCTT table): stopped locally, cable removed.
    await end_charging(csms, tx)
