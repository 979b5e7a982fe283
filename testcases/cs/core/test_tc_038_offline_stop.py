"""TC_038_CS Offline Stop Transaction (Core).

Reusable state Charging; [cut the network; stop the transaction locally by presenting the idTag that
started it; restore the network] -> StopTransaction.req (queued while offline: a transaction-related
message, OCPP 1.6 section 4.7) with reason Local or omitted (Local is the default), and
StatusNotification Finishing, in either order. Statuses kept from the offline time are history.
"""

from harness.cases import case
from harness.states.cs import (LOCAL, booted, charging, offline, status_after_reconnect,
                               stop_request)


@case("TC_038_CS", "Offline Stop Transaction", profile="Core", needs=("Charging",),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader: it cannot be stopped locally"),))
async def test_tc_038_cs_offline_stop(cp, driver, pics):
    await booted(cp, pics)
    async with charging(cp, driver, pics) as tx:
        # 1. [Cut the network, stop the transaction locally, restore the network]
        async with offline(cp, driver, pics) as cut:
            await driver.present_id_tag(tx.id_tag, tx.connector_id,
                                        timeout=pics.timing.response_timeout)
        # 2. StopTransaction.req and StatusNotification.req, in either order
        await stop_request(cp, pics, tx, step="step 2", after="after the reconnection",
                           reasons=LOCAL)
        await status_after_reconnect(cp, pics, tx.connector_id, ("Finishing",), cut.online_wall,
                                     step="step 2")
