"""The assertion vocabulary (harness.states.assertions): one wording, a structured symptom, and the
fault catalogue matching the structure (harness.fidelity.catalogue.Symptom), not the prose."""

import json

import pytest

from harness.fidelity.catalogue import Entry, Symptom, check, matches
from harness.fidelity.runner import CaseVerdict, judge
from harness.rpc import Call, CallError
from harness.session import Request, Response
from harness.states.assertions import assert_status, assert_value, conf_status
from harness.transport import Frame
from harness.verdicts import Mismatch

FRAME = Frame("cp", "[]", 0, 0)


def status_notification(status: str, connector: int = 1, line: int = 12) -> Request:
    return Request(Call("1", "StatusNotification",
                        {"connectorId": connector, "errorCode": "NoError", "status": status}),
                   FRAME, line)


def conf(action: str, payload: dict | None, error: str | None = None, line: int = 7) -> Response:
    return Response(action, FRAME, FRAME, payload,
                    CallError("1", error) if error is not None else None, line)


def test_a_wrong_status_is_one_wording_and_data():
    with pytest.raises(Mismatch) as caught:
        assert_status(status_notification("Available"), "Preparing", step="step 1",
                      when="after the plug-in")
    assert str(caught.value) == ("step 1: StatusNotification.req for connector 1 status is "
                                 "'Available' after the plug-in, expected 'Preparing' "
                                 "(wire log line 12)")
    assert caught.value.symptom() == {
        "kind": "wrong-value", "action": "StatusNotification", "message": "req",
        "field": "status", "expected": ["Preparing"], "got": "Available", "line": 12,
        "step": "step 1", "connector": 1}
    json.dumps(caught.value.symptom())  # report.json keeps it as it is
    assert isinstance(caught.value, AssertionError)  # a FAIL, as every device failure


def test_the_right_status_passes_and_is_returned():
    assert assert_status(status_notification("Faulted"), "Faulted", "Unavailable",
                         step="s") == "Faulted"
    assert conf_status(conf("Reset", {"status": "Accepted"}), "Accepted", step="s") == "Accepted"


def test_a_conf_keeps_the_wording_conf_status_always_had():
    with pytest.raises(Mismatch) as wrong:
        conf_status(conf("Reset", {"status": "Rejected"}), "Accepted", step="step 2")
    assert str(wrong.value) == ("step 2: Reset.conf status is 'Rejected', expected 'Accepted' "
                                "(wire log line 7)")
    with pytest.raises(Mismatch) as error:
        conf_status(conf("ClearCache", None, "NotImplemented"), "Accepted", step="step 1",
                    why=" (it must clear its cache)")
    assert str(error.value) == ("step 1: ClearCache.conf status is 'CALLERROR NotImplemented', "
                                "expected 'Accepted' (it must clear its cache) (wire log line 7)")
    assert error.value.kind == "callerror" and error.value.got == "NotImplemented"


def test_a_field_by_path_missing_or_of_another_type():
    answer = conf("StartTransaction", {"idTagInfo": {"status": "Invalid"}, "transactionId": 1})
    with pytest.raises(Mismatch, match=r"idTagInfo\.status is 'Invalid', expected 'Accepted'"):
        assert_value(answer, "idTagInfo.status", "Accepted", step="s")
    with pytest.raises(Mismatch, match="parentIdTag is omitted, expected .P."):
        assert_value(answer, "idTagInfo.parentIdTag", "P", step="s")
    with pytest.raises(Mismatch):  # True == 1 in Python, not on the wire
        assert_value(conf("X", {"n": True}), "n", 1, step="s")


def test_symptom_matches_the_data_not_the_prose():
    found = {"kind": "wrong-value", "action": "StatusNotification", "message": "req",
             "field": "status", "expected": ["Finishing", "Preparing"], "got": "Available"}
    assert Symptom("wrong-value", "StatusNotification", "status", got="Available").matches(found)
    assert Symptom("wrong-value", expected="Preparing").matches(found)
    assert Symptom("wrong-value", expected=("Finishing", "Preparing")).matches(found)
    assert not Symptom("wrong-value", expected=("Preparing",)).matches(found)
    assert not Symptom("wrong-value", got="Faulted").matches(found)
    assert not Symptom("callerror").matches(found)
    assert not Symptom("wrong-value").matches(None)
    # The same words in a reason without the data are not the symptom.
    assert not matches(Symptom("wrong-value", got="Available"),
                       "StatusNotification.req status is 'Available'", None)
    assert matches((Symptom("callerror"), r"is None"), "ClearCache.conf is None", None)


def test_judge_reads_the_structured_symptom():
    entry = Entry("cs-x-y", "cs", "wrong_status", "reports Available for Preparing", ("TC_003_CS",),
                  Symptom("wrong-value", "StatusNotification", "status", got="Available",
                          expected="Preparing"))
    symptom = {"kind": "wrong-value", "action": "StatusNotification", "message": "req",
               "field": "status", "expected": ["Preparing"], "got": "Available"}
    assert judge(entry, {"TC_003_CS": CaseVerdict("FAIL", "any words", symptom)}).ok
    missed = judge(entry, {"TC_003_CS": CaseVerdict("FAIL", "any words", None)})
    assert not missed.ok and "does not match wrong-value StatusNotification" in missed.problems[0]
    assert check([entry]) == []
    assert "unknown kind" in check([Entry(**{**entry.__dict__, "symptom": Symptom("odd")})])[0]


def test_report_schema_describes_the_symptom():
    import pathlib

    import jsonschema

    schema = json.loads((pathlib.Path(__file__).parent.parent / "harness/report/report.schema.json")
                        .read_text())
    symptom = schema["properties"]["test_cases"]["items"]["properties"]["symptom"]
    with pytest.raises(Mismatch) as caught:
        conf_status(conf("ClearCache", None, "NotImplemented"), "Accepted", step="s")
    jsonschema.validate(caught.value.symptom(), symptom)
    jsonschema.validate(None, symptom)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**caught.value.symptom(), "kind": "prose"}, symptom)
