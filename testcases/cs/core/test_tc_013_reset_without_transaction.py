"""TC_013_CS Hard Reset Without transaction and TC_014_CS Soft Reset Without Transaction (Core).

1. ChangeAvailability.req Inoperative for <Configured ConnectorId>, Accepted, StatusNotification
Unavailable; 2. Reset.req (Hard / Soft), Accepted; 3. the charge point reboots: BootNotification.req
(answered Accepted), StatusNotification for connector 0 and every connector -- the connector made
Inoperative is still Unavailable (availability survives a reboot, OCPP 1.6 section 5.2: "the
Charge Point SHALL ... persist ... across reboots"), the others Available; 4. ChangeAvailability.req
Operative, Accepted, StatusNotification Available.

TC_014 (S in the catalogue) follows TC_013 with a Soft reset, as the CSMS twin and the public
re-implementations do.
"""


from harness.cases import case
from harness.states.cs import (assert_status, booted, booted_statuses, change_availability, cite,
                               conf_status, connector_under_test, expect_status, operative_at_end,
                               settled)


async def _reset_without_transaction(cp, pics, kind):
    await booted(cp, pics)
    connector_id = connector_under_test(pics)
    async with operative_at_end(cp, pics, connector_id) as inoperative:
        # 1. Harness: ChangeAvailability.req Inoperative -> .conf Accepted; StatusNotification
        change = await change_availability(cp, pics, connector_id, "Inoperative", step="step 1")
        conf_status(change, "Accepted", step="step 1")
        await expect_status(cp, pics, connector_id, "Unavailable", step="step 1")

        # 2. Harness: Reset.req  Charge point: Reset.conf Accepted
        reset = await cp.call("Reset", {"type": kind})
        conf_status(reset, "Accepted", step="step 2")

        # 3. The charge point reboots: BootNotification.req (Accepted); StatusNotification.req for
        #    connector 0 and every connector
        boot = await cp.expect("BootNotification", timeout=pics.timing.boot_timeout,
                               what=f"step 3: BootNotification.req after the {kind} reset")
        assert boot.frame.mono_ns > reset.frame.mono_ns, (
            f"step 3: the BootNotification.req taken ({cite(boot)}) came before the Reset.req "
            f"({cite(reset)}): it is not the reboot the reset caused")
        statuses = await booted_statuses(cp, pics, step="step 3")
        settled(cp)
        for connector, status in statuses.items():
            expected = "Unavailable" if connector == connector_id else "Available"
            assert_status(status, expected, step="step 3", when="after the reboot")

        # 4. Harness: ChangeAvailability.req Operative -> .conf Accepted; StatusNotification Available
        change = await change_availability(cp, pics, connector_id, "Operative", step="step 4")
        inoperative[0] = False
        conf_status(change, "Accepted", step="step 4")
        await expect_status(cp, pics, connector_id, "Available", step="step 4")


@case("TC_013_CS", "Hard Reset Without transaction", profile="Core")
async def test_tc_013_cs_hard_reset_without_transaction(cp, driver, pics):
    await _reset_without_transaction(cp, pics, "Hard")


@case("TC_014_CS", "Soft Reset Without Transaction", profile="Core")
async def test_tc_014_cs_soft_reset_without_transaction(cp, driver, pics):
    await _reset_without_transaction(cp, pics, "Soft")


