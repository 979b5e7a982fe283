"""The reference CSMS against a scripted charge point: boot policy, authorization table,
transactions, stored notifications, CSMS-initiated operations, robustness."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from harness.rpc import CallError
from harness.sim import ControlError, CsmsSim
from harness import clock
from scripted_peers import ScriptedCp, stand_in_pics

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Box"}


@pytest.fixture
async def csms():
    sim = CsmsSim(stand_in_pics("csms"), port=0)
    await sim.start()
    yield sim
    await sim.stop()
    assert len(sim.tasks) == 0


@pytest.fixture
async def cp(csms):
    async with ScriptedCp(csms.url, "CP001") as peer:
        yield peer


def start_tx(id_tag: str, connector_id: int = 1) -> dict:
    return {"connectorId": connector_id, "idTag": id_tag, "meterStart": 100,
            "timestamp": clock.now_iso()}


async def test_boot_policy(csms, cp):
    answer = await cp.result("BootNotification", BOOT)
    assert answer["status"] == "Accepted" and answer["interval"] == 300
    await csms.control("set_boot_policy", {"status": "Pending", "interval": 7})
    answer = await cp.result("BootNotification", BOOT)
    assert (answer["status"], answer["interval"]) == ("Pending", 7)
    await csms.control("set_boot_policy", {"status": "Rejected", "chargePointId": "CP001"})
    assert (await cp.result("BootNotification", BOOT))["status"] == "Rejected"
    record = csms.status()["chargePoints"]["CP001"]
    assert record["registration"] == "Rejected" and len(record["bootNotifications"]) == 3
    assert (await cp.result("Heartbeat", {}))["currentTime"].endswith("Z")
    cp.assert_clean()


async def test_authorization_table(csms, cp):
    async def status(id_tag: str) -> dict:
        return await cp.result("Authorize", {"idTag": id_tag})
    valid = (await status("VALID0001"))["idTagInfo"]
    assert valid == {"status": "Accepted", "parentIdTag": "PARENT0001"}
    assert (await status("valid0002"))["idTagInfo"]["status"] == "Accepted"  # case-insensitive
    for tag, expected in [("INVALID0001", "Invalid"), ("EXPIRED0001", "Expired"),
                          ("BLOCKED0001", "Blocked"), ("PARENT0001", "Accepted"),
                          ("NOBODY", "Invalid")]:
        assert (await status(tag))["idTagInfo"]["status"] == expected, tag
    await csms.control("set_id_tag", {"idTag": "NOBODY", "status": "Accepted",
                                      "expiryDate": "2000-01-01T00:00:00Z"})
    assert (await status("NOBODY"))["idTagInfo"]["status"] == "Expired"
    cp.assert_clean()


async def test_transactions_get_ids_and_are_stored(csms, cp):
    first = await cp.result("StartTransaction", start_tx("VALID0001"))
    second = await cp.result("StartTransaction", start_tx("VALID0002", 2))
    assert first["transactionId"] != second["transactionId"]
    concurrent = await cp.result("StartTransaction", start_tx("VALID0001", 3))
    assert concurrent["idTagInfo"]["status"] == "ConcurrentTx"
    refused = await cp.result("StartTransaction", start_tx("BLOCKED0001", 3))
    assert refused["idTagInfo"]["status"] == "Blocked" and "transactionId" in refused
    meter = {"connectorId": 1, "transactionId": first["transactionId"],
             "meterValue": [{"timestamp": clock.now_iso(),
                             "sampledValue": [{"value": "150", "unit": "Wh"}]}]}
    assert await cp.result("MeterValues", meter) == {}
    stop = await cp.result("StopTransaction", {"transactionId": first["transactionId"],
                                               "meterStop": 250, "timestamp": clock.now_iso(),
                                               "idTag": "VALID0001", "reason": "Local"})
    assert stop["idTagInfo"]["status"] == "Accepted"
    tx = csms.transactions[first["transactionId"]]
    assert (tx.meter_start, tx.meter_stop, tx.reason, tx.meter_values) == (100, 250, "Local", 1)
    listed = csms.status()["chargePoints"]["CP001"]["transactions"]
    assert [t["transactionId"] for t in listed][:2] == [first["transactionId"],
                                                        second["transactionId"]]
    cp.assert_clean()


async def test_notifications_are_stored(csms, cp):
    await cp.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                           "status": "Preparing"})
    await cp.result("FirmwareStatusNotification", {"status": "Downloading"})
    await cp.result("DiagnosticsStatusNotification", {"status": "Uploaded"})
    assert (await cp.result("DataTransfer", {"vendorId": "Other"}))["status"] == "UnknownVendorId"
    assert await cp.result("DataTransfer", {"vendorId": "OCPPHarness", "data": "ping"}) == \
        {"status": "Accepted", "data": "ping"}
    record = csms.status()["chargePoints"]["CP001"]
    assert record["statuses"]["1"]["status"] == "Preparing"
    assert record["firmwareStatuses"] == ["Downloading"]
    assert record["diagnosticsStatuses"] == ["Uploaded"]
    assert len(record["dataTransfers"]) == 2
    cp.assert_clean()


async def test_operations_through_control(csms, cp):
    got = await csms.control("RemoteStartTransaction",
                             {"chargePointId": "CP001", "payload": {"idTag": "VALID0001"}})
    assert got == {"response": {"status": "Accepted"}}
    received = await cp.expect("RemoteStartTransaction")
    assert received.payload == {"idTag": "VALID0001"}
    # chargePointId may be left out while a single charge point is connected.
    assert await csms.control("GetLocalListVersion", {}) == {"response": {"listVersion": 0}}
    cp.responder = lambda action, p: CallError("", "NotSupported", "no", {}) \
        if action == "ClearCache" else None
    assert await csms.control("ClearCache", {"chargePointId": "CP001"}) == \
        {"error": {"code": "NotSupported", "description": "no", "details": {}}}
    cp.responder = lambda action, p: ... if action == "Reset" else None
    with pytest.raises(ControlError) as late:
        await csms.control("Reset", {"payload": {"type": "Soft"}, "timeout": 0.2})
    assert late.value.status == 504
    cp.assert_clean()


async def test_control_errors_say_what_is_accepted(csms, cp):
    with pytest.raises(ControlError) as unknown:
        await csms.control("Explode", {})
    assert unknown.value.status == 404 and "RemoteStartTransaction" in unknown.value.message
    with pytest.raises(ControlError) as absent:
        await csms.control("Reset", {"chargePointId": "CP999", "payload": {"type": "Soft"}})
    assert absent.value.status == 404 and "CP001" in absent.value.message
    with pytest.raises(ControlError) as typo:
        await csms.control("Reset", {"chargePointID": "CP001"})
    assert typo.value.status == 400 and "chargePointId" in typo.value.message
    with pytest.raises(ControlError) as bad:
        await csms.control("set_boot_policy", {"status": "Maybe"})
    assert bad.value.status == 400 and "Pending" in bad.value.message
    with pytest.raises(ControlError) as fault:
        await csms.control("inject_fault", {"name": "heartbeat_wrong_interval"})
    assert fault.value.status == 400 and "accept_blocked_idtag" in fault.value.message


async def test_garbage_and_unknown_actions_are_survived(csms, cp):
    await cp.send_text("}{ not json")
    await cp.send_text('[2, "u1", "Teleport", {}]')
    await cp.send_text('[2, "u2", "Heartbeat", []]')
    await cp.send_text('[3, "nobody-asked", {}]')
    answer = await cp.call("RemoteStartTransaction", {"idTag": "X"})
    assert isinstance(answer, CallError) and answer.error_code == "NotSupported"
    invalid = await cp.call("Authorize", {"idTag": 5})
    assert isinstance(invalid, CallError) and invalid.error_code == "TypeConstraintViolation"
    missing = await cp.call("StartTransaction", {"connectorId": 1})
    assert isinstance(missing, CallError) and missing.error_code == "OccurenceConstraintViolation"
    assert (await cp.result("Heartbeat", {}))["currentTime"]
    errors = [t for s, t in cp.frames if s == "csms" and t.startswith("[4")]
    assert any('"u1","NotImplemented"' in t for t in errors)
    assert any('"u2","FormationViolation"' in t for t in errors)
    status = csms.status()
    assert status["garbageReceived"] == 3
    assert status["counters"]["unmatched_answer"] == 1


async def test_identity_path_and_subprotocol(csms):
    async with ScriptedCp(f"ws://127.0.0.1:{csms.port}/any/deeper/path", "CP-42") as peer:
        record = await csms.wait_connected("CP-42", 2)
        assert record.path == "/any/deeper/path/CP-42" and record.subprotocol == "ocpp1.6"
        await peer.result("BootNotification", BOOT)
    no_protocol = ScriptedCp(csms.url, "CP-43", subprotocols=())
    await no_protocol.start()
    await asyncio.wait_for(no_protocol.closed.wait(), 5)
    assert no_protocol.ws.close_code == 1002
    with pytest.raises(InvalidStatus):
        async with connect(f"ws://127.0.0.1:{csms.port}/", subprotocols=["ocpp1.6"]):
            pass


async def test_a_reconnecting_charge_point_replaces_its_old_connection(csms, cp):
    async with ScriptedCp(csms.url, "CP001") as again:
        await asyncio.wait_for(cp.closed.wait(), 5)
        assert (await again.result("Heartbeat", {}))["currentTime"]
        assert csms.status()["chargePoints"]["CP001"]["connections"] == 2
    await csms.wait_until(lambda: not csms.charge_points["CP001"].connected.is_set(), 5)


async def test_operator_disconnect(csms, cp):
    assert await csms.control("disconnect", {}) == {"chargePointId": "CP001"}
    await asyncio.wait_for(cp.closed.wait(), 5)


async def test_basic_authentication(csms):
    pics = stand_in_pics("csms")
    pics = dataclasses.replace(pics, security=dataclasses.replace(
        pics.security, profile=1, basic_auth_password="s3cret-password"))
    async with CsmsSim(pics) as secured:
        token = base64.b64encode(b"CP001:s3cret-password").decode()
        async with ScriptedCp(secured.url, "CP001", headers={"Authorization": f"Basic {token}"}):
            await secured.wait_connected("CP001", 2)
        with pytest.raises(InvalidStatus) as refused:
            async with ScriptedCp(secured.url, "CP001"):
                pass
        assert refused.value.response.status_code == 401


async def test_wait_until_sees_stored_messages(csms, cp):
    waiting = asyncio.ensure_future(csms.wait_until(
        lambda: csms.charge_points["CP001"].heartbeats >= 1, 5))
    await cp.result("Heartbeat", {})
    assert await waiting


async def test_stop_leaves_nothing_running():
    before = set(asyncio.all_tasks())
    csms = CsmsSim(stand_in_pics("csms"), faults=["unsolicited_result"])
    await csms.start()
    peer = await ScriptedCp(csms.url, "CP001").start()
    await peer.result("BootNotification", BOOT)
    await csms.control("ClearCache", {})
    await csms.stop()
    await asyncio.wait_for(peer.closed.wait(), 5)
    await peer.stop()
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert not left, left
