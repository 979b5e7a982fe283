"""TC_024_CS Start Charging Session - Lock Failure (Core).

Only on a socket with a cable lock (PICS features.cable = "socket_with_lock"), and only where a lock
failure can be provoked (the driver's ``lock_failure``; a driver or operator that cannot do it makes
the case INCONCLUSIVE).

Steps: GetConfiguration AuthorizeRemoteTxRequests; RemoteStartTransaction.req answered Accepted;
Authorize.req when AuthorizeRemoteTxRequests is true; StatusNotification Preparing; [the cable lock
fails as the cable goes in] -> StatusNotification Faulted with errorCode ConnectorLockFailure. No
transaction may start (no StartTransaction.req during the case). Clean-up: the fault is cleared
(driver ``clear_fault``) and the cable taken out.
"""

from harness.cases import case
from harness.states.cs import NO_LOCK, expect_status
from harness.states.cs import (authorize_remote_tx_requests, booted, cite, remote_start,
                               requests_of, transaction, triggered)


@case("TC_024_CS", "Start Charging Session - Lock Failure", profile="Core",
      needs=("lock failure can be provoked",),
      na_when=(NO_LOCK,))
async def test_tc_024_cs_lock_failure(cp, driver, pics):
    await booted(cp, pics)
    async with transaction(cp, driver, pics) as tx:
        try:
            # 1. Harness: GetConfiguration.req AuthorizeRemoteTxRequests  2. .conf
            authorize_first, _ = await authorize_remote_tx_requests(cp, pics, step="step 2")
            # 3. Harness: RemoteStartTransaction.req  4. Charge point: .conf Accepted
            await remote_start(cp, pics, tx, step="step 4")
            # 5. Authorize.req (only if AuthorizeRemoteTxRequests is true); harness: Accepted
            if authorize_first:
                await cp.expect("Authorize", timeout=triggered(pics),
                                what="step 5: Authorize.req (AuthorizeRemoteTxRequests=true)")
            # 7. StatusNotification.req Preparing
            await expect_status(cp, pics, tx.connector_id, "Preparing", step="step 7",
                                when="after the remote start")

            # 9. [Plug in so that the connector lock fails] -> StatusNotification.req Faulted
            await driver.lock_failure(tx.connector_id, timeout=pics.timing.response_timeout)
            await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
            tx.plugged = True
            faulted = await expect_status(cp, pics, tx.connector_id, "Faulted", step="step 9",
                                          when="with the cable lock failing")
            assert faulted["errorCode"] == "ConnectorLockFailure", (
                f"step 9: the Faulted status carries errorCode {faulted['errorCode']!r}, expected "
                f"'ConnectorLockFailure' ({cite(faulted)})")
        finally:
            await driver.clear_fault(tx.connector_id, timeout=pics.timing.response_timeout)
        starts = requests_of(cp, "StartTransaction")
        assert not starts, (
            f"step 9: the cable could not be locked, yet the charge point sent "
            f"StartTransaction.req ({cite(starts[0])})")
