"""TC_037_1_CS Offline Start Transaction - Valid IdTag, TC_037_2_CS / TC_037_3_CS Offline Start
Transaction - Invalid IdTag with StopTransactionOnInvalidId false / true (Core).

TC_037_1: configuration LocalAuthorizeOffline=true; LocalAuthListEnabled=true,
AuthorizationCacheEnabled=true, AllowOfflineTxForUnknownId=true (each if implemented); memory state
IdTagCached (or IdTagLocalAuthList without a cache). [Cut the network; present <Configured Valid
IdTag>; plug in; restore the network] -> StartTransaction.req, answered Accepted, and
StatusNotification Charging.

TC_037_2 / TC_037_3 (S in the catalogue). Readings chosen: configuration LocalAuthorizeOffline=true,
AllowOfflineTxForUnknownId=true (the case needs it: N/A when the device cannot set it),
StopTransactionOnInvalidId=false / true; memory state: the authorization cache is cleared (ClearCache,
when there is a cache) so that <Configured Invalid IdTag> is unknown to the charge point. [Cut the
network; present the idTag; plug in; restore the network] -> StartTransaction.req, answered with
idTagInfo Invalid. Then, OCPP 1.6 section 4.8 (errata): "when StopTransactionOnInvalidId is set to
false: only stop energy delivery to the vehicle" -> StatusNotification SuspendedEVSE and the
transaction goes on (the harness stops it: RemoteStopTransaction Accepted); "when ... true: stop the
transaction ... reason ... DeAuthorized" -> StopTransaction.req reason DeAuthorized and
StatusNotification Finishing.

Statuses the charge point kept from its offline time (timestamped before the network came back) are
history and are not judged; as the connection comes back it may report the states the offline session
went through (Preparing, and Charging before the Invalid answer) ahead of the expected one.
"""

from contextlib import asynccontextmanager

from harness.cases import case
from harness.states.cs import (assert_id_tag, assert_value, booted, cite, conf_status, configured,
                               harness_answered, offline, offline_authorization,
                               status_after_reconnect, transaction, triggered)

OFFLINE_CONFIG = {"LocalAuthListEnabled": "true", "AuthorizationCacheEnabled": "true",
                  "AllowOfflineTxForUnknownId": "true"}
NO_READER = ((lambda pics: pics.features.rfid_readers == 0,
              "the charge point has no RFID reader to present the idTag to"),)


def _cannot_authorize_offline(pics):
    return (not pics.features.authorization_cache and not pics.features.local_auth_list
            and "AllowOfflineTxForUnknownId" not in pics.configuration)


async def _start_offline(cp, driver, pics, tx):
    """[Cut the network; present the idTag; plug in; restore the network]."""
    async with offline(cp, driver, pics) as cut:
        await driver.present_id_tag(tx.id_tag, tx.connector_id, timeout=pics.timing.response_timeout)
        await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
        tx.plugged = True
    return cut


@case("TC_037_1_CS", "Offline Start Transaction - Valid IdTag", profile="Core",
      needs=("LocalAuthorizeOffline=true", "LocalAuthListEnabled, AuthorizationCacheEnabled, "
             "AllowOfflineTxForUnknownId=true (if implemented)", "IdTagCached / IdTagLocalAuthList"),
      na_when=NO_READER + ((_cannot_authorize_offline,
                            "the PICS declares no authorization cache, no local list and no "
                            "AllowOfflineTxForUnknownId: the charge point cannot authorize offline"),))
async def test_tc_037_1_cs_offline_start_valid(cp, driver, pics):
    await booted(cp, pics)
    async with configured(cp, pics, {"LocalAuthorizeOffline": "true"}, OFFLINE_CONFIG) as config, \
            offline_authorization(cp, driver, pics, config), \
            transaction(cp, driver, pics) as tx:
        cp.forget()
        # 1. [Cut the network, start a session with the valid idTag, restore the network]
        cut = await _start_offline(cp, driver, pics, tx)
        # 2. StartTransaction.req; harness: Accepted  3. StatusNotification.req Charging
        start = await cp.expect("StartTransaction", timeout=triggered(pics),
                                what="step 2: StartTransaction.req after the reconnection")
        _took(tx, start)
        assert_id_tag(start, "idTag", tx.id_tag, step="step 2")
        harness_answered(start, "Accepted", step="step 2")
        await status_after_reconnect(cp, pics, tx.connector_id, ("Charging",), cut.online_wall,
                                     step="step 3", passing=("Preparing",))


def _took(tx, start):
    tx.start = start
    tx.transaction_id = (start.answer or {}).get("transactionId")
    tx.running = True


@asynccontextmanager
async def _invalid_offline_start(cp, driver, pics, stop_on_invalid):
    """TC_037_2 / TC_037_3 up to the Invalid StartTransaction.conf; yields the transaction and
    the offline record. Configuration and transaction are undone on leaving."""
    await booted(cp, pics)
    invalid = pics.id_tags.invalid
    async with configured(cp, pics, {"LocalAuthorizeOffline": "true",
                                     "AllowOfflineTxForUnknownId": "true",
                                     "StopTransactionOnInvalidId": stop_on_invalid},
                          na_if_missing=("AllowOfflineTxForUnknownId",)), \
            transaction(cp, driver, pics, id_tag=invalid) as tx:
        # Memory state: the idTag is unknown to the charge point (cache cleared)
        if pics.features.authorization_cache:
            clear = await cp.call("ClearCache", {})
            conf_status(clear, "Accepted", step="preparation")
        cp.forget()
        # 1. [Cut the network, start a session with the unknown idTag, restore the network]
        cut = await _start_offline(cp, driver, pics, tx)
        # 2. StartTransaction.req; harness: StartTransaction.conf idTagInfo Invalid
        start = await cp.expect("StartTransaction", timeout=triggered(pics),
                                what="step 2: StartTransaction.req after the reconnection")
        _took(tx, start)
        assert_id_tag(start, "idTag", invalid, step="step 2")
        harness_answered(start, "Invalid", step="step 2")
        yield tx, cut


@case("TC_037_2_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId=false",
      profile="Core", needs=("LocalAuthorizeOffline=true", "AllowOfflineTxForUnknownId=true",
                             "StopTransactionOnInvalidId=false", "authorization cache cleared"),
      na_when=NO_READER)
async def test_tc_037_2_cs_offline_start_invalid_keep(cp, driver, pics):
    async with _invalid_offline_start(cp, driver, pics, "false") as (tx, cut):
        # 3. StatusNotification.req SuspendedEVSE: the transaction goes on without energy
        await status_after_reconnect(cp, pics, tx.connector_id, ("SuspendedEVSE",), cut.online_wall,
                                     step="step 3", passing=("Preparing", "Charging"))
        stops = [r for r in cp.requests if r.action == "StopTransaction"]
        assert not stops, (
            f"step 3: with StopTransactionOnInvalidId=false the charge point stopped the "
            f"transaction ({cite(stops[0])})")
        remote = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        conf_status(remote, "Accepted", step="after step 3",
                    why=" (with StopTransactionOnInvalidId=false the transaction should go on)")
        await cp.expect("StopTransaction", timeout=triggered(pics))
        tx.running = False


@case("TC_037_3_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId=true",
      profile="Core", needs=("LocalAuthorizeOffline=true", "AllowOfflineTxForUnknownId=true",
                             "StopTransactionOnInvalidId=true", "authorization cache cleared"),
      na_when=NO_READER)
async def test_tc_037_3_cs_offline_start_invalid_stop(cp, driver, pics):
    async with _invalid_offline_start(cp, driver, pics, "true") as (tx, cut):
        # 3. StopTransaction.req reason DeAuthorized  4. StatusNotification.req Finishing
        stop = await cp.expect("StopTransaction", timeout=triggered(pics),
                               what="step 3: StopTransaction.req after the Invalid answer")
        tx.running = False
        assert_value(stop, "transactionId", tx.transaction_id, step="step 3")
        assert_value(stop, "reason", "DeAuthorized", step="step 3")
        await status_after_reconnect(cp, pics, tx.connector_id, ("Finishing",), cut.online_wall,
                                     step="step 4", passing=("Preparing", "Charging"))
