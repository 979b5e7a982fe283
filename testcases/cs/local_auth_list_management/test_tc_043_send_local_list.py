"""TC_043_CS Send Local Authorization List, TC_043_2_CS ... - VersionMismatch and TC_043_3_CS ... -
Failed (Local Auth List Management).

TC_043: a Full update (valid, valid2), then a Differential one (removes valid -- an entry without
idTagInfo -- and adds parent), both Accepted. Beyond the OCTT the harness checks what they did:
GetLocalListVersion reports each new version, and -- when the charge point has an RFID reader and
its authorization cache can be turned off -- the content, by behaviour with LocalPreAuthorize=true:
valid2, which the Differential update did not name, and parent, which it added, are authorized
without an Authorize.req; valid, which it removed, is asked for again.

TC_043_2 (P-t; tail inferred): Full listVersion 2 Accepted, version 2; Differential listVersion 5
Accepted, version 5; a Differential update with listVersion 5 again -- "less than or equal to" the
installed version, here the boundary -- VersionMismatch, and the version is still 5.

TC_043_3: [MANUAL: put the charge point in a state where storing the list fails] (the driver
action ``local_list_failure``), then SendLocalList Full listVersion 2: Failed.
"""

from harness.cases import case
from harness.states.cs import booted, valid_tag
from harness.states.local_auth_list_management import (assert_version, authorized_locally, entry,
                                                       local_list, send_list)


@case("TC_043_CS", "Send Local Authorization List", profile="LocalAuthListManagement",
      needs=("LocalAuthListEnabled=true", "LocalPreAuthorize=true (content check)",
             "AuthorizationCacheEnabled=false (if implemented; content check)"))
async def test_tc_043_cs_send_local_list(cp, driver, pics):
    await booted(cp, pics)
    removed, kept, added = valid_tag(pics), pics.id_tags.valid2, pics.id_tags.parent
    async with local_list(cp, pics, {"LocalPreAuthorize": "true"},
                          {"AuthorizationCacheEnabled": "false"}) as config:
        # 1. Harness: SendLocalList.req Full (listVersion 1: valid, valid2)  2. Accepted
        full = [entry(pics, removed)] + ([entry(pics, kept)] if kept else [])
        await send_list(cp, 1, "Full", full, step="step 2")
        await assert_version(cp, 1, step="step 2 (GetLocalListVersion after the Full update)")

        # 3. Harness: SendLocalList.req Differential (listVersion 2: remove valid, add parent)
        # 4. Charge point: Accepted
        changes = [entry(pics, removed, remove=True)] + ([entry(pics, added)] if added else [])
        await send_list(cp, 2, "Differential", changes, step="step 4")
        await assert_version(cp, 2, step="step 4 (GetLocalListVersion after the Differential "
                                         "update)")

        # Content, by behaviour (needs a reader and no cache that could answer instead): what the
        # Differential update did not name is still there, what it added is there, what it
        # removed is gone.
        cache_off = not pics.features.authorization_cache or config.has("AuthorizationCacheEnabled")
        if not (pics.features.rfid_readers and cache_off):
            return
        for tag, expected, why in ((kept, True, "kept (not named by the Differential update)"),
                                   (added, True, "added by the Differential update"),
                                   (removed, False, "removed by the Differential update")):
            if tag is None:
                continue
            local = await authorized_locally(cp, driver, pics, tag, step="content check")
            assert local == expected, (
                f"content check: {tag!r}, {why}, was "
                f"{'asked for with Authorize.req' if expected else 'authorized from the list'}; "
                f"expected it {'in' if expected else 'not in'} the local list")


@case("TC_043_2_CS", "Send Local Authorization List - VersionMismatch",
      profile="LocalAuthListManagement", needs=("LocalAuthListEnabled=true",))
async def test_tc_043_2_cs_version_mismatch(cp, driver, pics):
    await booted(cp, pics)
    tag = valid_tag(pics)
    async with local_list(cp, pics):
        # 1. Harness: SendLocalList.req Full listVersion 2  2. Accepted
        await send_list(cp, 2, "Full", [entry(pics, tag)], step="step 2")
        # 3. GetLocalListVersion.req  4. listVersion 2
        await assert_version(cp, 2, step="step 4")
        # 5. Harness: SendLocalList.req Differential listVersion 5  6. Accepted
        others = [entry(pics, pics.id_tags.valid2)] if pics.id_tags.valid2 else []
        await send_list(cp, 5, "Differential", others, step="step 6")
        # 7. GetLocalListVersion.req  8. listVersion 5
        await assert_version(cp, 5, step="step 8")
        # 9. Harness: SendLocalList.req Differential listVersion 5 (not newer)  10. VersionMismatch
        await send_list(cp, 5, "Differential", [entry(pics, tag, remove=True)], step="step 10",
                        expected="VersionMismatch")
        # 11. GetLocalListVersion.req  12. still listVersion 5
        await assert_version(cp, 5, step="step 12")


@case("TC_043_3_CS", "Send Local Authorization List - Failed", profile="LocalAuthListManagement",
      needs=("LocalAuthListEnabled=true", "a charge point state where storing the list fails"))
async def test_tc_043_3_cs_failed(cp, driver, pics):
    await booted(cp, pics)
    async with local_list(cp, pics):
        # [MANUAL: put the charge point in a state where storing the list fails]
        await driver.local_list_failure(timeout=pics.timing.response_timeout)
        # 1. Harness: SendLocalList.req Full listVersion 2  2. Charge point: Failed
        await send_list(cp, 2, "Full", [entry(pics, valid_tag(pics))], step="step 2",
                        expected="Failed")
