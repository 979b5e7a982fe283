"""TC_007_CS Regular Start Charging Session - Cached Id (Core; the OCTT tool's TC_007_1_CS).

Configuration: AuthorizationCacheEnabled=true (if implemented), LocalPreAuthorize=true. Memory state
IdTagCached: <Configured Valid IdTag> is put in the authorization cache by one online authorization
(present it, Authorize.conf Accepted), then de-authorized (presented again) so the connector is
Available again.

Scenario: [present the idTag] -> StatusNotification Preparing; [plug in] -> StartTransaction.req
(answered Accepted) and StatusNotification Charging, in either order. With LocalPreAuthorize=true
and the idTag Accepted in the cache the charge point starts "without waiting for or requesting an
Authorize.conf" (OCPP 1.6 section 9.1.18), so an Authorize.req between the presentation and the
StartTransaction.req is a failure.
"""

from harness.cases import case
from harness.states.cs import (authorized, booted, cached_for_remote_start, cite, configured,
                               harness_answered, id_tag_cached, remote_started, requests_of,
                               start_after_plug_in, transaction)


def _no_authorize_before_start(cp, seen: int, tx, *, step: str) -> None:
    """No Authorize.req among the requests from ``seen`` on, up to the StartTransaction.req."""
    asked = [r for r in requests_of(cp, "Authorize") if r in cp.requests[seen:]
             and r.frame.mono_ns < tx.start.frame.mono_ns]
    assert not asked, (
        f"{step}: the idTag is Accepted in the authorization cache and LocalPreAuthorize is true, "
        f"yet the charge point sent Authorize.req ({cite(asked[0])})")


@case("TC_007_CS", "Regular Start Charging Session - Cached Id", profile="Core",
      needs=("AuthorizationCacheEnabled=true (if implemented)", "LocalPreAuthorize=true",
             "IdTagCached"),
      na_when=((lambda pics: not pics.features.authorization_cache,
                "the PICS declares no authorization cache"),
               (lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to")),
      aliases=("TC_007_1_CS",))
async def test_tc_007_cs_cached_id(cp, driver, pics):
    await booted(cp, pics)
    async with configured(cp, pics, {"LocalPreAuthorize": "true"},
                          {"AuthorizationCacheEnabled": "true"}):
        # Memory state IdTagCached
        await id_tag_cached(cp, driver, pics)
        cp.forget()
        seen = len(cp.requests)

        async with transaction(cp, driver, pics) as tx:
            # 1. [Present the idTag] -> StatusNotification.req Preparing (no Authorize.req)
            await authorized(cp, driver, pics, id_tag=tx.id_tag, connector_id=tx.connector_id,
                             expect_authorize=False, state="step 1")

            # 2. [Plug in] -> StartTransaction.req (Accepted) and StatusNotification.req Charging
            await start_after_plug_in(cp, driver, pics, tx, step="step 2")
            harness_answered(tx.start, "Accepted", step="step 2")
            _no_authorize_before_start(cp, seen, tx, step="steps 1-2")


@case("TC_007_2_CS", "Remote Start Charging Session - Cached Id", profile="Core",
      needs=("AuthorizationCacheEnabled=true (if implemented)", "LocalPreAuthorize=true",
             "AuthorizeRemoteTxRequests=true", "ConnectionTimeOut=<Configured connectionTimeout>",
             "IdTagCached (by a remote start)"),
      na_when=((lambda pics: not pics.features.authorization_cache,
                "the PICS declares no authorization cache"),))
async def test_tc_007_2_cs_cached_id_remote_start(cp, driver, pics):
    """TC_007_2_CS, the OCTT tool's remote-start variant (catalogue: S). Reading chosen from OCPP 1.6
    section 5.11: with AuthorizeRemoteTxRequests=true the charge point "SHALL behave as if in
    response to a local action", so it authorizes the remote idTag from its cache and, with
    LocalPreAuthorize=true, starts without an Authorize.req. AuthorizeRemoteTxRequests=true is
    required (N/A when the charge point cannot set it: with false the cache is never consulted for a
    remote start). The cache is filled remotely too (memory state IdTagCached by a remote start that
    lapses after ConnectionTimeOut), so the case needs no RFID reader."""
    await booted(cp, pics)
    # Configuration state; memory state IdTagCached
    async with cached_for_remote_start(cp, pics):
        cp.forget()
        seen = len(cp.requests)

        async with transaction(cp, driver, pics) as tx:
            # 1. Harness: RemoteStartTransaction.req  2. Charge point: .conf Accepted
            # 3. StatusNotification.req Preparing, without an Authorize.req (cache hit)
            await remote_started(cp, pics, tx, authorize=False, step="steps 1-3")

            # 4. [Plug in] -> StartTransaction.req (Accepted) and StatusNotification.req Charging
            await start_after_plug_in(cp, driver, pics, tx, step="step 4")
            harness_answered(tx.start, "Accepted", step="step 4")
            _no_authorize_before_start(cp, seen, tx, step="steps 1-4")
