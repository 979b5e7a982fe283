"""Regression tests for the reference charge point's Reservation behaviour that the Reservation test
cases showed wrong or missing: the expiryDate read on the charge point's own clock, the
refuse_reservation control action (TC_048_4, TC_050_4), and a remote start by an idTag of the
reservation's parent (TC_053_2) when AuthorizeRemoteTxRequests is false."""

from __future__ import annotations

from datetime import timedelta

import pytest

from harness.sim import ChargePointSim
from harness.sim.common import iso, utc_now
from harness.sim.testing import ScriptedCsms, stand_in_pics


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


def reserve(expiry, *, connector_id: int = 1, reservation_id: int = 1, id_tag: str = "VALID0001",
            parent: str | None = None) -> dict:
    payload = {"connectorId": connector_id, "reservationId": reservation_id, "idTag": id_tag,
               "expiryDate": iso(expiry)}
    if parent:
        payload["parentIdTag"] = parent
    return payload


async def test_expiry_is_read_on_the_charge_points_clock(csms, make_cp):
    cp = await make_cp()
    cp.clock_offset = timedelta(hours=1)  # its clock is an hour ahead of real time
    # Ahead of real time, but in the past on the charge point's clock: refused.
    past = utc_now() + timedelta(minutes=30)
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
    expiry = utc_now() + timedelta(minutes=5)
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
    expiry = utc_now() + timedelta(minutes=5)
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
    expiry = utc_now() + timedelta(minutes=5)
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
    expiry = utc_now() + timedelta(minutes=5)
    await csms.result("ReserveNow", reserve(expiry, parent="PARENT0001"))
    await csms.expect("StatusNotification", status_is("Reserved"))
    await csms.result("RemoteStartTransaction", {"idTag": "VALID0002", "connectorId": 1})
    await csms.expect("Authorize")
    await cp.events.wait("remote_start_refused", timeout=3)
    assert cp.status_of(cp.connectors[0]) == "Reserved"
    csms.assert_clean()
