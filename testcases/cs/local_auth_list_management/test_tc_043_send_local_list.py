"""TC_043_CS Send Local Authorization List, TC_043_2_CS ... - VersionMismatch and TC_043_3_CS ... -
Failed (Local Auth List Management).

TC_043: a Full update (valid, valid2), then a Differential one (removes valid -- an entry without
idTagInfo -- and adds parent), both Accepted. Beyond the OCTT the harness checks what they did:
GetLocalListVersion reports each new version, and -- when the charge point has an RFID reader, its
authorization cache can be turned off and it takes LocalPreAuthorize=true (both "if implemented":
the OCTT's case needs only LocalAuthListEnabled) -- the content, by behaviour.

Reading of that behaviour: with LocalPreAuthorize=true a charge point "will start a new transaction
for locally-authorized identifiers without waiting for or requesting an Authorize.conf" (section
9.1.18), so an idTag it authorizes without an Authorize.req is in its list (the cache is off). The
converse does not hold: an Authorize.req proves nothing about the list -- a charge point may still
ask the central system (LocalAuthorizeOffline devices that use their list only offline, or ones
that refresh an entry) -- so it is never read as "not in the list" by itself. The harness first
calibrates: right after the Full update it presents valid, which is then in the list. Authorized
without asking: this charge point pre-authorizes from its list, and from then on an Authorize.req
for valid2 (kept) or parent (added) does mean the list lost it, and one that is not asked for valid
(removed) means it is still there. Asked for even then: the content cannot be seen online, and
only a removed idTag authorized without asking (still in the list) can fail the check.

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
      needs=("LocalAuthListEnabled=true", "LocalPreAuthorize=true (if implemented; content "
             "check)", "AuthorizationCacheEnabled=false (if implemented; content check)"))
async def test_tc_043_cs_send_local_list(cp, driver, pics):
    await booted(cp, pics)
    removed, kept, added = valid_tag(pics), pics.id_tags.valid2, pics.id_tags.parent
    async with local_list(cp, pics, None, {"LocalPreAuthorize": "true",
                                           "AuthorizationCacheEnabled": "false"}) as config:
        cache_off = not pics.features.authorization_cache or config.has("AuthorizationCacheEnabled")
        content = bool(pics.features.rfid_readers and cache_off and config.has("LocalPreAuthorize"))
        # 1. Harness: SendLocalList.req Full (listVersion 1: valid, valid2)  2. Accepted
        full = [entry(pics, removed)] + ([entry(pics, kept)] if kept else [])
        await send_list(cp, 1, "Full", full, step="step 2")
        await assert_version(cp, 1, step="step 2 (GetLocalListVersion after the Full update)")
        # Calibration of the content check: valid is in the list now. Authorized without asking:
        # the charge point pre-authorizes from its list, and an Authorize.req later means "not in
        # the list"; asked for: an Authorize.req means nothing about the list.
        pre_authorizes = content and await authorized_locally(cp, driver, pics, removed,
                                                              step="content check calibration")

        # 3. Harness: SendLocalList.req Differential (listVersion 2: remove valid, add parent)
        # 4. Charge point: Accepted
        changes = [entry(pics, removed, remove=True)] + ([entry(pics, added)] if added else [])
        await send_list(cp, 2, "Differential", changes, step="step 4")
        await assert_version(cp, 2, step="step 4 (GetLocalListVersion after the Differential "
                                         "update)")

        # Content, by behaviour (needs a reader and no cache that could answer instead): what the
        # Differential update did not name is still there, what it added is there, what it
        # removed is gone.
        if not content:
            return
        for tag, expected, why in ((kept, True, "kept (not named by the Differential update)"),
                                   (added, True, "added by the Differential update"),
                                   (removed, False, "removed by the Differential update")):
            if tag is None or (expected and not pre_authorizes):
                continue  # an Authorize.req for it would prove nothing (see the docstring)
            local = await authorized_locally(cp, driver, pics, tag, step="content check")
            assert local == expected, (
                f"content check: {tag!r}, {why}, was "
                f"{'asked for with Authorize.req' if expected else 'authorized from the list'}; "
                f"expected it {'in' if expected else 'not in'} the local list"
                + (f" (the charge point authorized {removed!r} from its list without asking after "
                   "the Full update, so it does not ask for an idTag it holds)" if expected else
                   " (with the cache off only the list can authorize it without asking)"))


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
