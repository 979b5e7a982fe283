"""`python -m harness validate` on logs from anywhere (harness.offline): formats, gzip, folders and
globs, corrupt lines, numbers as written, and one verdict whichever way a frame is judged (the live
Checker, the streaming command, --jobs N)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import orjson
import pytest

from harness import __main__ as cli
from harness import offline
from harness.protocol import Checker
from harness.wirelog import WireLog

NOW = "2026-11-21T10:00:00Z"
BOOT = '{"chargePointVendor":"Acme","chargePointModel":"W1"}'
BOOT_OK = f'{{"status":"Accepted","currentTime":"{NOW}","interval":300}}'
HB_OK = f'{{"currentTime":"{NOW}"}}'


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


# --- JSON Lines ----------------------------------------------------------------------------------

def test_frame_objects_without_ts_or_mono_and_unknown_events(tmp_path, capsys):
    log = write(tmp_path / "a.jsonl",
                '{"event": "handshake", "detail": {"path": "/ocpp/CP1"}}',
                f'{{"from": "cp", "frame": [2, "1", "BootNotification", {BOOT}]}}',
                '{"ts": "2026-11-21T10:00:00.000Z", "event": "driver", "detail": {"action": "x"}}',
                f'{{"from": "csms", "frame": [3, "1", {{"status": "Maybe", "currentTime": "{NOW}", '
                '"interval": 1}]}')
    code, out, err = run(capsys, "validate", str(log))
    assert (code, err) == (1, "")
    assert out[0].startswith(f"{log}:4: csms BootNotification $.status: ") and "[enum]" in out[0]
    assert out[1:] == ["2 frames, 1 finding"]


def test_bare_frames_direction_from_the_action_and_the_call_answered(tmp_path, capsys):
    log = write(tmp_path / "bare.jsonl",
                f'[2,"1","BootNotification",{BOOT}]',
                f'[3,"1",{BOOT_OK}]',
                '[2,"2","ClearCache",{}]',                      # only a central system sends it
                '[3,"2",{"status":"Accepted"}]',                 # so the charge point answers
                '[2,"3","DataTransfer",{"vendorId":"x"}]',       # either side may send it
                '[3,"9",{}]')                                   # answers nothing: no sender
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert [line.split(" frame: ")[0] for line in out[:2]] == [
        f"{log}:5: ? ?", f"{log}:6: ? ?"]
    assert all("[log.direction]" in line and "--from" in line for line in out[:2])
    assert out[2:] == ["4 frames, 2 findings"]


def test_from_names_the_sender_of_frames_without_one(tmp_path, capsys):
    log = write(tmp_path / "cp-only.jsonl", '[2,"1","DataTransfer",{"vendorId":"x"}]',
                '[2,"2","Heartbeat",{}]', '[2,"3","ClearCache",{}]')
    code, out, _ = run(capsys, "validate", "--from", "cp", str(log))
    assert code == 1
    assert out[0] == f"{log}:3: cp ClearCache frame: ClearCache is not sent by a charge point " \
        "[rpc.direction]"
    assert sum("[rpc.unanswered]" in line for line in out) == 3


def test_a_truncated_last_line_and_a_corrupt_line_are_findings_of_their_lines(tmp_path, capsys):
    log = tmp_path / "cut.jsonl"
    log.write_bytes(b'{"from":"cp","frame":[2,"1","Heartbeat",{}]}\n'
                    b'\xff\xfe not text\n'
                    b'{"from":"csms","frame":[3,"1",{"currentTime":"2026-11-21T10:00:00Z"}]}\n'
                    b'{"a": 1}\n'
                    b'{"from":"cp","frame":[2,"2","Heart')
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert out[0].startswith(f"{log}:2: ? ? line: not UTF-8 text") and "[log.line]" in out[0]
    assert out[1].startswith(f"{log}:4: ? ? line: a JSON object with neither")
    assert out[2].startswith(f"{log}:5: ? ? line: not JSON") and "truncated" in out[2]
    assert out[3:] == ["2 frames, 3 findings"]


def test_what_orjson_refuses_is_read_by_the_standard_library(tmp_path, capsys):
    wide = 123456789012345678901234567890  # orjson reads it as a float: not an integer
    deep = "[" * 3000 + "]" * 3000
    log = write(tmp_path / "odd.jsonl",
                '{"from":"cp","frame":[2,"1","Authorize",{"idTag":"\\ud800"}]}',  # lone surrogate
                '{"from":"csms","frame":[3,"1",{"idTagInfo":{"status":"Accepted"}}]}',
                f'{{"from":"cp","frame":[2,"2","StatusNotification",{{"connectorId":{wide},'
                f'"errorCode":"NoError","status":"Available"}}]}}',
                '{"from":"csms","frame":[3,"2",{}]}',
                f'{{"from":"cp","frame":[2,"3","DataTransfer",{{"vendorId":"x","data":{deep}}}]}}')
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert len(out) == 2 and out[0].startswith(f"{log}:5: ? ? line: nested too deep")
    assert out[1] == "4 frames, 1 finding"


@pytest.mark.parametrize("limit, bad", [("7.10", False), ("6.1000000000000000001", True),
                                        ("73E-1", False), ("7.15", True), ("1E-400", True),
                                        ("123456789012.1", False), ("7.1000000000000", False)])
def test_numbers_are_judged_as_written_without_raw(tmp_path, capsys, limit, bad):
    # A wire log written by hand (no "raw") and a bare frame: the line's own digits decide.
    profile = ('{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile",'
               '"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A",'
               f'"chargingSchedulePeriod":[{{"startPeriod":0,"limit":{limit}}}]}}}}')
    call = f'[2,"1","SetChargingProfile",{{"connectorId":1,"csChargingProfiles":{profile}}}]'
    for name, line in (("obj", f'{{"from":"csms","frame":{call}}}'), ("bare", call)):
        log = write(tmp_path / f"{name}.jsonl", line, '[3,"1",{"status":"Accepted"}]')
        code, out, _ = run(capsys, "validate", str(log))
        assert code == int(bad), (name, out)
        if bad:
            assert out[0].endswith(f"{limit} is not a multiple of 0.1 [multipleOf]")


# --- implementation logs -------------------------------------------------------------------------

def test_ocpp_python_library_log_of_a_central_system(tmp_path, capsys):
    log = write(tmp_path / "csms.log",
                "2026-11-21 10:00:00,001 INFO websockets.server: connection open",
                f'INFO:ocpp:CP_1: receive message [2,"a1","BootNotification",{BOOT}]',
                f'INFO:ocpp:CP_1: send [3,"a1",{BOOT_OK}]',
                # a second charge point, its first frame an answer: it waits for its role
                '2026-11-21 10:00:01,000 INFO ocpp: CP_2: send [2,"r1","ClearCache",{}]',
                'INFO:ocpp:CP_2: receive message [3,"r1",{"status":"Maybe"}]',
                'INFO:ocpp:CP_1: receive message [2,"a2","Heartbeat",{}]',
                "ERROR:ocpp:Error while handling request '...'")
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert out[0].startswith(f"{log}:5: cp ClearCache $.status: ") and "[enum]" in out[0]
    assert out[1] == (f"{log}:6: cp Heartbeat frame: CALL Heartbeat 'a2' was never answered "
                      "(the log ends) [rpc.unanswered]")
    assert out[2:] == ["5 frames, 2 findings"]


def test_ocpp_python_library_log_of_a_charge_point_waits_for_its_role(tmp_path, capsys):
    log = write(tmp_path / "cp.log",
                'INFO:ocpp:CP_9: send [2,"d1","DataTransfer",{"vendorId":"x"}]',  # either side
                'INFO:ocpp:CP_9: receive message [3,"d1",{"status":"Accepted"}]',
                'INFO:ocpp:CP_9: send [2,"b1","BootNotification",{"chargePointVendor":"A"}]',
                f'INFO:ocpp:CP_9: receive message [3,"b1",{BOOT_OK}]')
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert out[0].startswith(f"{log}:3: cp BootNotification $.chargePointModel: ")
    assert out[1:] == ["4 frames, 1 finding"]


def test_steve_log(tmp_path, capsys):
    prefix = "[INFO ] 2026-11-21 10:00:00,000 de.rwth.idsg.steve.ocpp.ws.WebSocketLogger (qtp-42) - "
    log = write(tmp_path / "steve.log",
                prefix + "[chargeBoxId=CB1, sessionId=s1] Connection is established",
                prefix + f'[chargeBoxId=CB1, sessionId=s1] Received: [2,"1","BootNotification",{BOOT}]',
                prefix + f'[chargeBoxId=CB1, sessionId=s1] Sending: [3,"1",{BOOT_OK}]',
                prefix + '[chargeBoxId=CB1, sessionId=s1] Sending: [2,"x","Reset",{"type":"Hard"}]',
                "[INFO ] 2026-11-21 10:00:01,000 some.other.Logger - Received: nothing of ours",
                prefix + "[chargeBoxId=CB1, sessionId=s1] Connection is closed, status: CloseStatus"
                "[code=1006, reason=null]",
                prefix + "[chargeBoxId=CB1, sessionId=s2] Connection is established",
                prefix + '[chargeBoxId=CB1, sessionId=s2] Received: [2,"1","Heartbeat",{}]',
                prefix + '[chargeBoxId=CB1, sessionId=s2] Sending: [3,"1",{"currentTime":"x"}]')
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    assert out[0].startswith(f"{log}:9: csms Heartbeat $.currentTime: ") and \
        "[format:date-time]" in out[0]
    assert out[1] == (f"{log}:4: csms Reset frame: CALL Reset 'x' was never answered (the "
                      "connection closed at line 6) [rpc.unanswered]")
    assert out[2:] == ["5 frames, 2 findings"]


# --- files, folders, globs, gzip -----------------------------------------------------------------

def test_gzip_folders_and_globs(tmp_path, capsys):
    good = f'{{"from":"cp","frame":[2,"1","Heartbeat",{{}}]}}\n{{"from":"csms","frame":[3,"1",{HB_OK}]}}\n'
    (tmp_path / "day" / "sub").mkdir(parents=True)
    (tmp_path / "day" / "a.jsonl").write_text(good)
    with gzip.open(tmp_path / "day" / "sub" / "b.jsonl.gz", "wt") as fh:
        fh.write(good.replace(NOW, "yesterday"))
    (tmp_path / "day" / "report.html").write_text("<html>")  # not a log name: not taken
    code, out, _ = run(capsys, "validate", str(tmp_path / "day"))
    b = tmp_path / "day" / "sub" / "b.jsonl.gz"
    assert code == 1
    assert out == [f"{tmp_path / 'day' / 'a.jsonl'}: 2 frames, 0 findings",
                   f"{b}:2: csms Heartbeat $.currentTime: 'yesterday' is not an RFC 3339 "
                   "date-time: not in the RFC 3339 form YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|"
                   "-hh:mm) [format:date-time]",
                   f"{b}: 2 frames, 1 finding",
                   "2 logs (0 unusable), 4 frames, 1 finding"]
    code, out, _ = run(capsys, "validate", str(tmp_path / "day" / "**" / "*.gz"))
    assert code == 1 and out[-1] == "2 frames, 1 finding"
    code, out, err = run(capsys, "validate", str(tmp_path / "day"), str(tmp_path / "none.jsonl"))
    assert code == 2 and "none.jsonl: cannot read" in err
    assert out[-1] == "3 logs (1 unusable), 4 frames, 1 finding"


def test_json_document_of_several_logs(tmp_path, capsys):
    a = write(tmp_path / "a.jsonl", '{"from":"cp","frame":[2,"1","Heartbeat",{}]}')
    b = write(tmp_path / "b.jsonl", "")
    code, out, _ = run(capsys, "validate", "--json", str(a), str(b))
    doc = json.loads("\n".join(out))
    assert code == 2
    assert doc["totals"] == {"logs": 2, "unusable": 1, "frames": 1, "findings": 1, "remarks": 0}
    assert doc["logs"][0]["findings"][0]["rule"] == "rpc.unanswered"
    assert doc["logs"][1] == {"log": str(b), "error": f"{b}: empty log"}


# --- one verdict: live Checker, streaming, --jobs ------------------------------------------------

def mixed_trace(seed: int = 7, calls: int = 400) -> list[tuple[str, str] | str]:
    """Frames (sender, text) in wire order and connection boundaries ("connected"): valid and
    invalid payloads, unmatched and unanswered, uniqueIds reused, broken frames."""
    rng = random.Random(seed)
    out: list[tuple[str, str] | str] = ["connected"]
    pending: list[tuple[str, str]] = []
    for i in range(calls):
        roll = rng.random()
        uid = str(rng.randrange(6)) if rng.random() < 0.15 else f"u{i}"  # some reused
        if roll < 0.03:
            out.append("connected")
            pending = []
            continue
        if roll < 0.06:
            out.append((rng.choice(["cp", "csms"]), rng.choice(
                ["garbage", "[2,", '[3,"%s"]' % uid, '[2,"%s","Nope",{}]' % uid, "[]"])))
            continue
        if rng.random() < 0.6:
            sender, action = "cp", rng.choice(["Heartbeat", "BootNotification", "Authorize"])
            payload = {"Heartbeat": "{}", "BootNotification": BOOT,
                       "Authorize": '{"idTag":"%s"}' % ("T" * rng.choice([5, 25]))}[action]
        else:
            sender, action, payload = "csms", "ClearCache", rng.choice(["{}", '{"x":1}'])
        out.append((sender, f'[2,"{uid}","{action}",{payload}]'))
        pending.append((sender, uid))
        # answers come later, sometimes much later (across a cut), some never, some twice
        while pending and rng.random() < 0.55:
            who, answered = pending.pop(rng.randrange(len(pending)))
            other = "csms" if who == "cp" else "cp"
            body = rng.choice([HB_OK, BOOT_OK, '{"status":"Accepted"}', '{"idTagInfo":{}}', "{}"])
            out.append((other, f'[3,"{answered}",{body}]'))
            if rng.random() < 0.03:
                out.append((other, f'[3,"{answered}",{body}]'))
            if rng.random() < 0.03:
                out.append((other, f'[4,"{answered}","GenericError","",{{}}]'))
    return out


def write_wire_log(path: Path, trace) -> dict[int, int]:
    """The trace as a wire log; returns frame index -> line number."""
    lines: dict[int, int] = {}
    with WireLog(path) as log:
        number = 0
        for index, item in enumerate(trace):
            number += 1
            if item == "connected":
                log.write_event("connected", number, number)
            else:
                log.write_frame(item[0], item[1], number, number)
                lines[index] = number
    return lines


def live_findings(trace) -> list[tuple]:
    """What the live session's Checker says of each frame, in order, then the unanswered."""
    checker, out, unanswered = Checker(), [], []
    for index, item in enumerate(trace):
        if item == "connected":
            unanswered += [(sender, uid) for sender, uid in checker.pending]
            checker = Checker()
            continue
        checked = checker.check(*item)
        out += [(index, f.rule, f.path, f.message) for f in checked.findings]
    unanswered += [(sender, uid) for sender, uid in checker.pending]
    return out + sorted(unanswered)


@pytest.mark.parametrize("seed", [7, 8])
def test_live_checker_streaming_and_jobs_give_the_same_findings(tmp_path, monkeypatch, seed):
    trace = mixed_trace(seed)
    path = tmp_path / "mixed.jsonl"
    line_of = write_wire_log(path, trace)
    index_of = {line: index for index, line in line_of.items()}
    streamed = offline.judge_log(str(path))
    assert streamed.error is None and streamed.frames == len(line_of)
    # The live Checker, frame by frame.
    ours = [(index_of[r.line], r.finding.rule, r.finding.path, r.finding.message)
            for r in streamed.findings if r.finding.rule != "rpc.unanswered"]
    ours += sorted((r.sender, r.unique_id) for r in streamed.findings
                   if r.finding.rule == "rpc.unanswered")
    assert ours == live_findings(trace)
    rules = {r.finding.rule for r in streamed.findings}
    assert {"rpc.unmatched", "rpc.unanswered", "rpc.duplicate-id", "rpc.json",
            "additionalProperties"} <= rules  # the trace exercises what a cut can change
    # --jobs: cut into many ranges (ranges of ~300 bytes), the same output, finding for finding.
    monkeypatch.setattr(offline, "CHUNK_BYTES", 300)
    for jobs in (2, 3):
        (parallel,) = offline.judge_logs([str(path)], jobs=jobs)
        assert parallel.frames == streamed.frames
        assert parallel.findings == streamed.findings


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_check_valid_books_only_what_check_array_finds_nothing_wrong_with(seed):
    """The offline hot path (Checker.check_valid) against the live path (check_array), frame by
    frame from the same state: where the hot path says valid, check_array finds nothing and leaves
    the same pairing state; where it declines, it changed nothing. The mixed trace has valid and
    invalid payloads, reused and unmatched uniqueIds, answers to broken CALLs, SetChargingProfile
    limits (multipleOf) written exactly and not."""
    trace = mixed_trace(seed) + [
        ("csms", '[2,"p1","SetChargingProfile",%s]' % PROFILE.replace("LIMIT", "7.1")),
        ("cp", '[3,"p1",{"status":"Accepted"}]'),
        ("csms", '[2,"p2","SetChargingProfile",%s]' % PROFILE.replace("LIMIT", "7.15")),
        ("cp", '[3,"p2",{"status":"Accepted"}]'),
        ("csms", '[2,"p3","SetChargingProfile",%s]' % PROFILE.replace(
            "LIMIT", "7.1000000000000000001")),
        ("cp", '[3,"p3",{"status":"Accepted"}]'),
        ("cp", '[2,"b1","Heartbeat",{}]'), ("cp", '[3,"b1",{"currentTime":"%s"}]' % NOW)]
    hot, live, booked = Checker(), Checker(), 0
    for item in trace:
        if item == "connected":
            hot, live = Checker(), Checker()
            continue
        sender, text = item
        try:
            array = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue  # not JSON: no array for either path
        before = (dict(hot.pending), {s: set(u) for s, u in hot._used_ids.items()})
        result = hot.check_valid(sender, array, text)
        checked = live.check(sender, text)
        if result is None:
            assert (hot.pending, hot._used_ids) == before  # declined: nothing changed
            hot.check(sender, text)
        else:
            booked += 1
            assert not checked.findings, (item, checked.findings)
            assert result is True or result == (sender, array[1])
        assert hot.pending == live.pending and hot._used_ids == live._used_ids
    assert booked > 200


PROFILE = ('{"connectorId":1,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,'
           '"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute",'
           '"chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":'
           '[{"startPeriod":0,"limit":LIMIT}]}}}')


def test_jobs_on_a_log_that_needs_inference_and_on_many_files(tmp_path, monkeypatch):
    monkeypatch.setattr(offline, "CHUNK_BYTES", 200)
    bare = write(tmp_path / "bare.jsonl", *[line for i in range(40) for line in (
        f'[2,"{i}","Heartbeat",{{}}]', f'[3,"{i}",{{"currentTime":"bad"}}]')])
    other = write(tmp_path / "other.jsonl", '{"from":"cp","frame":[2,"1","Heartbeat",{}]}')
    paths = [str(bare), str(other), str(bare)]
    assert list(offline.judge_logs(paths, jobs=2)) == list(offline.judge_logs(paths, jobs=1))
    (result,) = offline.judge_logs([str(bare)], jobs=2)
    assert result.frames == 80 and len(result.findings) == 40


@pytest.mark.parametrize("text, as_written", [
    ('[2,"1","X",{"limit":7.1,"n":123456789012345}]', True),
    ('{"limit":6.1000000000000000001}', False), ('{"n":18446744073709551616}', False),
    ('{"x":1e-400}', False), ('{"x":1E+308}', False), ('{"x": -1.5e308}', False),
    ('[1,\n12345678901234567]', False), ('{"x":[0.10000000000000001]}', False),
    ('{"note":"id :1234567890123456"}', False),  # inside a string, where a number may start
    # no number starts inside a word: a quoted ICCID, a UUID's digits and hex
    ('{"iccid":"8931080019073183445"}', True),
    ('[2,"844948a8-6c51-4e92-be89-f91859082551","X",{"id":"40643-4278-4946-e631"}]', True)])
def test_floats_as_written_is_conservative(text, as_written):
    from harness.protocol import floats_as_written
    assert floats_as_written(text) is as_written
    assert floats_as_written(text.encode()) is as_written


def test_a_cut_gzip_log_keeps_what_was_read_and_a_bom_is_no_finding(tmp_path, capsys):
    lines = "".join(f'{{"from":"cp","frame":[2,"{i}","Heartbeat",{{}}]}}\n'
                    f'{{"from":"csms","frame":[3,"{i}",{HB_OK}]}}\n' for i in range(2000))
    whole = gzip.compress(("\ufeff" + lines).encode())
    log = tmp_path / "cut.jsonl.gz"
    log.write_bytes(whole[:len(whole) // 2])
    code, out, _ = run(capsys, "validate", str(log))
    assert code == 1
    cut = [line for line in out if "the file ends early" in line]
    assert len(cut) == 1 and cut[0].endswith("(a truncated or corrupt file) [log.line]")
    assert int(out[-1].split()[0]) > 100  # what was read before the cut was judged
    log.write_bytes(whole)
    assert run(capsys, "validate", str(log))[:2] == (0, ["4000 frames, 0 findings"])
