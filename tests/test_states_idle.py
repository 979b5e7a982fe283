"""Reusable state Idle (harness/states/idle/), run as a user runs the suite: a case that fails
half-way leaves the charge point dirty, and the next case still starts from an idle device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = """
from harness.cases import case
from harness.states import cs

@case("TC_901_CS", "Fails with the cable in and a transaction running", profile="Core")
async def test_tc_901_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    await cs.authorized(cp, driver, pics)
    tx = cs.Tx(cs.connector_under_test(pics), cs.valid_tag(pics))
    await cs.start_after_plug_in(cp, driver, pics, tx)
    assert False, "step 9: a failure that leaves the transaction running"

@case("TC_902_CS", "Fails with an authorization pending", profile="Core")
async def test_tc_902_cs(cp, driver, pics):
    # ConnectionTimeOut short while the authorization begins; the failure restores the old value
    # (60 s): the authorization's timer still runs with the short one.
    await cs.booted(cp, pics)
    async with cs.configured(cp, pics, {"ConnectionTimeOut": "3"}):
        await cs.authorized(cp, driver, pics)
        assert False, "step 3: a failure that leaves the idTag authorized, no cable"

@case("TC_903_CS", "Needs an idle charge point", profile="Core")
async def test_tc_903_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    async with cs.charging(cp, driver, pics) as tx:
        assert tx.transaction_id is not None
    others = cs.requests_of(cp, "StopTransaction",
                            lambda p: p.get("transactionId") != tx.transaction_id)
    assert not others, "the clean-up's StopTransaction is not among the case's requests"

@case("TC_904_CS", "After a clean case", profile="Core")
async def test_tc_904_cs(cp, driver, pics):
    await cs.booted(cp, pics)
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_a_failed_case_does_not_fail_the_next_ones(pytester, tmp_path):
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-p", "no:randomly")
    verdicts = {c["id"]: (c["verdict"], c["reason"])
                for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert verdicts["TC_901_CS"][0] == "FAIL" and "step 9" in verdicts["TC_901_CS"][1]
    assert verdicts["TC_902_CS"][0] == "FAIL" and "step 3" in verdicts["TC_902_CS"][1], verdicts
    assert verdicts["TC_903_CS"] == ("PASS", ""), verdicts
    assert verdicts["TC_904_CS"] == ("PASS", ""), verdicts
    # The clean-up is in the wire log of the case it prepared.
    wire = (out / "wire" / "TC_902_CS.jsonl").read_text()
    assert "RemoteStopTransaction" in wire or "StopTransaction" in wire
    result.assert_outcomes(passed=2, failed=2)


def _frames(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _sent(frames: list[dict], by: str) -> list[str]:
    return [f["frame"][2] for f in frames if f.get("from") == by and isinstance(f.get("frame"), list)
            and f["frame"][0] == 2]


def test_a_pending_authorization_is_waited_out_not_presented_again(pytester, tmp_path):
    """A charge point that reads a second presentation as a new authorization (Authorize.req
    again, ConnectionTimeOut restarted): the Idle state waits the authorization out for the
    ConnectionTimeOut in force when it began (3 s, though the case restored 60 s), and never
    presents the idTag again."""
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-k", "TC_902 or TC_903",
                 "--ocpp-sim-fault", "reauthorize_on_present")
    verdicts = {c["id"]: (c["verdict"], c["reason"])
                for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert verdicts["TC_902_CS"][0] == "FAIL" and "step 3" in verdicts["TC_902_CS"][1], verdicts
    assert verdicts["TC_903_CS"] == ("PASS", ""), verdicts
    frames = _frames(out / "wire" / "TC_903_CS.jsonl")
    from_cp = _sent(frames, "cp")
    # The clean-up is at the head of TC_903's log: the status Available after ConnectionTimeOut,
    # and no Authorize.req before the case's own (a second presentation would have caused one).
    first_available = next(i for i, f in enumerate(frames) if f.get("from") == "cp"
                           and isinstance(f.get("frame"), list) and f["frame"][0] == 2
                           and f["frame"][2] == "StatusNotification"
                           and f["frame"][3].get("status") == "Available")
    before = [f["frame"][2] for f in frames[:first_available]
              if f.get("from") == "cp" and isinstance(f.get("frame"), list) and f["frame"][0] == 2]
    assert "Authorize" not in before, before
    assert "StartTransaction" in from_cp
    result.assert_outcomes(passed=1, failed=1, deselected=2)


STUCK_CASES = """
from harness.cases import case
from harness.states import cs

@case("TC_911_CS", "Fails with an authorization the device never ends", profile="Core")
async def test_tc_911_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    async with cs.configured(cp, pics, {"ConnectionTimeOut": "2"}):
        await cs.authorized(cp, driver, pics)
        assert False, "step 3: a failure that leaves the idTag authorized, no cable"

@case("TC_912_CS", "Finds the device stuck", profile="Core")
async def test_tc_912_cs(cp, driver, pics):
    await cs.booted(cp, pics)

@case("TC_913_CS", "Blocked", profile="Core")
async def test_tc_913_cs(cp, driver, pics):
    await cs.booted(cp, pics)

@case("TC_914_CS", "Blocked too", profile="Core")
async def test_tc_914_cs(cp, driver, pics):
    await cs.booted(cp, pics)
"""


def test_a_device_that_cannot_be_brought_idle_blocks_the_later_cases_once(pytester, tmp_path):
    """An authorization neither ConnectionTimeOut nor anything else ends (the device ignores its
    ConnectionTimeOut and reads a second presentation as a new authorization): the case that finds
    it is INCONCLUSIVE naming the root case, the later ones BLOCKED by the root, skipped with
    "not run: ", each after a re-check, not a clean-up (fast)."""
    pytester.makepyfile(test_cases=STUCK_CASES)
    out = tmp_path / "out"
    junit = tmp_path / "junit.xml"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-p", "no:randomly",
                 "--ocpp-sim-fault", "reauthorize_on_present",
                 "--ocpp-sim-fault", "ignore_connection_timeout", f"--junitxml={junit}")
    report = json.loads((out / "report.json").read_text())
    cases = {c["id"]: c for c in report["test_cases"]}
    assert cases["TC_911_CS"]["verdict"] == "FAIL"
    finder = cases["TC_912_CS"]
    assert finder["verdict"] == "INCONCLUSIVE", finder
    assert "stays 'Preparing'" in finder["reason"], finder
    assert "ConnectionTimeOut 2 s" in finder["reason"], finder
    assert "left so by TC_911_CS, which failed" in finder["reason"], finder
    for case_id in ("TC_913_CS", "TC_914_CS"):
        blocked = cases[case_id]
        assert blocked["verdict"] == "BLOCKED", blocked
        assert blocked["blocked_by"] == "TC_911_CS"
        assert blocked["reason"] == ("not run: the device stayed Preparing (connector 1) since "
                                     "TC_911_CS failed"), blocked["reason"]
        assert blocked["duration_s"] < 10, blocked  # a re-check, not another clean-up
    assert cases["TC_911_CS"]["blocked_by"] is None
    import jsonschema
    schema = json.loads((ROOT / "harness" / "report" / "report.schema.json").read_text())
    jsonschema.validate(report, schema)
    xml = junit.read_text()
    assert 'message="not run: the device stayed Preparing (connector 1) since TC_911_CS failed"' \
        in xml
    html = (out / "report.html").read_text()
    assert 'class="v v-BLOCKED"' in html and "blocked by" in html
    result.assert_outcomes(passed=0, failed=1, errors=1, skipped=2)


def test_an_idle_device_costs_no_traffic(pytester, tmp_path):
    pytester.makepyfile(test_cases=CASES)
    out = tmp_path / "out"
    result = run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-k", "TC_903 or TC_904")
    result.assert_outcomes(passed=2, deselected=2)
    frames = [json.loads(line) for line in
              (out / "wire" / "TC_904_CS.jsonl").read_text().splitlines()]
    sent = [f["frame"][2] for f in frames if f.get("from") == "csms" and f["frame"][0] == 2]
    assert sent == [], f"the harness sent {sent} to a charge point it saw idle"


def test_the_run_starts_with_the_rigs_reset_device_only_when_declared():
    """known_state: a rig that declares reset_device is asked for it once, before the first case
    (recorded as done for the run); a rig that declares nothing, or not it, is not."""
    import asyncio
    from types import SimpleNamespace

    from harness.states.idle import Tracker, known_state

    class Rig:
        def __init__(self, declared):
            self.declared, self.done = declared, []

        async def reset_device(self, *, timeout):
            self.done.append(timeout)
            return {}

    pics = SimpleNamespace(timing=SimpleNamespace(boot_timeout=7.0))
    for declared, expected in ((frozenset({"reset_device", "plug_in"}), [7.0]),
                               (None, []), (frozenset({"plug_in"}), [])):
        rig = Rig(declared)
        asyncio.run(known_state(None, rig, pics, Tracker()))
        assert rig.done == expected, declared


RESERVING = """
from harness.cases import case
from harness.states import cs
from harness.states.reservation import reserve_now

@case("TC_921_CS", "Fails with a reservation held", profile="Reservation")
async def test_tc_921_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    r = await reserve_now(cp, pics, expires_in=3600, reservation_id=424242)
    assert r.response.status == "Accepted"
    assert False, "step 3: a failure that leaves the reservation held"
"""

NEXT_RUN = """
from harness.cases import case
from harness.states import cs

@case("TC_922_CS", "The first case of the next run", profile="Core")
async def test_tc_922_cs(cp, driver, pics):
    await cs.booted(cp, pics)
"""


def test_what_a_run_left_on_the_device_is_undone_at_the_start_of_the_next(pytester, tmp_path):
    """A reservation a failed case left held (the run ended before the next Idle): written to the
    report directory's device-state.json and taken over by the next run, which cancels it unless
    the device reports the connector Available at its boot (then no traffic: the embedded
    simulator starts afresh, so here it does)."""
    out = tmp_path / "out"
    pytester.makepyfile(test_first=RESERVING)
    run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out)).assert_outcomes(failed=1)
    left = json.loads((out / "device-state.json").read_text())
    assert left["reservations"] == [{"reservationId": 424242, "connectorId": 1,
                                     "expiryDate": left["reservations"][0]["expiryDate"]}]
    (pytester.path / "test_first.py").unlink()
    pytester.makepyfile(test_next=NEXT_RUN)
    run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out)).assert_outcomes(passed=1)
    sent = _sent(_frames(out / "wire" / "TC_922_CS.jsonl"), "csms")
    assert sent == [], sent  # Available at the boot: the reservation is gone, nothing to cancel
    assert json.loads((out / "device-state.json").read_text())["reservations"] == []


def test_a_reservation_an_earlier_run_left_is_cancelled_while_the_device_holds_it():
    """Tracker.adopt: the earlier run's reservation is the harness's again (cancelled by id by
    the Idle state) while the device reports the connector Reserved; malformed or foreign state
    files are ignored."""
    from types import SimpleNamespace

    from harness.states.idle import Tracker

    track = Tracker()
    assert track.adopt({"charge_point_id": "OTHER", "reservations": [
        {"reservationId": 1, "connectorId": 1}]}, "CP1") == []
    assert track.adopt({"charge_point_id": "CP1", "reservations": [{"reservationId": "x"}],
                        "configuration": {"K": 5}}, "CP1") == []
    left = {"charge_point_id": "CP1", "reservations": [
        {"reservationId": 7, "connectorId": 1, "expiryDate": "2999-01-01T00:00:00Z"}],
        "charging_profiles": [{"chargingProfileId": 3, "connectorId": 0}],
        "configuration": {"MeterValueSampleInterval": "60"},
        "configuration_not_restored": {"ResetRetries": "its value before the change was never read"}}
    assert track.adopt(left, "CP1") == ["reservation 7", "charging profile 3",
                                        "configuration key MeterValueSampleInterval",
                                        "configuration key ResetRetries (not restored)"]
    assert track.leftovers("CP1") == {**left, "charge_point_id": "CP1"}
    # The earlier run's value of a key it could not restore is never taken for an original.
    track.answered("ChangeConfiguration", {"key": "ResetRetries", "value": "3"},
                   SimpleNamespace(status="Accepted", error=None))
    assert "ResetRetries" not in track.config_original


def _violation(text: str, at: float):
    from harness.session import Violation
    return Violation(1, "cp", text, [], at)


def test_the_retries_of_a_refused_message_end_with_its_last_allowed_attempt():
    """Tracker.retries_until, from the device's own timers (section 4.7): a message refused n
    times is tried again TransactionMessageRetryInterval x n after its last attempt, and not after
    the TransactionMessageAttempts-th; a retry under a new uniqueId is an attempt of the same
    message (same action and payload), another message counts apart; a BootNotification refused
    leaves the device not accepted until a boot is."""
    from types import SimpleNamespace

    from harness.states.idle import MAX_RETRY_WAIT_S, Tracker

    track = Tracker(pics=SimpleNamespace(timing=SimpleNamespace(triggered_function_timeout=2.0)),
                    config_known={"TransactionMessageAttempts": "3",
                                  "TransactionMessageRetryInterval": "5"})
    start = '"StartTransaction",{"connectorId":1,"idTag":"A","timestamp":"2024-05-01T10:00:00Z"}]'
    track.took_violations([_violation(f'[2,"u1",{start}', 100.0)])
    assert track.retries_until() == 100.0 + 5 * 1 + 2
    track.took_violations([_violation(f'[2,"u1",{start}', 100.0)])  # seen again: not an attempt
    track.took_violations([_violation(f'[2,"u2",{start}', 105.0)])
    assert track.retries_until() == 105.0 + 5 * 2 + 2
    track.took_violations([_violation(f'[2,"u3", {start}', 115.0)])
    # The third and last: only what it queued behind it is waited for.
    assert track.retries_until() == 115.0 + 2
    other = '"StopTransaction",{"transactionId":7,"meterStop":1,"timestamp":"x"}]'
    track.took_violations([_violation(f'[2,"u4",{other}', 116.0)])
    assert track.retries_until() == 116.0 + 5 + 2
    assert len(track.retrying) == 2
    track.config_known["TransactionMessageRetryInterval"] = "1000"
    assert track.retries_until() == 116.0 + MAX_RETRY_WAIT_S  # bounded after its first attempt
    assert not track.not_accepted
    track.took_violations([_violation('[2,"b1","BootNotification",{"chargePointVendor":"V"}]',
                                      117.0)])
    assert track.not_accepted
    assert track.dirt(SimpleNamespace(features=SimpleNamespace(connectors=1))).startswith(
        "not accepted")


BOOT_CASES = """
from harness.cases import case
from harness.states import cs

@case("TC_931_CS", "Boots", profile="Core")
async def test_tc_931_cs(cp, driver, pics):
    await cs.booted(cp, pics)

@case("TC_932_CS", "Boots too", profile="Core")
async def test_tc_932_cs(cp, driver, pics):
    await cs.booted(cp, pics)
"""


def test_a_device_whose_boot_was_refused_boots_again_for_the_next_case(pytester, tmp_path):
    """A BootNotification that breaks the protocol is answered with a CALLERROR, so the device is
    never accepted and sends nothing else (section 4.2). The next case is not BLOCKED and does not
    run on that silent connection: the Idle state power-cycles it and leaves its boot to the
    case, which FAILs on the same violation as it does alone on a fresh device (~5 s)."""
    pytester.makepyfile(test_cases=BOOT_CASES)
    out = tmp_path / "out"
    run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-p", "no:randomly",
        "--ocpp-sim-fault", "missing_field:action=BootNotification,field=chargePointModel")
    cases = {c["id"]: c for c in json.loads((out / "report.json").read_text())["test_cases"]}
    for case_id in ("TC_931_CS", "TC_932_CS"):
        assert cases[case_id]["verdict"] == "FAIL", cases[case_id]
        assert "chargePointModel" in cases[case_id]["reason"], cases[case_id]
    frames = _frames(out / "wire" / "TC_932_CS.jsonl")
    actions = [f["detail"]["action"] for f in frames if f.get("event") == "driver"
               and f["detail"].get("phase") == "asked"]
    assert actions == ["power_cycle"], actions


UNREAD_CASES = """
from harness.cases import case
from harness.states import cs

@case("TC_941_CS", "Changes ResetRetries twice, unread, and fails", profile="Core")
async def test_tc_941_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    for value in ("4", "5"):
        change = await cp.call("ChangeConfiguration", {"key": "ResetRetries", "value": value})
        assert change.status == "Accepted", change
    assert False, "step 2: a failure that leaves ResetRetries changed"

@case("TC_942_CS", "Changes ResetRetries once more and fails", profile="Core")
async def test_tc_942_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    change = await cp.call("ChangeConfiguration", {"key": "ResetRetries", "value": "6"})
    assert change.status == "Accepted", change
    assert False, "step 2: a failure that leaves ResetRetries changed again"

@case("TC_943_CS", "Finds the device's own ResetRetries", profile="Core")
async def test_tc_943_cs(cp, driver, pics):
    await cs.booted(cp, pics)
    get = await cp.call("GetConfiguration", {"key": ["ResetRetries"]})
    values = [kv.get("value") for kv in get.get("configurationKey") or []]
    assert values == ["1"], f"ResetRetries is {values}, not the device's original ['1']"
"""


def test_a_key_changed_twice_before_it_was_read_ends_at_the_devices_original(pytester, tmp_path):
    """The PICS does not declare ResetRetries (the device's own value, 1, is the simulator's
    default): one case changes it twice, the next once more, both fail. The Idle state puts back
    the device's value, read (GetConfiguration) before the harness's first change -- not the
    harness's own first value (4) as the original. Fails without the read."""
    pics = (ROOT / "harness" / "sim" / "default_cs.toml").read_text()
    assert '\nResetRetries = "1"\n' in pics
    (tmp_path / "pics.toml").write_text(pics.replace('\nResetRetries = "1"\n', "\n"))
    pytester.makepyfile(test_cases=UNREAD_CASES)
    out = tmp_path / "out"
    run(pytester, "--ocpp-sut", "cs", "--ocpp-pics", str(tmp_path / "pics.toml"),
        "--ocpp-report", str(out), "-p", "no:randomly")
    cases = {c["id"]: c for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert cases["TC_941_CS"]["verdict"] == "FAIL" and "step 2" in cases["TC_941_CS"]["reason"]
    assert cases["TC_942_CS"]["verdict"] == "FAIL" and "step 2" in cases["TC_942_CS"]["reason"]
    assert cases["TC_943_CS"]["verdict"] == "PASS", cases["TC_943_CS"]
    frames = _frames(out / "wire" / "TC_941_CS.jsonl")
    sent = [(f["frame"][2], f["frame"][3]) for f in frames if f.get("from") == "csms"
            and isinstance(f.get("frame"), list) and f["frame"][0] == 2]
    # Read once, before the first change.
    assert sent[:3] == [("GetConfiguration", {"key": ["ResetRetries"]}),
                        ("ChangeConfiguration", {"key": "ResetRetries", "value": "4"}),
                        ("ChangeConfiguration", {"key": "ResetRetries", "value": "5"})], sent
    assert json.loads((out / "device-state.json").read_text())["configuration"] == {}


def test_a_write_only_key_is_restored_to_the_pics_password_or_reported_not_restored():
    """AuthorizationKey (write-only: GetConfiguration never shows it) is not read before a change;
    its original is the PICS basic_auth_password, never the harness's own first value, and it is
    never written to device-state.json. Without a PICS password it could not be restored: a
    remark on the case, and the Idle state does not hold the device for it."""
    from types import SimpleNamespace

    from harness.states.idle import Tracker

    accepted = SimpleNamespace(status="Accepted", error=None)
    pics = SimpleNamespace(security=SimpleNamespace(basic_auth_password="pics-secret"))
    track = Tracker(pics=pics)
    for value in ("NEW1", "NEW2"):
        track.answered("ChangeConfiguration", {"key": "AuthorizationKey", "value": value},
                       accepted)
    assert track.config_original == {"AuthorizationKey": "pics-secret"}
    assert "pics-secret" not in json.dumps(track.leftovers("CP1"))
    track.answered("ChangeConfiguration", {"key": "AuthorizationKey", "value": "pics-secret"},
                   accepted)
    assert track.config_original == {} and track.config_lost == {}

    remarks: list[str] = []
    track = Tracker(pics=SimpleNamespace(security=SimpleNamespace(basic_auth_password=None)),
                    session=SimpleNamespace(remark=remarks.append))
    for value in ("NEW1", "NEW2"):
        track.answered("ChangeConfiguration", {"key": "AuthorizationKey", "value": value},
                       accepted)
    assert track.config_original == {} and list(track.config_lost) == ["AuthorizationKey"]
    assert len(remarks) == 1 and "could not be restored" in remarks[0], remarks
    assert "NEW" not in remarks[0] and "NEW" not in json.dumps(track.leftovers("CP1"))
    assert track.leftovers("CP1")["configuration_not_restored"] == {
        "AuthorizationKey": "its value before the change was never read"}


KEY_CASES = """
from harness.cases import case
from harness.states import cs
from harness.states.security import dropped_by_device, reconnection
from harness.wirelog import secret

NEW = "NewKey-0123456789"

@case("TC_961_CS", "Changes AuthorizationKey and fails with it in force", profile="Security")
async def test_tc_961_cs(cp, driver, pics, bench):
    await cs.booted(cp, pics)
    secret(NEW)
    bench.server.basic_auth_password = (pics.security.basic_auth_password, NEW)
    change = await cp.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": NEW})
    assert change.status == "Accepted", change
    await reconnection(cp, pics, step="step 3", drop=not await dropped_by_device(cp, pics))
    assert False, "step 4: a failure that leaves the new AuthorizationKey in force"

@case("TC_962_CS", "Connects with the PICS password", profile="Security")
async def test_tc_962_cs(cp, driver, pics, bench):
    bench.server.basic_auth_password = pics.security.basic_auth_password
    await cs.booted(cp, pics)
    await reconnection(cp, pics, step="step 1", drop=True)
"""


def test_an_authorization_key_a_failed_case_left_is_put_back_to_the_pics_password(pytester,
                                                                                   tmp_path):
    """A case changes the write-only AuthorizationKey (never read: its original is the PICS
    basic_auth_password) and fails with the new key in force; the Idle state puts the PICS
    password back (the device reconnects with it), so the next case connects with the PICS
    password only. Neither password is written anywhere. Before: never restored, TC_962 FAIL."""
    pytester.makepyfile(test_cases=KEY_CASES)
    out = tmp_path / "out"
    run(pytester, "--ocpp-sut", "cs", "--ocpp-report", str(out), "-p", "no:randomly",
        "--ocpp-pics", str(ROOT / "harness" / "sim" / "security_cs.toml"))
    cases = {c["id"]: c for c in json.loads((out / "report.json").read_text())["test_cases"]}
    assert cases["TC_961_CS"]["verdict"] == "FAIL" and "step 4" in cases["TC_961_CS"]["reason"]
    assert cases["TC_962_CS"]["verdict"] == "PASS", cases["TC_962_CS"]
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "SimCp-Basic-Auth-Key" not in text and "NewKey-0123456789" not in text, path
