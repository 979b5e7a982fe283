"""`python -m harness validate` (DESIGN 2.7) and `python -m harness pics`: output and exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import __main__ as cli
from harness import pics
from harness.validation import Validator
from harness.wirelog import WireLog

WALL, MONO = 1_795_255_200_123_000_000, 1_000_000_000
NOW = "2026-11-21T10:00:00Z"
BOOT = '{"chargePointVendor":"Acme","chargePointModel":"W1"}'
BOOT_OK = f'{{"status":"Accepted","currentTime":"{NOW}","interval":300}}'

# The OCPP 1.6 schemas of the actions these tests use, as published, for when the packaged schema
# directory is not populated: the command is tested here, the schemas in their own tests.
_SCHEMAS = {
    "Heartbeat": {"type": "object", "properties": {}, "additionalProperties": False},
    "ClearCache": {"type": "object", "properties": {}, "additionalProperties": False},
    "HeartbeatResponse": {
        "type": "object", "properties": {"currentTime": {"type": "string", "format": "date-time"}},
        "additionalProperties": False, "required": ["currentTime"]},
    "BootNotification": {
        "type": "object", "properties": {
            "chargePointVendor": {"type": "string", "maxLength": 20},
            "chargePointModel": {"type": "string", "maxLength": 20},
            "chargePointSerialNumber": {"type": "string", "maxLength": 25},
            "chargeBoxSerialNumber": {"type": "string", "maxLength": 25},
            "firmwareVersion": {"type": "string", "maxLength": 50},
            "iccid": {"type": "string", "maxLength": 20},
            "imsi": {"type": "string", "maxLength": 20},
            "meterType": {"type": "string", "maxLength": 25},
            "meterSerialNumber": {"type": "string", "maxLength": 25}},
        "additionalProperties": False, "required": ["chargePointVendor", "chargePointModel"]},
    "BootNotificationResponse": {
        "type": "object", "properties": {
            "status": {"type": "string", "enum": ["Accepted", "Pending", "Rejected"]},
            "currentTime": {"type": "string", "format": "date-time"},
            "interval": {"type": "integer"}},
        "additionalProperties": False, "required": ["status", "currentTime", "interval"]},
    # Trimmed to the path of the one multipleOf these tests need.
    "SetChargingProfile": {
        "type": "object", "required": ["connectorId", "csChargingProfiles"], "properties": {
            "connectorId": {"type": "integer"},
            "csChargingProfiles": {"type": "object", "properties": {"chargingSchedule": {
                "type": "object", "properties": {"chargingSchedulePeriod": {
                    "type": "array", "items": {"type": "object", "properties": {
                        "limit": {"type": "number", "multipleOf": 0.1}}}}}}}}}},
    "SetChargingProfileResponse": {
        "type": "object", "properties": {"status": {"type": "string", "enum": [
            "Accepted", "Rejected", "NotSupported"]}}, "required": ["status"]},
}


@pytest.fixture(autouse=True)
def validator(tmp_path_factory, monkeypatch):
    try:
        return Validator.default()
    except Exception:  # the packaged schemas are not there: use the published ones above
        schema_dir = tmp_path_factory.mktemp("schemas")
        for name, schema in _SCHEMAS.items():
            schema = {"$schema": "http://json-schema.org/draft-04/schema#",
                      "id": f"urn:OCPP:1.6:2019:12:{name}", "title": name, **schema}
            (schema_dir / f"{name}.json").write_text(json.dumps(schema), encoding="utf-8")
        v = Validator(schema_dir)
        monkeypatch.setattr(Validator, "_default", v)
        return v


def make_log(path: Path, *entries: tuple) -> Path:
    """entries: ("cp" | "csms", text) for frames, (event, detail) with a dict for events."""
    with WireLog(path) as log:
        for i, (who, what) in enumerate(entries):
            if isinstance(what, dict):
                log.write_event(who, MONO + i, WALL, **what)
            else:
                log.write_frame(who, what, MONO + i, WALL)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_clean_log_exits_0(tmp_path, capsys):
    log = make_log(tmp_path / "ok.jsonl",
                   ("connected", {"url": "ws://h/CP1"}),
                   ("cp", f'[2,"1","BootNotification",{BOOT}]'),
                   ("csms", f'[3,"1",{BOOT_OK}]'),
                   ("cp", '[2,"2","Heartbeat",{}]'),
                   ("csms", f'[3,"2",{{"currentTime":"{NOW}"}}]'))
    assert run(capsys, "validate", str(log)) == (0, "4 frames, 0 findings\n", "")


def test_schema_violation_is_one_line_naming_line_sender_action_and_rule(tmp_path, capsys):
    log = make_log(tmp_path / "bad.jsonl",
                   ("cp", '[2,"1","BootNotification",{"chargePointVendor":"Acme"}]'),
                   ("csms", f'[3,"1",{BOOT_OK}]'))
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    first, summary = out.splitlines()
    assert re.fullmatch(rf"{re.escape(str(log))}:1: cp BootNotification \$\S*: .*chargePointModel"
                        r".* \[required\]", first), first
    assert summary == "2 frames, 1 finding"


def test_response_is_judged_against_the_schema_of_its_call(tmp_path, capsys):
    log = make_log(tmp_path / "bad.jsonl",
                   ("cp", f'[2,"1","BootNotification",{BOOT}]'),
                   ("csms", f'[3,"1",{{"status":"Maybe","currentTime":"{NOW}","interval":300}}]'))
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1 and re.match(rf"{re.escape(str(log))}:2: csms BootNotification \$\.status: "
                                  r".*\[enum\]$", out.splitlines()[0])


def test_unmatched_result_garbage_and_unanswered_call(tmp_path, capsys):
    log = make_log(tmp_path / "mixed.jsonl",
                   ("csms", f'[3,"nobody-asked",{{"currentTime":"{NOW}"}}]'),
                   ("cp", "this is not json"),
                   ("cp", '[2,"7","Heartbeat",{}]'),
                   ("cp", '[2,"8","Heartbeat",{}]'),
                   ("csms", f'[3,"8",{{"currentTime":"{NOW}"}}]'))
    code, out, _ = run(capsys, "validate", str(log))
    name = str(log)
    assert code == 1
    first, garbage, unanswered, summary = out.splitlines()
    assert first == (f"{name}:1: csms ? frame: CALLRESULT for uniqueId 'nobody-asked', which "
                     "answers no outstanding CALL [rpc.unmatched]")
    assert re.fullmatch(rf"{re.escape(name)}:2: cp \? frame: not valid JSON: .* \[rpc\.json\]",
                        garbage), garbage
    assert unanswered == (f"{name}:3: cp Heartbeat frame: CALL Heartbeat '7' was never answered "
                          "(the log ends) [rpc.unanswered]")
    assert summary == "5 frames, 3 findings"


def test_a_reconnect_starts_a_new_connection_state(tmp_path, capsys):
    # After a reboot the charge point's uniqueId counter may start again: not a duplicate.
    log = make_log(tmp_path / "reboot.jsonl",
                   ("connected", {}),
                   ("cp", f'[2,"1","BootNotification",{BOOT}]'),
                   ("csms", f'[3,"1",{{"status":"Accepted","currentTime":"{NOW}","interval":5}}]'),
                   ("csms", '[2,"r1","ClearCache",{}]'),
                   ("closed", {"code": 1006, "reason": ""}),
                   ("connected", {}),
                   ("cp", f'[2,"1","BootNotification",{BOOT}]'),
                   ("csms", f'[3,"1",{{"status":"Accepted","currentTime":"{NOW}","interval":5}}]'))
    code, out, _ = run(capsys, "validate", str(log))
    assert (code, out.splitlines()) == (1, [
        f"{log}:4: csms ClearCache frame: CALL ClearCache 'r1' was never answered (the connection "
        "closed at line 5) [rpc.unanswered]",
        "5 frames, 1 finding"])


def test_a_call_that_cannot_be_framed_is_reported_without_crashing(tmp_path, capsys):
    log = make_log(tmp_path / "broken.jsonl", ("csms", '[2,"x1","MakeCoffee",{}]'),
                   ("cp", '[4,"x1","NotImplemented","",{}]'))
    code, out, _ = run(capsys, "validate", str(log))
    lines = out.splitlines()
    assert code == 1 and lines[-1].startswith("2 frames, ")
    assert lines[0] == (f"{log}:1: csms ? frame: unknown OCPP 1.6 action 'MakeCoffee' "
                        "[rpc.action]")
    assert not any("rpc.unanswered" in line for line in lines)


@pytest.mark.parametrize("limit, bad", [("7.10", False), ("7.15", True),
                                        ("0.30000000000000004", True),
                                        ("6.1000000000000000001", True)])
def test_decimals_are_judged_as_written_on_the_wire(tmp_path, capsys, limit, bad):
    # 6.1000000000000000001 reads as the float 6.1: only the wire log's "raw" keeps it failing.
    profile = ('{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",'
               '"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A",'
               f'"chargingSchedulePeriod":[{{"startPeriod":0,"limit":{limit}}}]}}}}')
    log = make_log(tmp_path / "sc.jsonl",
                   ("csms", f'[2,"1","SetChargingProfile",{{"connectorId":1,'
                            f'"csChargingProfiles":{profile}}}]'),
                   ("cp", '[3,"1",{"status":"Accepted"}]'))
    code, out, _ = run(capsys, "validate", str(log))
    assert code == int(bad)
    if bad:
        assert out.splitlines()[0] == (
            f"{log}:1: csms SetChargingProfile "
            "$.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit: "
            f'{limit} is not a multiple of 0.1 [multipleOf]')


def test_json_output(tmp_path, capsys):
    log = make_log(tmp_path / "j.jsonl",
                   ("cp", '[2,"1","BootNotification",{"chargePointVendor":"Acme"}]'),
                   ("csms", '[3,"zz",{}]'),
                   ("cp", '[2,"2","Heartbeat",{}]'))
    code, out, _ = run(capsys, "validate", str(log), "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["log"] == str(log)
    first = doc["findings"][0]
    assert {k: first[k] for k in ("line", "from", "action", "uniqueId", "rule")} == {
        "line": 1, "from": "cp", "action": "BootNotification", "uniqueId": "1", "rule": "required"}
    assert set(first) == {"line", "from", "action", "uniqueId", "rule", "path", "message", "value"}
    rules = [(f["line"], f["rule"]) for f in doc["findings"]]
    assert rules == [(1, "required"), (2, "rpc.unmatched"), (1, "rpc.unanswered"),
                     (3, "rpc.unanswered")]
    assert doc["totals"] == {"frames": 3, "findings": 4, "remarks": 0, "by_rule": {
        "required": 1, "rpc.unanswered": 2, "rpc.unmatched": 1}}


def test_json_output_of_a_clean_log(tmp_path, capsys):
    log = make_log(tmp_path / "j.jsonl", ("cp", '[2,"2","Heartbeat",{}]'),
                   ("csms", f'[3,"2",{{"currentTime":"{NOW}"}}]'))
    code, out, _ = run(capsys, "validate", str(log), "--json")
    assert code == 0 and json.loads(out) == {
        "log": str(log), "format": "jsonl", "findings": [],
        "totals": {"frames": 2, "findings": 0, "remarks": 0, "by_rule": {}}}


@pytest.mark.parametrize("content", ["", "\n\n"])
def test_an_empty_log_is_an_error(tmp_path, capsys, content):
    log = tmp_path / "empty.jsonl"
    log.write_text(content)
    assert run(capsys, "validate", str(log)) == (2, "", f"harness validate: {log}: empty log\n")


@pytest.mark.parametrize("content", [None, "just some text\n", '{"a": 1}\n'])
def test_unreadable_or_not_a_log_exits_2(tmp_path, capsys, content):
    path = tmp_path / "other.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "validate", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"harness validate: {path}") and err.endswith("\n")


def test_pics_command(tmp_path, capsys):
    code, out, _ = run(capsys, "pics", str(pics.default_path("cs")))
    assert code == 0 and "sut cs" in out and "SIMCP001" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(pics.default_path("cs").read_text().replace("connectors = 2", "connectors = 0"))
    code, out, err = run(capsys, "pics", str(bad))
    assert (code, out) == (2, "")
    assert f"{bad}: features.connectors: expected an integer >= 1, found 0" in err


def test_module_help_lists_the_commands():
    done = subprocess.run([sys.executable, "-m", "harness", "--help"], capture_output=True,
                          text=True, check=True)
    assert re.search(r"^\s+validate\s", done.stdout, re.M)
    assert re.search(r"^\s+pics\s", done.stdout, re.M)
    missing = subprocess.run([sys.executable, "-m", "harness"], capture_output=True, text=True)
    assert missing.returncode == 2 and "COMMAND" in missing.stderr
