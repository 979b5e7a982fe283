"""Our ``schemas/`` against the OCA-published OCPP 1.6 schemas, as the ``ocpp`` package ships them.

The harness judges devices with the files in ``schemas/``. They start from the OCA's own files (the
2019-12 core set published with errata v4.0, the 2020-03 set of the security white paper), which
the ``ocpp`` package (test extra, pinned) ships almost verbatim. Every place where we deliberately
differ is a row of the table in ``schemas/ERRATA.md``, with its reason. This module keeps that
table honest in both directions:

* every difference found by walking our file and the package's file in parallel must have a row
  (so nobody can loosen or tighten a schema without writing down why), and
* every row must still be a real difference with exactly the values it states (so a stale row,
  e.g. after a package upgrade that adopted the fix, fails instead of misinforming).

The walk compares every keyword at every JSON pointer, not a chosen few: ``required``, ``enum``,
``type``, ``format``, ``maxLength``, ``minLength``, ``multipleOf``, ``minimum``/``maximum``,
``additionalProperties``, ``minItems``, ``$ref``, ... and the set of property / definition names,
so a keyword nobody thought of cannot differ silently.

Besides that: the 78 files are all there, each is a valid draft-04 schema (the validator in
``harness/validation.py`` applies draft-04 semantics to all of them), each file's ``title`` / ``id``
names the operation and direction its file name says, and the corrections behave as intended on
real payloads under an independent validator (``jsonschema``).
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.fidelity.errata import ABSENT, TABLE_HEADER, apply_errata, parse_errata

try:
    import ocpp
except ImportError:  # not a skip: without the reference every check below would vanish quietly
    pytest.fail("the `ocpp` package (test extra: pip install -e '.[test]') holds the official "
                "schemas this module compares against", pytrace=False)

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "schemas"
ERRATA = OURS / "ERRATA.md"
OFFICIAL = Path(ocpp.__file__).resolve().parent / "v16" / "schemas"
# The "official" column of ERRATA.md was read from this release's files; another release may ship
# different copies, and then the table has to be re-checked (the diff test would say where).
OCPP_PACKAGE_VERSION = "2.1.0"

DRAFT4 = "http://json-schema.org/draft-04/schema#"

CORE_OPERATIONS = (
    "Authorize", "BootNotification", "CancelReservation", "ChangeAvailability",
    "ChangeConfiguration", "ClearCache", "ClearChargingProfile", "DataTransfer",
    "DiagnosticsStatusNotification", "FirmwareStatusNotification", "GetCompositeSchedule",
    "GetConfiguration", "GetDiagnostics", "GetLocalListVersion", "Heartbeat", "MeterValues",
    "RemoteStartTransaction", "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList",
    "SetChargingProfile", "StartTransaction", "StatusNotification", "StopTransaction",
    "TriggerMessage", "UnlockConnector", "UpdateFirmware")
SECURITY_OPERATIONS = (
    "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage",
    "GetInstalledCertificateIds", "GetLog", "InstallCertificate", "LogStatusNotification",
    "SecurityEventNotification", "SignCertificate", "SignedFirmwareStatusNotification",
    "SignedUpdateFirmware")
EXPECTED_FILES = tuple(sorted(f"{op}{suffix}.json" for op in CORE_OPERATIONS + SECURITY_OPERATIONS
                              for suffix in ("", "Response")))
assert len(EXPECTED_FILES) == 78


# --- the parallel walk ------------------------------------------------------------------------


# Keywords whose value is a set: order carries no meaning, so a reordering is not a difference.
SET_ASPECTS = frozenset({"enum", "required", "properties", "definitions"})
# Keywords holding named subschemas: compare the names, then walk the subschemas they share.
NAMED_CHILDREN = ("properties", "definitions", "patternProperties")
# Keywords whose value is a subschema (walked) or something else (compared whole).
SUBSCHEMA_KEYWORDS = ("items", "additionalProperties", "additionalItems", "not")


def _canonical(value: Any) -> str:
    """A text equal for equal JSON values only: 1, 1.0 and true stay three different things."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _same(aspect: str, a: Any, b: Any) -> bool:
    if a is ABSENT or b is ABSENT:
        return a is b
    if aspect in SET_ASPECTS and isinstance(a, list) and isinstance(b, list):
        return sorted(map(_canonical, a)) == sorted(map(_canonical, b))
    return _canonical(a) == _canonical(b)


def _escape(token: str) -> str:
    """RFC 6901: '~' is written '~0' and '/' is written '~1' inside a reference token."""
    return token.replace("~", "~0").replace("/", "~1")


Diffs = dict[tuple[str, str], tuple[Any, Any]]


def schema_diff(ours: dict, official: dict) -> Diffs:
    """Every difference between two schema documents: {(json pointer, aspect): (ours, official)}.

    The aspect is the keyword's name, except that the document's identifier is the aspect ``id``
    whether the file spells it ``id`` (draft 4) or ``$id`` (draft 6), so that a spelling change
    that keeps the value is no difference. Named children (``properties``, ``definitions``) are
    compared as a set of names under that keyword's name, and the children both sides have are
    walked. ``$ref`` is compared as written, not resolved: both sides keep the OCA's layout.
    """
    diffs: Diffs = {}

    def note(pointer: str, aspect: str, a: Any, b: Any) -> None:
        if not _same(aspect, a, b):
            diffs[(pointer, aspect)] = (a, b)

    def walk(a: dict, b: dict, pointer: str, is_root: bool) -> None:
        a, b = dict(a), dict(b)
        if is_root:
            note(pointer, "id", a.pop("id", a.pop("$id", ABSENT)),
                 b.pop("id", b.pop("$id", ABSENT)))
        for key in sorted(set(a) | set(b)):
            x, y = a.get(key, ABSENT), b.get(key, ABSENT)
            if key in NAMED_CHILDREN and isinstance(x, dict) and isinstance(y, dict):
                note(pointer, key, sorted(x), sorted(y))
                for name in sorted(set(x) & set(y)):
                    child = f"{pointer}/{key}/{_escape(name)}"
                    if isinstance(x[name], dict) and isinstance(y[name], dict):
                        walk(x[name], y[name], child, False)
                    else:
                        note(child, "schema", x[name], y[name])
            elif key in NAMED_CHILDREN:
                note(pointer, key, sorted(x) if isinstance(x, dict) else x,
                     sorted(y) if isinstance(y, dict) else y)
            elif key in SUBSCHEMA_KEYWORDS and isinstance(x, dict) and isinstance(y, dict):
                walk(x, y, f"{pointer}/{key}", False)
            elif (key == "items" and isinstance(x, list) and isinstance(y, list)
                  and len(x) == len(y)):
                for i, (xi, yi) in enumerate(zip(x, y)):
                    walk(xi, yi, f"{pointer}/{key}/{i}", False)
            else:
                note(pointer, key, x, y)

    walk(ours, official, "", True)
    return diffs


# --- ERRATA.md ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def errata() -> dict[tuple[str, str, str], tuple[Any, Any, str]]:
    return parse_errata(ERRATA.read_text(encoding="utf-8"), EXPECTED_FILES)


def _load(directory: Path, name: str) -> dict:
    return json.loads((directory / name).read_text(encoding="utf-8"))


# --- the files themselves -------------------------------------------------------------------

def test_the_78_files_and_nothing_else() -> None:
    ours = sorted(p.name for p in OURS.glob("*.json"))
    assert ours == list(EXPECTED_FILES), (
        f"missing: {sorted(set(EXPECTED_FILES) - set(ours))}, "
        f"unexpected: {sorted(set(ours) - set(EXPECTED_FILES))}")
    # The comparison below is only as complete as the reference set.
    official = sorted(p.name for p in OFFICIAL.glob("*.json"))
    assert official == list(EXPECTED_FILES), f"the ocpp package's set changed: {official}"


def test_ocpp_package_is_the_release_errata_md_was_written_against() -> None:
    assert importlib.metadata.version("ocpp") == OCPP_PACKAGE_VERSION, (
        "schemas/ERRATA.md's `official` column describes the copies in ocpp "
        f"{OCPP_PACKAGE_VERSION}; re-check the table against this release before re-pinning")


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_valid_draft4_schema(name: str) -> None:
    doc = _load(OURS, name)
    assert doc.get("$schema") == DRAFT4, f"{name}: $schema is {doc.get('$schema')!r}"
    jsonschema.Draft4Validator.check_schema(doc)
    # Draft 4 calls the identifier `id`; a leftover draft-6 `$id` would be silently ignored.
    assert "$id" not in doc, f"{name}: draft-6 `$id` in a draft-4 file"


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_title_and_id_name_the_file(name: str) -> None:
    doc = _load(OURS, name)
    stem = name[:-len(".json")]
    response = stem.endswith("Response")
    operation = stem[:-len("Response")] if response else stem
    if operation in CORE_OPERATIONS:
        # OCA's 2019-12 core files: title "<Op>Request|Response", id "urn:OCPP:1.6:2019:12:<title>".
        title = operation + ("Response" if response else "Request")
        assert doc.get("title") == title, f"{name}: title {doc.get('title')!r}, expected {title!r}"
        assert doc.get("id") == f"urn:OCPP:1.6:2019:12:{title}", f"{name}: id {doc.get('id')!r}"
    else:
        # OCA's 2020-03 security files: no title, id "urn:OCPP:Cp:1.6:2020:3:<Op>.req|.conf".
        expected = f"urn:OCPP:Cp:1.6:2020:3:{operation}.{'conf' if response else 'req'}"
        assert doc.get("id") == expected, f"{name}: id {doc.get('id')!r}, expected {expected!r}"
        if "title" in doc:  # none today; one added later must still name the message
            title = operation + ("Response" if response else "Request")
            assert doc["title"] == title, f"{name}: title {doc['title']!r}, expected {title!r}"


# --- ours against the official copies, through ERRATA.md --------------------------------------

def _show(value: Any) -> str:
    return "absent" if value is ABSENT else _canonical(value)


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_every_difference_is_an_erratum_and_every_erratum_a_difference(name: str, errata) -> None:
    found = schema_diff(_load(OURS, name), _load(OFFICIAL, name))
    listed = {(pointer, aspect): row for (file, pointer, aspect), row in errata.items()
              if file == name}
    problems = []
    for (pointer, aspect), (ours, official) in sorted(found.items()):
        where = f"{name} {pointer or 'root'} {aspect}"
        if (pointer, aspect) not in listed:
            problems.append(f"unlisted difference: {where}: ours {_show(ours)}, "
                            f"official {_show(official)} (add a row to schemas/ERRATA.md, or undo)")
            continue
        row_ours, row_official, _ = listed[(pointer, aspect)]
        if not _same(aspect, row_ours, ours) or not _same(aspect, row_official, official):
            problems.append(f"row disagrees with the files: {where}: the files say ours "
                            f"{_show(ours)}, official {_show(official)}; the row says ours "
                            f"{_show(row_ours)}, official {_show(row_official)}")
    for pointer, aspect in sorted(set(listed) - set(found)):
        problems.append(f"stale row: {name} {pointer or 'root'} {aspect}: no such difference")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_official_plus_errata_is_ours(name: str, errata) -> None:
    # harness.fidelity.agreement judges frames with the official files rebuilt this way.
    assert schema_diff(apply_errata(name, _load(OFFICIAL, name), errata), _load(OURS, name)) == {}


def test_errata_table_parses(errata) -> None:
    # Reported once here; the per-file tests above would each show it as a fixture error.
    assert errata


# --- the checker checks itself: a walk that finds nothing would pass everything above ----------

def test_schema_diff_finds_each_kind_of_change() -> None:
    official = _load(OFFICIAL, "StopTransaction.json")
    assert schema_diff(official, official) == {}
    changed = copy.deepcopy(official)
    sv = changed["properties"]["transactionData"]["items"]["properties"]["sampledValue"]["items"]
    sv["properties"]["unit"]["enum"].append("Hertz")
    sv["properties"]["value"]["maxLength"] = 10
    sv["required"] = []
    del sv["properties"]["phase"]
    changed["properties"]["meterStop"]["type"] = "number"
    changed["additionalProperties"] = True
    changed["id"] = "urn:x"
    base = "/properties/transactionData/items/properties/sampledValue/items"
    assert set(schema_diff(changed, official)) == {
        (f"{base}/properties/unit", "enum"), (f"{base}/properties/value", "maxLength"),
        (base, "required"), (base, "properties"), ("/properties/meterStop", "type"),
        ("", "additionalProperties"), ("", "id")}
    # Reordering a set-valued keyword is not a change; an integer written as 1.0 is.
    reordered = copy.deepcopy(official)
    reordered["required"].reverse()
    assert schema_diff(reordered, official) == {}
    sp = _load(OFFICIAL, "SetChargingProfile.json")
    float_min = copy.deepcopy(sp)
    period = float_min["properties"]["csChargingProfiles"]["properties"]["chargingSchedule"]
    period["properties"]["chargingSchedulePeriod"]["items"]["properties"]["limit"]["multipleOf"] = 1
    assert len(schema_diff(float_min, sp)) == 1


def test_parse_errata_is_strict() -> None:
    head = f"{TABLE_HEADER}\n|---|---|---|---|---|---|\n"
    good = "| Reset.json | `/properties/type` | enum | `[\"Hard\"]` | `[\"Hard\",\"Soft\"]` | x |\n"
    assert parse_errata(head + good, EXPECTED_FILES)[("Reset.json", "/properties/type", "enum")][:2] == (
        ["Hard"], ["Hard", "Soft"])
    assert parse_errata(head + "| Reset.json | root | id | `\"u\"` | absent | x |\n",
                        EXPECTED_FILES)[
        ("Reset.json", "", "id")][1] is ABSENT
    for bad in (good.replace("Reset.json", "Nope.json"), good.replace("| x |", "|  |"),
                good.replace("`[\"Hard\"]`", "[\"Hard\"]"), good + good,
                good.replace("`/properties/type`", "`properties/type`")):
        with pytest.raises(ValueError):
            parse_errata(head + bad, EXPECTED_FILES)


# --- the corrections, as an independent validator sees them ---------------------------------

def _validator(name: str) -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_load(OURS, name),
                                      format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _minimal(schema: dict, root: dict) -> Any:
    """The smallest instance a schema accepts: its required parts only, local refs followed."""
    if "$ref" in schema:
        target: Any = root
        for token in schema["$ref"].lstrip("#").split("/")[1:]:
            target = target[token.replace("~1", "/").replace("~0", "~")]
        return _minimal(target, root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {k: _minimal(schema["properties"][k], root) for k in schema.get("required", ())}
    if kind == "array":
        return [_minimal(schema["items"], root)] * schema.get("minItems", 0)
    if kind == "string":
        return {"date-time": "2024-02-29T23:59:59Z", "uri": "https://example.org/f"}.get(
            schema.get("format"), "x")
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    raise AssertionError(f"no minimal value for {schema}")


@pytest.mark.parametrize("name", EXPECTED_FILES)
def test_minimal_payload_is_valid(name: str) -> None:
    # Proves the files work as draft-4 documents end to end, including the security files'
    # `#/definitions/...` references under their URN `id`.
    doc = _load(OURS, name)
    errors = [e.message for e in _validator(name).iter_errors(_minimal(doc, doc))]
    assert not errors, f"{name}: {errors}"


def _meter_value(unit: str | None = None, samples: int = 1) -> dict:
    sample = {"value": "21.5", "measurand": "Temperature"} | ({"unit": unit} if unit else {})
    return {"timestamp": "2024-01-01T12:00:00Z", "sampledValue": [sample] * samples}


@pytest.mark.parametrize("unit, valid", [("Celsius", True), ("Celcius", True), ("Hertz", False),
                                         ("Hz", False), ("Fahrenheit", True), ("varh", True)])
def test_units(unit: str, valid: bool) -> None:
    meter_values = {"connectorId": 1, "meterValue": [_meter_value(unit)]}
    stop = {"transactionId": 1, "timestamp": "2024-01-01T12:00:00Z", "meterStop": 10,
            "transactionData": [_meter_value(unit)]}
    assert _validator("MeterValues.json").is_valid(meter_values) is valid
    assert _validator("StopTransaction.json").is_valid(stop) is valid


def test_empty_meter_value_lists_are_rejected() -> None:
    assert not _validator("MeterValues.json").is_valid({"connectorId": 1, "meterValue": []})
    assert not _validator("MeterValues.json").is_valid(
        {"connectorId": 1, "meterValue": [_meter_value(samples=0)]})
    stop = {"transactionId": 1, "timestamp": "2024-01-01T12:00:00Z", "meterStop": 10}
    assert _validator("StopTransaction.json").is_valid(stop | {"transactionData": []})
    assert not _validator("StopTransaction.json").is_valid(
        stop | {"transactionData": [_meter_value(samples=0)]})
