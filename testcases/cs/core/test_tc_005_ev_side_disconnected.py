"""TC_005_1_CS, TC_005_2_CS, TC_005_3_CS EV Side Disconnected (Core).

All three: configuration MinimumStatusDuration=0 (if implemented), then reusable state Charging, then
the EV side of the cable is disconnected.

Readings chosen (the catalogue's copies are cut off, P-t):
- What the driver's ``unplug`` (the EV side disconnected) does to the cable is the PICS hardware
  model's (harness/pics.py: features.cable, unplug_at_ev): with ``cable_leaves`` (the default, the
  DUT control protocol's meaning) the cable leaves with the EV unless the charge point holds it
  locked, so the OCTT's second manual action "remove the cable from the charge point" is part of
  ``unplug`` when the cable is free, and happens by itself once an UnlockConnector released a held
  cable; with ``cable_stays`` it is the driver's ``remove_cable``.
- After the stop, StatusNotification Finishing -- or, when nothing is left at the connector (a
  fixed cable, or a cable that left with the EV: no lock, or UnlockConnectorOnEVSideDisconnect=true),
  Available at once: OCPP 1.6 section 4.9 allows Charging -> Available as well as Charging ->
  Finishing -> Available (:func:`harness.states.cs.stopped`). A cable the lock still holds
  (UnlockConnectorOnEVSideDisconnect=false on a locking socket) must give Finishing.
- TC_005_1 (StopTransactionOnEVSideDisconnect=true, UnlockConnectorOnEVSideDisconnect=true; socket
  only): StopTransaction.req reason EVDisconnected and StatusNotification Finishing in either order,
  then Available (or Available at once, as above).
- TC_005_2 (StopTx...=true, Unlock...=false): StopTransaction.req reason EVDisconnected and
  StatusNotification Finishing in either order; UnlockConnector.req answered Unlocked -- NotSupported
  for a connector without a cable lock, a fixed cable or a socket without lock (OCPP 1.6 section
  7.44, "NotSupported: Charge Point has no connector lock"); then Available.
- TC_005_3 (StopTx...=false, Unlock...=false; only when StopTransactionOnEVSideDisconnect can be set
  to false, else N/A): the transaction goes on, suspended: StatusNotification SuspendedEV (section
  9.1.30: with the key false "the transaction SHALL NOT be stopped when the cable is unplugged from
  the EV"); RemoteStopTransaction.req answered Accepted; StopTransaction.req reason Remote and
  StatusNotification Finishing in either order (or Available when nothing is left at the
  connector); then Available.
"""

from harness.cases import case
from harness.states.cs import (available_again, booted, charging_with_ev_side_rules, cite,
                               conf_status, disconnect_ev, expect_status, stopped)

SOCKET_ONLY = ((lambda pics: pics.features.fixed_cable,
                "the charge point has a fixed cable: it cannot keep or release a cable at its side"),)


async def _available(cp, driver, pics, tx, step):
    """[Remove the cable from the charge point] -> StatusNotification Available; nothing to wait
    for when the connector reported Available at the stop already (nothing was left)."""
    if tx.after_stop is not None and tx.after_stop["status"] == "Available":
        return
    if pics.features.unplug_at_ev == "cable_stays" and not pics.features.fixed_cable:
        await driver.remove_cable(tx.connector_id, timeout=pics.timing.response_timeout)
    await expect_status(cp, pics, tx.connector_id, "Available", step=step,
                        when="with the cable gone")


@case("TC_005_1_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect=true, "
      "UnlockConnectorOnEVSideDisconnect=true", profile="Core",
      needs=("MinimumStatusDuration=0 (if implemented)", "StopTransactionOnEVSideDisconnect=true",
             "UnlockConnectorOnEVSideDisconnect=true", "Charging"),
      na_when=SOCKET_ONLY)
async def test_tc_005_1_cs_ev_side_disconnected(cp, driver, pics):
    await booted(cp, pics)
    async with charging_with_ev_side_rules(cp, driver, pics, stop=True, unlock=True) as tx:
        # 1. [Disconnect the cable at the EV side] -> StopTransaction.req and StatusNotification.req
        await disconnect_ev(driver, pics, tx)
        await stopped(cp, pics, tx, step="step 1", reasons=("EVDisconnected",),
                      after="after the EV was disconnected")
        # 2. [Remove the cable from the charge point] -> StatusNotification.req Available
        await _available(cp, driver, pics, tx, "step 2")


@case("TC_005_2_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect=true, "
      "UnlockConnectorOnEVSideDisconnect=false", profile="Core",
      needs=("MinimumStatusDuration=0 (if implemented)", "StopTransactionOnEVSideDisconnect=true",
             "UnlockConnectorOnEVSideDisconnect=false", "Charging"))
async def test_tc_005_2_cs_ev_side_disconnected(cp, driver, pics):
    await booted(cp, pics)
    async with charging_with_ev_side_rules(cp, driver, pics, stop=True, unlock=False) as tx:
        # 1. [Disconnect the cable at the EV side] -> StopTransaction.req and StatusNotification.req
        await disconnect_ev(driver, pics, tx)
        await stopped(cp, pics, tx, step="step 1", reasons=("EVDisconnected",),
                      after="after the EV was disconnected")

        # 2. Harness: UnlockConnector.req  3. Charge point: UnlockConnector.conf
        unlock = await cp.call("UnlockConnector", {"connectorId": tx.connector_id})
        conf_status(unlock, pics.features.unlock_answer, step="step 3",
                    why=f" (the PICS features.cable is {pics.features.cable!r})")

        # 4. [Remove the cable from the charge point] -> StatusNotification.req Available
        await _available(cp, driver, pics, tx, "step 4")


@case("TC_005_3_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect=false, "
      "UnlockConnectorOnEVSideDisconnect=false", profile="Core",
      needs=("MinimumStatusDuration=0 (if implemented)", "StopTransactionOnEVSideDisconnect=false",
             "UnlockConnectorOnEVSideDisconnect=false", "Charging"))
async def test_tc_005_3_cs_ev_side_disconnected(cp, driver, pics):
    await booted(cp, pics)
    async with charging_with_ev_side_rules(cp, driver, pics, stop=False, unlock=False) as tx:
        # 1. [Disconnect the cable at the EV side] -> StatusNotification.req; the transaction goes on
        await disconnect_ev(driver, pics, tx)
        await expect_status(cp, pics, tx.connector_id, "SuspendedEV", step="step 1",
                            when="with StopTransactionOnEVSideDisconnect=false when "
                                 "the EV was disconnected")
        early = [r for r in cp.requests if r.action == "StopTransaction"]
        assert not early, (
            f"step 1: with StopTransactionOnEVSideDisconnect=false the charge point stopped the "
            f"transaction when the EV was disconnected ({cite(early[0])})")

        # 2. Harness: RemoteStopTransaction.req  3. Charge point: RemoteStopTransaction.conf
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        conf_status(remote, "Accepted", step="step 3",
                    why=": the transaction should still be running")

        # 4. StatusNotification.req and StopTransaction.req, in either order
        await stopped(cp, pics, tx, step="step 4", reasons=("Remote",),
                      after="after RemoteStopTransaction")

        # Clean-up: the cable is released and taken away; a charge point that keeps it locked
        # (UnlockConnectorOnEVSideDisconnect=false) is asked to unlock it.
        if tx.after_stop is None or tx.after_stop["status"] != "Available":
            if pics.features.unplug_at_ev == "cable_stays" and not pics.features.fixed_cable:
                await driver.remove_cable(tx.connector_id, timeout=pics.timing.response_timeout)
            await available_again(cp, pics, tx.connector_id)
