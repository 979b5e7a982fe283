"""Property tests of harness.validation on payloads generated from each of the 78 schemas.

* Generated valid payloads are accepted, by the compiled fast path and the explaining slow path.
* One mutation of a valid payload (a required member dropped, an enum value replaced, a string
  made too long, a value of the wrong type, a broken date-time or URI, an unknown member where
  additionalProperties is false, a limit off the 0.1 grid) is reported with that rule and path.
* ``jsonschema.Draft4Validator`` agrees on every payload: same verdict, and every finding of ours
  is one of its errors (it may say more: it reports ``enum`` on a value of the wrong type too).

The generators, the mutations and the oracle for date-times and URIs are in
``harness.fidelity.frames`` (the schema-agreement campaign uses them too).
"""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal, localcontext
from functools import cache

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from harness.fidelity.frames import (EXACT, FORMAT_CHECKER, SCHEMAS, V, mutations,
                                     oracle_date_time, oracle_uri, payloads, resolved)

# No shrinking: hypothesis-jsonschema builds strategies while it draws, so shrinking a failure
# takes minutes; a failure is reported with the example as generated. Derandomized for stable CI.
PROPERTY_SETTINGS = settings(max_examples=16, deadline=None, derandomize=True, database=None,
                             phases=(Phase.explicit, Phase.generate),
                             suppress_health_check=list(HealthCheck))


def schema_id(key) -> str:
    return key[0] + ("Response" if key[1] else "")


# --- the independent judge ----------------------------------------------------------------------

@cache
def draft4(key) -> jsonschema.Draft4Validator:
    text = json.dumps(V.schema(*key))
    return jsonschema.Draft4Validator(json.loads(text, parse_float=Decimal),
                                      format_checker=FORMAT_CHECKER)


_LAST_STEP = re.compile(r"(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\])$")


def jsonschema_path(error) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)


def assert_agrees_with_draft4(key, payload, findings) -> None:
    errors = list(draft4(key).iter_errors(payload))
    assert bool(errors) == bool(findings), (errors, findings)
    theirs = {(e.validator, jsonschema_path(e)) for e in errors}
    for f in findings:
        # jsonschema reports a missing or an extra member at the object that should hold it.
        path = _LAST_STEP.sub("", f.path) if f.rule in ("required", "additionalProperties") \
            else f.path
        assert (f.rule.split(":")[0], path) in theirs, (f, theirs)


def check(key, payload):
    findings = V.validate(*key, payload)
    assert V._fast[key[1]][key[0]](payload) is (not findings), "fast and slow paths disagree"
    with localcontext(EXACT):  # jsonschema's Decimal % Decimal, exact for any generated size
        assert_agrees_with_draft4(key, payload, findings)
    return findings


# --- valid payloads -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", SCHEMAS, ids=schema_id)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_generated_payloads_are_valid(key, data):
    payload = data.draw(payloads(key))
    assert check(key, payload) == []


def test_the_generated_formats_are_the_ones_we_mean():
    # The generators must cover what the properties rely on; the oracle must reject what RFC 3339
    # rejects, or the agreement test proves nothing about date-times.
    assert all(oracle_date_time(t) for t in ["2024-02-29T00:00:00z", "2016-12-31T18:59:60-05:00"])
    assert not any(oracle_date_time(t) for t in [
        "2023-02-29T00:00:00Z", "2024-01-01T00:00:00", "2024-01-01T24:00:00Z",
        "2024-01-01T12:00:60Z", "2024-01-01T00:00:00+01:60", "2024-01-01T00:00:00+24:00"])
    assert not any(oracle_uri(u) for u in ["", "/x", "a b:c", "http://a b"])


# --- one mutation at a time -----------------------------------------------------------------------

@pytest.mark.parametrize("key", SCHEMAS, ids=schema_id)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_one_mutation_is_reported_with_its_rule_and_path(key, data):
    schema = resolved(*key)
    payload = data.draw(payloads(key))
    options = list(mutations(schema, payload))
    if not options:  # Heartbeat and the like: nothing but an unknown member can break them
        return
    rule, path, apply = data.draw(st.sampled_from(options))
    apply()
    found = {(f.rule, f.path) for f in check(key, payload)}
    assert (rule, path) in found, (rule, path, found)


FIXED = {
    ("SetChargingProfile", False): {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Recurring", "recurrencyKind": "Daily", "transactionId": 3,
        "validFrom": "2025-03-01T00:00:00Z", "chargingSchedule": {
            "chargingRateUnit": "W", "startSchedule": "2025-03-01T00:00:00+01:00",
            "minChargingRate": Decimal("1.5"), "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": Decimal("7.4"), "numberPhases": 1}]}}},
    ("StopTransaction", False): {"idTag": "04A2B3C4", "meterStop": 9, "timestamp":
                                 "2025-03-01T06:10:00.5Z", "transactionId": 3, "reason": "Local",
                                 "transactionData": [{"timestamp": "2025-03-01T06:10:00Z",
                                                      "sampledValue": [{"value": "9",
                                                                        "unit": "Wh"}]}]},
    ("UpdateFirmware", False): {"location": "https://fw.example.com/3.2.bin", "retries": 2,
                                "retrieveDate": "2025-03-01T06:10:00Z"},
    ("GetConfiguration", True): {"configurationKey": [{"key": "K", "readonly": True}]},
}


@pytest.mark.parametrize("key", FIXED, ids=schema_id)
def test_every_mutation_of_fixed_payloads_is_reported(key):
    # Exhaustive where the property test samples: every single change, every rule it can break.
    schema, rules = resolved(*key), set()
    for i, (rule, path, _) in enumerate(mutations(schema, FIXED[key])):
        payload = copy.deepcopy(FIXED[key])
        rule, path, apply = list(mutations(schema, payload))[i]
        apply()
        found = {(f.rule, f.path) for f in check(key, payload)}
        assert (rule, path) in found, (rule, path, found)
        rules.add(rule)
    assert check(key, copy.deepcopy(FIXED[key])) == []
    if key == ("SetChargingProfile", False):
        assert rules == {"required", "additionalProperties", "type", "enum", "format:date-time",
                         "multipleOf"}
    if key == ("UpdateFirmware", False):
        assert {"format:uri", "format:date-time"} <= rules
    if key == ("StopTransaction", False):
        assert "maxLength" in rules
