"""TC_018_1_CS / TC_018_2_CS Unlock Connector - With Charging Session (Core).

TC_018_1 (socket): reusable state Charging; UnlockConnector.req answered Unlocked; the charge point
stops the transaction first (OCPP 1.6 section 5.18): StopTransaction.req reason UnlockCommand and
StatusNotification Finishing; [unplug] -> StatusNotification Available.

TC_018_2 (fixed cable; S in the catalogue). Reading chosen: a fixed cable has no lock, so the
request is answered NotSupported (section 7.44) and nothing is done -- the transaction goes on. The
harness proves it by stopping it itself: RemoteStopTransaction.req is Accepted and its
StopTransaction.req carries reason Remote (an UnlockCommand stop would have come first).

A socket without a cable lock (PICS features.cable = "socket_without_lock") runs TC_018_1 (it is a
socket) with the fixed cable's branch: NotSupported (section 7.44: no connector lock), nothing is
done, the transaction goes on -- proven as for TC_018_2. The cable is taken out at the end (the
driver's ``unplug``; ``remove_cable`` too where the PICS says the cable stays in the socket).
"""

from harness import timing
from harness.cases import case
from harness.states.cs import (booted, charging, cite, conf_status, expect_status, requests_of,
                               stop_request, stopped, unplug_cable)


@case("TC_018_1_CS", "Unlock Connector - With Charging Session (Not fixed cable)", profile="Core",
      needs=("Charging",),
      na_when=((lambda pics: pics.features.fixed_cable,
                "the charge point has a fixed cable (TC_018_2_CS applies)"),))
async def test_tc_018_1_cs_unlock_with_session(cp, driver, pics):
    await booted(cp, pics)
    if not pics.features.has_lock:
        await _not_supported(cp, driver, pics, why=" for a socket without a cable lock")
        return
    async with charging(cp, driver, pics) as tx:
        # 1. Harness: UnlockConnector.req  2. Charge point: UnlockConnector.conf Unlocked
        unlock = await cp.call("UnlockConnector", {"connectorId": tx.connector_id})
        conf_status(unlock, "Unlocked", step="step 2")

        # 3. StopTransaction.req reason UnlockCommand  5. StatusNotification.req Finishing
        stop = await stopped(cp, pics, tx, step="steps 3-5", after="after UnlockConnector",
                             reasons=("UnlockCommand",))
        timing.triggered(cp, unlock, stop)

        # 7. [Unplug the cable] -> StatusNotification.req Available
        await unplug_cable(driver, pics, tx)
        await expect_status(cp, pics, tx.connector_id, "Available", step="step 7",
                            when="after the unplug")


@case("TC_018_2_CS", "Unlock Connector - With Charging Session (Fixed cable)", profile="Core",
      needs=("Charging",),
      na_when=((lambda pics: not pics.features.fixed_cable,
                "the charge point has a socket, no fixed cable (TC_018_1_CS applies)"),))
async def test_tc_018_2_cs_unlock_with_session_fixed_cable(cp, driver, pics):
    await booted(cp, pics)
    await _not_supported(cp, driver, pics, why=" for a fixed cable")


async def _not_supported(cp, driver, pics, *, why):
    async with charging(cp, driver, pics) as tx:
        # 1. Harness: UnlockConnector.req  2. Charge point: UnlockConnector.conf NotSupported
        unlock = await cp.call("UnlockConnector", {"connectorId": tx.connector_id})
        conf_status(unlock, "NotSupported", step="step 2", why=why)

        # The transaction goes on: RemoteStopTransaction.req Accepted, StopTransaction reason Remote
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        early = [r for r in requests_of(cp, "StopTransaction")
                 if r.frame.mono_ns < remote.request.mono_ns]
        assert not early, (
            f"step 2: the charge point answered NotSupported but stopped the transaction "
            f"({cite(early[0])})")
        conf_status(remote, "Accepted", step="after step 2",
                    why=": the transaction should still be running after the NotSupported unlock")
        stop = await stop_request(cp, pics, tx, step="after step 2",
                                  after="after RemoteStopTransaction", reasons=("Remote",))
        timing.triggered(cp, remote, stop)
