"""The reference charge point against a scripted CSMS: Core behaviour, frame by frame.

Every test ends with ``assert_clean()``: each frame of both sides passed harness.protocol.Checker
(framing, pairing, schemas). Intervals are shortened through configuration keys; waits are for
frames, never sleeps.
"""

from __future__ import annotations

import asyncio
import pytest

from harness.rpc import CallError
from harness.sim import ChargePointSim
from harness import clock
from scripted_peers import ScriptedCsms, stand_in_pics


@pytest.fixture
async def csms():
    async with ScriptedCsms(interval=300) as server:
        yield server


@pytest.fixture
async def make_cp(csms):
    started: list[ChargePointSim] = []

    async def make(configuration: dict | None = None, faults=(), boot: bool = True,
                   **features) -> ChargePointSim:
        features.setdefault("connectors", 1)
        pics = stand_in_pics("cs", configuration=configuration, **features)
        cp = ChargePointSim(pics, csms.url, faults=faults, reconnect_min=0.05)
        started.append(cp)
        await cp.start()
        if boot:
            await booted(csms, features["connectors"])
        return cp

    yield make
    for cp in started:
        await cp.stop()
        assert len(cp.tasks) == 0, "tasks left behind"


async def booted(csms: ScriptedCsms, connectors: int) -> None:
    await csms.expect("BootNotification")
    for connector_id in range(connectors + 1):
        await csms.expect("StatusNotification", lambda p, c=connector_id: p["connectorId"] == c)


def status_is(status: str, connector_id: int = 1):
    return lambda p: p["connectorId"] == connector_id and p["status"] == status


async def charging(cp, csms, id_tag: str = "VALID0001") -> dict:
    """Plug in, present a card, until the transaction runs; returns StartTransaction.req."""
    await cp.control("plug_in", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("present_id_tag", {"idTag": id_tag})
    start = await csms.expect("StartTransaction")
    await csms.expect("StatusNotification", status_is("Charging"))
    return start.payload


# --- boot and heartbeat -------------------------------------------------------------------------

async def test_boot_reports_every_connector_and_connector_zero(csms, make_cp):
    await make_cp(connectors=2, boot=False)
    boot = await csms.expect("BootNotification")
    assert boot.payload["chargePointVendor"] == "OCPPHarness"
    statuses = [await csms.expect("StatusNotification") for _ in range(3)]
    assert sorted(s.payload["connectorId"] for s in statuses) == [0, 1, 2]
    assert {s.payload["status"] for s in statuses} == {"Available"}
    assert csms.paths[0] == "/ocpp/SIMCP001"
    csms.assert_clean()


async def test_heartbeat_follows_the_boot_interval(csms, make_cp):
    csms.interval = 1
    cp = await make_cp()
    first = await csms.expect("Heartbeat", timeout=3)
    second = await csms.expect("Heartbeat", timeout=3)
    assert 0.7 <= second.at - first.at <= 1.5
    assert cp.config.get("HeartbeatInterval") == "1"
    csms.assert_clean()


async def test_a_heartbeat_sent_late_is_not_followed_by_one_too_early(csms, make_cp):
    # A starved process (a loaded machine; the in-process simulator shares the harness's loop)
    # sends a Heartbeat late; catching up with the planned cadence then sent the next one early
    # (1 ms after, measured), a FAIL of Heartbeat interval accuracy that the harness's lag
    # monitor cannot excuse: the stall is before the two heartbeats, not between them.
    import time
    csms.interval = 1
    await make_cp()
    await csms.expect("Heartbeat", timeout=3)
    time.sleep(1.8)  # the stall: the next heartbeat falls due meanwhile
    late = await csms.expect("Heartbeat", timeout=3)
    after = await csms.expect("Heartbeat", timeout=3)
    assert after.at - late.at >= 0.9, after.at - late.at
    csms.assert_clean()


async def test_rejected_boot_is_retried_after_the_interval_and_nothing_else_is_sent(csms, make_cp):
    answers = iter([{"status": "Rejected", "currentTime": clock.now_iso(), "interval": 1}])
    csms.responder = lambda action, p: next(answers, None) if action == "BootNotification" else None
    await make_cp(boot=False)
    first = await csms.expect("BootNotification")
    second = await csms.expect("BootNotification", timeout=3)
    assert second.at - first.at >= 0.95
    assert [r.action for r in csms.calls[:2]] == ["BootNotification"] * 2
    await csms.expect("StatusNotification")
    csms.assert_clean()


async def test_pending_boot_answers_the_csms_and_a_trigger_cuts_the_wait(csms, make_cp):
    answers = iter([{"status": "Pending", "currentTime": clock.now_iso(), "interval": 60}])
    csms.responder = lambda action, p: next(answers, None) if action == "BootNotification" else None
    await make_cp(boot=False)
    await csms.expect("BootNotification")
    conf = await csms.result("GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert conf["configurationKey"][0]["value"] == "300"
    assert (await csms.result("ChangeConfiguration",
                              {"key": "MeterValueSampleInterval", "value": "30"})) == \
        {"status": "Accepted"}
    assert (await csms.result("TriggerMessage", {"requestedMessage": "BootNotification"})) == \
        {"status": "Accepted"}
    await csms.expect("BootNotification", timeout=2)
    await csms.expect("StatusNotification")
    csms.assert_clean()


# --- sessions ---------------------------------------------------------------------------------

async def test_plug_in_first_session_and_local_stop(csms, make_cp):
    cp = await make_cp()
    start = await charging(cp, csms)
    assert csms.seen("Authorize")[0].payload == {"idTag": "VALID0001"}
    assert start["connectorId"] == 1 and start["meterStart"] == 0
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    stop = await csms.expect("StopTransaction")
    assert stop.payload["transactionId"] == 1 and stop.payload["reason"] == "Local"
    assert stop.payload["idTag"] == "VALID0001"
    await csms.expect("StatusNotification", status_is("Finishing"))
    await cp.control("unplug", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("Available"))
    csms.assert_clean()


async def test_identification_first_times_out_without_a_cable(csms, make_cp):
    cp = await make_cp({"ConnectionTimeOut": "1"})
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await csms.expect("Authorize")
    preparing = await csms.expect("StatusNotification", status_is("Preparing"))
    available = await csms.expect("StatusNotification", status_is("Available"), timeout=3)
    assert available.at - preparing.at >= 0.95
    assert not csms.seen("StartTransaction")
    csms.assert_clean()


async def test_a_different_card_does_not_stop_the_transaction(csms, make_cp):
    cp = await make_cp()
    await charging(cp, csms)
    await cp.control("present_id_tag", {"idTag": "VALID0002"})
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    stop = await csms.expect("StopTransaction")
    assert stop.payload["idTag"] == "VALID0001"
    assert [r.payload["idTag"] for r in csms.seen("Authorize")] == ["VALID0001"]
    csms.assert_clean()


async def test_a_card_of_the_same_group_stops_the_transaction(csms, make_cp):
    parent = {"status": "Accepted", "parentIdTag": "PARENT0001"}
    csms.responder = lambda action, p: {"idTagInfo": parent} if action == "Authorize" else None
    cp = await make_cp()
    await charging(cp, csms)
    await cp.control("present_id_tag", {"idTag": "VALID0002"})
    stop = await csms.expect("StopTransaction")
    assert stop.payload["idTag"] == "VALID0002"
    csms.assert_clean()


async def test_invalid_card_starts_nothing(csms, make_cp):
    csms.responder = lambda action, p: {"idTagInfo": {"status": "Invalid"}} \
        if action == "Authorize" else None
    cp = await make_cp()
    await cp.control("present_id_tag", {"idTag": "INVALID0001"})
    await csms.expect("Authorize")
    await cp.control("plug_in", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("Preparing"))
    await csms.expect_none("StartTransaction", within=0.3)
    csms.assert_clean()


@pytest.mark.parametrize("stop_on_invalid", ["true", "false"])
async def test_start_transaction_refused_by_the_csms(csms, make_cp, stop_on_invalid):
    csms.responder = lambda action, p: {"idTagInfo": {"status": "Blocked"}, "transactionId": 7} \
        if action == "StartTransaction" else None
    cp = await make_cp({"StopTransactionOnInvalidId": stop_on_invalid})
    await cp.control("plug_in", {"connectorId": 1})
    await cp.control("present_id_tag", {"idTag": "BLOCKED0001"})
    await csms.expect("StartTransaction")
    if stop_on_invalid == "true":
        stop = await csms.expect("StopTransaction")
        assert stop.payload["reason"] == "DeAuthorized" and stop.payload["transactionId"] == 7
    else:
        await csms.expect("StatusNotification", status_is("SuspendedEVSE"))
        assert cp.status()["connectors"][1]["transactionId"] == 7
    csms.assert_clean()


async def test_remote_start_then_plug_in_and_remote_stop(csms, make_cp):
    cp = await make_cp({"AuthorizeRemoteTxRequests": "true"})
    assert (await csms.result("RemoteStartTransaction",
                              {"idTag": "VALID0001", "connectorId": 1})) == {"status": "Accepted"}
    await csms.expect("Authorize")
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("plug_in", {"connectorId": 1})
    start = await csms.expect("StartTransaction")
    assert start.payload["idTag"] == "VALID0001"
    assert (await csms.result("RemoteStopTransaction", {"transactionId": 99})) == \
        {"status": "Rejected"}
    assert (await csms.result("RemoteStopTransaction", {"transactionId": 1})) == \
        {"status": "Accepted"}
    stop = await csms.expect("StopTransaction")
    assert stop.payload["reason"] == "Remote"
    await csms.expect("StatusNotification", status_is("Finishing"))
    csms.assert_clean()


async def test_remote_start_rejections(csms, make_cp):
    cp = await make_cp()
    assert (await csms.result("RemoteStartTransaction",
                              {"idTag": "VALID0001", "connectorId": 0}))["status"] == "Rejected"
    assert (await csms.result("RemoteStartTransaction",
                              {"idTag": "VALID0001", "connectorId": 2}))["status"] == "Rejected"
    profile = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Relative",
               "chargingSchedule": {"chargingRateUnit": "A",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10}]}}
    assert (await csms.result("RemoteStartTransaction",
                              {"idTag": "VALID0001", "chargingProfile": profile}))["status"] == \
        "Rejected"
    await charging(cp, csms)
    assert (await csms.result("RemoteStartTransaction",
                              {"idTag": "VALID0002", "connectorId": 1}))["status"] == "Rejected"
    csms.assert_clean()


@pytest.mark.parametrize("stop_tx,unlock,expected", [
    ("true", "true", ["Finishing", "Available"]),
    ("true", "false", ["Finishing"]),
    ("false", "false", ["SuspendedEV"]),
])
async def test_ev_side_disconnect(csms, make_cp, stop_tx, unlock, expected):
    cp = await make_cp({"StopTransactionOnEVSideDisconnect": stop_tx,
                        "UnlockConnectorOnEVSideDisconnect": unlock})
    await charging(cp, csms)
    await cp.control("unplug", {"connectorId": 1})
    for status in expected:
        await csms.expect("StatusNotification", status_is(status))
    if stop_tx == "true":
        assert (await csms.expect("StopTransaction")).payload["reason"] == "EVDisconnected"
    if unlock == "false" and stop_tx == "true":
        # The cable stays locked in the socket until the CSMS unlocks it.
        assert (await csms.result("UnlockConnector", {"connectorId": 1})) == {"status": "Unlocked"}
        await csms.expect("StatusNotification", status_is("Available"))
    if stop_tx == "false":
        await csms.expect_none("StopTransaction", within=0.2)
        assert (await csms.result("RemoteStopTransaction", {"transactionId": 1}))["status"] == \
            "Accepted"
        assert (await csms.expect("StopTransaction")).payload["reason"] == "Remote"
    csms.assert_clean()


# --- unlock, availability, reset, power -------------------------------------------------------

async def test_unlock_connector(csms, make_cp):
    cp = await make_cp()
    assert (await csms.result("UnlockConnector", {"connectorId": 5})) == {"status": "NotSupported"}
    assert (await csms.result("UnlockConnector", {"connectorId": 1})) == {"status": "Unlocked"}
    await charging(cp, csms)
    assert (await csms.result("UnlockConnector", {"connectorId": 1})) == {"status": "Unlocked"}
    stop = await csms.expect("StopTransaction")
    assert stop.payload["reason"] == "UnlockCommand"
    await cp.control("unlock_failure", {"connectorId": 1})
    assert (await csms.result("UnlockConnector", {"connectorId": 1})) == {"status": "UnlockFailed"}
    csms.assert_clean()


async def test_fixed_cable_cannot_be_unlocked(csms, make_cp):
    await make_cp(fixed_cable=True)
    assert (await csms.result("UnlockConnector", {"connectorId": 1})) == {"status": "NotSupported"}
    csms.assert_clean()


async def test_change_availability_now_scheduled_and_across_a_reset(csms, make_cp):
    cp = await make_cp()
    assert (await csms.result("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})) \
        == {"status": "Rejected"}
    await charging(cp, csms)
    assert (await csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})) \
        == {"status": "Scheduled"}
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    await csms.expect("StopTransaction")
    await csms.expect("StatusNotification", status_is("Unavailable"))
    assert (await csms.result("Reset", {"type": "Hard"})) == {"status": "Accepted"}
    await csms.expect("BootNotification", timeout=5)
    after = await csms.expect("StatusNotification", lambda p: p["connectorId"] == 1)
    assert after.payload["status"] == "Unavailable"  # availability survives a reboot
    assert (await csms.result("ChangeAvailability", {"connectorId": 0, "type": "Operative"})) \
        == {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Preparing"))  # the cable is still in
    csms.assert_clean()


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
async def test_reset_with_a_transaction_stops_it_first(csms, make_cp, kind):
    cp = await make_cp()
    await charging(cp, csms)
    assert (await csms.result("Reset", {"type": kind})) == {"status": "Accepted"}
    stop = await csms.expect("StopTransaction")
    assert stop.payload["reason"] == f"{kind}Reset"
    boot = await csms.expect("BootNotification", timeout=5)
    assert csms.calls.index(boot) > csms.calls.index(stop)
    await csms.expect("StatusNotification", lambda p: p["connectorId"] == 0)
    assert cp.status()["registration"] == "Accepted"
    csms.assert_clean()


async def test_power_cycle_ends_the_transaction_with_power_loss(csms, make_cp):
    cp = await make_cp()
    await charging(cp, csms)
    await cp.control("power_cycle", {})
    boot = await csms.expect("BootNotification", timeout=5)
    stop = await csms.expect("StopTransaction")
    assert stop.payload["reason"] == "PowerLoss"
    assert csms.calls.index(stop) > csms.calls.index(boot)
    csms.assert_clean()


# --- configuration ------------------------------------------------------------------------------

async def test_get_configuration(csms, make_cp):
    await make_cp({"GetConfigurationMaxKeys": "2", "AuthorizationKey": "0123456789abcdef0123"})
    every = await csms.result("GetConfiguration", {})
    keys = {kv["key"]: kv for kv in every["configurationKey"]}
    assert keys["NumberOfConnectors"] == {"key": "NumberOfConnectors", "readonly": True,
                                          "value": "1"}
    assert keys["HeartbeatInterval"]["readonly"] is False
    assert "value" not in keys["AuthorizationKey"]  # write-only (security whitepaper)
    assert "Core" in keys["SupportedFeatureProfiles"]["value"]
    some = await csms.result("GetConfiguration", {"key": ["HeartbeatInterval", "Testing"]})
    assert [kv["key"] for kv in some["configurationKey"]] == ["HeartbeatInterval"]
    assert some["unknownKey"] == ["Testing"]
    too_many = await csms.call("GetConfiguration", {"key": ["A", "B", "C"]})
    assert isinstance(too_many, CallError) and too_many.error_code == "OccurenceConstraintViolation"
    csms.assert_clean()


@pytest.mark.parametrize("key,value,status", [
    ("Testing", "true", "NotSupported"),
    ("NumberOfConnectors", "3", "Rejected"),
    ("HeartbeatInterval", "soon", "Rejected"),
    ("MeterValueSampleInterval", "-5", "Rejected"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,Nonsense", "Rejected"),
    ("StopTransactionOnInvalidId", "maybe", "Rejected"),
    ("MeterValueSampleInterval", "30", "Accepted"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register,SoC", "Accepted"),
])
async def test_change_configuration(csms, make_cp, key, value, status):
    cp = await make_cp()
    assert (await csms.result("ChangeConfiguration", {"key": key, "value": value})) == \
        {"status": status}
    if status == "Accepted":
        conf = await csms.result("GetConfiguration", {"key": [key]})
        assert conf["configurationKey"][0]["value"] == value
    else:
        assert cp.config.get(key) != value
    csms.assert_clean()


async def test_changed_heartbeat_interval_applies_at_once(csms, make_cp):
    await make_cp()
    assert (await csms.result("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"})) \
        == {"status": "Accepted"}
    first = await csms.expect("Heartbeat", timeout=3)
    second = await csms.expect("Heartbeat", timeout=3)
    assert 0.7 <= second.at - first.at <= 1.5
    csms.assert_clean()


# --- meter values -------------------------------------------------------------------------------

async def test_sampled_meter_values_are_spaced_by_the_interval(csms, make_cp):
    cp = await make_cp({"MeterValueSampleInterval": "1",
                        "MeterValuesSampledData": "Energy.Active.Import.Register,SoC"})
    await charging(cp, csms)
    first = await csms.expect("MeterValues", timeout=3)
    second = await csms.expect("MeterValues", timeout=3)
    t1 = clock.parse_time(first.payload["meterValue"][0]["timestamp"])
    t2 = clock.parse_time(second.payload["meterValue"][0]["timestamp"])
    assert (t2 - t1).total_seconds() == 1
    values = first.payload["meterValue"][0]["sampledValue"]
    assert [v["measurand"] for v in values] == ["Energy.Active.Import.Register", "SoC"]
    assert {v["context"] for v in values} == {"Sample.Periodic"}
    assert values[1]["location"] == "EV"
    assert first.payload["transactionId"] == 1
    energy = [int(m.payload["meterValue"][0]["sampledValue"][0]["value"]) for m in (first, second)]
    assert energy[1] > energy[0]
    csms.assert_clean()


async def test_clock_aligned_meter_values_sit_on_the_boundaries(csms, make_cp):
    cp = await make_cp({"ClockAlignedDataInterval": "1", "MeterValueSampleInterval": "0"})
    await charging(cp, csms)
    aligned = await csms.expect("MeterValues", timeout=3)
    moment = clock.parse_time(aligned.payload["meterValue"][0]["timestamp"])
    assert moment.microsecond == 0
    assert aligned.payload["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    stop = await csms.expect("StopTransaction")
    contexts = {v["sampledValue"][0]["context"] for v in stop.payload["transactionData"]}
    assert {"Transaction.Begin", "Sample.Clock", "Transaction.End"} <= contexts
    csms.assert_clean()


# --- offline behaviour --------------------------------------------------------------------------

async def test_offline_transaction_messages_are_queued_and_flushed_in_order(csms, make_cp):
    cp = await make_cp({"MeterValueSampleInterval": "1", "LocalAuthorizeOffline": "true",
                        "AllowOfflineTxForUnknownId": "true"})
    await cp.control("go_offline", {})
    await cp.control("plug_in", {"connectorId": 1})
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    # Offline and unknown: accepted by AllowOfflineTxForUnknownId; then two samples queue up.
    await cp.events.wait("queued_offline", count=3, timeout=4)
    assert cp.outbox.pending_actions() == ["StartTransaction", "MeterValues", "MeterValues"]
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    await cp.control("go_online", {})
    start = await csms.expect("StartTransaction", timeout=5)
    values = [await csms.expect("MeterValues") for _ in range(2)]
    stop = await csms.expect("StopTransaction")
    order = [csms.calls.index(x) for x in (start, *values, stop)]
    assert order == sorted(order)
    stamps = [v.payload["meterValue"][0]["timestamp"] for v in values]
    assert stamps == sorted(stamps)
    assert not csms.seen("BootNotification")[1:]  # a reconnection is not a reboot
    await csms.expect("StatusNotification", status_is("Finishing"))
    csms.assert_clean()


async def test_offline_card_takes_effect_before_the_next_action(csms, make_cp):
    # TC_039_CS: present, plug in, present, unplug, back-to-back while offline. A card decided
    # locally must take effect at once, or the plug-in that follows overtakes it.
    cp = await make_cp({"LocalAuthorizeOffline": "true", "AllowOfflineTxForUnknownId": "true"})
    await cp.control("go_offline", {})
    card = {"idTag": "VALID0001", "connectorId": 1}
    assert (await cp.control("present_id_tag", card))["outcome"] == "authorized"
    assert (await cp.control("plug_in", {"connectorId": 1}))["outcome"] == "transaction started"
    assert (await cp.control("present_id_tag", card))["outcome"] == "stopping"
    assert (await cp.control("unplug", {"connectorId": 1}))["outcome"] == "unplugged"
    await cp.control("go_online", {})
    start = await csms.expect("StartTransaction", timeout=5)
    stop = await csms.expect("StopTransaction")
    assert csms.calls.index(start) < csms.calls.index(stop)
    assert stop.payload["reason"] == "Local" and stop.payload["idTag"] == "VALID0001"
    csms.assert_clean()


async def test_locally_pre_authorized_card_takes_effect_before_the_plug_in(csms, make_cp):
    cp = await make_cp({"LocalPreAuthorize": "true", "AuthorizationCacheEnabled": "true"})
    card = {"idTag": "VALID0001", "connectorId": 1}
    assert (await cp.control("present_id_tag", card))["outcome"] == "authorizing"  # not cached
    await csms.expect("Authorize")
    await csms.expect("StatusNotification", status_is("Preparing"))
    assert (await cp.control("present_id_tag", card))["outcome"] == "deauthorized"
    await csms.expect("StatusNotification", status_is("Available"))
    # Cached now: decided without the CSMS, so the plug-in right after finds it authorized.
    assert (await cp.control("present_id_tag", card))["outcome"] == "authorized"
    assert (await cp.control("plug_in", {"connectorId": 1}))["outcome"] == "transaction started"
    await csms.expect("StartTransaction")
    assert len(csms.seen("Authorize")) == 1
    csms.assert_clean()


async def test_offline_card_of_the_same_group_stops_at_once(csms, make_cp):
    # The group stop (parentIdTag, TC_069) decided from the local list while offline takes effect
    # before the next action too.
    cp = await make_cp({"LocalPreAuthorize": "true", "LocalAuthorizeOffline": "true",
                        "AuthorizationCacheEnabled": "false"})
    group = {"status": "Accepted", "parentIdTag": "PARENT0001"}
    entries = [{"idTag": tag, "idTagInfo": group} for tag in ("VALID0001", "VALID0002")]
    assert await csms.result("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                               "localAuthorizationList": entries}) == \
        {"status": "Accepted"}
    await charging(cp, csms)
    await cp.control("go_offline", {})
    assert (await cp.control("present_id_tag", {"idTag": "VALID0002", "connectorId": 1}))[
        "outcome"] == "stopping"
    assert (await cp.control("unplug", {"connectorId": 1}))["outcome"] == "unplugged"
    await cp.control("go_online", {})
    stop = await csms.expect("StopTransaction", timeout=5)
    assert stop.payload["idTag"] == "VALID0002" and stop.payload["reason"] == "Local"
    assert not csms.seen("Authorize")
    csms.assert_clean()


async def test_transaction_message_refused_is_retried(csms, make_cp):
    refusals = iter([CallError("", "InternalError", "try later", {})])
    csms.responder = lambda action, p: next(refusals, None) if action == "StopTransaction" else None
    cp = await make_cp({"TransactionMessageRetryInterval": "1", "TransactionMessageAttempts": "3"})
    await charging(cp, csms)
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    first = await csms.expect("StopTransaction")
    second = await csms.expect("StopTransaction", timeout=3)
    assert second.payload == first.payload and second.at - first.at >= 0.95
    csms.assert_clean()


async def test_reconnects_with_back_off_after_the_csms_drops(csms, make_cp):
    cp = await make_cp()
    await csms.drop()
    await cp.events.wait("connected", count=2, timeout=5)
    await asyncio.wait_for(csms.connected.wait(), 5)
    assert len(csms.paths) == 2 and len(csms.seen("BootNotification")) == 1
    assert cp.status()["counters"]["disconnected"] == 1
    csms.assert_clean()


# --- authorization data -----------------------------------------------------------------------

async def test_cached_id_needs_no_authorize_until_the_cache_is_cleared(csms, make_cp):
    cp = await make_cp({"LocalPreAuthorize": "true", "AuthorizationCacheEnabled": "true"})
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await csms.expect("Authorize")
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})  # de-authorize
    await csms.expect("StatusNotification", status_is("Available"))
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await csms.expect("StatusNotification", status_is("Preparing"))
    assert len(csms.seen("Authorize")) == 1
    assert (await csms.result("ClearCache", {})) == {"status": "Accepted"}
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})  # de-authorize
    await csms.expect("StatusNotification", status_is("Available"))
    await cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await csms.expect("Authorize")
    await csms.expect("StatusNotification", status_is("Preparing"))
    csms.assert_clean()


async def test_local_authorization_list(csms, make_cp):
    cp = await make_cp({"LocalPreAuthorize": "true", "AuthorizationCacheEnabled": "false"})
    assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 0}
    entries = [{"idTag": "VALID0001", "idTagInfo": {"status": "Accepted"}},
               {"idTag": "VALID0002", "idTagInfo": {"status": "Accepted"}}]
    ok = await csms.result("SendLocalList", {"listVersion": 2, "updateType": "Full",
                                             "localAuthorizationList": entries})
    assert ok == {"status": "Accepted"}
    assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 2}
    diff = {"listVersion": 5, "updateType": "Differential",
            "localAuthorizationList": [{"idTag": "VALID0002"}]}
    assert await csms.result("SendLocalList", diff) == {"status": "Accepted"}
    assert await csms.result("SendLocalList", {**diff, "listVersion": 4}) == \
        {"status": "VersionMismatch"}
    assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 5}
    await cp.control("local_list_failure", {})
    assert await csms.result("SendLocalList", {"listVersion": 6, "updateType": "Full"}) == \
        {"status": "Failed"}
    await charging(cp, csms)  # VALID0001 is in the list: no Authorize
    assert not csms.seen("Authorize")
    assert await csms.result("SendLocalList", {"listVersion": 7, "updateType": "Full"}) == \
        {"status": "Accepted"}
    assert await csms.result("GetLocalListVersion", {}) == {"listVersion": 0}  # empty list
    csms.assert_clean()


async def test_unclaimed_profiles_are_not_supported(csms, make_cp):
    await make_cp(profiles=("Core",), local_auth_list=False, reserve_connector_zero=False,
                  file_transfer_protocols=())
    assert await csms.result("GetLocalListVersion", {}) == {"listVersion": -1}
    assert await csms.result("SendLocalList", {"listVersion": 1, "updateType": "Full"}) == \
        {"status": "NotSupported"}
    for action, payload in [
            ("ReserveNow", {"connectorId": 1, "expiryDate": clock.now_iso(), "idTag": "X",
                            "reservationId": 1}),
            ("TriggerMessage", {"requestedMessage": "Heartbeat"}),
            ("GetDiagnostics", {"location": "http://127.0.0.1:1/"}),
            ("ClearChargingProfile", {})]:
        answer = await csms.call(action, payload)
        assert isinstance(answer, CallError) and answer.error_code == "NotSupported", action
    csms.assert_clean()


# --- data transfer, faults, robustness --------------------------------------------------------

async def test_data_transfer_both_ways(csms, make_cp):
    cp = await make_cp()
    assert await csms.result("DataTransfer", {"vendorId": "Someone"}) == \
        {"status": "UnknownVendorId"}
    assert await csms.result("DataTransfer", {"vendorId": "OCPPHarness", "messageId": "Other"}) \
        == {"status": "UnknownMessageId"}
    assert await csms.result("DataTransfer", {"vendorId": "OCPPHarness", "data": "hi"}) == \
        {"status": "Accepted", "data": "hi"}
    answer = await cp.control("data_transfer", {"vendorId": "OCPPHarness", "data": "x"})
    assert answer == {"response": {"status": "UnknownVendorId"}}
    csms.assert_clean()


async def test_hardware_faults(csms, make_cp):
    cp = await make_cp()
    await cp.control("report_fault", {"connectorId": 1, "errorCode": "HighTemperature"})
    faulted = await csms.expect("StatusNotification", status_is("Faulted"))
    assert faulted.payload["errorCode"] == "HighTemperature"
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    await cp.control("plug_in", {"connectorId": 1})
    await csms.expect_none("StartTransaction", within=0.3)
    await cp.control("clear_fault", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("report_fault", {"connectorId": 0, "errorCode": "PowerMeterFailure"})
    await csms.expect("StatusNotification", status_is("Faulted", 0))
    csms.assert_clean()


async def test_lock_failure_faults_the_connector_and_starts_nothing(csms, make_cp):
    cp = await make_cp()
    await cp.control("lock_failure", {"connectorId": 1})
    assert (await csms.result("RemoteStartTransaction", {"idTag": "VALID0001",
                                                         "connectorId": 1}))["status"] == "Accepted"
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("plug_in", {"connectorId": 1})
    faulted = await csms.expect("StatusNotification", status_is("Faulted"))
    assert faulted.payload["errorCode"] == "ConnectorLockFailure"
    assert not csms.seen("StartTransaction")
    csms.assert_clean()


async def test_ev_suspend_and_resume(csms, make_cp):
    cp = await make_cp()
    await charging(cp, csms)
    await cp.control("ev_suspend", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("SuspendedEV"))
    await cp.control("ev_resume", {"connectorId": 1})
    await csms.expect("StatusNotification", status_is("Charging"))
    csms.assert_clean()


async def test_minimum_status_duration_swallows_short_states(csms, make_cp):
    cp = await make_cp({"MinimumStatusDuration": "1"})
    await cp.control("plug_in", {"connectorId": 1})
    await cp.control("unplug", {"connectorId": 1})  # Preparing for no time at all
    await cp.control("plug_in", {"connectorId": 1})
    preparing = await csms.expect("StatusNotification", status_is("Preparing"), timeout=3)
    assert len(csms.seen("StatusNotification")) == 3  # boot: 0 and 1; then one Preparing
    assert preparing.payload["connectorId"] == 1
    csms.assert_clean()


async def test_survives_garbage_and_unknown_actions(csms, make_cp):
    cp = await make_cp()
    await csms.send_text("this is not json")
    await csms.send_text('[2, "abc", "FlyToTheMoon", {}]')
    await csms.send_text('[2, "def", "Reset", "not an object"]')
    answer = await csms.call("BootNotification", {"chargePointVendor": "x", "chargePointModel": "y"})
    assert isinstance(answer, CallError) and answer.error_code == "NotSupported"
    bad = await csms.call("Reset", {"type": "Sideways"})
    assert isinstance(bad, CallError) and bad.error_code == "PropertyConstraintViolation"
    assert await csms.result("ClearCache", {}) == {"status": "Accepted"}
    status = cp.status()
    assert status["garbageReceived"] == 3
    errors = [t for s, t in csms.frames if s == "cp" and t.startswith("[4")]
    assert any('"abc","NotImplemented"' in t for t in errors)
    assert any('"def","FormationViolation"' in t for t in errors)


async def test_stop_leaves_nothing_running(csms):
    before = set(asyncio.all_tasks())
    pics = stand_in_pics("cs", connectors=1, configuration={"MeterValueSampleInterval": "1",
                                                            "ClockAlignedDataInterval": "1"})
    cp = ChargePointSim(pics, csms.url)
    await cp.start()
    await booted(csms, 1)
    await charging(cp, csms)
    assert len(cp.tasks) >= 4  # outbox, clock-aligned, connection, heartbeat, sampler
    await cp.stop()
    await csms.closed.wait()
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert not left, left


async def test_status_reports_what_happened(csms, make_cp):
    cp = await make_cp()
    await charging(cp, csms)
    status = await cp.control("status", {})
    assert status["connected"] and status["registration"] == "Accepted"
    assert status["connectors"][1]["status"] == "Charging"
    assert status["connectors"][1]["transactionId"] == 1
    assert status["transactions"][0]["idTag"] == "VALID0001"
    assert status["counters"]["transaction_started"] == 1


async def test_reconnect_back_off_grows_and_is_bounded():
    import socket
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cp = ChargePointSim(stand_in_pics("cs", connectors=1), f"ws://127.0.0.1:{port}/ocpp",
                        reconnect_min=0.02, reconnect_max=0.08)
    await cp.start()
    try:
        await cp.events.wait("connect_failed", count=5, timeout=5)
    finally:
        await cp.stop()
    delays = [e["retry_in_s"] for e in cp.events.events if e["kind"] == "connect_failed"][:5]
    assert delays[0] <= 0.03 and delays[1] > delays[0] * 1.2
    assert max(delays) <= 0.08 * 1.2 + 0.001
    assert cp.status()["connected"] is False


async def test_power_off_and_on(csms, make_cp):
    from harness.sim import ControlError
    cp = await make_cp()
    await charging(cp, csms)
    await cp.control("power_off", {})
    await asyncio.wait_for(csms.closed.wait(), 5)
    with pytest.raises(ControlError) as off:
        await cp.control("plug_in", {"connectorId": 1})
    assert off.value.status == 409 and "powered off" in off.value.message
    assert cp.status()["powered"] is False
    await cp.control("power_on", {})
    await csms.expect("BootNotification", timeout=5)
    assert (await csms.expect("StopTransaction")).payload["reason"] == "PowerLoss"
    csms.assert_clean()
