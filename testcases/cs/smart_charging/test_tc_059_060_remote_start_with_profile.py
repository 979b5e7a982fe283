"""TC_059_CS Remote Start Transaction with Charging Profile, and TC_060_CS - Rejected (Smart
Charging).

TC_059: RemoteStartTransaction.req for <Configured ConnectorId> carrying a TxProfile (Relative, no
transactionId: the transaction does not exist yet, OCPP 1.6 5.11), answered Accepted; [plug in] ->
StartTransaction.req and StatusNotification Charging; then GetCompositeSchedule.req (connectorId,
<Configured duration>, <Configured chargingRateUnit>): Accepted, connectorId / duration / unit as
asked, startSchedule within max_time_deviation of the request, and the periods of the TxProfile
counted from the transaction's start (the StartTransaction.req timestamp).

TC_060: RemoteStartTransaction.req whose chargingProfile purpose is not TxProfile (a
TxDefaultProfile) is answered Rejected, or CALLERROR PropertyConstraintViolation (5.11: "the
purpose SHALL be TxProfile"); no transaction may follow: the connector is not reported Preparing.
"""

from harness.cases import case
from harness.states.cs import (assert_status, booted, cite, next_status, remote_start,
                               start_after_plug_in, transaction, triggered)
from harness.states.smart_charging import (check_composite, profile, profiles_installed,
                                           status_of, transaction_of)


@case("TC_059_CS", "Remote Start Transaction with Charging Profile", profile="SmartCharging",
      needs=("Booted", "no charging profile installed"))
async def test_tc_059_cs_remote_start_with_profile(cp, driver, pics):
    await booted(cp, pics)
    async with profiles_installed(cp, pics) as installed, transaction(cp, driver, pics) as tx:
        tx_profile = profile(pics, 6, "TxProfile", [(0, 6), (90, 10)], kind="Relative",
                             duration=1800)
        # 1. Harness: RemoteStartTransaction.req with chargingProfile (TxProfile)  2. .conf Accepted
        await remote_start(cp, pics, tx, step="steps 1-2", payload={
            "connectorId": tx.connector_id, "idTag": tx.id_tag, "chargingProfile": tx_profile})
        preparing = await next_status(cp, pics, tx.connector_id,
                                      what="StatusNotification Preparing after the remote start")
        assert_status(preparing, "Preparing", step="step 1", when="after the remote start")
        # [Plug in] -> StartTransaction.req (Accepted) and StatusNotification.req Charging
        await start_after_plug_in(cp, driver, pics, tx, step="step 1 (charging started)")
        installed.transaction = transaction_of(tx)
        installed.add(tx.connector_id, tx_profile)
        # 3. Harness: GetCompositeSchedule.req  4. Charge point: .conf, the TxProfile from the start
        await check_composite(cp, pics, installed, connector_id=tx.connector_id, step="3-4")


@case("TC_060_CS", "Remote Start Transaction with Charging Profile - Rejected",
      profile="SmartCharging", needs=("Booted",))
async def test_tc_060_cs_remote_start_with_profile_rejected(cp, driver, pics):
    await booted(cp, pics)
    async with transaction(cp, driver, pics) as tx:
        not_tx = profile(pics, 7, "TxDefaultProfile", [(0, 6)], kind="Relative")
        # 1. Harness: RemoteStartTransaction.req with a TxDefaultProfile
        response = await cp.call("RemoteStartTransaction", {
            "connectorId": tx.connector_id, "idTag": tx.id_tag, "chargingProfile": not_tx},
            timeout=pics.timing.remote_start_response or pics.timing.response_timeout)
        # 2. Charge point: .conf Rejected (or CALLERROR PropertyConstraintViolation)
        got = (f"CALLERROR {response.error.error_code}" if response.error is not None
               else response.status)
        assert got in ("Rejected", "CALLERROR PropertyConstraintViolation"), (
            f"step 2: RemoteStartTransaction.conf with a TxDefaultProfile is {status_of(response)},"
            f" expected 'Rejected' or CALLERROR PropertyConstraintViolation ({cite(response)})")
        # No session may follow: ask for the connector's status; it must not be Preparing.
        trigger = await cp.call("TriggerMessage", {"requestedMessage": "StatusNotification",
                                                   "connectorId": tx.connector_id})
        if trigger.status == "Accepted":
            status = await next_status(cp, pics, tx.connector_id, timeout=triggered(pics),
                                       what="the triggered StatusNotification")
            assert_status(status, "Available", step="after step 2",
                          when="after a rejected remote start")
