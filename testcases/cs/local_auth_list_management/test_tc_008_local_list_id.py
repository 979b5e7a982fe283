"""TC_008_CS Regular Start Charging Session - Id in Local Authorization List (Local Auth List
Management; the OCTT tool's TC_008_1_CS local start, TC_008_2_CS remote start).

Configuration: LocalPreAuthorize=true, AuthorizationCacheEnabled=false (if implemented),
LocalAuthListEnabled=true. GetLocalListVersion, then SendLocalList with the valid idTag, Accepted.

TC_008_1: [present the idTag] -> StatusNotification Preparing without an Authorize.req (the local
list answers, LocalPreAuthorize); [plug in] -> StartTransaction and StatusNotification Charging.

TC_008_2 (S): RemoteStartTransaction instead of the presentation, with
AuthorizeRemoteTxRequests=true (if it can be set): the remote request is authorized like a local
one (section 5.11), so from the local list, again without an Authorize.req.

Reading chosen (P-t): the update is a Full one with listVersion one above the installed version, so
that the list holds exactly the idTag whatever an earlier case left; "no Authorize expected" is
checked over the whole case.
"""

from harness.cases import case
from harness.states.cs import (booted, charging, expect_status, remote_start, requests_of,
                               start_after_plug_in, transaction, valid_tag)
from harness.states.local_auth_list_management import entry, list_version, local_list, send_list

NEEDS = ("LocalPreAuthorize=true", "AuthorizationCacheEnabled=false (if implemented)",
         "LocalAuthListEnabled=true")
NO_READER = ((lambda pics: pics.features.rfid_readers == 0,
              "the charge point has no RFID reader to present the idTag to"),)


async def _list_with_valid_tag(cp, pics) -> str:
    tag = valid_tag(pics)
    # 1. Harness: GetLocalListVersion.req  2. Charge point: .conf
    version = await list_version(cp, step="step 2")
    # 3. Harness: SendLocalList.req with the valid idTag  4. Charge point: Accepted
    await send_list(cp, max(0, version) + 1, "Full", [entry(pics, tag)], step="step 4")
    return tag


def _no_authorize(cp, tag: str, step: str) -> None:
    asked = requests_of(cp, "Authorize", lambda p: str(p.get("idTag", "")).casefold()
                        == tag.casefold())
    assert not asked, (
        f"{step}: the charge point sent Authorize.req for {tag!r} (wire log line {asked[0].line}) "
        f"although the idTag is in its local list and LocalPreAuthorize is true")


@case("TC_008_CS", "Regular Start Charging Session - Id in Local Authorization List",
      profile="LocalAuthListManagement", needs=NEEDS, na_when=NO_READER, aliases=("TC_008_1_CS",))
async def test_tc_008_cs_local_list_id_local_start(cp, driver, pics):
    await booted(cp, pics)
    async with local_list(cp, pics, {"LocalPreAuthorize": "true"},
                          {"AuthorizationCacheEnabled": "false"}):
        tag = await _list_with_valid_tag(cp, pics)
        # 5. [Present the idTag] -> StatusNotification.req Preparing, no Authorize.req
        # 7. [Plug in] -> StartTransaction.req and StatusNotification.req Charging
        async with charging(cp, driver, pics, id_tag=tag, expect_authorize=False):
            _no_authorize(cp, tag, "step 5")


@case("TC_008_2_CS", "Regular Start Charging Session - Id in Local Authorization List (remote "
      "start)", profile="LocalAuthListManagement",
      needs=NEEDS + ("AuthorizeRemoteTxRequests=true (if implemented)",))
async def test_tc_008_2_cs_local_list_id_remote_start(cp, driver, pics):
    await booted(cp, pics)
    async with local_list(cp, pics, {"LocalPreAuthorize": "true"},
                          {"AuthorizationCacheEnabled": "false",
                           "AuthorizeRemoteTxRequests": "true"}):
        tag = await _list_with_valid_tag(cp, pics)
        async with transaction(cp, driver, pics, id_tag=tag) as tx:
            # 5. Harness: RemoteStartTransaction.req  6. Charge point: Accepted
            await remote_start(cp, pics, tx, step="step 6")
            # 7. StatusNotification.req Preparing (authorized from the list, no Authorize.req)
            await expect_status(cp, pics, tx.connector_id, "Preparing", step="step 7",
                                when="after the remote start")
            # 9. [Plug in] -> StartTransaction.req and StatusNotification.req Charging
            await start_after_plug_in(cp, driver, pics, tx, step="step 9")
            _no_authorize(cp, tag, "step 9")
