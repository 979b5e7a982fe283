"""TC_010_CS Remote Start Charging Session - Cable Plugged in First (Core).

1. GetConfiguration AuthorizeRemoteTxRequests; 2. [plug in] -> StatusNotification Preparing;
3. RemoteStartTransaction.req (<Configured ConnectorId>, <Configured Valid IdTag>) answered Accepted
within the PICS remote_start_response; 4. only when AuthorizeRemoteTxRequests is true: Authorize.req,
answered Accepted; 5. StartTransaction.req (answered Accepted) and StatusNotification Charging, in
either order.

Reading chosen for the truncated validations: with AuthorizeRemoteTxRequests true the Authorize.req is
required (section 5.11: the remote request "should be authorized beforehand like a local action");
with false an Authorize.req is not judged.
"""

from harness import timing
from harness.cases import case
from harness.states.cs import (assert_id_tag, authorize_remote_tx_requests, booted, expect_status,
                               remote_start, started, transaction, triggered)


@case("TC_010_CS", "Remote Start Charging Session - Cable Plugged in First", profile="Core")
async def test_tc_010_cs_remote_start_cable_first(cp, driver, pics):
    await booted(cp, pics)
    async with transaction(cp, driver, pics) as tx:
        # 1. Harness: GetConfiguration.req AuthorizeRemoteTxRequests  Charge point: .conf
        authorize_first, _ = await authorize_remote_tx_requests(cp, pics, step="step 1")

        # 2. [Plug in the cable at the EV and the charge point] -> StatusNotification.req Preparing
        await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
        tx.plugged = True
        await expect_status(cp, pics, tx.connector_id, "Preparing", step="step 2",
                            when="after the plug-in")

        # 3. Harness: RemoteStartTransaction.req  Charge point: .conf Accepted
        remote = await remote_start(cp, pics, tx, step="step 3")

        # 4. Only if AuthorizeRemoteTxRequests is true: Authorize.req; harness: Accepted
        if authorize_first:
            authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                        what="step 4: Authorize.req (AuthorizeRemoteTxRequests=true)")
            assert_id_tag(authorize, "idTag", tx.id_tag, step="step 4")

        # 5. StartTransaction.req (Accepted) and StatusNotification.req Charging, in either order
        await started(cp, pics, tx, step="step 5")
        timing.triggered(cp, remote, tx.start)
