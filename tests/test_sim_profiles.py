"""The reference charge point's optional profiles on the wire: Reservation, Smart Charging, Remote
Trigger, Firmware Management (real HTTP downloads and uploads)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.sim import ChargePointSim
from harness import clock
from scripted_peers import FileServer, FtpServer, ScriptedCsms, stand_in_pics


@pytest.fixture
async def csms():
    async with ScriptedCsms() as server:
        yield server


@pytest.fixture
async def make_cp(csms):
    started = []

    async def make(configuration=None, **features) -> ChargePointSim:
        features.setdefault("connectors", 1)
        cp = ChargePointSim(stand_in_pics("cs", configuration=configuration, **features),
                            csms.url, reconnect_min=0.05)
        started.append(cp)
        await cp.start()
        await csms.expect("BootNotification")
        for connector_id in range(features["connectors"] + 1):
            await csms.expect("StatusNotification",
                              lambda p, c=connector_id: p["connectorId"] == c)
        return cp

    yield make
    for cp in started:
        await cp.stop()


def status_is(status: str, connector_id: int = 1):
    return lambda p: p["connectorId"] == connector_id and p["status"] == status


def reserve(connector_id: int = 1, reservation_id: int = 1, id_tag: str = "VALID0001",
            seconds: float = 300, parent: str | None = None) -> dict:
    payload = {"connectorId": connector_id, "reservationId": reservation_id, "idTag": id_tag,
               "expiryDate": clock.iso(clock.now() + timedelta(seconds=seconds))}
    if parent:
        payload["parentIdTag"] = parent
    return payload


# --- Reservation --------------------------------------------------------------------------------

async def test_reserved_connector_serves_only_its_idtag(csms, make_cp):
    cp = await make_cp()
    assert await csms.result("ReserveNow", reserve()) == {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Reserved"))
    refused = await cp.control("present_id_tag", {"idTag": "VALID0002"})
    assert refused["outcome"] == "refused: reserved"
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    await csms.expect("Authorize")
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("plug_in", {"connectorId": 1})
    start = await csms.expect("StartTransaction")
    assert start.payload["reservationId"] == 1
    assert [r.payload["idTag"] for r in csms.seen("Authorize")] == ["VALID0001"]
    assert await csms.result("CancelReservation", {"reservationId": 1}) == {"status": "Rejected"}
    csms.assert_clean()


async def test_remote_start_uses_the_reservation(csms, make_cp):
    cp = await make_cp()
    assert await csms.result("ReserveNow", reserve(reservation_id=4)) == {"status": "Accepted"}
    assert (await csms.result("RemoteStartTransaction", {"idTag": "VALID0002",
                                                         "connectorId": 1}))["status"] == "Rejected"
    assert (await csms.result("RemoteStartTransaction", {"idTag": "VALID0001",
                                                         "connectorId": 1}))["status"] == "Accepted"
    await cp.control("plug_in", {"connectorId": 1})
    assert (await csms.expect("StartTransaction")).payload["reservationId"] == 4
    csms.assert_clean()


async def test_reservation_with_a_parent_id_tag(csms, make_cp):
    csms.responder = lambda action, p: {"idTagInfo": {"status": "Accepted",
                                                      "parentIdTag": "PARENT0001"}} \
        if action == "Authorize" else None
    cp = await make_cp()
    await csms.result("ReserveNow", reserve(parent="PARENT0001"))
    await cp.control("plug_in", {"connectorId": 1})
    await cp.control("present_id_tag", {"idTag": "VALID0002"})
    start = await csms.expect("StartTransaction")
    assert (start.payload["idTag"], start.payload["reservationId"]) == ("VALID0002", 1)
    csms.assert_clean()


async def test_reservation_expires_and_can_be_cancelled(csms, make_cp):
    await make_cp()
    await csms.result("ReserveNow", reserve(seconds=1))
    reserved = await csms.expect("StatusNotification", status_is("Reserved"))
    available = await csms.expect("StatusNotification", status_is("Available"), timeout=3)
    assert available.at - reserved.at >= 0.5
    await csms.result("ReserveNow", reserve(reservation_id=2))
    await csms.expect("StatusNotification", status_is("Reserved"))
    assert await csms.result("CancelReservation", {"reservationId": 2}) == {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Available"))
    csms.assert_clean()


async def test_reservation_refusals(csms, make_cp):
    cp = await make_cp(connectors=2)
    assert (await csms.result("ReserveNow", reserve(connector_id=3)))["status"] == "Rejected"
    await cp.control("plug_in", {"connectorId": 1})
    assert (await csms.result("ReserveNow", reserve()))["status"] == "Occupied"
    await csms.result("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert (await csms.result("ReserveNow", reserve(connector_id=2)))["status"] == "Unavailable"
    await csms.result("ChangeAvailability", {"connectorId": 2, "type": "Operative"})
    await cp.control("report_fault", {"connectorId": 2, "errorCode": "GroundFailure"})
    assert (await csms.result("ReserveNow", reserve(connector_id=2)))["status"] == "Faulted"
    await cp.control("clear_fault", {"connectorId": 2})
    assert (await csms.result("ReserveNow", reserve(connector_id=2, seconds=-5)))["status"] == \
        "Rejected"
    csms.assert_clean()


async def test_reservation_of_the_whole_charge_point(csms, make_cp):
    cp = await make_cp()
    assert await csms.result("ReserveNow", reserve(connector_id=0, reservation_id=9)) == \
        {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Reserved"))  # its only free connector
    assert (await cp.control("present_id_tag", {"idTag": "VALID0002"}))["outcome"] == \
        "refused: reserved"
    await cp.control("plug_in", {"connectorId": 1})
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    assert (await csms.expect("StartTransaction")).payload["reservationId"] == 9
    csms.assert_clean()


async def test_connector_zero_is_rejected_without_the_pics_claim(csms, make_cp):
    await make_cp(reserve_connector_zero=False)
    assert (await csms.result("ReserveNow", reserve(connector_id=0)))["status"] == "Rejected"
    csms.assert_clean()


# --- Smart Charging -----------------------------------------------------------------------------

def profile(pid: int, purpose: str, stack: int, periods: list[tuple[int, float]], *,
            kind: str = "Absolute", unit: str = "A", duration: int | None = None,
            start_offset: float = -1, **extra) -> dict:
    schedule = {"chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": s, "limit": lim} for s, lim in periods]}
    if kind != "Relative":
        schedule["startSchedule"] = clock.iso(clock.now() + timedelta(seconds=start_offset))
    if duration is not None:
        schedule["duration"] = duration
    return {"chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind, "chargingSchedule": schedule, **extra}


def periods(answer: dict) -> list[tuple[int, float]]:
    return [(p["startPeriod"], p["limit"])
            for p in answer["chargingSchedule"]["chargingSchedulePeriod"]]


def assert_periods(answer: dict, expected: list[tuple[int, float]]) -> None:
    """Equal limits; start periods within a second (the request itself takes a few ms)."""
    got = periods(answer)
    assert [lim for _, lim in got] == [lim for _, lim in expected], got
    assert all(abs(a - b) <= 1 for (a, _), (b, _) in zip(got, expected)), got


async def test_composite_schedule_of_stacked_profiles(csms, make_cp):
    await make_cp()
    low = profile(1, "TxDefaultProfile", 0, [(0, 6), (100, 8), (200, 10)], duration=400)
    high = profile(2, "TxDefaultProfile", 1, [(0, 4)], duration=150)
    for p in (low, high):
        assert await csms.result("SetChargingProfile", {"connectorId": 1,
                                                        "csChargingProfiles": p}) == \
            {"status": "Accepted"}
    answer = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 600,
                                                        "chargingRateUnit": "A"})
    assert answer["status"] == "Accepted" and answer["connectorId"] == 1
    assert abs((clock.parse_time(answer["scheduleStart"]) - clock.now()).total_seconds()) < 2
    # The profiles started a second ago: every boundary comes one second early.
    assert_periods(answer, [(0, 4), (149, 8), (199, 10), (399, 32)])
    cap = profile(3, "ChargePointMaxProfile", 0, [(0, 5)], duration=300)
    assert await csms.result("SetChargingProfile", {"connectorId": 0,
                                                    "csChargingProfiles": cap}) == \
        {"status": "Accepted"}
    capped = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 600,
                                                        "chargingRateUnit": "A"})
    assert_periods(capped, [(0, 4), (149, 5), (299, 10), (399, 32)])
    watts = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 100,
                                                       "chargingRateUnit": "W"})
    assert periods(watts) == [(0, 4 * 230 * 3)]
    csms.assert_clean()


async def test_set_charging_profile_refusals(csms, make_cp):
    await make_cp({"ChargeProfileMaxStackLevel": "3", "ChargingScheduleMaxPeriods": "2"})

    async def status(connector_id: int, p: dict) -> str:
        answer = await csms.result("SetChargingProfile", {"connectorId": connector_id,
                                                          "csChargingProfiles": p})
        return answer["status"]

    assert await status(1, profile(1, "TxProfile", 0, [(0, 6)], transactionId=5)) == "Rejected"
    assert await status(1, profile(1, "ChargePointMaxProfile", 0, [(0, 6)])) == "Rejected"
    assert await status(1, profile(1, "TxDefaultProfile", 4, [(0, 6)])) == "Rejected"
    assert await status(1, profile(1, "TxDefaultProfile", 0, [(0, 6), (10, 7), (20, 8)])) == \
        "Rejected"
    assert await status(1, profile(1, "TxDefaultProfile", 0, [(0, 6)], kind="Recurring")) == \
        "Rejected"
    assert await status(2, profile(1, "TxDefaultProfile", 0, [(0, 6)])) == "Rejected"
    csms.assert_clean()


async def test_tx_profile_limits_the_running_transaction(csms, make_cp):
    cp = await make_cp({"MeterValuesSampledData": "Current.Offered"})
    tx_profile = profile(7, "TxProfile", 0, [(0, 0)], kind="Relative")
    answer = await csms.result("RemoteStartTransaction", {"idTag": "VALID0001", "connectorId": 1,
                                                          "chargingProfile": tx_profile})
    assert answer == {"status": "Accepted"}
    await cp.control("plug_in", {"connectorId": 1})
    await csms.expect("StartTransaction")
    # Limit 0: the EVSE offers nothing and says so.
    await csms.expect("StatusNotification", status_is("SuspendedEVSE"))
    composite = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert periods(composite) == [(0, 0)]
    other = profile(8, "TxProfile", 0, [(0, 16)], kind="Relative", transactionId=999)
    assert (await csms.result("SetChargingProfile", {"connectorId": 1,
                                                     "csChargingProfiles": other}))["status"] == \
        "Rejected"
    assert await csms.result("ClearChargingProfile", {"id": 7}) == {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Charging"))
    assert await csms.result("ClearChargingProfile", {"id": 7}) == {"status": "Unknown"}
    await cp.control("present_id_tag", {"idTag": "VALID0001"})
    await csms.expect("StopTransaction")
    csms.assert_clean()


async def test_recurring_daily_profile_repeats(csms, make_cp):
    await make_cp()
    daily = profile(1, "TxDefaultProfile", 0, [(0, 10), (3600, 20)], kind="Recurring",
                    recurrencyKind="Daily", start_offset=-86400 - 1800)
    await csms.result("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": daily})
    answer = await csms.result("GetCompositeSchedule", {"connectorId": 1, "duration": 86400})
    # The current daily cycle began 30 min ago: 20 A from its hour 1, 10 A again next cycle.
    assert_periods(answer, [(0, 10), (1800, 20), (84600, 10)])
    csms.assert_clean()


# --- Remote Trigger -----------------------------------------------------------------------------

@pytest.mark.parametrize("message,expected", [
    ("BootNotification", "BootNotification"), ("Heartbeat", "Heartbeat"),
    ("MeterValues", "MeterValues"), ("StatusNotification", "StatusNotification"),
    ("FirmwareStatusNotification", "FirmwareStatusNotification"),
    ("DiagnosticsStatusNotification", "DiagnosticsStatusNotification"),
])
async def test_trigger_message(csms, make_cp, message, expected):
    await make_cp()
    before = len(csms.seen(expected))
    answer = await csms.result("TriggerMessage", {"requestedMessage": message, "connectorId": 1}
                               if message in ("MeterValues", "StatusNotification")
                               else {"requestedMessage": message})
    assert answer == {"status": "Accepted"}
    triggered = await csms.expect(expected, where=lambda p: len(csms.seen(expected)) > before)
    if message == "MeterValues":
        assert triggered.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    if message.endswith("StatusNotification") and message != "StatusNotification":
        assert triggered.payload["status"] == "Idle"
    csms.assert_clean()


async def test_trigger_message_for_a_connector_that_does_not_exist(csms, make_cp):
    await make_cp()
    answer = await csms.result("TriggerMessage", {"requestedMessage": "MeterValues",
                                                  "connectorId": 2})
    assert answer == {"status": "Rejected"}
    await csms.expect_none("MeterValues", within=0.2)
    csms.assert_clean()


# --- Firmware Management ------------------------------------------------------------------------

async def firmware_statuses(csms, *expected: str) -> None:
    for status in expected:
        got = await csms.expect("FirmwareStatusNotification", timeout=5)
        assert got.payload["status"] == status


async def test_firmware_update_downloads_installs_and_reboots(csms, make_cp):
    cp = await make_cp()
    async with FileServer({"fw-2.0.bin": b"\x7fOCPPFW" + bytes(1000)}) as files:
        await csms.result("UpdateFirmware", {"location": files.url("fw-2.0.bin"),
                                             "retrieveDate": clock.now_iso()})
        await firmware_statuses(csms, "Downloading", "Downloaded", "Installing")
        boot = await csms.expect("BootNotification", timeout=5)
        assert boot.payload["firmwareVersion"] == "fw-2.0"
        await firmware_statuses(csms, "Installed")
    assert cp.status()["firmwareVersion"] == "fw-2.0"
    csms.assert_clean()


async def test_firmware_download_and_installation_failures(csms, make_cp):
    await make_cp()
    async with FileServer({"bad.bin": b"INVALID image"}) as files:
        await csms.result("UpdateFirmware", {"location": files.url("does_not_exist_fw.bin"),
                                             "retrieveDate": clock.now_iso(), "retries": 0})
        await firmware_statuses(csms, "Downloading", "DownloadFailed")
        await csms.result("UpdateFirmware", {"location": files.url("bad.bin"),
                                             "retrieveDate": clock.now_iso()})
        await firmware_statuses(csms, "Downloading", "Downloaded", "Installing",
                                "InstallationFailed")
    assert len(csms.seen("BootNotification")) == 1
    csms.assert_clean()


async def test_get_diagnostics_uploads_the_log(csms, make_cp):
    await make_cp()
    async with FileServer() as files:
        answer = await csms.result("GetDiagnostics", {"location": files.url("upload")})
        name = answer["fileName"]
        for status in ("Uploading", "Uploaded"):
            got = await csms.expect("DiagnosticsStatusNotification")
            assert got.payload["status"] == status
        assert b"boot" in files.uploads[f"upload/{name}"]
    csms.assert_clean()


async def test_get_diagnostics_to_an_unreachable_server_fails(csms, make_cp):
    await make_cp()
    files = await FileServer().start()
    location = files.url("upload")
    await files.stop()  # nobody listens there any more
    await csms.result("GetDiagnostics", {"location": location})
    statuses = [(await csms.expect("DiagnosticsStatusNotification")).payload["status"]
                for _ in range(2)]
    assert statuses == ["Uploading", "UploadFailed"]
    csms.assert_clean()


async def test_firmware_and_diagnostics_over_ftp(csms, make_cp):
    async with FtpServer({"/fw/fw-3.1.bin": b"\x7fOCPPFW" + bytes(100)}) as ftp:
        await make_cp()
        await csms.result("UpdateFirmware", {"location": ftp.url("/fw/fw-3.1.bin"),
                                             "retrieveDate": clock.now_iso()})
        await firmware_statuses(csms, "Downloading", "Downloaded", "Installing")
        assert (await csms.expect("BootNotification", timeout=5)).payload["firmwareVersion"] == \
            "fw-3.1"
        await firmware_statuses(csms, "Installed")
        answer = await csms.result("GetDiagnostics", {"location": ftp.url("/logs")})
        statuses = [(await csms.expect("DiagnosticsStatusNotification")).payload["status"]
                    for _ in range(2)]
        assert statuses == ["Uploading", "Uploaded"]
        assert f"/logs/{answer['fileName']}" in ftp.uploads
    csms.assert_clean()
