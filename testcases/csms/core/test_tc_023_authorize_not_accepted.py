"""TC_023_1_CSMS, TC_023_2_CSMS, TC_023_3_CSMS Start Charging Session - Authorize invalid /
expired / blocked (Core).

A card the central system must not accept is presented: unknown (Invalid), expired (Expired) or
blocked (Blocked). The Authorize.conf must carry exactly that status; the harness's charge point
then starts no transaction. The central system must hold the PICS [id_tags] expired and blocked
idTags with those statuses; the invalid idTag must be unknown to it.

Reading: the document labels the check "step 1" where the Authorize.conf is step 2 (a numbering
slip); the check is made on the Authorize.conf.
"""

from harness.cases import case
from harness.states.assertions import assert_value
from harness.states.csms import authorize, booted


async def _authorize_expecting(csms, pics, id_tag: str, expected: str) -> None:
    await booted(csms, pics)

    # 1-2. [The card is presented] Harness: Authorize.req; central system: Authorize.conf
    response = await authorize(csms, pics, id_tag, step="1-2")
    assert_value(response, "idTagInfo.status", expected, step="step 2",
                 when=f"for the idTag {id_tag!r}")


@case("TC_023_1_CSMS", "Start Charging Session - Authorize invalid", profile="Core",
      needs=("Booted", "idTag unknown to the central system: [id_tags] invalid"))
async def test_tc_023_1_csms_authorize_invalid(csms, pics):
    await _authorize_expecting(csms, pics, pics.id_tags.invalid, "Invalid")


@case("TC_023_2_CSMS", "Start Charging Session - Authorize expired", profile="Core",
      needs=("Booted", "idTag held as Expired by the central system: [id_tags] expired"),
      na_when=((lambda pics: not pics.id_tags.expired,
                "the PICS [id_tags] declares no expired idTag held by the central system"),))
async def test_tc_023_2_csms_authorize_expired(csms, pics):
    await _authorize_expecting(csms, pics, pics.id_tags.expired, "Expired")


@case("TC_023_3_CSMS", "Start Charging Session - Authorize blocked", profile="Core",
      needs=("Booted", "idTag held as Blocked by the central system: [id_tags] blocked"),
      na_when=((lambda pics: not pics.id_tags.blocked,
                "the PICS [id_tags] declares no blocked idTag held by the central system"),))
async def test_tc_023_3_csms_authorize_blocked(csms, pics):
    await _authorize_expecting(csms, pics, pics.id_tags.blocked, "Blocked")
