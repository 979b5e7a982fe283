"""Interoperability with an independent implementation: the PyPI ``ocpp`` library.

The reference charge point talks to a central system written with ``ocpp.v16.ChargePoint`` and
``@on`` handlers; the reference CSMS talks to a charge point written with it. Both directions of
every frame go through harness.protocol.Checker, and the library validates what it receives
against its own copy of the schemas, so a disagreement shows up on either side.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as LibChargePoint
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action, RegistrationStatus
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from harness.protocol import Checker
from harness.sim import ChargePointSim, CsmsSim
from scripted_peers import FileServer, stand_in_pics


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Judge:
    """Feeds every frame of one connection to a Checker and keeps the findings."""

    def __init__(self) -> None:
        self.checker = Checker()
        self.findings: list[str] = []
        self.errors: list[str] = []

    def __call__(self, sender: str, text: str) -> None:
        checked = self.checker.check(sender, text)
        self.findings += [f"{sender}: {f} in {text[:300]}" for f in checked.findings]
        if text.startswith("[4"):
            self.errors.append(f"{sender}: {text}")

    def assert_clean(self) -> None:
        assert not self.findings, "\n".join(self.findings)
        assert not self.errors, "CALLERRORs: " + "\n".join(self.errors)


# --- the reference charge point against an ocpp-library central system -------------------------

class LibCentral(LibChargePoint):
    """A central system written with the ocpp library: accepts everything, numbers transactions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: asyncio.Queue = asyncio.Queue()
        self.next_id = 100

    def _got(self, action: str, **payload) -> None:
        self.received.put_nowait((action, payload))

    async def expect(self, action: str, timeout: float = 5, where=lambda p: True) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                got, payload = await self.received.get()
                if got == action and where(payload):
                    return payload

    @on(Action.boot_notification)
    async def on_boot(self, **p):
        self._got("BootNotification", **p)
        return call_result.BootNotification(current_time=now(), interval=300,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    async def on_heartbeat(self, **p):
        self._got("Heartbeat", **p)
        return call_result.Heartbeat(current_time=now())

    @on(Action.status_notification)
    async def on_status(self, **p):
        self._got("StatusNotification", **p)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, **p):
        self._got("Authorize", **p)
        return call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    async def on_start(self, **p):
        self._got("StartTransaction", **p)
        self.next_id += 1
        return call_result.StartTransaction(transaction_id=self.next_id,
                                            id_tag_info={"status": "Accepted"})

    @on(Action.stop_transaction)
    async def on_stop(self, **p):
        self._got("StopTransaction", **p)
        return call_result.StopTransaction()

    @on(Action.meter_values)
    async def on_meter_values(self, **p):
        self._got("MeterValues", **p)
        return call_result.MeterValues()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics(self, **p):
        self._got("DiagnosticsStatusNotification", **p)
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    async def on_firmware(self, **p):
        self._got("FirmwareStatusNotification", **p)
        return call_result.FirmwareStatusNotification()


@pytest.fixture
async def lib_central():
    connected: asyncio.Queue = asyncio.Queue()

    async def handler(ws):
        central = LibCentral(ws.request.path.rsplit("/", 1)[-1], ws, response_timeout=5)
        connected.put_nowait(central)
        try:
            await central.start()
        except Exception:  # the connection closed
            pass

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/central", connected


async def test_reference_charge_point_with_an_ocpp_library_central_system(lib_central):
    url, connected = lib_central
    judge = Judge()
    pics = stand_in_pics("cs", connectors=1, configuration={"MeterValueSampleInterval": "1"})
    cp = ChargePointSim(pics, url, charge_point_id="REFCP", on_frame=judge)
    await cp.start()
    try:
        central: LibCentral = await asyncio.wait_for(connected.get(), 5)
        boot = await central.expect("BootNotification")
        assert boot["charge_point_vendor"] == "OCPPHarness"
        await central.expect("StatusNotification", where=lambda p: p["connector_id"] == 1)

        # A local session: authorize, start, meter values, stop.
        await cp.control("plug_in", {"connectorId": 1})
        await cp.control("present_id_tag", {"idTag": "VALID0001"})
        await central.expect("Authorize")
        start = await central.expect("StartTransaction")
        assert start["id_tag"] == "VALID0001"
        values = await central.expect("MeterValues", timeout=3)
        assert values["transaction_id"] == 101
        await cp.control("present_id_tag", {"idTag": "VALID0001"})
        stop = await central.expect("StopTransaction")
        assert (stop["transaction_id"], stop["reason"]) == (101, "Local")

        # Remote start and stop.
        started = await central.call(call.RemoteStartTransaction(id_tag="VALID0002",
                                                                 connector_id=1), suppress=False)
        assert started.status == "Accepted"
        await central.expect("StartTransaction")
        # Charging follows StartTransaction.conf: from then on the charge point knows the id.
        await central.expect("StatusNotification", where=lambda p: p["status"] == "Charging")
        stopped = await central.call(call.RemoteStopTransaction(transaction_id=102),
                                     suppress=False)
        assert stopped.status == "Accepted"
        assert (await central.expect("StopTransaction"))["reason"] == "Remote"

        # One operation of each optional profile.
        later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
        reserved = await central.call(call.ReserveNow(connector_id=1, expiry_date=later,
                                                      id_tag="VALID0001", reservation_id=7),
                                      suppress=False)
        assert reserved.status == "Occupied"  # the EV is still plugged in after the session
        sent = await central.call(call.SendLocalList(
            list_version=3, update_type="Full",
            local_authorization_list=[{"id_tag": "VALID0001",
                                       "id_tag_info": {"status": "Accepted"}}]), suppress=False)
        assert sent.status == "Accepted"
        version = await central.call(call.GetLocalListVersion(), suppress=False)
        assert version.list_version == 3
        profile = {"charging_profile_id": 1, "stack_level": 0,
                   "charging_profile_purpose": "TxDefaultProfile",
                   "charging_profile_kind": "Relative",
                   "charging_schedule": {"charging_rate_unit": "A",
                                         "charging_schedule_period": [
                                             {"start_period": 0, "limit": 10.0}]}}
        set_profile = await central.call(call.SetChargingProfile(
            connector_id=1, cs_charging_profiles=profile), suppress=False)
        assert set_profile.status == "Accepted"
        composite = await central.call(call.GetCompositeSchedule(
            connector_id=1, duration=600, charging_rate_unit="A"), suppress=False)
        assert composite.status == "Accepted"
        assert composite.charging_schedule["charging_schedule_period"][0]["limit"] == 10.0
        triggered = await central.call(call.TriggerMessage(requested_message="Heartbeat"),
                                       suppress=False)
        assert triggered.status == "Accepted"
        await central.expect("Heartbeat")
        async with FileServer() as files:
            diagnostics = await central.call(call.GetDiagnostics(location=files.url("logs")),
                                             suppress=False)
            assert diagnostics.file_name
            await central.expect("DiagnosticsStatusNotification",
                                 where=lambda p: p["status"] == "Uploaded")
            assert f"logs/{diagnostics.file_name}" in files.uploads
    finally:
        await cp.stop()
    judge.assert_clean()


# --- the reference CSMS against an ocpp-library charge point ---------------------------------

class LibStation(LibChargePoint):
    """A charge point written with the ocpp library: accepts every operation and records it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.operations: list[tuple[str, dict]] = []

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, **p):
        self.operations.append(("RemoteStartTransaction", p))
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, **p):
        self.operations.append(("RemoteStopTransaction", p))
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.reserve_now)
    async def on_reserve(self, **p):
        self.operations.append(("ReserveNow", p))
        return call_result.ReserveNow(status="Accepted")

    @on(Action.send_local_list)
    async def on_send_local_list(self, **p):
        self.operations.append(("SendLocalList", p))
        return call_result.SendLocalList(status="Accepted")

    @on(Action.set_charging_profile)
    async def on_set_profile(self, **p):
        self.operations.append(("SetChargingProfile", p))
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.trigger_message)
    async def on_trigger(self, **p):
        self.operations.append(("TriggerMessage", p))
        return call_result.TriggerMessage(status="Accepted")

    @on(Action.update_firmware)
    async def on_update_firmware(self, **p):
        self.operations.append(("UpdateFirmware", p))
        return call_result.UpdateFirmware()


async def test_reference_csms_with_an_ocpp_library_charge_point():
    judge = Judge()
    async with CsmsSim(stand_in_pics("csms"), on_frame=lambda cp_id, s, t: judge(s, t)) as csms:
        async with connect(f"{csms.url}/LIBCP1", subprotocols=["ocpp1.6"]) as ws:
            station = LibStation("LIBCP1", ws, response_timeout=5)
            reader = asyncio.create_task(station.start())
            try:
                boot = await station.call(call.BootNotification(
                    charge_point_model="LibBox", charge_point_vendor="PyOCPP"), suppress=False)
                assert boot.status == "Accepted" and boot.interval == 300
                await station.call(call.StatusNotification(
                    connector_id=1, error_code="NoError", status="Preparing", timestamp=now()))
                auth = await station.call(call.Authorize(id_tag="VALID0001"), suppress=False)
                assert auth.id_tag_info["status"] == "Accepted"
                blocked = await station.call(call.Authorize(id_tag="BLOCKED0001"), suppress=False)
                assert blocked.id_tag_info["status"] == "Blocked"
                start = await station.call(call.StartTransaction(
                    connector_id=1, id_tag="VALID0001", meter_start=0, timestamp=now()),
                    suppress=False)
                tx = start.transaction_id
                await station.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[
                    {"timestamp": now(), "sampled_value": [{"value": "120", "unit": "Wh"}]}]))
                stop = await station.call(call.StopTransaction(
                    meter_stop=240, timestamp=now(), transaction_id=tx, id_tag="VALID0001",
                    reason="Local"), suppress=False)
                assert stop.id_tag_info["status"] == "Accepted"
                await station.call(call.Heartbeat(), suppress=False)

                operations = [
                    ("RemoteStartTransaction", {"idTag": "VALID0001", "connectorId": 1}),
                    ("RemoteStopTransaction", {"transactionId": tx}),
                    ("ReserveNow", {"connectorId": 1, "expiryDate": now(), "idTag": "VALID0001",
                                    "reservationId": 1}),
                    ("SendLocalList", {"listVersion": 1, "updateType": "Full"}),
                    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
                        "chargingProfileId": 1, "stackLevel": 0,
                        "chargingProfilePurpose": "TxDefaultProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": now(),
                                             "chargingSchedulePeriod": [
                                                 {"startPeriod": 0, "limit": 16}]}}}),
                    ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
                    ("UpdateFirmware", {"location": "http://127.0.0.1/fw.bin",
                                        "retrieveDate": now()}),
                ]
                for action, payload in operations:
                    answer = await csms.control(action, {"chargePointId": "LIBCP1",
                                                         "payload": payload})
                    assert "response" in answer, (action, answer)
                assert [name for name, _ in station.operations] == [a for a, _ in operations]
                record = csms.status()["chargePoints"]["LIBCP1"]
                assert record["transactions"][0]["reason"] == "Local"
                assert record["statuses"]["1"]["status"] == "Preparing"
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
    judge.assert_clean()
