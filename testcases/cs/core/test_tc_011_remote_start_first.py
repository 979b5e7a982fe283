"""TC_011_1_CS Remote Start - Remote Start First, and TC_011_2_CS Remote Start - Time Out (Core).

TC_011_1: GetConfiguration AuthorizeRemoteTxRequests (the key must be reported);
RemoteStartTransaction.req answered Accepted within the PICS remote_start_response; Authorize.req when
AuthorizeRemoteTxRequests is true (then required; with false it is not judged, as in TC_010);
StatusNotification Preparing; [plug in] ->
StartTransaction.req (Accepted) and StatusNotification Charging.

TC_011_2: configuration ConnectionTimeOut = <Configured connectionTimeout>; the same start, but nobody
plugs in: when ConnectionTimeOut has run out the connector is Available again, without a
StartTransaction. Reading chosen for the timing: the timeout counts from the successful
authorization -- the Authorize.conf when the charge point asked, else the RemoteStartTransaction.conf
-- and the Available must come within max_time_deviation of it.
"""

from harness.cases import case
from harness.timing import judge
from harness.states.cs import (assert_status, authorize_remote_tx_requests, booted, cite,
                               configured, connection_timeout, harness_answered, next_status,
                               remote_started, requests_of, start_after_plug_in, transaction)


async def _remote_start_until_preparing(cp, pics, tx):
    # 1-2. Harness: GetConfiguration.req AuthorizeRemoteTxRequests  Charge point: .conf
    authorize_first, _ = await authorize_remote_tx_requests(cp, pics, step="step 2")
    # 3-4. Harness: RemoteStartTransaction.req  Charge point: .conf Accepted
    # 5-6. Only if AuthorizeRemoteTxRequests is true: Authorize.req; harness: Accepted
    # 7. StatusNotification.req Preparing
    return await remote_started(cp, pics, tx, authorize=True if authorize_first else None,
                                step="steps 3-7")


@case("TC_011_1_CS", "Remote Start Charging Session - Remote Start First", profile="Core")
async def test_tc_011_1_cs_remote_start_first(cp, driver, pics):
    await booted(cp, pics)
    async with transaction(cp, driver, pics) as tx:
        # 1-7. GetConfiguration, RemoteStartTransaction, (Authorize), StatusNotification Preparing
        await _remote_start_until_preparing(cp, pics, tx)
        # 8. [Plug in] -> StartTransaction.req (Accepted) and StatusNotification.req Charging
        await start_after_plug_in(cp, driver, pics, tx, step="steps 9-12")
        harness_answered(tx.start, "Accepted", step="steps 9-12")


@case("TC_011_2_CS", "Remote Start Charging Session - Time Out", profile="Core",
      needs=("ConnectionTimeOut=<Configured connectionTimeout>",))
async def test_tc_011_2_cs_remote_start_timeout(cp, driver, pics):
    await booted(cp, pics)
    timeout = connection_timeout(pics)
    deviation = pics.timing.max_time_deviation
    async with configured(cp, pics, {"ConnectionTimeOut": str(timeout)}), \
            transaction(cp, driver, pics) as tx:
        # 1-7. GetConfiguration, RemoteStartTransaction, (Authorize), StatusNotification Preparing
        response, authorize = await _remote_start_until_preparing(cp, pics, tx)
        # 8. Nobody plugs in; after ConnectionTimeOut: StatusNotification.req Available
        available = await next_status(cp, pics, tx.connector_id, timeout=timeout + 2 * deviation,
                                      what=f"StatusNotification after ConnectionTimeOut ({timeout} s)")
        assert_status(available, "Available", step="step 8", when="when ConnectionTimeOut ran out")
        since = authorize.answer_frame if authorize is not None else response.frame
        after = (available.frame.mono_ns - since.mono_ns) / 1e9
        judge(cp, since, available, abs(after - timeout) <= deviation,
              f"step 8: the remote start was cancelled {after:.3f} s after it was authorized, "
              f"expected ConnectionTimeOut = {timeout} s ± {deviation} s ({cite(available)})",
              by_s=abs(after - timeout) - deviation)
        starts = requests_of(cp, "StartTransaction")
        assert not starts, (
            f"step 8: no cable was plugged in, yet the charge point sent StartTransaction.req "
            f"({cite(starts[0])})")
