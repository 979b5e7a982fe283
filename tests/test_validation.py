"""harness.validation: rules, paths, messages, exact decimals, RFC 3339 date-times, URIs."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

import harness
from harness import rpc
from harness.protocol import Checker
from harness.validation import SchemaError, Validator

V = Validator.default()


def found(action: str, response: bool, payload) -> set[tuple[str, str]]:
    return {(f.rule, f.path) for f in V.validate(action, response, payload)}


def only(action: str, response: bool, payload):
    findings = V.validate(action, response, payload)
    assert len(findings) == 1, findings
    return findings[0]


AUTH_OK = {"idTagInfo": {"status": "Accepted", "expiryDate": "2025-03-01T23:59:59Z",
                         "parentIdTag": "FLEET-07"}}
PROFILE = {"connectorId": 1, "csChargingProfiles": {
    "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute", "chargingSchedule": {
        "chargingRateUnit": "A", "minChargingRate": Decimal("6.1"),
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": Decimal("16.0")},
                                   {"startPeriod": 900, "limit": 32, "numberPhases": 3}]}}}
METER = {"connectorId": 1, "transactionId": 42, "meterValue": [
    {"timestamp": "2025-03-01T06:10:00.000Z", "sampledValue": [{"value": "1250300"}]},
    {"timestamp": "2025-03-01T06:11:00+01:00", "sampledValue": [
        {"value": "1", "unit": "Wh"}, {"value": "2", "measurand": "Voltage", "phase": "L1-N"},
        {"value": "3", "unit": "Celcius", "context": "Sample.Periodic", "location": "Body",
         "format": "Raw"}]}]}


def limit_payload(limit) -> dict:
    payload = copy.deepcopy(PROFILE)
    payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] = limit
    return payload


LIMIT_PATH = "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"


# --- the schema set ---------------------------------------------------------------------------

def test_every_action_of_the_framing_layer_has_both_schemas():
    schema_dir = Path(harness.__file__).parent / "schemas"
    assert len(list(schema_dir.glob("*.json"))) == 78
    assert V.actions == rpc.ACTIONS
    for action in V.actions:
        assert V.schema(action, False)["type"] == "object"
        assert V.schema(action, True)["type"] == "object"


def test_default_is_built_once():
    assert Validator.default() is Validator.default()


def test_needs_exact_exactly_where_a_schema_says_multipleOf():
    expected = {(a, r) for a in V.actions for r in (False, True)
                if "multipleOf" in json.dumps(V.schema(a, r))}
    assert expected == {("SetChargingProfile", False), ("RemoteStartTransaction", False),
                        ("GetCompositeSchedule", True)}
    assert {(a, r) for a in V.actions for r in (False, True) if V.needs_exact(a, r)} == expected
    assert not V.needs_exact("NoSuchAction", False)


def test_schema_is_the_file_and_a_fresh_copy():
    first = V.schema("Authorize", True)
    first["properties"].clear()
    assert V.schema("Authorize", True)["properties"]["idTagInfo"]["required"] == ["status"]
    with pytest.raises(KeyError, match="response of 'MakeCoffee'"):
        V.schema("MakeCoffee", True)


def test_an_action_without_schema_is_a_finding_not_a_crash():
    [finding] = V.validate("MakeCoffee", False, {})
    assert (finding.rule, finding.path, finding.value) == ("rpc.action", "frame", "MakeCoffee")
    assert "MakeCoffee" in finding.message


@pytest.mark.parametrize("action, response, payload", [
    ("BootNotification", False, {"chargePointVendor": "Acme", "chargePointModel": "AC22"}),
    ("Authorize", True, AUTH_OK),
    ("MeterValues", False, METER),
    ("SetChargingProfile", False, PROFILE),
    ("StopTransaction", False, {"transactionId": 1, "meterStop": 5, "timestamp":
                                "2025-03-01T06:10:00Z", "reason": "Local", "transactionData": []}),
    ("GetConfiguration", True, {"configurationKey": [{"key": "HeartbeatInterval",
                                                      "readonly": False, "value": "300"}],
                                "unknownKey": ["Foo"]}),
    ("GetInstalledCertificateIds", True, {"status": "Accepted", "certificateHashData": [
        {"hashAlgorithm": "SHA256", "issuerNameHash": "ab", "issuerKeyHash": "cd",
         "serialNumber": "01"}]}),
    ("UpdateFirmware", False, {"location": "ftp://fw.example.com/cp.bin",
                               "retrieveDate": "2025-03-01T06:10:00Z"}),
    ("Heartbeat", False, {}),
])
def test_valid_payloads_have_no_findings(action, response, payload):
    assert V.validate(action, response, payload) == []


# --- one rule at a time -------------------------------------------------------------------------

def test_required_points_at_the_missing_member():
    finding = only("Authorize", True, {"idTagInfo": {"parentIdTag": "P"}})
    assert (finding.rule, finding.path, finding.value) == ("required", "$.idTagInfo.status", None)
    assert finding.message == "required property 'status' is missing"


@pytest.mark.parametrize("path, value, message", [
    ("connectorId", True, "expected integer, got boolean true"),
    ("connectorId", 1.0, "expected integer, got number 1.0 (in JSON Schema draft 4 an integer "
                         "has no decimal point and no exponent)"),
    ("connectorId", Decimal("1E+1"), "expected integer, got number 1E+1"),
    ("connectorId", "1", "expected integer, got string '1'"),
    ("connectorId", None, "expected integer, got null null"),
    ("meterValue", {}, "expected array, got object {}"),
])
def test_type(path, value, message):
    payload = copy.deepcopy(METER)
    payload[path] = value
    finding = only("MeterValues", False, payload)
    assert (finding.rule, finding.path, finding.value) == ("type", f"$.{path}", value)
    assert finding.message.startswith(message), finding.message


@pytest.mark.parametrize("limit", [True, "7.0", None])
def test_a_number_is_not_a_bool_a_string_or_null(limit):
    assert found("SetChargingProfile", False, limit_payload(limit)) == {("type", LIMIT_PATH)}


def test_a_wrong_type_in_an_enum_field_is_one_type_finding():
    for status in (5, ["Accepted"], {"status": "Accepted"}):
        finding = only("Authorize", True, {"idTagInfo": {"status": status}})
        assert (finding.rule, finding.path) == ("type", "$.idTagInfo.status")


def test_enum_names_what_came_and_what_may():
    finding = only("Authorize", True, {"idTagInfo": {"status": "Acepted"}})
    assert (finding.rule, finding.path, finding.value) == ("enum", "$.idTagInfo.status", "Acepted")
    assert finding.message == ("'Acepted' is not one of Accepted, Blocked, Expired, Invalid, "
                               "ConcurrentTx (did you mean 'Accepted'?)")
    # Enums are case-sensitive; the hint says which value was meant.
    assert only("Authorize", True, {"idTagInfo": {"status": "accepted"}}).message.endswith(
        "(did you mean 'Accepted'?)")
    assert "did you mean" not in only("Authorize", True, {"idTagInfo": {"status": "Zzz"}}).message


def test_the_package_hertz_unit_is_not_an_ocpp_unit():
    payload = copy.deepcopy(METER)
    payload["meterValue"][0]["sampledValue"][0]["unit"] = "Hertz"
    assert found("MeterValues", False, payload) == {
        ("enum", "$.meterValue[0].sampledValue[0].unit")}


@pytest.mark.parametrize("id_tag, ok", [
    ("A" * 20, True), ("A" * 21, False), ("", True),
    ("\N{GRINNING FACE}" * 20, True),  # 20 code points, 40 UTF-16 units, 80 UTF-8 bytes
    ("e\N{COMBINING ACUTE ACCENT}" * 10, True), ("e\N{COMBINING ACUTE ACCENT}" * 10 + "x", False),
])
def test_max_length_counts_code_points(id_tag, ok):
    findings = V.validate("Authorize", False, {"idTag": id_tag})
    if ok:
        assert findings == []
    else:
        assert [(f.rule, f.path) for f in findings] == [("maxLength", "$.idTag")]
        assert findings[0].message == "string of 21 characters is longer than maxLength 20"


def test_additional_properties_at_any_depth():
    payload = copy.deepcopy(AUTH_OK)
    payload["idTagInfo"]["reason"] = "x"
    payload["vendor data"] = {"a": 1}
    findings = V.validate("Authorize", True, payload)
    assert [(f.rule, f.path, f.value) for f in findings] == [
        ("additionalProperties", "$.idTagInfo.reason", "x"),
        ("additionalProperties", "$['vendor data']", {"a": 1})]
    assert findings[0].message == ("property 'reason' is not allowed here (allowed: expiryDate, "
                                   "parentIdTag, status)")


def test_min_items_in_meter_values_and_in_stop_transaction_data():
    assert found("MeterValues", False, {"connectorId": 1, "meterValue": []}) == {
        ("minItems", "$.meterValue")}
    stop = {"transactionId": 1, "meterStop": 5, "timestamp": "2025-03-01T06:10:00Z",
            "transactionData": [{"timestamp": "2025-03-01T06:10:00Z", "sampledValue": []}]}
    assert found("StopTransaction", False, stop) == {
        ("minItems", "$.transactionData[0].sampledValue")}


def test_paths_into_nested_arrays():
    payload = copy.deepcopy(METER)
    payload["meterValue"][1]["sampledValue"][2]["unit"] = "kwh"
    finding = only("MeterValues", False, payload)
    assert finding.path == "$.meterValue[1].sampledValue[2].unit"
    assert finding.message.endswith("(did you mean 'kWh'?)")


def test_all_findings_of_a_payload_are_reported():
    payload = {"connectorId": "1", "idTag": "X" * 25, "meterStart": 1.5,
               "timestamp": "2025-03-01T06:10:00", "reservationId": 3, "extra": True}
    assert found("StartTransaction", False, payload) == {
        ("type", "$.connectorId"), ("maxLength", "$.idTag"), ("type", "$.meterStart"),
        ("format:date-time", "$.timestamp"), ("additionalProperties", "$.extra")}
    assert found("StartTransaction", False, {}) == {
        ("required", "$.connectorId"), ("required", "$.idTag"), ("required", "$.meterStart"),
        ("required", "$.timestamp")}


def test_a_payload_that_is_not_an_object():
    for payload in ([], "x", None, 3):
        assert found("Heartbeat", False, payload) == {("type", "$")}


# --- numbers as written -------------------------------------------------------------------------

@pytest.mark.parametrize("limit", [
    Decimal("7.1"), Decimal("0.3"), Decimal("32.0"), Decimal("1E+1"), Decimal("1E-1"),
    Decimal("-0.5"), Decimal("0.0"), Decimal("12345678901234567890.1"), 0, 32, -7,
    7.1, 0.3, 1e22,  # floats are judged as their shortest text, as they would be written
])
def test_multiple_of_a_tenth_exact(limit):
    assert V.validate("SetChargingProfile", False, limit_payload(limit)) == []


@pytest.mark.parametrize("limit", [
    Decimal("7.15"), Decimal("0.30000000000000001"), Decimal("0.05"), Decimal("1E-2"),
    Decimal("6.1000000000000000001"), 7.15, 0.1 + 0.2, float("nan"), float("inf"),
    Decimal("NaN"), Decimal("-Infinity"),
])
def test_not_a_multiple_of_a_tenth(limit):
    finding = only("SetChargingProfile", False, limit_payload(limit))
    assert (finding.rule, finding.path) == ("multipleOf", LIMIT_PATH)
    assert finding.message == f"{limit} is not a multiple of 0.1"


def frame_with_limit(text: str) -> str:
    body = json.dumps(limit_payload("LIMIT"), default=float)  # 6.1 -> 6.1: short floats are exact
    return '[2,"u1","SetChargingProfile",' + body.replace('"LIMIT"', text) + "]"


@pytest.mark.parametrize("text, ok", [("7.1", True), ("0.3", True), ("32.0", True), ("1e1", True),
                                      ("7.10", True), ("7.15", False),
                                      ("0.30000000000000001", False), ("1E-2", False)])
def test_the_checker_judges_a_limit_as_written_on_the_wire(text, ok):
    checked = Checker(V).check("csms", frame_with_limit(text))
    assert [(f.rule, f.path) for f in checked.findings] == ([] if ok else [("multipleOf",
                                                                            LIMIT_PATH)])


# --- formats ------------------------------------------------------------------------------------

def current_time(text) -> list:
    return V.validate("Heartbeat", True, {"currentTime": text})


@pytest.mark.parametrize("text", [
    "2024-02-29T00:00:00Z", "2000-02-29T12:00:00Z", "2025-03-01T06:10:00.000Z",
    "2024-01-31T23:59:59.123456789+05:30", "2024-01-01T00:00:00-00:00", "2024-01-01t00:00:00z",
    "0000-01-01T00:00:00Z", "9999-12-31T23:59:59+23:59",
    "2016-12-31T23:59:60Z", "2015-06-30T23:59:60Z",  # leap seconds at a month's end (UTC)
    "2017-01-01T00:59:60+01:00", "2016-12-31T18:59:60-05:00",  # the same instant elsewhere
])
def test_rfc3339_date_times(text):
    assert current_time(text) == []


@pytest.mark.parametrize("text, why", [
    ("2023-02-29T00:00:00Z", "day 29 does not exist: 2023-02 has 28 days"),
    ("1900-02-29T00:00:00Z", "1900-02 has 28 days"),
    ("2024-04-31T00:00:00Z", "2024-04 has 30 days"),
    ("2024-01-00T00:00:00Z", "day 00 does not exist"),
    ("2024-13-01T00:00:00Z", "month 13 does not exist"),
    ("2024-01-01T24:00:00Z", "hours run 00-23"),
    ("2024-01-01T00:60:00Z", "minutes 00-59"),
    ("2024-01-01T00:00:61Z", "second 61 does not exist"),
    ("2024-01-01T12:00:60Z", "leap second"),
    ("2016-12-31T23:59:60+01:00", "leap second"),
    ("2024-01-01T00:00:00", "the timezone is missing"),
    ("2024-01-01T00:00:00.5", "the timezone is missing"),
    ("2024-01-01T00:00:00+24:00", "offset +24:00 does not exist"),
    ("2024-01-01T00:00:00+01:60", "offset +01:60 does not exist"),
    ("2024-01-01T00:00:00+0100", "not in the RFC 3339 form"),
    ("2024-01-01 00:00:00Z", "not in the RFC 3339 form"),
    ("2024-01-01T00:00Z", "not in the RFC 3339 form"),
    ("2024-01-01T00:00:00.Z", "not in the RFC 3339 form"),
    ("2024-01-01", "not in the RFC 3339 form"),
    ("\uff12024-01-01T00:00:00Z", "not in the RFC 3339 form"),  # a fullwidth digit
    ("2024-01-01T00:00:00Z\n", "not in the RFC 3339 form"),
    ("", "not in the RFC 3339 form"),
])
def test_not_rfc3339_date_times(text, why):
    [finding] = current_time(text)
    assert (finding.rule, finding.path, finding.value) == ("format:date-time", "$.currentTime",
                                                           text)
    assert why in finding.message, finding.message


@pytest.mark.parametrize("location, ok", [
    ("ftp://user:secret@diag.example.com:21/upload/", True),
    ("https://fw.example.com/a%20b.bin?sig=x&t=1", True), ("urn:example:firmware:3.2", True),
    ("http://[::1]:8080/x", True), ("ftp://例え.jp/ファイル", True),  # IRIs are anyURIs
    ("file:///var/log", True),
    ("", False), (" ", False), ("/upload", False), ("fw.example.com/cp.bin", False),
    ("ftp://host/a b", False), ("https://x.example\n", False), ("https:", False),
    ("1http://x", False),
])
def test_uri_is_an_absolute_uri(location, ok):
    findings = V.validate("GetDiagnostics", False, {"location": location})
    assert [(f.rule, f.path) for f in findings] == ([] if ok else [("format:uri", "$.location")])


# --- robustness ---------------------------------------------------------------------------------

def test_odd_values_give_findings_not_exceptions():
    deep: list = []
    for _ in range(300):
        deep = [deep]
    finding = only("Authorize", False, {"idTag": deep})
    assert finding.rule == "type" and finding.message.startswith("expected string, got array ")
    assert found("Authorize", False, {"idTag": {"a": [1, 2]}}) == {("type", "$.idTag")}
    assert found("MeterValues", False, {"connectorId": float("inf"), "meterValue": [
        {"timestamp": "2025-03-01T06:10:00Z", "sampledValue": [{"value": "1"}]}]}) == {
        ("type", "$.connectorId")}


def test_a_long_value_is_cut_in_the_message():
    finding = only("Authorize", False, {"idTag": "x" * 500})
    assert finding.value == "x" * 500 and len(finding.message) < 200


# --- keywords OCPP's schemas do not use, on schemas of our own -----------------------------------

def write(tmp_path: Path, name: str, schema) -> Path:
    text = schema if isinstance(schema, str) else json.dumps(schema)
    (tmp_path / f"{name}.json").write_text(text)
    return tmp_path


def one_schema(tmp_path: Path, schema: dict) -> Validator:
    return Validator(write(tmp_path, "Probe", schema))


def test_bounds_length_pattern_and_type_lists(tmp_path):
    v = one_schema(tmp_path, {"type": "object", "properties": {
        "n": {"type": "number", "minimum": 0.5, "maximum": 10, "exclusiveMaximum": True},
        "i": {"type": ["integer", "null"], "minimum": 1, "exclusiveMinimum": True},
        "s": {"type": "string", "minLength": 2, "pattern": "^[A-Z]+$"},
        "any": {"maxLength": 3, "minimum": 2}}})
    assert v.validate("Probe", False, {"n": 0.5, "i": None, "s": "AB", "any": [1]}) == []
    assert v.validate("Probe", False, {"n": Decimal("9.99"), "i": 2, "any": 2}) == []
    cases = {"n": [0.4, 10, Decimal("10.0")], "i": [1, 0, True], "s": ["A", "ab"],
             "any": ["abcd", 1]}
    for key, values in cases.items():
        for value in values:
            rules = {f.rule for f in v.validate("Probe", False, {key: value})}
            assert len(rules) == 1, (key, value, rules)
    assert {f.rule for f in v.validate("Probe", False, {"n": 0.4, "s": "a"})} == {
        "minimum", "minLength", "pattern"}
    [finding] = v.validate("Probe", False, {"n": 10})
    assert finding.message == "10 is not less than the maximum 10"


def test_tuples_additional_items_refs_and_mixed_enums(tmp_path):
    v = one_schema(tmp_path, {
        "definitions": {"Pair": {"type": "array", "items": [{"type": "string"},
                                                            {"$ref": "#/definitions/Num"}],
                                 "additionalItems": False},
                        "Num": {"type": "integer"}},
        "type": "object", "additionalProperties": {"$ref": "#/definitions/Pair"},
        "properties": {"e": {"enum": [1, "one", None, [1]]}}})
    assert v.validate("Probe", False, {"x": ["a", 1], "y": ["b"], "e": 1.0}) == []
    assert v.validate("Probe", False, {"e": [1]}) == []
    assert {(f.rule, f.path) for f in v.validate("Probe", False, {
        "x": ["a", 1, 2], "y": [1, "b"], "e": True})} == {
        ("additionalItems", "$.x[2]"), ("type", "$.y[0]"), ("type", "$.y[1]"), ("enum", "$.e")}


def test_multiple_of_other_steps(tmp_path):
    # Every integer is a multiple of OCPP's 0.1; these steps are not so forgiving.
    v = one_schema(tmp_path, {"properties": {"q": {"multipleOf": 0.25}, "f": {"multipleOf": 2.5},
                                             "t": {"type": "integer", "multipleOf": 3}}})
    for payload in ({"q": 1}, {"q": Decimal("0.75")}, {"q": -0.5}, {"f": 5}, {"f": Decimal("7.5")},
                    {"t": -9}, {"t": 0}, {"q": "not a number: multipleOf does not apply"}):
        assert v.validate("Probe", False, payload) == [], payload
    for payload in ({"q": Decimal("0.1")}, {"f": 7}, {"f": 1.25}, {"t": 10}):
        assert {f.rule for f in v.validate("Probe", False, payload)} == {"multipleOf"}, payload


@pytest.mark.parametrize("schema, error", [
    ({"type": "object", "oneOf": []}, "unsupported keyword(s) oneOf"),
    ({"type": "string", "format": "email"}, "unsupported format 'email'"),
    ({"type": "strnig"}, "unknown type 'strnig'"),
    ({"properties": {"a": {"$ref": "#/definitions/A"}}}, "points nowhere"),
    ({"definitions": {"A": {"properties": {"a": {"$ref": "#/definitions/A"}}}},
      "$ref": "#/definitions/A"}, "recursive reference"),
    ({"$ref": "other.json#/A"}, "only local references"),
    ({"type": "number", "multipleOf": 0}, "multipleOf must be greater than 0"),
    ({"type": "string", "maxLength": 2.5}, "maxLength must be a non-negative integer"),
    ("{not json", "Probe.json"),
])
def test_a_schema_we_cannot_honour_fails_loading(tmp_path, schema, error):
    with pytest.raises(SchemaError, match="Probe.json") as info:
        one_schema(tmp_path, schema)
    assert error in str(info.value)


def test_an_empty_schema_directory_fails_loading(tmp_path):
    with pytest.raises(SchemaError, match="no JSON schemas in"):
        Validator(tmp_path)


def test_the_generated_source_is_there_to_read():
    source = V.sources[("Authorize", True)]
    assert source.startswith("def valid_AuthorizeResponse(") and "return True" in source
