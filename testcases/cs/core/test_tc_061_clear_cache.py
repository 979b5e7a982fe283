"""TC_061_CS Clear Authorization Data in Authorization Cache (Core; the OCTT tool's TC_061_1_CS).

Configuration: AuthorizationCacheEnabled=true (if implemented), LocalPreAuthorize=true,
ConnectionTimeOut=<Configured connectionTimeout>. Reusable state Authorized with
<Configured Valid IdTag> (which also leaves it in the cache).

Scenario: 1. StatusNotification Preparing (part of Authorized); 2. the idTag is presented again to end
the authorization -- or ConnectionTimeOut runs out -- and the connector is Available; 3. ClearCache.req
answered Accepted; 4. the same idTag is presented: its cache entry is gone, so the charge point must
ask the central system (Authorize.req), LocalPreAuthorize notwithstanding.

Reading chosen for the truncated tail: after step 4 the harness answers Accepted and the charge point
reports Preparing again; the session is then ended the same way as in step 2 (clean-up).
"""

from harness.cases import case
from harness.states.cs import (Tx, assert_id_tag, authorized, booted, cached_for_remote_start,
                               conf_status, configured, connection_timeout, connector_under_test,
                               expect_status, remote_started, status_until, triggered)


async def _clear_cache(cp, *, step: str) -> None:
    clear = await cp.call("ClearCache", {})
    conf_status(clear, "Accepted", step=step)


@case("TC_061_CS", "Clear Authorization Data in Authorization Cache", profile="Core",
      needs=("AuthorizationCacheEnabled=true (if implemented)", "LocalPreAuthorize=true",
             "ConnectionTimeOut=<Configured connectionTimeout>", "Authorized"),
      na_when=((lambda pics: not pics.features.authorization_cache,
                "the PICS declares no authorization cache"),
               (lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to")),
      aliases=("TC_061_1_CS",))
async def test_tc_061_cs_clear_cache(cp, driver, pics):
    await booted(cp, pics)
    connector_id, id_tag = connector_under_test(pics), pics.id_tags.valid
    timeout = connection_timeout(pics)
    async with configured(cp, pics, {"LocalPreAuthorize": "true", "ConnectionTimeOut": str(timeout)},
                          {"AuthorizationCacheEnabled": "true"}):
        # Reusable state Authorized; 1. StatusNotification.req Preparing
        await authorized(cp, driver, pics, id_tag=id_tag, connector_id=connector_id,
                         expect_authorize=None)

        # 2. [Present the idTag again, or wait for ConnectionTimeOut] -> StatusNotification Available
        await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
        await expect_status(cp, pics, connector_id, "Available", step="step 2",
                            when="after the authorization ended",
                            timeout=timeout + triggered(pics))

        # 3. Harness: ClearCache.req  Charge point: ClearCache.conf Accepted
        await _clear_cache(cp, step="step 3")

        # 4. [Present the same idTag] -> Authorize.req (the cache is empty); harness: Accepted
        cp.forget()
        await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
        authorize = await cp.expect("Authorize", timeout=triggered(pics),
                                    what=f"Authorize.req for {id_tag} after ClearCache")
        assert_id_tag(authorize, "idTag", id_tag, step="step 4")
        await expect_status(cp, pics, connector_id, "Preparing", step="step 4",
                            when="after the authorization")

        # Clean-up: end the authorization again.
        await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
        await status_until(cp, pics, connector_id, "Available", timeout=timeout + triggered(pics))


@case("TC_061_2_CS", "Clear Authorization Data in Authorization Cache - Remote Start",
      profile="Core",
      needs=("AuthorizationCacheEnabled=true (if implemented)", "LocalPreAuthorize=true",
             "AuthorizeRemoteTxRequests=true", "ConnectionTimeOut=<Configured connectionTimeout>",
             "IdTagCached (by a remote start)"),
      na_when=((lambda pics: not pics.features.authorization_cache,
                "the PICS declares no authorization cache"),))
async def test_tc_061_2_cs_clear_cache_remote_start(cp, driver, pics):
    """TC_061_2_CS, the OCTT tool's remote-start variant (catalogue: S). Reading chosen from OCPP 1.6
    section 5.11: with AuthorizeRemoteTxRequests=true a remote start is authorized like a card, so
    after ClearCache the charge point must ask the central system (Authorize.req) for the idTag it
    held in its cache a moment before. AuthorizeRemoteTxRequests=true is required (N/A when it
    cannot be set: with false a remote start is never authorized, cache or not). Each remote
    authorization ends by ConnectionTimeOut (nobody plugs in), as step 2 of TC_061 allows, so the
    case needs no RFID reader and no cable."""
    await booted(cp, pics)
    # Configuration state; memory state IdTagCached (1-2. Preparing, then Available when
    # ConnectionTimeOut ran out)
    async with cached_for_remote_start(cp, pics) as lapse:
        # 3. Harness: ClearCache.req  Charge point: ClearCache.conf Accepted
        await _clear_cache(cp, step="step 3")

        # 4. Harness: RemoteStartTransaction.req with the same idTag -> .conf Accepted, then
        #    Authorize.req (the cache is empty); harness: Accepted; StatusNotification Preparing
        cp.forget()
        tx = Tx(connector_under_test(pics), pics.id_tags.valid, running=False, plugged=False)
        await remote_started(cp, pics, tx, authorize=True, step="step 4")

        # Clean-up: nobody plugs in; the authorization lapses after ConnectionTimeOut.
        await status_until(cp, pics, tx.connector_id, "Available", timeout=lapse + triggered(pics))
