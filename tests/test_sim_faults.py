"""Every fault of both simulators shows its symptom on the wire.

Each scenario runs a simulator with one fault against a scripted peer that judges every frame
with harness.protocol.Checker; the scenario asserts the symptom: a finding of the expected rule,
or the behaviour the fault promises. A test also checks that every registered fault has one.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from harness.rpc import CallError
from harness.sim import ChargePointSim, CsmsSim
from harness import clock
from harness.sim.faults import REGISTRY, Faults
from harness.pics import Security
from harness.pki import Pki, hash_data
from scripted_peers import ScriptedCp, ScriptedCsms, stand_in_pics

CP: dict[str, Callable[..., Awaitable[None]]] = {}
CSMS: dict[str, Callable[..., Awaitable[None]]] = {}


def scenario(table: dict, name: str, *params: dict):
    def register(fn):
        table[name] = (fn, params[0] if params else {})
        return fn
    return register


def rules(peer, sender: str) -> set[str]:
    return {finding.rule for who, _, finding in peer.findings if who == sender}


def _shown_end_to_end(side: str) -> dict[str, str]:
    """Faults of ``side`` a fast entry of the fault catalogue or of the false-failure section runs
    in ``make test`` (tests/test_fidelity.py, tests/test_fidelity_legal.py): fault -> entry. Their
    wire symptom is proven there, through the whole harness: the intended case FAILs with the
    symptom the entry names (a seeded fault), or the suite gives no FAIL (a legal behaviour)."""
    from harness.fidelity import catalogue, legal
    sut = "cs" if side == "cp" else "csms"
    shown = {e.fault: e.id for e in catalogue.load() if e.fast and e.sut == sut}
    shown.update({b: e.id for e in legal.ENTRIES if e.fast and e.sut == sut for b in e.behaviours})
    return shown


def test_every_fault_has_a_scenario():
    """A scenario here, or (the security faults a TLS or HTTP handshake carries, the legal
    behaviours a whole boot shows) a fast catalogue entry that shows it end to end."""
    for side, table in (("cp", CP), ("csms", CSMS)):
        names = set(Faults.names(side))
        assert set(table) <= names, set(table) - names
        shown = _shown_end_to_end(side)
        missing = sorted(n for n in names - set(table) if n not in shown)
        assert not missing, f"{side} faults with no scenario here and no fast catalogue entry: {missing}"
    for spec in REGISTRY.values():
        assert spec.description and spec.name.islower()


# --- the charge point ---------------------------------------------------------------------------

class CpRig:
    def __init__(self, csms: ScriptedCsms, cp: ChargePointSim):
        self.csms, self.cp = csms, cp

    async def booted(self) -> None:
        await self.csms.expect("BootNotification")
        await self.csms.expect("StatusNotification", lambda p: p["connectorId"] == 1)

    async def charging(self) -> None:
        await self.cp.control("plug_in", {"connectorId": 1})
        await self.cp.control("present_id_tag", {"idTag": "VALID0001"})
        await self.csms.expect("StartTransaction")
        await self.csms.expect("StatusNotification", lambda p: p["status"] == "Charging")


@pytest.mark.parametrize("name", sorted(Faults.names("cp")))
async def test_charge_point_fault(name):
    fn, params = CP[name]
    config = params.get("configuration", {})
    async with ScriptedCsms(interval=300) as csms:
        if "responder" in params:
            csms.responder = params["responder"]
        pics = stand_in_pics("cs", connectors=1, configuration=config)
        if "security" in params:  # the security extension's faults: a security profile
            pics = dataclasses.replace(pics, security=params["security"])
        cp = ChargePointSim(pics, csms.url, faults=[(name, params.get("fault", {}))],
                            reconnect_min=0.05, trusted_roots=params.get("trusted_roots", ()))
        await cp.start()
        try:
            await fn(CpRig(csms, cp))
        finally:
            await cp.stop()


@scenario(CP, "late_answer", {"fault": {"action": "ClearCache", "delay_ms": 300}})
async def _(rig):
    await rig.booted()
    start = time.monotonic()
    await rig.csms.result("ClearCache", {})
    assert time.monotonic() - start >= 0.3


@scenario(CP, "no_answer", {"fault": {"action": "ClearCache"}})
async def _(rig):
    await rig.booted()
    with pytest.raises(TimeoutError):
        await rig.csms.call("ClearCache", {}, timeout=0.3)


@scenario(CP, "callerror_instead_of_result", {"fault": {"action": "ClearCache"}})
async def _(rig):
    await rig.booted()
    answer = await rig.csms.call("ClearCache", {})
    assert isinstance(answer, CallError) and answer.error_code == "InternalError"


@scenario(CP, "missing_field", {"fault": {"action": "BootNotification",
                                          "field": "chargePointModel"}})
async def _(rig):
    boot = await rig.csms.expect("BootNotification")
    assert "chargePointModel" not in boot.payload
    assert "required" in rules(rig.csms, "cp")


@scenario(CP, "extra_field", {"fault": {"action": "StatusNotification"}})
async def _(rig):
    status = await rig.csms.expect("StatusNotification")
    assert status.payload["vendorExtension"] == "x"
    assert "additionalProperties" in rules(rig.csms, "cp")


@scenario(CP, "wrong_value", {"fault": {"action": "StatusNotification", "field": "status",
                                        "value": "Broken"}})
async def _(rig):
    status = await rig.csms.expect("StatusNotification")
    assert status.payload["status"] == "Broken" and "enum" in rules(rig.csms, "cp")


@scenario(CP, "misspelt_error_code")
async def _(rig):
    await rig.booted()
    await rig.csms.send_text('[2, "m1", "ClearCache", "not an object"]')
    await rig.csms.until(lambda: rig.csms.has_finding("rpc.error-code-spelling", "cp"))
    assert any(t.startswith('[4,"m1","FormatViolation"') for s, t in rig.csms.frames if s == "cp")


@scenario(CP, "callerror_codes_reversed")
async def _(rig):
    await rig.booted()
    await rig.csms.send_text('[2, "r1", "MakeCoffee", {}]')
    await rig.csms.send_text('[2, "r2", "Heartbeat", {}]')  # known, not for a charge point
    await rig.csms.until(lambda: sum(1 for s, t in rig.csms.frames if s == "cp"
                                     and t.startswith(('[4,"r1"', '[4,"r2"'))) == 2)
    sent = [t for s, t in rig.csms.frames if s == "cp"]
    assert any(t.startswith('[4,"r1","NotSupported"') for t in sent)
    assert any(t.startswith('[4,"r2","NotImplemented"') for t in sent)


@scenario(CP, "stall_after_garbage")
async def _(rig):
    await rig.booted()
    assert (await rig.csms.result("ClearCache", {}))["status"] == "Accepted"
    await rig.csms.send_text("not JSON")
    with pytest.raises(TimeoutError):
        await rig.csms.call("ClearCache", {}, timeout=0.3)


@scenario(CP, "protocol_error_for_everything")
async def _(rig):
    await rig.booted()
    await rig.csms.send_text('[2, "p1", "MakeCoffee", {}]')
    await rig.csms.send_text('[2, "p2", "GetConfiguration", {"key": 5}]')
    await rig.csms.until(lambda: sum(1 for s, t in rig.csms.frames if s == "cp"
                                     and t.startswith(('[4,"p1"', '[4,"p2"'))) == 2)
    sent = [t for s, t in rig.csms.frames if s == "cp"]
    assert any(t.startswith('[4,"p1","ProtocolError"') for t in sent)
    assert any(t.startswith('[4,"p2","ProtocolError"') for t in sent)


@scenario(CP, "timestamp_no_timezone")
async def _(rig):
    status = await rig.csms.expect("StatusNotification")
    assert not status.payload["timestamp"].endswith("Z")
    assert "format:date-time" in rules(rig.csms, "cp")


@scenario(CP, "cistring_overlong")
async def _(rig):
    boot = await rig.csms.expect("BootNotification")
    assert len(boot.payload["chargePointVendor"]) == 21 and "maxLength" in rules(rig.csms, "cp")


@scenario(CP, "duplicate_unique_id")
async def _(rig):
    await rig.booted()
    ids = {r.call.unique_id for r in rig.csms.calls}
    assert len(ids) == 1 and "rpc.duplicate-id" in rules(rig.csms, "cp")


@scenario(CP, "garbage_frame")
async def _(rig):
    await rig.booted()
    assert rig.csms.garbage == ["this is not an OCPP-J frame"]
    assert "rpc.json" in rules(rig.csms, "cp")


@scenario(CP, "boot_ignore_interval", {"responder": lambda action, p: {
    "status": "Rejected", "currentTime": clock.now_iso(), "interval": 60}
    if action == "BootNotification" else None})
async def _(rig):
    first = await rig.csms.expect("BootNotification")
    second = await rig.csms.expect("BootNotification", timeout=2)
    assert second.at - first.at < 1  # 60 s were asked for


@scenario(CP, "heartbeat_wrong_interval", {"configuration": {}})
async def _(rig):
    await rig.booted()
    await rig.csms.result("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "1"})
    first = await rig.csms.expect("Heartbeat", timeout=2)
    second = await rig.csms.expect("Heartbeat", timeout=2)
    assert 0.3 <= second.at - first.at <= 0.8


@scenario(CP, "skip_status_notification")
async def _(rig):
    await rig.booted()
    assert [r.payload["connectorId"] for r in rig.csms.seen("StatusNotification")] == [1]
    await rig.csms.expect_none("StatusNotification", within=0.2, where=lambda p:
                               p["connectorId"] == 0)


@scenario(CP, "wrong_status", {"fault": {"real": "Preparing", "sent": "Available"}})
async def _(rig):
    await rig.booted()
    await rig.cp.control("plug_in", {"connectorId": 1})
    status = await rig.csms.expect("StatusNotification")
    assert status.payload["status"] == "Available"  # while the cable is in: Preparing


@scenario(CP, "wrong_transaction_id")
async def _(rig):
    await rig.booted()
    await rig.charging()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    stop = await rig.csms.expect("StopTransaction")
    assert stop.payload["transactionId"] == 2  # the CSMS gave 1


@scenario(CP, "meter_values_out_of_order", {"configuration": {
    "MeterValueSampleInterval": "1", "AllowOfflineTxForUnknownId": "true"}})
async def _(rig):
    await rig.booted()
    await rig.charging()
    await rig.cp.control("go_offline", {})
    queued = rig.cp.events.counters["queued_offline"]
    await rig.cp.events.wait("queued_offline", count=queued + 2, timeout=4)
    await rig.cp.control("go_online", {})
    values = [await rig.csms.expect("MeterValues", timeout=5) for _ in range(2)]
    stamps = [v.payload["meterValue"][0]["timestamp"] for v in values]
    assert stamps == sorted(stamps, reverse=True)


@scenario(CP, "meter_values_wrong_interval", {"configuration": {"MeterValueSampleInterval": "1"},
                                              "fault": {"factor": 0.4}})
async def _(rig):
    await rig.booted()
    await rig.charging()
    first = await rig.csms.expect("MeterValues", timeout=2)
    second = await rig.csms.expect("MeterValues", timeout=2)
    assert 0.2 <= second.at - first.at <= 0.7  # 0.4 s apart, not the 1 s configured


@scenario(CP, "ignore_connection_timeout", {"configuration": {"ConnectionTimeOut": "1"}})
async def _(rig):
    await rig.booted()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    await rig.csms.expect("StatusNotification", lambda p: p["status"] == "Preparing")
    # With the timeout honoured the connector goes back to Available after 1 s.
    await rig.csms.expect_none("StatusNotification", within=1.8,
                               where=lambda p: p["connectorId"] == 1)
    await rig.cp.control("plug_in", {"connectorId": 1})
    await rig.csms.expect("StartTransaction")  # the stale authorization still starts a session


@scenario(CP, "reauthorize_on_present", {"configuration": {"ConnectionTimeOut": "1"}})
async def _(rig):
    await rig.booted()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    await rig.csms.expect("Authorize")
    await rig.csms.expect("StatusNotification", lambda p: p["status"] == "Preparing")
    # Presented again: asked again (not de-authorized), and ConnectionTimeOut starts anew.
    await rig.csms.expect_none("StatusNotification", within=0.6,
                               where=lambda p: p["connectorId"] == 1)
    again = time.monotonic()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    await rig.csms.expect("Authorize")
    await rig.csms.expect("StatusNotification", lambda p: p["connectorId"] == 1
                          and p["status"] == "Available", timeout=3)
    assert time.monotonic() - again >= 0.9  # 1 s from the second presentation, not the first


@scenario(CP, "ignore_config_change")
async def _(rig):
    await rig.booted()
    assert await rig.csms.result("ChangeConfiguration", {"key": "MeterValueSampleInterval",
                                                         "value": "17"}) == {"status": "Accepted"}
    conf = await rig.csms.result("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
    assert conf["configurationKey"][0]["value"] != "17"


@scenario(CP, "wrong_stop_reason")
async def _(rig):
    await rig.booted()
    await rig.charging()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    assert (await rig.csms.expect("StopTransaction")).payload["reason"] == "Other"


async def test_wrong_stop_reason_replaces_only_the_reason_named():
    async with ScriptedCsms(interval=300) as csms:
        cp = ChargePointSim(stand_in_pics("cs", connectors=1), csms.url, reconnect_min=0.05,
                            faults=[("wrong_stop_reason", {"reason": "Other",
                                                           "when": "EVDisconnected"})])
        await cp.start()
        try:
            rig = CpRig(csms, cp)
            await rig.booted()
            await rig.charging()
            await cp.control("present_id_tag", {"idTag": "VALID0001"})  # a Local stop: untouched
            assert (await csms.expect("StopTransaction")).payload["reason"] == "Local"
            await cp.control("present_id_tag", {"idTag": "VALID0001"})  # still plugged: restarts
            await csms.expect("StartTransaction")
            await cp.control("unplug", {"connectorId": 1})  # EVDisconnected: replaced
            assert (await csms.expect("StopTransaction")).payload["reason"] == "Other"
        finally:
            await cp.stop()


@scenario(CP, "accept_remote_start_connector_zero")
async def _(rig):
    await rig.booted()
    answer = await rig.csms.result("RemoteStartTransaction", {"idTag": "VALID0001",
                                                              "connectorId": 0})
    assert answer == {"status": "Accepted"}


@scenario(CP, "unlock_unknown_connector")
async def _(rig):
    await rig.booted()
    assert await rig.csms.result("UnlockConnector", {"connectorId": 9}) == {"status": "Unlocked"}


@scenario(CP, "ignore_local_pre_authorize", {"configuration": {"LocalPreAuthorize": "true"}})
async def _(rig):
    await rig.booted()
    await rig.csms.result("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                            "localAuthorizationList": [
                                                {"idTag": "VALID0001",
                                                 "idTagInfo": {"status": "Accepted"}}]})
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await rig.csms.expect("Authorize")  # the list says Accepted: no Authorize was due


@scenario(CP, "available_after_unplug")
async def _(rig):
    await rig.booted()
    await rig.charging()
    await rig.cp.control("unplug", {"connectorId": 1})
    await rig.csms.expect("StopTransaction")
    # the cable left with the EV: straight to Available, no Finishing between
    status = await rig.csms.expect("StatusNotification",
                                   lambda p: p["status"] in ("Finishing", "Available"))
    assert status.payload["status"] == "Available"


@scenario(CP, "reserve_zero_unreported")
async def _(rig):
    await rig.booted()
    reserve = {**_reserve(), "connectorId": 0}
    assert (await rig.csms.result("ReserveNow", reserve))["status"] == "Accepted"
    await rig.csms.expect_none("StatusNotification", within=0.5,
                               where=lambda p: p["connectorId"] == 1)
    # not shown, but held: another idTag is refused on the only connector
    outcome = await rig.cp.control("present_id_tag", {"idTag": "VALID0002", "connectorId": 1})
    assert outcome["outcome"] == "refused: reserved"


@scenario(CP, "exit_on_reset", {"fault": {"restart_ms": 400}})
async def _(rig):
    await rig.booted()
    started = time.monotonic()
    assert (await rig.csms.result("Reset", {"type": "Soft"}))["status"] == "Accepted"
    await rig.csms.expect("BootNotification")  # the rig restarted the firmware
    assert time.monotonic() - started >= 0.4
    assert rig.cp.events.counters["firmware_exit"] == 1


@scenario(CP, "connection_timeout_late", {"fault": {"delay_ms": 400},
                                          "configuration": {"ConnectionTimeOut": "1"}})
async def _(rig):
    await rig.booted()
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001"})
    await rig.csms.expect("StatusNotification", lambda p: p["status"] == "Preparing")
    started = time.monotonic()
    await rig.csms.expect("StatusNotification",
                          lambda p: p["connectorId"] == 1 and p["status"] == "Available", timeout=3)
    assert time.monotonic() - started >= 1.3


@scenario(CP, "rig_without_fault_inputs")
async def _(rig):
    await rig.booted()
    assert "report_fault" not in rig.cp.capabilities() and "plug_in" in rig.cp.capabilities()
    with pytest.raises(Exception) as refused:
        await rig.cp.control("lock_failure", {"connectorId": 1})
    assert getattr(refused.value, "status", None) == 501


def _reserve(seconds: float = 300, parent: str | None = None) -> dict:
    from datetime import timedelta
    payload = {"connectorId": 1, "reservationId": 1, "idTag": "VALID0001",
               "expiryDate": clock.iso(clock.now() + timedelta(seconds=seconds))}
    return {**payload, "parentIdTag": parent} if parent else payload


@scenario(CP, "reservation_expiry_shift", {"fault": {"offset_ms": 1000}})
async def _(rig):
    await rig.booted()
    await rig.csms.result("ReserveNow", _reserve(seconds=0.2))
    reserved = await rig.csms.expect("StatusNotification", lambda p: p["status"] == "Reserved")
    available = await rig.csms.expect(
        "StatusNotification", lambda p: p["connectorId"] == 1 and p["status"] == "Available",
        timeout=3)
    assert available.at - reserved.at >= 1.0  # 0.2 s was due


@scenario(CP, "reservation_not_enforced")
async def _(rig):
    await rig.booted()
    await rig.csms.result("ReserveNow", _reserve())
    await rig.cp.control("present_id_tag", {"idTag": "VALID0002", "connectorId": 1})
    assert (await rig.csms.expect("Authorize")).payload["idTag"] == "VALID0002"


@scenario(CP, "reservation_ignores_parent", {"responder": lambda action, p: {
    "idTagInfo": {"status": "Accepted", "parentIdTag": "PARENT0001"}}
    if action == "Authorize" else None})
async def _(rig):
    await rig.booted()
    await rig.csms.result("ReserveNow", _reserve(parent="PARENT0001"))
    outcome = await rig.cp.control("present_id_tag", {"idTag": "VALID0002", "connectorId": 1})
    assert outcome["outcome"] == "refused: reserved"  # same parent: it was due the connector


async def _firmware_statuses(rig, last: str) -> list[str]:
    seen = []
    while not seen or seen[-1] != last:
        seen.append((await rig.csms.expect("FirmwareStatusNotification")).payload["status"])
    return seen


@scenario(CP, "firmware_fake_download")
async def _(rig):
    from harness.fileserver import FileServers, image
    await rig.booted()
    async with FileServers(protocols=["HTTP"]) as servers:
        servers.offer("fw.bin", image("x", 1024))
        await rig.csms.result("UpdateFirmware", {"location": servers.url("HTTP", "fw.bin"),
                                                 "retrieveDate": clock.now_iso()})
        assert await _firmware_statuses(rig, "Downloaded") == ["Downloading", "Downloaded"]
        assert servers.downloads() == []  # nothing was fetched


@scenario(CP, "firmware_reboot_late", {"fault": {"delay_ms": 800}})
async def _(rig):
    from harness.fileserver import FileServers, image
    await rig.booted()
    async with FileServers(protocols=["HTTP"]) as servers:
        servers.offer("fw.bin", image("x", 1024))
        await rig.csms.result("UpdateFirmware", {"location": servers.url("HTTP", "fw.bin"),
                                                 "retrieveDate": clock.now_iso()})
        await _firmware_statuses(rig, "Installing")
        installing = time.monotonic()
        await rig.csms.expect("BootNotification", timeout=5)
        assert time.monotonic() - installing >= 0.75  # the reboot comes late
        assert (await rig.csms.expect("FirmwareStatusNotification", timeout=5)).payload["status"] \
            == "Installed"


@scenario(CP, "diagnostics_fake_upload")
async def _(rig):
    from harness.fileserver import FileServers
    await rig.booted()
    async with FileServers(protocols=["HTTP"]) as servers:
        await rig.csms.result("GetDiagnostics", {"location": servers.upload_location("HTTP")})
        for status in ("Uploading", "Uploaded"):
            assert (await rig.csms.expect("DiagnosticsStatusNotification")).payload["status"] \
                == status
        assert servers.uploads() == []  # nothing was sent


def _local_list(version: int, kind: str, *tags: str) -> dict:
    return {"listVersion": version, "updateType": kind, "localAuthorizationList": [
        {"idTag": t, "idTagInfo": {"status": "Accepted"}} for t in tags]}


@scenario(CP, "local_list_version_stuck")
async def _(rig):
    await rig.booted()
    assert await rig.csms.result("SendLocalList", _local_list(3, "Full", "VALID0001")) \
        == {"status": "Accepted"}
    assert await rig.csms.result("GetLocalListVersion", {}) == {"listVersion": 0}


@scenario(CP, "local_list_differential_as_full",
          {"configuration": {"LocalPreAuthorize": "true", "AuthorizationCacheEnabled": "false"}})
async def _(rig):
    await rig.booted()
    await rig.csms.result("SendLocalList", _local_list(1, "Full", "VALID0001"))
    await rig.csms.result("SendLocalList", _local_list(2, "Differential", "VALID0002"))
    await rig.cp.control("present_id_tag", {"idTag": "VALID0001", "connectorId": 1})
    await rig.csms.expect("Authorize")  # dropped from the list by the "differential" update


@scenario(CP, "local_list_version_not_checked")
async def _(rig):
    await rig.booted()
    await rig.csms.result("SendLocalList", _local_list(5, "Full", "VALID0001"))
    assert await rig.csms.result("SendLocalList", _local_list(4, "Differential", "VALID0002")) \
        == {"status": "Accepted"}


@scenario(CP, "trigger_not_sent", {"fault": {"requestedMessage": "Heartbeat"}})
async def _(rig):
    await rig.booted()
    assert await rig.csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"}) \
        == {"status": "Accepted"}
    await rig.csms.expect_none("Heartbeat", within=0.5)


@scenario(CP, "trigger_unknown_connector")
async def _(rig):
    await rig.booted()
    assert await rig.csms.result("TriggerMessage", {"requestedMessage": "MeterValues",
                                                    "connectorId": 9}) == {"status": "Accepted"}


def _smart_profile(profile_id: int, level: int, limit: float, purpose: str = "TxDefaultProfile",
                   **extra) -> dict:
    return {"chargingProfileId": profile_id, "stackLevel": level,
            "chargingProfilePurpose": purpose, "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": limit}], **extra}}


async def _composite_limits(rig, connector_id: int = 1) -> list[float]:
    answer = await rig.csms.result("GetCompositeSchedule", {"connectorId": connector_id,
                                                            "duration": 300})
    return [p["limit"] for p in answer["chargingSchedule"]["chargingSchedulePeriod"]]


@scenario(CP, "composite_negative_sentinel")
async def _(rig):
    await rig.booted()
    answer = await rig.csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 300})
    periods = answer["chargingSchedule"]["chargingSchedulePeriod"]
    assert periods and all(p["limit"] == -1 and p["numberPhases"] == -1 for p in periods)


@scenario(CP, "stack_level_inverted")
async def _(rig):
    await rig.booted()
    for profile in (_smart_profile(1, 0, 6.0), _smart_profile(2, 1, 10.0)):
        await rig.csms.result("SetChargingProfile", {"connectorId": 1,
                                                     "csChargingProfiles": profile})
    assert await _composite_limits(rig) == [6.0]  # stack level 1 (10 A) should have won


@scenario(CP, "composite_limits_shifted")
async def _(rig):
    await rig.booted()
    profile = _smart_profile(1, 0, 6.0)
    profile["chargingSchedule"]["chargingSchedulePeriod"].append({"startPeriod": 100,
                                                                  "limit": 10.0})
    await rig.csms.result("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    assert (await _composite_limits(rig))[:2] == [6.0, 6.0]  # the second is 10 A


@scenario(CP, "tx_default_skips_running_tx")
async def _(rig):
    await rig.booted()
    await rig.charging()
    await rig.csms.result("SetChargingProfile", {"connectorId": 1,
                                                 "csChargingProfiles": _smart_profile(1, 0, 6.0)})
    assert 6.0 not in await _composite_limits(rig)


@scenario(CP, "clear_ignores_stack_level")
async def _(rig):
    await rig.booted()
    for profile in (_smart_profile(1, 0, 6.0), _smart_profile(2, 1, 10.0)):
        await rig.csms.result("SetChargingProfile", {"connectorId": 1,
                                                     "csChargingProfiles": profile})
    await rig.csms.result("ClearChargingProfile", {"connectorId": 1, "stackLevel": 1,
                                                   "chargingProfilePurpose": "TxDefaultProfile"})
    assert 6.0 not in await _composite_limits(rig)  # stack level 0 was cleared too


# --- the charge point: security extension ---------------------------------------------------

_PROFILE_1 = Security(profile=1, basic_auth_password="0123456789abcdef0123")
_PKI_DIR = tempfile.TemporaryDirectory()  # removed at exit
_PKI = Pki.create(Path(_PKI_DIR.name) / "pki", charge_point_serial="SIM-CP-0001")
_PKI.close()  # the scenarios need certificates only


def _basic(header: str | None) -> tuple[str, str] | None:
    if header is None:
        return None
    user, _, password = base64.b64decode(header.split()[1]).decode().partition(":")
    return user, password


@scenario(CP, "basic_auth_missing", {"security": _PROFILE_1})
async def _(rig):
    await rig.booted()
    assert rig.csms.authorizations == [None]


@scenario(CP, "basic_auth_wrong_user", {"security": _PROFILE_1})
async def _(rig):
    await rig.booted()
    assert _basic(rig.csms.authorizations[0]) == ("SIMCP001-X", "0123456789abcdef0123")


@scenario(CP, "authorization_key_not_applied", {"security": _PROFILE_1})
async def _(rig):
    await rig.booted()
    new = "4F43415F4F4354545F61646D696E5F74657374"
    conf = await rig.csms.result("ChangeConfiguration", {"key": "AuthorizationKey", "value": new})
    assert conf["status"] == "Accepted"
    for _ in range(100):  # a reconnection after a boot sends nothing: poll what the server saw
        if len(rig.csms.authorizations) == 2:
            break
        await asyncio.sleep(0.05)
    assert _basic(rig.csms.authorizations[1]) == ("SIMCP001", "0123456789abcdef0123")


@scenario(CP, "install_certificate_not_stored", {"security": _PROFILE_1})
async def _(rig):
    await rig.booted()
    conf = await rig.csms.result("InstallCertificate", {
        "certificateType": "ManufacturerRootCertificate", "certificate": _PKI.manufacturer_root.pem})
    assert conf["status"] == "Accepted"
    ids = await rig.csms.result("GetInstalledCertificateIds",
                                {"certificateType": "ManufacturerRootCertificate"})
    assert ids == {"status": "NotFound"}


@scenario(CP, "certificate_hash_of_pem", {"security": _PROFILE_1,
                                          "trusted_roots": (_PKI.csms_root.pem,)})
async def _(rig):
    await rig.booted()
    ids = await rig.csms.result("GetInstalledCertificateIds",
                                {"certificateType": "CentralSystemRootCertificate"})
    right = hash_data(_PKI.csms_root.cert)
    [reported] = ids["certificateHashData"]
    assert reported["issuerKeyHash"] == right["issuerKeyHash"]
    assert reported["issuerNameHash"] != right["issuerNameHash"]


@scenario(CP, "delete_certificate_not_deleted", {"security": _PROFILE_1,
                                                 "trusted_roots": (_PKI.csms_root.pem,)})
async def _(rig):
    await rig.booted()
    conf = await rig.csms.result("DeleteCertificate",
                                 {"certificateHashData": hash_data(_PKI.csms_root.cert)})
    assert conf["status"] == "Accepted"
    ids = await rig.csms.result("GetInstalledCertificateIds",
                                {"certificateType": "CentralSystemRootCertificate"})
    assert ids["status"] == "Accepted" and len(ids["certificateHashData"]) == 1


_PROFILE_3 = Security(profile=3)


async def _csr(rig) -> str:
    rig.csms.responder = lambda action, p: {"status": "Accepted"} \
        if action == "SignCertificate" else None
    await rig.booted()
    trigger = await rig.csms.result("ExtendedTriggerMessage",
                                    {"requestedMessage": "SignChargePointCertificate"})
    assert trigger == {"status": "Accepted"}
    return (await rig.csms.expect("SignCertificate")).payload["csr"]


@scenario(CP, "csr_wrong_cn", {"security": _PROFILE_3})
async def _(rig):
    from harness.pki import check_csr
    assert "expected 'SIM-CP-0001'" in " ".join(check_csr(await _csr(rig), "SIM-CP-0001"))


@scenario(CP, "csr_weak_key", {"security": _PROFILE_3})
async def _(rig):
    from harness.pki import check_csr
    assert "1024-bit RSA" in " ".join(check_csr(await _csr(rig), "SIM-CP-0001"))


@scenario(CP, "certificate_signed_not_used", {"security": _PROFILE_3,
                                              "trusted_roots": (_PKI.csms_root.pem,)})
async def _(rig):
    csr = await _csr(rig)
    conf = await rig.csms.result("CertificateSigned", {"certificateChain": _PKI.sign_csr(csr)})
    assert conf == {"status": "Accepted"}
    await rig.csms.result("ClearCache", {})  # the answer is out, and what follows it
    assert rig.cp.client_cert is None and len(rig.csms.paths) == 1


@scenario(CP, "accept_any_certificate_chain", {"security": _PROFILE_3,
                                               "trusted_roots": (_PKI.csms_root.pem,)})
async def _(rig):
    csr = await _csr(rig)
    conf = await rig.csms.result("CertificateSigned",
                                 {"certificateChain": _PKI.invalid_chain("other_ca", csr)})
    assert conf == {"status": "Accepted"} and rig.cp.client_cert is None
    await rig.csms.expect_none("SecurityEventNotification", within=0.3)


@scenario(CP, "security_event_not_sent", {"security": _PROFILE_3,
                                          "trusted_roots": (_PKI.csms_root.pem,)})
async def _(rig):
    csr = await _csr(rig)
    conf = await rig.csms.result("CertificateSigned",
                                 {"certificateChain": _PKI.invalid_chain("expired", csr)})
    assert conf == {"status": "Rejected"}
    await rig.csms.expect_none("SecurityEventNotification", within=0.3)


@scenario(CP, "security_profile_downgrade_accepted", {"security": _PROFILE_3})
async def _(rig):
    await rig.booted()
    conf = await rig.csms.result("ChangeConfiguration", {"key": "SecurityProfile", "value": "2"})
    assert conf == {"status": "Accepted"} and rig.cp.config.get("SecurityProfile") == "2"


@scenario(CP, "client_cert_missing", {"security": _PROFILE_3})
async def _(rig):
    """Over wss:// with client certificates required (the scripted CSMS is plain ws://): the
    faulty charge point's handshake fails, the same charge point without the fault connects."""
    from harness.transport import tls_context
    from websockets.asyncio.server import serve
    made = Pki.create(Path(_PKI_DIR.name) / "pki-mtls", charge_point_serial="SIM-CP-0001")
    context = tls_context(server=True, ca_file=str(made.client_trust_file),
                          cert_file=str(made.server.cert_file),
                          key_file=str(made.server.key_file), require_client_cert=True)
    connected = asyncio.Event()

    async def handler(ws):
        connected.set()
        await ws.wait_closed()
    try:
        async with serve(handler, "127.0.0.1", 0, ssl=context,
                         subprotocols=["ocpp1.6"]) as server:
            port = server.sockets[0].getsockname()[1]
            for faulty in (True, False):
                pics = dataclasses.replace(rig.cp.pics, security=_PROFILE_3)
                cp = ChargePointSim(pics, f"wss://127.0.0.1:{port}/ocpp", reconnect_min=0.05,
                                    trusted_roots=(made.csms_root.pem,),
                                    client_cert=(str(made.client.cert_file),
                                                 str(made.client.key_file)),
                                    faults=["client_cert_missing"] if faulty else [])
                await cp.start()
                try:
                    if faulty:
                        for _ in range(100):
                            if cp.events.counters.get("connect_failed"):
                                break
                            await asyncio.sleep(0.02)
                        assert cp.events.counters.get("connect_failed") and not connected.is_set()
                    else:
                        await asyncio.wait_for(connected.wait(), 5)
                finally:
                    await cp.stop()
    finally:
        made.close()


# --- the CSMS -----------------------------------------------------------------------------------

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Box"}


def start(id_tag: str) -> dict:
    return {"connectorId": 1, "idTag": id_tag, "meterStart": 0, "timestamp": clock.now_iso()}


@pytest.mark.parametrize("name", sorted(Faults.names("csms")))
async def test_csms_fault(name):
    if name not in CSMS:
        pytest.skip(f"shown end to end by the fast catalogue entry {_shown_end_to_end('csms')[name]}")
    fn, params = CSMS[name]
    async with CsmsSim(stand_in_pics("csms"), faults=[(name, params.get("fault", {}))]) as csms:
        async with ScriptedCp(csms.url, "CP001") as cp:
            await fn(csms, cp)


@scenario(CSMS, "late_answer", {"fault": {"action": "Heartbeat", "delay_ms": 300}})
async def _(csms, cp):
    start_at = time.monotonic()
    await cp.result("Heartbeat", {})
    assert time.monotonic() - start_at >= 0.3


@scenario(CSMS, "no_answer", {"fault": {"action": "Heartbeat"}})
async def _(csms, cp):
    with pytest.raises(TimeoutError):
        await cp.call("Heartbeat", {}, timeout=0.3)


@scenario(CSMS, "callerror_instead_of_result", {"fault": {"action": "Authorize",
                                                          "code": "GenericError"}})
async def _(csms, cp):
    answer = await cp.call("Authorize", {"idTag": "VALID0001"})
    assert isinstance(answer, CallError) and answer.error_code == "GenericError"


@scenario(CSMS, "missing_field", {"fault": {"action": "Heartbeat", "field": "currentTime"}})
async def _(csms, cp):
    assert await cp.result("Heartbeat", {}) == {}
    assert "required" in rules(cp, "csms")


@scenario(CSMS, "extra_field", {"fault": {"action": "Authorize"}})
async def _(csms, cp):
    await cp.result("Authorize", {"idTag": "VALID0001"})
    assert "additionalProperties" in rules(cp, "csms")


@scenario(CSMS, "wrong_value", {"fault": {"action": "BootNotification", "field": "status",
                                          "value": "Accept"}})
async def _(csms, cp):
    assert (await cp.result("BootNotification", BOOT))["status"] == "Accept"
    assert "enum" in rules(cp, "csms")


@scenario(CSMS, "misspelt_error_code")
async def _(csms, cp):
    await cp.send_text('[2, "m1", "Heartbeat", []]')
    await cp.until(lambda: cp.has_finding("rpc.error-code-spelling", "csms"))
    assert any(t.startswith('[4,"m1","FormatViolation"') for s, t in cp.frames if s == "csms")


@scenario(CSMS, "callerror_codes_reversed")
async def _(csms, cp):
    await cp.send_text('[2, "r1", "MakeCoffee", {}]')
    await cp.send_text('[2, "r2", "Reset", {"type": "Soft"}]')  # known, not for a CSMS
    await cp.until(lambda: sum(1 for s, t in cp.frames if s == "csms"
                               and t.startswith(('[4,"r1"', '[4,"r2"'))) == 2)
    sent = [t for s, t in cp.frames if s == "csms"]
    assert any(t.startswith('[4,"r1","NotSupported"') for t in sent)
    assert any(t.startswith('[4,"r2","NotImplemented"') for t in sent)


@scenario(CSMS, "stall_after_garbage")
async def _(csms, cp):
    assert (await cp.result("Heartbeat", {}))["currentTime"]
    await cp.send_text('[3, "nothing", {}]')
    with pytest.raises(TimeoutError):
        await cp.call("Heartbeat", {}, timeout=0.3)


@scenario(CSMS, "protocol_error_for_everything")
async def _(csms, cp):
    await cp.send_text('[2, "p1", "MakeCoffee", {}]')
    await cp.send_text('[2, "p2", "Authorize", {"idTag": 5}]')
    await cp.until(lambda: sum(1 for s, t in cp.frames if s == "csms"
                               and t.startswith(('[4,"p1"', '[4,"p2"'))) == 2)
    sent = [t for s, t in cp.frames if s == "csms"]
    assert any(t.startswith('[4,"p1","ProtocolError"') for t in sent)
    assert any(t.startswith('[4,"p2","ProtocolError"') for t in sent)


@scenario(CSMS, "subprotocol_not_checked")
async def _(csms, cp):
    # The scripted charge point offered ocpp1.6: untouched. Offering only ocpp0.1 is upgraded
    # with ocpp0.1 selected and stays open.
    async with ScriptedCp(csms.url, "CP002", subprotocols=("ocpp0.1",)) as other:
        assert other.ws.subprotocol == "ocpp0.1"
        assert (await other.result("Heartbeat", {}))["currentTime"]


@scenario(CSMS, "timestamp_no_timezone")
async def _(csms, cp):
    answer = await cp.result("Heartbeat", {})
    assert not answer["currentTime"].endswith("Z") and "format:date-time" in rules(cp, "csms")


@scenario(CSMS, "cistring_overlong")
async def _(csms, cp):
    answer = await cp.result("Authorize", {"idTag": "VALID0001"})
    assert len(answer["idTagInfo"]["parentIdTag"]) == 21 and "maxLength" in rules(cp, "csms")


@scenario(CSMS, "duplicate_unique_id")
async def _(csms, cp):
    await csms.control("ClearCache", {})
    await csms.control("ClearCache", {})
    assert "rpc.duplicate-id" in rules(cp, "csms")


@scenario(CSMS, "garbage_frame")
async def _(csms, cp):
    await cp.until(lambda: cp.garbage)
    assert cp.garbage == ["this is not an OCPP-J frame"]


@scenario(CSMS, "accept_blocked_idtag")
async def _(csms, cp):
    answer = await cp.result("Authorize", {"idTag": "BLOCKED0001"})
    assert answer["idTagInfo"]["status"] == "Accepted"


@scenario(CSMS, "accept_unknown_idtag")
async def _(csms, cp):
    answer = await cp.result("Authorize", {"idTag": "NOBODY"})
    assert answer["idTagInfo"]["status"] == "Accepted"


@scenario(CSMS, "reuse_transaction_id")
async def _(csms, cp):
    first = await cp.result("StartTransaction", start("VALID0001"))
    second = await cp.result("StartTransaction", start("VALID0002"))
    assert first["transactionId"] == second["transactionId"]


@scenario(CSMS, "transaction_id_as_string")
async def _(csms, cp):
    answer = await cp.result("StartTransaction", start("VALID0001"))
    assert isinstance(answer["transactionId"], str) and "type" in rules(cp, "csms")


@scenario(CSMS, "wrong_current_time")
async def _(csms, cp):
    answer = await cp.result("Heartbeat", {})
    assert (clock.parse_time(answer["currentTime"]) - clock.now()).total_seconds() > 3500


@scenario(CSMS, "expiry_in_past")
async def _(csms, cp):
    info = (await cp.result("Authorize", {"idTag": "VALID0001"}))["idTagInfo"]
    assert info["status"] == "Accepted" and clock.parse_time(info["expiryDate"]) < clock.now()


@scenario(CSMS, "unsolicited_result")
async def _(csms, cp):
    await cp.result("BootNotification", BOOT)
    await cp.until(lambda: cp.has_finding("rpc.unmatched", "csms"))


@scenario(CSMS, "disconnect_after_boot")
async def _(csms, cp):
    await cp.result("BootNotification", BOOT)
    await asyncio.wait_for(cp.closed.wait(), 5)


@scenario(CSMS, "drop_boots_under_storm", {"fault": {"threshold": 2, "window_ms": 60000}})
async def _(csms, cp):
    await cp.result("BootNotification", BOOT)
    await cp.result("BootNotification", BOOT)
    with pytest.raises(TimeoutError):  # the third within the window: never answered
        await cp.call("BootNotification", BOOT, timeout=0.5)
    assert (await cp.result("Heartbeat", {}))["currentTime"]  # only boots are shed


@scenario(CSMS, "accept_duplicate_identity")
async def _(csms, cp):
    async with ScriptedCp(csms.url, "CP001") as twin:
        assert (await twin.result("Heartbeat", {}))["currentTime"]
        assert (await cp.result("Heartbeat", {}))["currentTime"]  # the first is served too
        assert not cp.closed.is_set()


async def test_csms_duplicate_identity_replaces_by_default():
    async with CsmsSim(stand_in_pics("csms")) as csms:
        async with ScriptedCp(csms.url, "CP001") as first, ScriptedCp(csms.url, "CP001") as twin:
            await asyncio.wait_for(first.closed.wait(), 5)
            assert (await twin.result("Heartbeat", {}))["currentTime"]


# --- the reference CSMS: legal behaviour (harness/fidelity/legal.py csms-legal-*) ---------------

@scenario(CSMS, "boot_pending_first", {"fault": {"count": 1, "interval": 7, "trigger_ms": 50}})
async def _(csms, cp):
    first = await cp.result("BootNotification", BOOT)
    assert (first["status"], first["interval"]) == ("Pending", 7)
    trigger = await cp.expect("TriggerMessage")
    assert trigger.payload == {"requestedMessage": "BootNotification"}
    assert (await cp.result("BootNotification", BOOT))["status"] == "Accepted"
    assert not cp.findings


@scenario(CSMS, "heartbeat_interval_own", {"fault": {"seconds": 45}})
async def _(csms, cp):
    answer = await cp.result("BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == ("Accepted", 45)


@scenario(CSMS, "idtaginfo_optional_fields")
async def _(csms, cp):
    info = (await cp.result("Authorize", {"idTag": "VALID0001"}))["idTagInfo"]
    assert info["status"] == "Accepted" and clock.parse_time(info["expiryDate"]) > clock.now()
    assert info["parentIdTag"] == "PARENT0001"
    tx = (await cp.result("StartTransaction", start("VALID0001")))["transactionId"]
    stop = await cp.result("StopTransaction", {"transactionId": tx, "meterStop": 200,
                                                "timestamp": clock.now_iso()})
    assert stop["idTagInfo"]["status"] == "Accepted"  # though the request carries no idTag
    assert not cp.findings


@scenario(CSMS, "requests_after_boot")
async def _(csms, cp):
    await cp.result("BootNotification", BOOT)
    assert (await cp.expect("GetConfiguration")).payload == {}
    change = await cp.expect("ChangeConfiguration")
    assert change.payload == {"key": "HeartbeatInterval", "value": "300"}
    assert (await cp.expect("TriggerMessage")).payload == {"requestedMessage": "StatusNotification"}
    assert not cp.findings


@scenario(CSMS, "remote_start_without_connector")
async def _(csms, cp):
    await cp.result("BootNotification", BOOT)
    sending = asyncio.ensure_future(csms.control("RemoteStartTransaction", {
        "chargePointId": "CP001", "payload": {"connectorId": 1, "idTag": "VALID0001"}}))
    request = await cp.expect("RemoteStartTransaction")
    assert request.payload == {"idTag": "VALID0001"}
    assert (await sending)["response"] == {"status": "Accepted"}
