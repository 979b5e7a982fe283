"""TC_003_CS Regular Charging Session - Plugin First (Core).

The cable goes in first (Preparing), then the idTag is presented: Authorize.req answered Accepted,
StartTransaction.req answered Accepted and StatusNotification Charging, the last two in either order.
"""

from harness.cases import case
from harness.states.cs import (assert_id_tag, booted, expect_status, harness_answered, started,
                               transaction, triggered)


@case("TC_003_CS", "Regular Charging Session - Plugin First", profile="Core",
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),))
async def test_tc_003_cs_charging_plugin_first(cp, driver, pics):
    await booted(cp, pics)
    async with transaction(cp, driver, pics) as tx:
        # 1. [EV driver plugs in the cable] -> StatusNotification.req
        await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
        tx.plugged = True
        await expect_status(cp, pics, tx.connector_id, "Preparing", step="step 1",
                            when="after the plug-in")

        # 2. [EV driver presents the idTag] -> Authorize.req; harness: Authorize.conf Accepted
        await driver.present_id_tag(tx.id_tag, tx.connector_id, timeout=pics.timing.response_timeout)
        authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                    what=f"Authorize.req for {tx.id_tag}")
        assert_id_tag(authorize, "idTag", tx.id_tag, step="step 2")
        harness_answered(authorize, "Accepted", step="step 2")

        # 3. StartTransaction.req; harness: StartTransaction.conf Accepted
        # 4. StatusNotification.req Charging (3 and 4 in either order)
        await started(cp, pics, tx, step="steps 3-4")
        harness_answered(tx.start, "Accepted", step="step 3")
