"""OCPP-J framing (harness.rpc) and per-connection pairing rules (harness.protocol)."""

import pytest

from harness import rpc
from harness.protocol import Checker


def rules(text: str) -> list[str]:
    with pytest.raises(rpc.FramingError) as info:
        rpc.parse(text)
    return [f.rule for f in info.value.findings]


def test_valid_frames_parse():
    assert rpc.parse('[2,"1","Heartbeat",{}]') == rpc.Call("1", "Heartbeat", {})
    assert rpc.parse('[3,"1",{"currentTime":"2026-01-01T00:00:00Z"}]').payload
    error = rpc.parse('[4,"1","NotSupported","",{}]')
    assert isinstance(error, rpc.CallError) and error.error_code == "NotSupported"


@pytest.mark.parametrize("text, rule", [
    ("garbage", "rpc.json"),
    ('{"a": 1}', "rpc.array"),
    ("[]", "rpc.array"),
    ('[5,"1",{}]', "rpc.message-type"),
    ('["2","1","Heartbeat",{}]', "rpc.message-type"),
    ('[true,"1","Heartbeat",{}]', "rpc.message-type"),
    ('[2,1,"Heartbeat",{}]', "rpc.unique-id"),
    ('[2,"","Heartbeat",{}]', "rpc.unique-id"),
    ('[2,"' + "x" * 37 + '","Heartbeat",{}]', "rpc.unique-id"),
    ('[2,"1","Heartbeat"]', "rpc.length"),
    ('[3,"1",{},{}]', "rpc.length"),
    ('[2,"1","MakeCoffee",{}]', "rpc.action"),
    ('[2,"1","Heartbeat",[]]', "rpc.payload"),
    ('[3,"1",null]', "rpc.payload"),
    ('[4,"1","FormationViolations","",{}]', "rpc.error-code"),
    ('[4,"1","NotSupported",null,{}]', "rpc.error-description"),
    ('[4,"1","NotSupported","",[]]', "rpc.error-details"),
    ('[2,"1","Heartbeat",{"x":NaN}]', "rpc.json"),
    ('[2,"1","Heartbeat",{}', "rpc.json"),
])
def test_framing_errors(text, rule):
    assert rule in rules(text)


@pytest.mark.parametrize("sent, meant", [("FormatViolation", "FormationViolation"),
                                         ("OccurrenceConstraintViolation",
                                          "OccurenceConstraintViolation")])
def test_errata_spelling_of_an_error_code_is_accepted_with_a_remark(sent, meant):
    # harness.severity: both spellings accepted, the spelling used reported (a remark).
    assert rpc.parse(f'[4,"1","{sent}","",{{}}]').error_code == sent
    checker = Checker()
    checker.check("csms", '[2,"1","Heartbeat",{}]')
    checked = checker.check("cp", f'[4,"1","{sent}","",{{}}]')
    assert [(f.rule, f.severity) for f in checked.findings] == [
        ("rpc.error-code-spelling", "remark")]
    assert meant in checked.findings[0].message


def test_unique_id_of_36_characters_is_fine():
    rpc.parse('[2,"' + "x" * 36 + '","Heartbeat",{}]')


def test_big_integers_are_judged_as_written():
    # orjson reads integers beyond 64 bits as floats; JSON allows them and a schema's "integer"
    # must accept them, so findings are re-judged on an exact reading before they are reported.
    checker = Checker()
    text = '[2,"a","StatusNotification",{"connectorId":123456789012345678901234567890,' \
           '"errorCode":"NoError","status":"Available"}]'
    assert checker.check("cp", text).ok
    assert rpc.loads(text, exact=True)[3]["connectorId"] == 123456789012345678901234567890


def test_exact_loads_keeps_decimals():
    from decimal import Decimal
    assert rpc.loads('[0.1, 7]', exact=True) == [Decimal("0.1"), 7]


def test_checker_pairs_results_with_calls():
    checker = Checker()
    assert checker.check("csms", '[2,"a","Reset",{"type":"Hard"}]').ok
    result = checker.check("cp", '[3,"a",{"status":"Accepted"}]')
    assert result.ok and result.action == "Reset" and result.call.unique_id == "a"
    assert checker.unanswered() == []


def test_checker_judges_results_against_the_paired_action():
    checker = Checker()
    checker.check("csms", '[2,"a","Reset",{"type":"Hard"}]')
    result = checker.check("cp", '[3,"a",{"status":"Unlocked"}]')
    assert [(f.rule, f.path) for f in result.findings] == [("enum", "$.status")]


def test_result_from_the_caller_itself_does_not_pair():
    checker = Checker()
    checker.check("csms", '[2,"a","Reset",{"type":"Hard"}]')
    assert [f.rule for f in checker.check("csms", '[3,"a",{"status":"Accepted"}]').findings] == [
        "rpc.unmatched"]


def test_duplicate_ids_per_sender_and_connection():
    checker = Checker()
    checker.check("cp", '[2,"a","Heartbeat",{}]')
    checker.check("csms", '[3,"a",{"currentTime":"2026-01-01T00:00:00Z"}]')
    # The other side may use the same id: ids are per sender.
    assert checker.check("csms", '[2,"a","ClearCache",{}]').ok
    again = checker.check("cp", '[2,"a","Heartbeat",{}]')
    assert [f.rule for f in again.findings] == ["rpc.duplicate-id"]


def test_direction_is_checked():
    checker = Checker()
    result = checker.check("cp", '[2,"a","Reset",{"type":"Hard"}]')
    assert [f.rule for f in result.findings] == ["rpc.direction"]


def test_unanswered_calls_are_listed():
    checker = Checker()
    checker.check("csms", '[2,"a","ClearCache",{}]')
    assert [c.action for c in checker.unanswered("csms")] == ["ClearCache"]


def test_broken_call_with_readable_id_can_be_answered():
    checker = Checker()
    broken = checker.check("cp", '[2,"z","MakeCoffee",{}]')
    assert broken.message is None and broken.message_type == rpc.CALL
    assert checker.check("csms", '[4,"z","NotImplemented","",{}]').ok


def test_decimal_multiple_of_is_judged_as_written():
    checker = Checker()
    profile = {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "startSchedule": "2026-01-01T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": LIMIT}]}}}
    import json
    for limit, ok in (("7.1", True), ("0.3", True), ("32", True), ("7.15", False)):
        text = json.dumps([2, f"id{limit}", "SetChargingProfile", profile]).replace('"LIMIT"', limit)
        result = checker.check("csms", text)
        assert result.ok is ok, (limit, result.findings)


LIMIT = "LIMIT"
