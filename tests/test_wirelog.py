"""Wire log: the DESIGN 2.6 line format, flushing per line, a round trip that re-judges alike."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from harness import rpc, wirelog
from harness.findings import Finding
from harness.wirelog import WireLog, WireLogError

WALL = 1_795_255_200_123_456_789  # 2026-11-21T10:00:00.123456789Z
MONO = 5_000_000_000


def lines_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_frame_and_event_lines_have_the_design_format(tmp_path):
    path = tmp_path / "wire" / "nested" / "TC_001_CS.jsonl"  # parent dirs are created
    finding = Finding("multipleOf", "$.limit", "not a multiple of 0.1", Decimal("7.15"))
    with WireLog(path) as log:
        log.write_event("connected", MONO, WALL, url="ws://h/CP1", subprotocol="ocpp1.6")
        log.write_frame("cp", '[2,"1","Heartbeat",{}]', MONO + 1_500_000, WALL)
        log.write_frame("csms", "not json", MONO + 2_000_000_000, WALL, [finding])
        log.write_event("closed", MONO, WALL, code=1000, reason="")
    event, frame, broken, closed = lines_of(path)
    assert event == {"ts": "2026-11-21T10:00:00.123Z", "mono": 5.0, "event": "connected",
                     "detail": {"url": "ws://h/CP1", "subprotocol": "ocpp1.6"}}
    assert frame == {"ts": "2026-11-21T10:00:00.123Z", "mono": 5.0015, "from": "cp",
                     "frame": [2, "1", "Heartbeat", {}]}
    assert broken["frame"] == "not json" and broken["mono"] == 7.0
    assert broken["findings"] == [{"rule": "multipleOf", "path": "$.limit",
                                   "message": "not a multiple of 0.1", "value": "7.15"}]
    assert closed["detail"] == {"code": 1000, "reason": ""}


def test_timestamp_is_truncated_to_milliseconds():
    assert wirelog._timestamp(999_999_999) == "1970-01-01T00:00:00.999Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", wirelog._timestamp(WALL))


def test_every_line_is_on_disk_before_close(tmp_path):
    path = tmp_path / "live.jsonl"
    log = WireLog(path)
    log.write_frame("cp", '[2,"1","Heartbeat",{}]', MONO, WALL)
    assert [entry.text for entry in wirelog.read(path)] == ['[2,"1","Heartbeat",{}]']
    log.write_event("closed", MONO, WALL, code=1006)
    assert [entry.event for entry in wirelog.read(path)] == [None, "closed"]
    log.close()


def test_read_gives_back_frames_events_and_line_numbers(tmp_path):
    path = tmp_path / "a.jsonl"
    with WireLog(path) as log:
        log.write_event("connected", MONO, WALL)
        log.write_frame("cp", '[2, "1", "Heartbeat", {}]', MONO, WALL)  # whitespace only: no raw
        log.write_frame("csms", b'[3,"1",{"currentTime":"2026-11-21T10:00:00Z"}]', MONO, WALL)
    entries = list(wirelog.read(path))
    assert [(e.line, e.is_frame, e.sender, e.event) for e in entries] == [
        (1, False, None, "connected"), (2, True, "cp", None), (3, True, "csms", None)]
    assert entries[1].text == '[2,"1","Heartbeat",{}]' and entries[1].mono == 5.0
    assert "raw" not in lines_of(path)[1]
    assert entries[2].ts == "2026-11-21T10:00:00.123Z" and entries[0].detail == {}


def test_lines_without_mono_or_ts_are_read_with_their_time_unknown(tmp_path):
    # A wire log cut down by hand or written by another tool: the clocks are never judged.
    path = tmp_path / "a.jsonl"
    path.write_text('{"event": "connected", "detail": {}}\n'
                    '{"from": "cp", "frame": [2, "1", "Heartbeat", {}]}\n'
                    '{"ts": "2026-11-21T10:00:00.123Z", "from": "csms", '
                    '"frame": [3, "1", {"currentTime": "2026-11-21T10:00:00Z"}]}\n'
                    '{"mono": 7, "event": "closed"}\n', encoding="utf-8")
    entries = list(wirelog.read(path))
    assert [(e.line, e.ts, e.mono, e.sender, e.event) for e in entries] == [
        (1, None, None, None, "connected"), (2, None, None, "cp", None),
        (3, "2026-11-21T10:00:00.123Z", None, "csms", None), (4, None, 7.0, None, "closed")]
    assert entries[1].text == '[2,"1","Heartbeat",{}]' and entries[3].detail == {}


@pytest.mark.parametrize("text", [
    "garbage", '{"not": "an array"}', '"a JSON string"', "[2,", "", "NaN"])
def test_text_that_is_not_a_json_array_comes_back_verbatim(tmp_path, text):
    path = tmp_path / "a.jsonl"
    with WireLog(path) as log:
        log.write_frame("cp", text, MONO, WALL)
    assert lines_of(path)[0]["frame"] == text
    (entry,) = wirelog.read(path)
    assert entry.text == text
    # Re-judging sees the same framing error as the live check did.
    with pytest.raises(rpc.FramingError) as live:
        rpc.parse(text)
    with pytest.raises(rpc.FramingError) as offline:
        rpc.parse(entry.text)
    assert live.value.findings[0].rule == offline.value.findings[0].rule


@pytest.mark.parametrize("number, raw_needed", [
    ("0.1", False), ("7.1", False), ("7.10", False), ("1E2", False), ("100", False),
    ("0.30000000000000004", False), ("-0.0", False),
    ("1.00000000000000001", True),             # collapses to the float 1.0
    ("123456789012345678901234567890", True),  # wider than 64 bits: orjson reads a float
    ("1e400", True),                           # beyond float range
])
def test_numbers_are_re_judged_as_they_were_on_the_wire(tmp_path, number, raw_needed):
    text = f'[2,"1","SetChargingProfile",{{"limit":{number},"nested":[{{"x":{number}}}]}}]'
    path = tmp_path / "a.jsonl"
    with WireLog(path) as log:
        log.write_frame("csms", text, MONO, WALL)
    assert ("raw" in lines_of(path)[0]) is raw_needed
    (entry,) = wirelog.read(path)
    exact_then, exact_now = rpc.loads(text, exact=True), rpc.loads(entry.text, exact=True)
    assert exact_now == exact_then
    assert type(exact_now[3]["limit"]) is type(exact_then[3]["limit"])


def test_frames_orjson_cannot_write_are_still_logged(tmp_path):
    path = tmp_path / "a.jsonl"
    text = r'[2,"1","DataTransfer",{"vendorId":"\ud800","data":"x"}]'  # a lone surrogate
    with WireLog(path) as log:
        log.write_frame("cp", text, MONO, WALL)
    (entry,) = wirelog.read(path)
    assert rpc.loads(entry.text) == rpc.loads(text)


def test_writer_refuses_misuse(tmp_path):
    log = WireLog(tmp_path / "a.jsonl")
    with pytest.raises(ValueError, match="sender must be 'cp' or 'csms'"):
        log.write_frame("charger", "[]", MONO, WALL)
    log.close()
    with pytest.raises(ValueError, match="is closed"):
        log.write_event("closed", MONO, WALL)


@pytest.mark.parametrize("content, message", [
    ("hello world\n", r"bad\.jsonl:1: not a wire log line: not JSON"),
    ('{"ts": "x", "mono": 1, "from": "cp", "frame": []}\n[1, 2]\n',
     r"bad\.jsonl:2: not a wire log line: expected a JSON object, found list"),
    ('{"dut": "CP1", "profiles": {}}\n', r'bad\.jsonl:1: not a wire log line: no "frame"'),
    ('{"ts": 5, "mono": 1, "from": "cp", "frame": []}\n', r'"ts" must be an RFC 3339 string'),
    ('{"ts": "x", "mono": "1", "from": "cp", "frame": []}\n', r'"mono" must be a number'),
    ('{"ts": "x", "mono": 1, "from": "ev", "frame": []}\n', r'"from" must be "cp" or "csms"'),
    ('{"ts": "x", "mono": 1, "from": "cp"}\n', r'no "frame" and no "event"'),
    ('{"ts": "x", "mono": 1, "from": "cp", "frame": {}}\n', r'"frame" must be the OCPP-J array'),
    ('{"ts": "x", "mono": 1, "event": 3}\n', r'an event line needs "event"'),
])
def test_reading_something_else_names_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(WireLogError, match=message):
        list(wirelog.read(path))


def test_unreadable_files_raise_wirelog_errors(tmp_path):
    with pytest.raises(WireLogError, match=r"nope\.jsonl: cannot read"):
        list(wirelog.read(tmp_path / "nope.jsonl"))
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(WireLogError, match=r"bin\.jsonl:1: not UTF-8"):
        list(wirelog.read(binary))


def test_a_new_authorization_key_is_masked_whoever_chose_it(tmp_path):
    """A central system's ChangeConfiguration AuthorizationKey (TC_073_CSMS): its value, and its
    plain form, are secrets from that frame on, before anything registered them."""
    key = "5365637265744b6579466f7254435f303733"  # hex of "SecretKeyForTC_073"
    path = tmp_path / "w.jsonl"
    with WireLog(path) as log:
        log.write_frame("csms", rpc.dumps([2, "1", "ChangeConfiguration",
                                           {"key": "AuthorizationKey", "value": key}]), 1, 1)
        log.write_frame("cp", f'[2,"2","DataTransfer",{{"vendorId":"x","data":"{key} '
                              f'SecretKeyForTC_073"}}]', 2, 2)
    text = path.read_text()
    assert key not in text and "SecretKeyForTC_073" not in text
    assert lines_of(path)[0]["frame"][3] == {"key": "AuthorizationKey", "value": wirelog.MASK}
