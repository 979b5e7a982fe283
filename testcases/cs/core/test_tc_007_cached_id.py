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
from harness.states.cs import (authorized, booted, cite, configured, id_tag_cached, requests_of,
                               start_after_plug_in, transaction)


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
            assert tx.start.answer["idTagInfo"]["status"] == "Accepted"
            asked = [r for r in requests_of(cp, "Authorize") if r in cp.requests[seen:]
                     and r.frame.mono_ns < tx.start.frame.mono_ns]
            assert not asked, (
                f"steps 1-2: the idTag is Accepted in the authorization cache and LocalPreAuthorize is "
                f"true, yet the charge point sent Authorize.req ({cite(asked[0])})")
