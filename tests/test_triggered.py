"""harness.states.triggered: the charge point the harness plays (SUT csms) sends what a
TriggerMessage it accepted asked for, after the .conf (OCPP 1.6 section 5.17), with what it has
reported so far; a case's own TriggerMessage answer wins; a follow-up never overlaps another CALL
of the harness. Against a scripted central system (tests/scripted_peers.py) that triggers."""

from __future__ import annotations

import asyncio
import json

import pytest

from harness import defaults, pics as pics_module
from harness.rpc import CallResult
from harness.session import Session
from harness.states.csms import notify_status
from harness.states.triggered import answer_triggers
from harness.transport import connect
from scripted_peers import ScriptedCsms


@pytest.fixture
async def rig():
    pics = pics_module.load(pics_module.default_path("csms"))
    csms = await ScriptedCsms().start()
    session = Session("cp", response_timeout=5, defaults=defaults.charge_point(pics))
    triggers = answer_triggers(session, pics)
    session.begin()
    session.attach(await connect(csms.url, pics.dut.charge_point_id, timeout=5))
    await csms.connected.wait()
    yield csms, session, triggers, pics
    session.end()
    await session.close()
    await csms.stop()


def _index(csms: ScriptedCsms, sender: str, predicate) -> int:
    """Index in the scripted CSMS's frame list of the first frame of ``sender`` matching."""
    for i, (who, text) in enumerate(csms.frames):
        if who == sender and predicate(json.loads(text)):
            return i
    raise AssertionError(f"no such frame of {sender}")


async def _trigger(csms: ScriptedCsms, payload: dict) -> dict:
    answer = await csms.call("TriggerMessage", payload)
    assert isinstance(answer, CallResult), answer
    return answer.payload


def _sent_after_conf(csms: ScriptedCsms, action: str) -> bool:
    conf = _index(csms, "cp", lambda m: m[0] == 3 and m[2].get("status") == "Accepted")
    call = _index(csms, "cp", lambda m: m[0] == 2 and m[2] == action)
    return conf < call


async def test_status_notification_follows_the_conf_with_the_status_reported(rig):
    csms, session, triggers, pics = rig
    await notify_status(session, 1, "Preparing")  # what the harness's charge point said so far
    assert await _trigger(csms, {"requestedMessage": "StatusNotification",
                                 "connectorId": 1}) == {"status": "Accepted"}
    await csms.expect("StatusNotification")  # the harness's own, before the trigger
    sent = await csms.expect("StatusNotification")
    assert sent.payload["status"] == "Preparing"
    assert sent.payload["connectorId"] == 1 and sent.payload["errorCode"] == "NoError"
    conf = _index(csms, "cp", lambda m: m[0] == 3 and m[2] == {"status": "Accepted"})
    follow = max(i for i, (who, text) in enumerate(csms.frames)
                 if who == "cp" and '"StatusNotification"' in text)
    assert conf < follow
    await asyncio.wait_for(triggers.task, 5)
    assert triggers.sent == ["StatusNotification"]
    csms.assert_clean()


async def test_status_notification_without_connector_covers_every_connector(rig):
    csms, session, triggers, pics = rig
    await _trigger(csms, {"requestedMessage": "StatusNotification"})
    wanted = list(range(0, pics.features.connectors + 1))
    got = await csms.until(lambda: [r.payload["connectorId"]
                                    for r in csms.seen("StatusNotification")]
                           if len(csms.seen("StatusNotification")) == len(wanted) else None)
    assert got == wanted
    assert all(r.payload["status"] == "Available" for r in csms.seen("StatusNotification"))


async def test_heartbeat_and_meter_values_follow_the_conf(rig):
    csms, session, triggers, pics = rig
    await _trigger(csms, {"requestedMessage": "Heartbeat"})
    await csms.expect("Heartbeat")
    assert _sent_after_conf(csms, "Heartbeat")
    await _trigger(csms, {"requestedMessage": "MeterValues", "connectorId": 1})
    meter = await csms.expect("MeterValues")
    assert _sent_after_conf(csms, "MeterValues")
    sampled = meter.payload["meterValue"][0]["sampledValue"][0]
    assert meter.payload["connectorId"] == 1 and sampled["context"] == "Trigger"
    assert "transactionId" not in meter.payload  # no transaction open
    await asyncio.wait_for(triggers.task, 5)
    assert triggers.sent == ["Heartbeat", "MeterValues"]
    csms.assert_clean()


async def test_a_case_s_own_answer_wins_and_nothing_follows(rig):
    csms, session, triggers, pics = rig
    session.on("TriggerMessage", {"status": "Rejected"})
    assert await _trigger(csms, {"requestedMessage": "Heartbeat"}) == {"status": "Rejected"}
    session.on("TriggerMessage", {"status": "Accepted"})  # the case sends the Heartbeat itself
    assert await _trigger(csms, {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
    await csms.expect_none("Heartbeat", within=0.5)
    assert triggers.sent == [] and triggers.task is None


async def test_a_connector_it_does_not_have_is_rejected(rig):
    csms, session, triggers, pics = rig
    assert await _trigger(csms, {"requestedMessage": "StatusNotification",
                                 "connectorId": pics.features.connectors + 1}) == \
        {"status": "Rejected"}
    assert triggers.task is None


async def test_the_follow_up_waits_for_an_outstanding_call_of_the_harness(rig):
    csms, session, triggers, pics = rig
    held: list[str] = []
    csms.responder = lambda action, p: (held.append(action), ...)[1] if action == "Heartbeat" \
        else None
    heartbeat = asyncio.ensure_future(session.call("Heartbeat", {}))
    await csms.expect("Heartbeat")  # outstanding: the scripted CSMS holds its answer
    await _trigger(csms, {"requestedMessage": "StatusNotification", "connectorId": 1})
    await csms.expect_none("StatusNotification", within=0.5)  # OCPP-J: one CALL outstanding
    uid = csms.seen("Heartbeat")[0].call.unique_id
    await csms.send_text(json.dumps([3, uid, {"currentTime": "2026-01-01T00:00:00Z"}]))
    await heartbeat
    await csms.expect("StatusNotification")
    # And a CALL of the case waits for a follow-up under way.
    csms.responder = None
    await _trigger(csms, {"requestedMessage": "Heartbeat"})
    await session.call("Heartbeat", {})
    beats = [i for i, (who, t) in enumerate(csms.frames) if who == "cp" and '"Heartbeat"' in t]
    assert len(beats) == 3 and held == ["Heartbeat"]
    # The case's Heartbeat left after the follow-up's was answered: never two outstanding.
    assert csms.frames[beats[2] - 1][0] == "csms" and triggers.sent[-1] == "Heartbeat"
    assert not session.harness_errors


async def test_the_reference_csms_triggering_status_while_pending_gets_every_connector():
    # The reference CSMS answers Pending, then asks for StatusNotification (section 4.2 lets a
    # charge point send a triggered message while Pending) and BootNotification: the
    # registration state takes the BootNotification trigger itself, the follow-up sends the rest.
    from harness.sim import CsmsSim
    from harness.states.registration import register
    pics = pics_module.load(pics_module.default_path("csms"))
    sim = CsmsSim(pics, port=0, faults=["boot_pending_first:interval=30,trigger_ms=100",
                                        "requests_after_boot:on_pending=1"])
    await sim.start()
    session = Session("cp", response_timeout=5, defaults=defaults.charge_point(pics))
    triggers = answer_triggers(session, pics)
    session.begin()
    try:
        session.attach(await connect(sim.url, pics.dut.charge_point_id, timeout=5))
        registration = await register(session, pics, step="1-2")
        await asyncio.wait_for(triggers.task, 5)
        record = sim.status()["chargePoints"][pics.dut.charge_point_id]
        assert registration.status == "Accepted"
        assert [b["status"] for b in record["bootNotifications"]] == ["Pending", "Accepted"]
        assert triggers.sent == ["StatusNotification"] * (pics.features.connectors + 1)
        assert sorted(record["statuses"]) == [str(c) for c in range(pics.features.connectors + 1)]
        assert not session.remarks and not session.harness_errors and not session.violations
    finally:
        session.end()
        await session.close()
        await sim.stop()


async def test_a_boot_trigger_while_the_boot_is_outstanding_is_sent_once(rig):
    # The central system sends TriggerMessage BootNotification before its Pending answer, so it
    # reaches the harness while no expectation waits: the default answer's follow-up sends the
    # BootNotification, and registration takes that one instead of sending its own.
    from harness.states.registration import register
    csms, session, triggers, pics = rig
    boots = iter(["Pending"] + ["Accepted"] * 5)

    async def pending_after_a_trigger(unique_id: str) -> None:
        await csms.call("TriggerMessage", {"requestedMessage": "BootNotification"})
        await csms.send_text(json.dumps([3, unique_id, {
            "status": next(boots), "currentTime": "2026-01-01T00:00:00Z", "interval": 30}]))

    tasks = []

    def responder(action: str, payload: dict):
        if action != "BootNotification":
            return None
        uid = csms.calls[-1].call.unique_id
        if len(csms.seen("BootNotification")) == 1:
            tasks.append(asyncio.ensure_future(pending_after_a_trigger(uid)))
            return ...
        return {"status": next(boots), "currentTime": "2026-01-01T00:00:00Z", "interval": 30}

    csms.responder = responder
    registration = await asyncio.wait_for(register(session, pics, step="1-2"), 10)
    assert (registration.status, registration.pending) == ("Accepted", 1)
    assert len(csms.seen("BootNotification")) == 2  # not a third one from registration
    assert triggers.sent == ["BootNotification"]
    await asyncio.gather(*tasks)


async def test_the_follow_up_reports_what_the_harness_sent_by_whatever_path(rig):
    # Statuses and a transaction sent with plain Session.call (as some cases do), not the ledger.
    csms, session, triggers, pics = rig
    await session.call("StatusNotification", {"connectorId": 2, "errorCode": "GroundFailure",
                                              "status": "Faulted"})
    await session.call("StartTransaction", {"connectorId": 1, "idTag": "TAG1", "meterStart": 2500,
                                            "timestamp": "2026-01-01T00:00:00Z"})
    await _trigger(csms, {"requestedMessage": "StatusNotification", "connectorId": 2})
    await csms.expect("StatusNotification")  # the harness's own
    status = await csms.expect("StatusNotification")
    assert (status.payload["status"], status.payload["errorCode"]) == ("Faulted", "GroundFailure")
    await _trigger(csms, {"requestedMessage": "MeterValues", "connectorId": 1})
    meter = await csms.expect("MeterValues")
    assert meter.payload["transactionId"] == 1
    assert meter.payload["meterValue"][0]["sampledValue"][0]["value"] == "2500"
    await asyncio.wait_for(triggers.task, 5)
    await session.call("StopTransaction", {"transactionId": 1, "meterStop": 4000,
                                           "timestamp": "2026-01-01T00:10:00Z"})
    await _trigger(csms, {"requestedMessage": "MeterValues", "connectorId": 1})
    after = await csms.expect("MeterValues")
    assert "transactionId" not in after.payload
    assert after.payload["meterValue"][0]["sampledValue"][0]["value"] == "4000"



async def test_a_follow_up_for_a_connection_that_closed_is_dropped(rig):
    csms, session, triggers, pics = rig
    csms.responder = lambda action, p: ... if action == "Heartbeat" else None
    heartbeat = asyncio.ensure_future(session.call("Heartbeat", {}, timeout=5))
    await csms.expect("Heartbeat")  # outstanding: the follow-up must wait
    await _trigger(csms, {"requestedMessage": "StatusNotification", "connectorId": 1})
    await csms.drop()  # the connection goes before the follow-up could leave
    with pytest.raises(AssertionError):
        await heartbeat  # DeviceDisconnected
    await asyncio.wait_for(triggers.task, 5)
    assert triggers.sent == [] and not session.remarks and not session.harness_errors
