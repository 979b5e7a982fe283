"""The composite schedule rule of the reference charge point, without a connection (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from harness import clock
from harness.sim.cp.smart import ProfileStore

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=timezone.utc)  # a Monday


def raw(pid: int, purpose: str, stack: int, periods, *, kind="Absolute", unit="A", start=T0,
        duration=None, **extra) -> dict:
    schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": s, "limit": lim, **({"numberPhases": ph} if ph else {})}
        for s, lim, ph in ((*p, None) if len(p) == 2 else p for p in periods)]}
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = clock.iso(start)
    if duration is not None:
        schedule["duration"] = duration
    return {"chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind, "chargingSchedule": schedule, **extra}


def store(*profiles: tuple[int, dict], tx_id: int | None = None) -> ProfileStore:
    s = ProfileStore()
    for connector_id, p in profiles:
        status = s.install(connector_id, p, T0, connectors=2, tx_id=tx_id,
                           tx_running=tx_id is not None, max_stack=10, max_periods=10,
                           allowed_units=["Current", "Power"], max_installed=10)
        assert status == "Accepted"
    return s


def composite(s: ProfileStore, connector_id: int = 1, duration: int = 3600, unit="A",
              start=T0, tx_start=None, tx_id=None) -> list[tuple[int, float]]:
    schedule = s.composite(connector_id, start, duration, unit, connectors=2, tx_id=tx_id,
                           tx_start=tx_start)
    return [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]


def test_nothing_installed_means_the_hardware_limit():
    assert composite(ProfileStore()) == [(0, 32.0)]
    assert composite(ProfileStore(), connector_id=0) == [(0, 64.0)]


def test_validity_window_bounds_a_profile():
    s = store((1, raw(1, "TxDefaultProfile", 0, [(0, 10)],
                      validFrom=clock.iso(T0 + timedelta(minutes=10)),
                      validTo=clock.iso(T0 + timedelta(minutes=20)))))
    assert composite(s) == [(0, 32.0), (600, 10.0), (1200, 32.0)]


def test_connector_default_overrides_the_charge_point_default():
    s = store((0, raw(1, "TxDefaultProfile", 5, [(0, 20)])),
              (1, raw(2, "TxDefaultProfile", 0, [(0, 12)], duration=600)))
    assert composite(s, connector_id=1) == [(0, 12.0), (600, 20.0)]
    assert composite(s, connector_id=2) == [(0, 20.0)]


def test_tx_profile_beats_defaults_and_the_maximum_caps_everything():
    s = store((1, raw(1, "TxDefaultProfile", 9, [(0, 6)])),
              (0, raw(2, "ChargePointMaxProfile", 0, [(0, 16), (1800, 8)])),
              (1, raw(3, "TxProfile", 0, [(0, 24)], kind="Relative", transactionId=42)),
              tx_id=42)
    assert composite(s, tx_start=T0 - timedelta(minutes=5), tx_id=42) == [(0, 16.0), (1800, 8.0)]
    # Without the transaction the TxProfile does not apply: the default does.
    assert composite(s) == [(0, 6.0)]


def test_power_profiles_convert_with_their_phases():
    s = store((1, raw(1, "TxDefaultProfile", 0, [(0, 6900, 1), (60, 11040)], unit="W")))
    assert composite(s, duration=120) == [(0, 30.0), (60, 16.0)]
    assert composite(s, duration=120, unit="W") == [(0, 6900.0), (60, 11040.0)]


def test_weekly_recurrence():
    monday_8 = T0.replace(hour=8)
    s = store((1, raw(1, "TxDefaultProfile", 0, [(0, 10), (3600, 20)], kind="Recurring",
                      recurrencyKind="Weekly", start=monday_8 - timedelta(weeks=3),
                      duration=7200)))
    week = 7 * 86400
    assert composite(s, duration=week) == [(0, 32.0), (week - 4 * 3600, 10.0),
                                           (week - 3 * 3600, 20.0), (week - 2 * 3600, 32.0)]


def test_clear_by_id_and_by_criteria():
    s = store((1, raw(1, "TxDefaultProfile", 0, [(0, 10)])),
              (1, raw(2, "TxDefaultProfile", 1, [(0, 8)])),
              (0, raw(3, "ChargePointMaxProfile", 0, [(0, 30)])))
    assert s.clear(2, None, None, None) and not s.clear(2, None, None, None)
    assert s.clear(None, None, "ChargePointMaxProfile", None)
    assert [p.id for p in s.profiles] == [1]
    assert not s.clear(None, 1, None, 7)


def test_same_stack_and_purpose_replaces():
    s = store((1, raw(1, "TxDefaultProfile", 0, [(0, 10)])),
              (1, raw(2, "TxDefaultProfile", 0, [(0, 8)])))
    assert [p.id for p in s.profiles] == [2]
