"""TC_032_1_CS / TC_032_2_CS Power failure boot charging point - configured to stop transaction(s)
before / after going down (Core).

The PICS may declare backup power (features.backup_power): true, TC_032_1 applies and TC_032_2 is
N/A before it starts, and a charge point that then goes down without stopping its transaction
fails TC_032_1; false, TC_032_1 is N/A and TC_032_2 applies. Undeclared, the harness cuts the power
(driver ``power_off``) and watches: a charge point that sends its StopTransaction.req before the
connection drops has backup power and is judged by TC_032_1 (TC_032_2 is then N/A), one that goes
down at once by TC_032_2 (TC_032_1 is then N/A). Both are conformant (OCPP 1.6 section 4.10 lists
PowerLoss as a stop reason without saying when it is sent). One that declared no backup power and
yet stopped first is INCONCLUSIVE (the PICS, not the device, is wrong).

TC_032_1: Charging; [cut power] -> StopTransaction.req reason PowerLoss and StatusNotification
Finishing before going down; [restore power] -> BootNotification.req (Accepted), StatusNotification
for connector 0 and every connector: the transaction's connector Finishing or Preparing, the others
Available.

TC_032_2 (the catalogue's copy is cut off). Reading chosen: Charging; [cut and restore power] ->
BootNotification.req (Accepted); StatusNotification for connector 0 and every connector (the others
Available); then either
- the charge point resumed the transaction (its connector reports Charging, SuspendedEV or
  SuspendedEVSE): [present the idTag that started it] -> StopTransaction.req reason Local (or
  omitted) and StatusNotification Finishing; or
- it stopped it while down: the transaction's connector reports Finishing or Preparing (the cable is
  still in; TC_032_1 and TC_015 allow both for the same situation), and the StopTransaction.req
  reason PowerLoss follows the boot (queued while down).
The order of these messages after the boot is free, as the OCTT allows.
"""

from harness.cases import case
from harness.states.cs import (LOCAL, assert_status, assert_value, booted, booted_statuses,
                               charging, expect_status, requests_of, settled, stop_request, stopped)
from harness.verdicts import Inconclusive, NotApplicable

RESUMED = ("Charging", "SuspendedEV", "SuspendedEVSE")


async def _power_off(cp, driver, pics):
    """Cut the power; True when the charge point stopped the transaction before going down."""
    await driver.power_off(timeout=pics.timing.boot_timeout)
    if cp.connected:
        await cp.wait_disconnected(pics.timing.boot_timeout)
    return bool(requests_of(cp, "StopTransaction"))


async def _power_on(cp, driver, pics, step):
    await driver.power_on(timeout=pics.timing.boot_timeout)
    boot = await cp.expect("BootNotification", timeout=pics.timing.boot_timeout,
                           what=f"{step}: BootNotification.req after the power came back")
    statuses = await booted_statuses(cp, pics, step=step)
    settled(cp)
    return boot, statuses


def _others_available(statuses, tx, step):
    for connector, status in statuses.items():
        if connector != tx.connector_id:
            assert_status(status, "Available", step=step, when="after the boot")


@case("TC_032_1_CS", "Power failure boot charging point - configured to stop transaction(s) "
      "before going down", profile="Core", needs=("Charging", "backup power"),
      na_when=((lambda pics: pics.features.backup_power is False,
                "the PICS declares no backup power (features.backup_power = false): TC_032_2_CS "
                "applies"),))
async def test_tc_032_1_cs_power_failure_stop_before(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # [Disconnect the power of the charge point]
        stopped_before = await _power_off(cp, driver, pics)
        if not stopped_before:
            await _power_on(cp, driver, pics, "restore")
            assert pics.features.backup_power is not True, (
                "step 1: the PICS declares backup power (features.backup_power = true), yet the "
                "charge point went down without sending StopTransaction.req reason PowerLoss first")
            raise NotApplicable("the charge point went down without stopping the transaction "
                                "first: it has no backup power (TC_032_2_CS applies)")
        # 1. StopTransaction.req reason PowerLoss
        stop = requests_of(cp, "StopTransaction")[0]
        tx.running = False
        assert_value(stop, "transactionId", tx.transaction_id, step="step 1")
        assert_value(stop, "reason", "PowerLoss", step="step 1")
        # 3. StatusNotification.req Finishing (before going down)
        await expect_status(cp, pics, tx.connector_id, "Finishing", step="step 3",
                            when="after the stop", timeout=0.001)

        # [Reconnect the power] 5. BootNotification.req; 7. StatusNotification per connector and 0
        _, statuses = await _power_on(cp, driver, pics, "step 7")
        mine = statuses[tx.connector_id]
        assert_status(mine, "Finishing", "Preparing", step="step 7",
                      when="after the boot (the transaction's connector, cable still in)")
        _others_available(statuses, tx, "step 7")


@case("TC_032_2_CS", "Power failure boot charging point - configured to stop transaction(s) "
      "after going down", profile="Core", needs=("Charging", "no backup power"),
      na_when=((lambda pics: pics.features.backup_power is True,
                "the PICS declares backup power (features.backup_power = true): TC_032_1_CS "
                "applies"),))
async def test_tc_032_2_cs_power_failure_stop_after(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # [Disconnect and reconnect the power of the charge point]
        stopped_before = await _power_off(cp, driver, pics)
        if stopped_before:
            await _power_on(cp, driver, pics, "restore")
            tx.running = False
            if pics.features.backup_power is False:
                raise Inconclusive("the PICS declares no backup power (features.backup_power = "
                                   "false), yet the charge point stopped the transaction before "
                                   "going down: correct the PICS")
            raise NotApplicable("the charge point stopped the transaction before going down: it has "
                                "backup power (TC_032_1_CS applies)")
        # 1. BootNotification.req; 3. StatusNotification.req per connector and connectorId 0
        _, statuses = await _power_on(cp, driver, pics, "step 3")
        _others_available(statuses, tx, "step 3")
        mine = statuses[tx.connector_id]
        if mine["status"] in RESUMED:
            # [The transaction was resumed: present the idTag that started it to stop it]
            await driver.present_id_tag(tx.id_tag, tx.connector_id,
                                        timeout=pics.timing.response_timeout)
            # 5. StopTransaction.req  7. StatusNotification.req Finishing
            await stopped(cp, pics, tx, step="steps 5-7", reasons=LOCAL,
                          after="after the idTag was presented")
        else:
            assert_status(mine, *RESUMED, "Finishing", "Preparing", step="step 3",
                          when="after the boot",
                          why=" (the transaction resumed, or stopped with the cable still in)")
            # 5. StopTransaction.req reason PowerLoss (queued while the charge point was down)
            await stop_request(cp, pics, tx, step="step 5", reasons=("PowerLoss",),
                               after="of the transaction that ended with the power")
