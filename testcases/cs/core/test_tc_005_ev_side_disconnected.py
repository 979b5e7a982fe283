"""TC_005_1_CS, TC_005_2_CS, TC_005_3_CS EV Side Disconnected (Core).

All three: configuration MinimumStatusDuration=0 (if implemented), then reusable state Charging, then
the EV side of the cable is disconnected.

Readings chosen (the catalogue's copies are cut off, P-t):
- The driver's ``unplug`` disconnects the EV and takes the cable away when the charge point does not
  hold it locked (the DUT control protocol's meaning); so the OCTT's second manual action "remove the
  cable from the charge point" is part of it when the cable is free, and happens by itself once an
  UnlockConnector released a held cable.
- TC_005_1 (StopTransactionOnEVSideDisconnect=true, UnlockConnectorOnEVSideDisconnect=true; socket
  only): StopTransaction.req reason EVDisconnected and StatusNotification Finishing in either order,
  then Available.
- TC_005_2 (StopTx...=true, Unlock...=false): StopTransaction.req reason EVDisconnected and
  StatusNotification Finishing in either order; UnlockConnector.req answered Unlocked (NotSupported
  for a fixed cable: OCPP 1.6 section 5.18, "NotSupported: Charge Point has no connector lock"); then
  Available.
- TC_005_3 (StopTx...=false, Unlock...=false; only when StopTransactionOnEVSideDisconnect can be set
  to false, else N/A): the transaction goes on, suspended: StatusNotification SuspendedEV (section
  9.1.30: with the key false "the transaction SHALL NOT be stopped when the cable is unplugged from
  the EV"); RemoteStopTransaction.req answered Accepted; StopTransaction.req reason Remote and
  StatusNotification Finishing in either order; then Available.
"""

from harness.cases import case
from harness.states.cs import (available_again, booted, charging_with_ev_side_rules, cite,
                               conf_status, disconnect_ev, next_status, stopped)

SOCKET_ONLY = ((lambda pics: pics.features.fixed_cable,
                "the charge point has a fixed cable: it cannot keep or release a cable at its side"),)


async def _available(cp, pics, tx, step):
    available = await next_status(cp, pics, tx.connector_id)
    assert available["status"] == "Available", (
        f"{step}: connector {tx.connector_id} reported {available['status']!r} with the cable "
        f"gone, expected 'Available' ({cite(available)})")


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
        await _available(cp, pics, tx, "step 2")


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
        expected = "NotSupported" if pics.features.fixed_cable else "Unlocked"
        conf_status(unlock, expected, step="step 3")

        # 4. [Remove the cable from the charge point] -> StatusNotification.req Available
        await _available(cp, pics, tx, "step 4")


@case("TC_005_3_CS", "EV Side Disconnected - StopTransactionOnEVSideDisconnect=false, "
      "UnlockConnectorOnEVSideDisconnect=false", profile="Core",
      needs=("MinimumStatusDuration=0 (if implemented)", "StopTransactionOnEVSideDisconnect=false",
             "UnlockConnectorOnEVSideDisconnect=false", "Charging"))
async def test_tc_005_3_cs_ev_side_disconnected(cp, driver, pics):
    await booted(cp, pics)
    async with charging_with_ev_side_rules(cp, driver, pics, stop=False, unlock=False) as tx:
        # 1. [Disconnect the cable at the EV side] -> StatusNotification.req; the transaction goes on
        await disconnect_ev(driver, pics, tx)
        suspended = await next_status(cp, pics, tx.connector_id)
        assert suspended["status"] == "SuspendedEV", (
            f"step 1: with StopTransactionOnEVSideDisconnect=false connector {tx.connector_id} "
            f"reported {suspended['status']!r} when the EV was disconnected, expected 'SuspendedEV' "
            f"({cite(suspended)})")
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
        await available_again(cp, pics, tx.connector_id)
