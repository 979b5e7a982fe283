"""Regression tests for the reference charge point's Reservation behaviour that the Reservation test
cases showed wrong or missing: the expiryDate read on the charge point's own clock, the
refuse_reservation control action (TC_048_4, TC_050_4), and a remote start by an idTag of the
reservation's parent (TC_053_2) when AuthorizeRemoteTxRequests is false."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness import clock
# The reference charge point and its scripted central system, set up as for the other optional
# profiles: the same fixtures, not a copy.
from test_sim_profiles import csms, make_cp, status_is  # noqa: F401


def reserve(expiry, *, connector_id: int = 1, reservation_id: int = 1, id_tag: str = "VALID0001",
            parent: str | None = None) -> dict:
    payload = {"connectorId": connector_id, "reservationId": reservation_id, "idTag": id_tag,
               "expiryDate": clock.iso(expiry)}
    if parent:
        payload["parentIdTag"] = parent
    return payload


async def test_expiry_is_read_on_the_charge_points_clock(csms, make_cp):
    cp = await make_cp()
    cp.clock_offset = timedelta(hours=1)  # its clock is an hour ahead of real time
    # Ahead of real time, but in the past on the charge point's clock: refused.
    past = clock.now() + timedelta(minutes=30)
    assert await csms.result("ReserveNow", reserve(past)) == {"status": "Rejected"}
    # Half a second ahead on its clock: held, then ended half a second later, not an hour.
    soon = cp.now() + timedelta(seconds=0.5)
    assert await csms.result("ReserveNow", reserve(soon, reservation_id=2)) == \
        {"status": "Accepted"}
    reserved = await csms.expect("StatusNotification", status_is("Reserved"))
    available = await csms.expect("StatusNotification", status_is("Available"), timeout=3)
    assert 0.3 <= available.at - reserved.at <= 1.5
    csms.assert_clean()


async def test_refuse_reservation_rejects_the_next_reserve_now_only(csms, make_cp):
    cp = await make_cp()
    expiry = clock.now() + timedelta(minutes=5)
    assert await cp.control("refuse_reservation", {}) == {}
    assert await csms.result("ReserveNow", reserve(expiry)) == {"status": "Rejected"}
    assert await csms.result("CancelReservation", {"reservationId": 1}) == {"status": "Rejected"}
    assert await csms.result("ReserveNow", reserve(expiry, reservation_id=2)) == \
        {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Reserved"))
    csms.assert_clean()


async def test_refuse_reservation_covers_connector_zero(csms, make_cp):
    cp = await make_cp(reserve_connector_zero=True)
    await cp.control("refuse_reservation", {})
    expiry = clock.now() + timedelta(minutes=5)
    assert await csms.result("ReserveNow", reserve(expiry, connector_id=0)) == \
        {"status": "Rejected"}
    csms.assert_clean()


async def test_remote_start_by_a_child_of_the_reserved_parent(csms, make_cp):
    # AuthorizeRemoteTxRequests false: the charge point need not authorize a remote start, but a
    # reservation for a parentIdTag makes it learn the idTag's parent first (section 5.13).
    csms.responder = lambda action, p: {"idTagInfo": {"status": "Accepted",
                                                      "parentIdTag": "PARENT0001"}} \
        if action == "Authorize" else None
    cp = await make_cp(configuration={"AuthorizeRemoteTxRequests": "false"})
    expiry = clock.now() + timedelta(minutes=5)
    assert await csms.result("ReserveNow", reserve(expiry, reservation_id=7,
                                                   parent="PARENT0001")) == {"status": "Accepted"}
    await csms.expect("StatusNotification", status_is("Reserved"))
    answer = await csms.result("RemoteStartTransaction", {"idTag": "VALID0002", "connectorId": 1})
    assert answer == {"status": "Accepted"}
    authorize = await csms.expect("Authorize")
    assert authorize.payload["idTag"] == "VALID0002"
    await csms.expect("StatusNotification", status_is("Preparing"))
    await cp.control("plug_in", {"connectorId": 1})
    start = await csms.expect("StartTransaction")
    assert (start.payload["idTag"], start.payload["reservationId"]) == ("VALID0002", 7)
    csms.assert_clean()


async def test_remote_start_by_a_stranger_to_the_reservation_starts_nothing(csms, make_cp):
    csms.responder = lambda action, p: {"idTagInfo": {"status": "Accepted",
                                                      "parentIdTag": "OTHERPARENT"}} \
        if action == "Authorize" else None
    cp = await make_cp(configuration={"AuthorizeRemoteTxRequests": "false"})
    expiry = clock.now() + timedelta(minutes=5)
    await csms.result("ReserveNow", reserve(expiry, parent="PARENT0001"))
    await csms.expect("StatusNotification", status_is("Reserved"))
    await csms.result("RemoteStartTransaction", {"idTag": "VALID0002", "connectorId": 1})
    await csms.expect("Authorize")
    await cp.events.wait("remote_start_refused", timeout=3)
    assert cp.status_of(cp.connectors[0]) == "Reserved"
    csms.assert_clean()


# --- N/A from the PICS --------------------------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _pics(sut: str, *, profile: bool = True, zero: bool = True) -> str:
    text = (ROOT / f"harness/sim/default_{sut}.toml").read_text()
    if not profile:
        text = re.sub(r'"Reservation",\s*', "", text).replace(",Reservation", "")
    if not zero or not profile:
        text = text.replace("reserve_connector_zero = true", "reserve_connector_zero = false")
        text = text.replace('ReserveConnectorZeroSupported = "true"',
                            'ReserveConnectorZeroSupported = "false"')
    return text


def _run_cases(pytester, tmp_path, sut: str, pics: str, *args: str) -> dict:
    pytester.path.joinpath("pics.toml").write_text(pics)
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", str(ROOT / "testcases" / sut / "reservation"), "--ocpp-sut", sut,
        "--ocpp-pics", "pics.toml", "--ocpp-report", str(out), f"--rootdir={ROOT}", *args,
        timeout=120)
    assert result.ret in (0, pytest.ExitCode.OK), result.stdout.str()[-2000:]
    data = json.loads((out / "report.json").read_text())
    return {c["id"]: (c["verdict"], c["reason"]) for c in data["test_cases"]}


def test_without_the_profile_the_cases_are_not_applicable_end_to_end(pytester, tmp_path):
    verdicts = _run_cases(pytester, tmp_path, "cs", _pics("cs", profile=False))
    assert len(verdicts) == 16
    assert set(verdicts.values()) == {
        ("N/A", "N/A: the PICS does not list the Reservation profile")}


def _cases(sut: str) -> dict:
    """case id -> CaseInfo of every Reservation case of ``sut``, as the plugin collects them."""
    import importlib
    found = {}
    for path in sorted((ROOT / "testcases" / sut / "reservation").glob("test_*.py")):
        module = importlib.import_module(f"testcases.{sut}.reservation.{path.stem}")
        for name in dir(module):
            info = getattr(getattr(module, name), "ocpp_case", None)
            if info is not None:
                found[info.id] = info
    return found


def _load_pics(tmp_path, text: str):
    from harness import pics as pics_module
    path = tmp_path / "pics.toml"
    path.write_text(text)
    return pics_module.load(path)


@pytest.mark.parametrize("sut,count", [("cs", 16), ("csms", 10)])
def test_reasons_without_the_profile(tmp_path, sut, count):
    cases = _cases(sut)
    assert len(cases) == count
    pics = _load_pics(tmp_path, _pics(sut, profile=False))
    assert {info.not_applicable(pics) for info in cases.values()} == {
        "the PICS does not list the Reservation profile"}
    full = _load_pics(tmp_path, _pics(sut))
    assert [i for i, info in cases.items() if info.not_applicable(full)] == []


def test_connector_zero_cases_need_reserve_connector_zero(tmp_path):
    cases = _cases("cs")
    pics = _load_pics(tmp_path, _pics("cs", zero=False))
    na = {i: info.not_applicable(pics) for i, info in cases.items() if info.not_applicable(pics)}
    assert sorted(na) == ["TC_049_CS", "TC_050_1_CS", "TC_050_2_CS", "TC_050_3_CS", "TC_050_4_CS"]
    assert all("cannot reserve connector 0" in reason and "reserve_connector_zero = false" in reason
               for reason in na.values())
    # A central system is not judged on the harness's own charge point's connector 0.
    assert not [i for i, info in _cases("csms").items()
                if info.not_applicable(_load_pics(tmp_path, _pics("csms", zero=False)))]


# --- the device's clock and the end of a reservation (harness.states.reservation) ---------------

from types import SimpleNamespace  # noqa: E402

from harness.rpc import Call  # noqa: E402
from harness.session import Request  # noqa: E402
from harness.states import reservation as res  # noqa: E402
from harness.transport import Frame  # noqa: E402

T0 = 1_800_000_000.0  # harness wall clock, seconds


def _status(status: str, *, sent_at: float, arrived_at: float, line: int = 1) -> Request:
    """A StatusNotification stamped ``sent_at`` on the device's clock, read ``arrived_at`` on the
    harness's."""
    from datetime import datetime, timezone
    stamp = clock.iso(datetime.fromtimestamp(sent_at, timezone.utc))
    payload = {"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": stamp}
    frame = Frame("cp", "", 0, int(arrived_at * 1e9))
    return Request(Call(str(line), "StatusNotification", payload), frame, line)


def test_device_clock_takes_the_least_delayed_sample():
    ahead = 3600.0  # the device runs an hour ahead
    session = SimpleNamespace(requests=[
        _status("Unavailable", sent_at=T0 + ahead - 2.0, arrived_at=T0, line=1),  # held back 2 s
        _status("Available", sent_at=T0 + ahead + 9.95, arrived_at=T0 + 10, line=2),
    ])
    clock = res.device_clock(session)
    assert abs(clock.offset_s - (ahead - 0.05)) < 1e-3 and "line 2" in clock.source
    assert res.device_clock(SimpleNamespace(requests=[])).offset_s == 0.0


def _reservation(ahead: float, expires_at: float) -> res.Reservation:
    from datetime import datetime, timezone
    clock = res.DeviceClock(ahead, "test")
    r = res.Reservation(1, 1, "VALID0001", None,
                        datetime.fromtimestamp(expires_at + ahead, timezone.utc), clock)
    r.reported = _status("Reserved", sent_at=T0 + ahead, arrived_at=T0)
    return r


PICS = SimpleNamespace(timing=SimpleNamespace(max_time_deviation=0.5), configuration={})


@pytest.mark.parametrize("ahead", [0.0, 3600.0, -7200.0])
def test_end_of_reservation_judged_on_the_device_clock(ahead):
    r = _reservation(ahead, T0 + 2)
    on_time = _status("Available", sent_at=T0 + ahead + 2.1, arrived_at=T0 + 2.1)
    assert res.ended_at_expiry_problems(on_time, r, PICS) == []
    early = _status("Available", sent_at=T0 + ahead + 1.0, arrived_at=T0 + 1.0)
    assert [p.split(" s ")[0] for p in res.ended_at_expiry_problems(early, r, PICS)] == \
        ["it arrived -1.000", "its timestamp " + early["timestamp"] + " is -1.000"]
    late = _status("Available", sent_at=T0 + ahead + 3.0, arrived_at=T0 + 3.0)
    assert len(res.ended_at_expiry_problems(late, r, PICS)) == 2


def test_a_status_held_back_by_minimum_status_duration_may_arrive_late():
    pics = SimpleNamespace(timing=PICS.timing, configuration={"MinimumStatusDuration": "2"})
    r = _reservation(0.0, T0 + 2)
    held = _status("Available", sent_at=T0 + 2.0, arrived_at=T0 + 3.5)  # changed on time
    assert res.ended_at_expiry_problems(held, r, pics) == []
    assert len(res.ended_at_expiry_problems(held, r, PICS)) == 1  # without it: 1.5 s late
