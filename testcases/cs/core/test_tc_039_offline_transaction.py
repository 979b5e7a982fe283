"""TC_039_CS Offline Transaction (Core).

Configuration and memory state as TC_037_1 (LocalAuthorizeOffline=true; LocalAuthListEnabled,
AuthorizationCacheEnabled, AllowOfflineTxForUnknownId=true if implemented; IdTagCached or
IdTagLocalAuthList). [Cut the network; present <Configured Valid IdTag> and plug in (start); present
it again (stop); unplug; restore the network] -> StartTransaction.req, answered Accepted, then
StopTransaction.req with the transactionId of that answer and reason Local or omitted: both queued,
in chronological order (OCPP 1.6 section 4.7).
"""

from harness.cases import case
from harness.states.cs import (LOCAL, assert_id_tag, assert_value, booted, cite, configured,
                               connector_under_test, harness_answered, offline,
                               offline_authorization, take_cable_out, triggered)

OFFLINE_CONFIG = {"LocalAuthListEnabled": "true", "AuthorizationCacheEnabled": "true",
                  "AllowOfflineTxForUnknownId": "true"}


def _cannot_authorize_offline(pics):
    return (not pics.features.authorization_cache and not pics.features.local_auth_list
            and "AllowOfflineTxForUnknownId" not in pics.configuration)


@case("TC_039_CS", "Offline Transaction", profile="Core",
      needs=("LocalAuthorizeOffline=true", "LocalAuthListEnabled, AuthorizationCacheEnabled, "
             "AllowOfflineTxForUnknownId=true (if implemented)", "IdTagCached / IdTagLocalAuthList"),
      na_when=((lambda pics: pics.features.rfid_readers == 0,
                "the charge point has no RFID reader to present the idTag to"),
               (_cannot_authorize_offline,
                "the PICS declares no authorization cache, no local list and no "
                "AllowOfflineTxForUnknownId: the charge point cannot authorize offline")))
async def test_tc_039_cs_offline_transaction(cp, driver, pics):
    await booted(cp, pics)
    connector_id, id_tag = connector_under_test(pics), pics.id_tags.valid
    timeout = pics.timing.response_timeout
    async with configured(cp, pics, {"LocalAuthorizeOffline": "true"}, OFFLINE_CONFIG) as config, \
            offline_authorization(cp, driver, pics, config):
        cp.forget()
        # 1. [Cut the network, start a transaction, stop it, unplug, restore the network]
        async with offline(cp, driver, pics):
            await driver.present_id_tag(id_tag, connector_id, timeout=timeout)
            await driver.plug_in(connector_id, timeout=timeout)
            try:
                await driver.present_id_tag(id_tag, connector_id, timeout=timeout)
            finally:
                await take_cable_out(driver, pics, connector_id)

        # 2. StartTransaction.req; harness: StartTransaction.conf Accepted
        start = await cp.expect(("StartTransaction", "StopTransaction"), timeout=triggered(pics),
                                what="step 2: StartTransaction.req after the reconnection")
        assert start.action == "StartTransaction", (
            f"step 2: the charge point sent StopTransaction.req before the StartTransaction.req of "
            f"the same transaction ({cite(start)})")
        assert_id_tag(start, "idTag", id_tag, step="step 2")
        harness_answered(start, "Accepted", step="step 2")

        # 3. StopTransaction.req, reason Local or omitted
        stop = await cp.expect("StopTransaction", timeout=triggered(pics),
                               what="step 3: StopTransaction.req after the StartTransaction.req")
        assert_value(stop, "transactionId", start.answer["transactionId"], step="step 3",
                     why=" from the StartTransaction.conf")
        assert_value(stop, "reason", *LOCAL, step="step 3")
