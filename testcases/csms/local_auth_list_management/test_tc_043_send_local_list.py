"""TC_043_1_CSMS ... - NotSupported, TC_043_3_CSMS ... - Failed, TC_043_4_CSMS ... - Full and
TC_043_5_CSMS ... - Differential (Send Local Authorization List; Local Auth List Management).

The operator makes the central system send SendLocalList; the harness's charge point answers
NotSupported (043_1), Failed (043_3) or Accepted (043_4, 043_5). Checks on the request:
- 043_1, 043_3, 043_4: updateType Full; 043_4 also: every entry carries an idTagInfo, no idTag twice
  (idTags compare case-insensitively), listVersion >= 1 (0 and -1 have their own meaning in
  GetLocalListVersion.conf, section 5.10).
- 043_5: memory state "an initial list was set with a Full update" (a first operator action, checked
  as in 043_4 and Accepted); then the central system may ask for the version (the harness
  answers the one it holds, not required); the operator adds one idTag with a Differential update:
  updateType Differential, exactly that one idTag with an idTagInfo, listVersion greater than the
  installed one.
"""

from harness.cases import case
from harness.states.csms import booted, operator_sends, same_id_tag


def _full_list(pics, version: int = 1) -> dict:
    return {"listVersion": version, "updateType": "Full", "localAuthorizationList": [
        {"idTag": pics.id_tags.valid, "idTagInfo": {"status": "Accepted"}}]}


def _check_full(request, *, step: int, entries_need_info: bool) -> None:
    assert request["updateType"] == "Full", (
        f"step {step}: SendLocalList.req updateType is {request['updateType']!r}, expected 'Full' "
        f"(wire log line {request.line})")
    if not entries_need_info:
        return
    entries = request.get("localAuthorizationList") or []
    bare = [e.get("idTag") for e in entries if "idTagInfo" not in e]
    assert not bare, (
        f"step {step}: SendLocalList.req Full has entries without idTagInfo {bare}; in a full "
        f"list every idTag needs one (wire log line {request.line})")
    tags = [str(e.get("idTag", "")).casefold() for e in entries]
    assert len(tags) == len(set(tags)), (
        f"step {step}: SendLocalList.req lists an idTag twice (wire log line {request.line})")
    assert request["listVersion"] >= 1, (
        f"step {step}: SendLocalList.req listVersion is {request['listVersion']}; 0 and -1 mean "
        f"'no list' and 'not supported' (wire log line {request.line})")


async def _send_full(csms, driver, pics, status: str, *, step: int = 1, check_entries=False):
    # 1. [OPERATOR: SendLocalList, full update] Central system: SendLocalList.req
    # 2. Harness: SendLocalList.conf status
    request = await operator_sends(csms, driver, pics, "SendLocalList", _full_list(pics),
                                   answer={"status": status}, step=step)
    _check_full(request, step=step, entries_need_info=check_entries)
    return request


@case("TC_043_1_CSMS", "Send Local Authorization List - NotSupported",
      profile="LocalAuthListManagement", needs=("Booted",))
async def test_tc_043_1_csms_not_supported(csms, driver, pics):
    await booted(csms, pics)
    await _send_full(csms, driver, pics, "NotSupported")


@case("TC_043_3_CSMS", "Send Local Authorization List - Failed",
      profile="LocalAuthListManagement", needs=("Booted",))
async def test_tc_043_3_csms_failed(csms, driver, pics):
    await booted(csms, pics)
    await _send_full(csms, driver, pics, "Failed")


@case("TC_043_4_CSMS", "Send Local Authorization List - Full", profile="LocalAuthListManagement",
      needs=("Booted", "the central system has an idTag to put in the list"))
async def test_tc_043_4_csms_full(csms, driver, pics):
    await booted(csms, pics)
    await _send_full(csms, driver, pics, "Accepted", check_entries=True)


@case("TC_043_5_CSMS", "Send Local Authorization List - Differential",
      profile="LocalAuthListManagement",
      needs=("Booted", "memory state: an initial list set with a Full update"),
      na_when=((lambda pics: pics.id_tags.valid2 is None,
                "the PICS has no id_tags.valid2 to add to the list"),))
async def test_tc_043_5_csms_differential(csms, driver, pics):
    await booted(csms, pics)
    # Memory state: the initial list, set with a Full update (Accepted)
    initial = await _send_full(csms, driver, pics, "Accepted", step=0, check_entries=True)
    installed = initial["listVersion"]
    # 1-2. (optional) Central system: GetLocalListVersion.req; harness: the installed version
    csms.on("GetLocalListVersion", {"listVersion": installed})

    # 3. [OPERATOR: SendLocalList Differential adding one idTag not yet in the list]
    # 4. Harness: SendLocalList.conf Accepted
    added = pics.id_tags.valid2
    request = await operator_sends(csms, driver, pics, "SendLocalList", {
        "listVersion": installed + 1, "updateType": "Differential",
        "localAuthorizationList": [{"idTag": added, "idTagInfo": {"status": "Accepted"}}]},
        answer={"status": "Accepted"}, step=3)
    assert request["updateType"] == "Differential", (
        f"step 3: SendLocalList.req updateType is {request['updateType']!r}, expected "
        f"'Differential' (wire log line {request.line})")
    entries = request.get("localAuthorizationList") or []
    assert len(entries) == 1 and same_id_tag(entries[0].get("idTag"), added) \
        and "idTagInfo" in entries[0], (
        f"step 3: SendLocalList.req localAuthorizationList is {entries}, expected exactly the "
        f"added idTag {added!r} with an idTagInfo (wire log line {request.line})")
    assert request["listVersion"] > installed, (
        f"step 3: SendLocalList.req listVersion is {request['listVersion']}, expected more than "
        f"the installed {installed} (a differential update names the version after it) "
        f"(wire log line {request.line})")
