"""TC_015_CS Hard Reset With Transaction and TC_016_CS Soft Reset With Transaction (Core).

Reusable state Charging; Reset.req (Hard / Soft) answered Accepted; the transaction is stopped with
reason HardReset / SoftReset -- its StopTransaction.req may come before the reboot, or after it
(queued: OCPP 1.6 section 5.14, a hard reset "sends a StopTransaction.req for previously ongoing
transactions after having restarted and having sent a BootNotification.req" if it could not before);
a StatusNotification Finishing is required when the StopTransaction.req came before the reboot;
BootNotification.req (Accepted); StatusNotification for connector 0 and every connector: the
transaction's connector Finishing or Preparing (the cable is still in), the others Available.

TC_016 (S in the catalogue) mirrors TC_015 with a Soft reset and reason SoftReset, as the CSMS twin
does; section 5.14 requires a soft reset to stop transactions gracefully first, so for it the
StopTransaction.req must come before the reboot.
"""

from harness.cases import case
from harness.states.cs import (assert_status, assert_value, booted, booted_statuses, charging, cite,
                               conf_status, expect_status, settled, triggered)


async def _reset_with_transaction(cp, driver, pics, kind):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # 1. Harness: Reset.req  2. Charge point: Reset.conf Accepted
        reset = await cp.call("Reset", {"type": kind})
        conf_status(reset, "Accepted", step="step 2")

        # 3. StopTransaction.req (before or after the reboot); 5. StatusNotification Finishing (when
        #    stopped before the reboot); 7. BootNotification.req; 9. StatusNotification per connector
        first = await cp.expect(("StopTransaction", "BootNotification"),
                                timeout=pics.timing.boot_timeout,
                                what=f"StopTransaction.req or BootNotification.req after the {kind} "
                                     "reset")
        stopped_before = first.action == "StopTransaction"
        assert stopped_before or kind == "Hard", (
            f"step 3: a soft reset stops the transactions gracefully before rebooting (OCPP 1.6 "
            f"section 5.14), yet the charge point sent BootNotification.req first ({cite(first)})")
        if stopped_before:
            stop = first
            await expect_status(cp, pics, tx.connector_id, "Finishing", step="step 5",
                                when="after the stop")
            boot = await cp.expect("BootNotification", timeout=pics.timing.boot_timeout,
                                   what=f"step 7: BootNotification.req after the {kind} reset")
        else:
            boot = first
        statuses = await booted_statuses(cp, pics, step="step 9")
        settled(cp)
        if not stopped_before:
            stop = await cp.expect("StopTransaction", timeout=triggered(pics),
                                   what="step 3: the queued StopTransaction.req after the boot")
        tx.running = False
        assert_value(stop, "transactionId", tx.transaction_id, step="step 3")
        assert_value(stop, "reason", f"{kind}Reset", step="step 3")
        del boot
        for connector, status in statuses.items():
            expected = ("Finishing", "Preparing") if connector == tx.connector_id else ("Available",)
            assert_status(status, *expected, step="step 9", when="after the reboot")


@case("TC_015_CS", "Hard Reset With Transaction", profile="Core", needs=("Charging",))
async def test_tc_015_cs_hard_reset_with_transaction(cp, driver, pics):
    await _reset_with_transaction(cp, driver, pics, "Hard")


@case("TC_016_CS", "Soft Reset With Transaction", profile="Core", needs=("Charging",))
async def test_tc_016_cs_soft_reset_with_transaction(cp, driver, pics):
    await _reset_with_transaction(cp, driver, pics, "Soft")
