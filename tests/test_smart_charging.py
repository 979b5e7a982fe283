"""Property tests of the harness's composite schedule arithmetic (harness/smart_charging.py).

The oracle below is written apart from the module, straight from the rules in its docstring, and
evaluated second by second; the module computes boundaries instead. Schedules start on whole
seconds, so sampling half a second into each second never sits on a boundary.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import clock
from harness import smart_charging as sc

T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=timezone.utc)
WINDOW = 600
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

limits = st.integers(min_value=0, max_value=800).map(lambda n: Decimal(n) / 10)  # multipleOf 0.1


@st.composite
def schedules(draw, unit: str = "A") -> dict:
    count = draw(st.integers(1, 5))
    starts = sorted(draw(st.sets(st.integers(1, WINDOW), min_size=count - 1,
                                 max_size=count - 1)))
    periods = [{"startPeriod": s, "limit": draw(limits)} for s in [0, *starts]]
    schedule = {"chargingRateUnit": unit, "chargingSchedulePeriod": periods}
    if draw(st.booleans()):
        schedule["duration"] = draw(st.integers(1, WINDOW + 100))
    return schedule


@st.composite
def absolute_profiles(draw, profile_id: int, purpose: str, connector_id: int) -> sc.ChargingProfile:
    schedule = draw(schedules())
    schedule["startSchedule"] = clock.iso(T0 + timedelta(seconds=draw(st.integers(-200, 300))))
    raw = {"chargingProfileId": profile_id, "stackLevel": draw(st.integers(0, 3)),
           "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
           "chargingSchedule": schedule}
    if draw(st.booleans()):
        raw["validFrom"] = clock.iso(T0 + timedelta(seconds=draw(st.integers(-100, WINDOW))))
    if draw(st.booleans()):
        raw["validTo"] = clock.iso(T0 + timedelta(seconds=draw(st.integers(0, WINDOW + 100))))
    return sc.ChargingProfile.from_ocpp(connector_id, raw)


@st.composite
def profile_sets(draw) -> list[sc.ChargingProfile]:
    found = []
    for number in range(draw(st.integers(1, 5))):
        purpose, connector = draw(st.sampled_from([
            ("ChargePointMaxProfile", 0), ("TxDefaultProfile", 0), ("TxDefaultProfile", 1)]))
        found.append(draw(absolute_profiles(number + 1, purpose, connector)))
    return found


# --- the oracle --------------------------------------------------------------------------------

def oracle_limit(profile: sc.ChargingProfile, t: datetime) -> Decimal | None:
    """The limit ``profile`` sets at ``t`` (Absolute profiles only), from the rules directly."""
    if profile.valid_from is not None and t < profile.valid_from:
        return None
    if profile.valid_to is not None and t >= profile.valid_to:
        return None
    offset = (t - profile.schedule.start_schedule).total_seconds()
    duration = profile.schedule.duration
    if offset < 0 or (duration is not None and offset >= duration):
        return None
    return [p.limit for p in profile.schedule.periods if p.start <= offset][-1]


def oracle(profiles: list[sc.ChargingProfile], connector_id: int, t: datetime) -> Decimal | None:
    def top(group):
        for profile in sorted(group, key=lambda p: -p.stack_level):
            value = oracle_limit(profile, t)
            if value is not None:
                return value
        return None
    cp_max = top([p for p in profiles if p.purpose == "ChargePointMaxProfile"])
    tx = top([p for p in profiles if p.purpose == "TxDefaultProfile"
              and p.connector_id == connector_id])
    if tx is None:
        tx = top([p for p in profiles if p.purpose == "TxDefaultProfile" and p.connector_id == 0])
    present = [v for v in (cp_max, tx) if v is not None]
    return min(present) if present else None


def composite_at(composite: sc.Composite, offset: Decimal) -> Decimal | None:
    return [p.limit for p in composite.periods if p.start <= offset][-1]


def unique_stack_levels(profiles):
    """Two profiles of one purpose, connector and stack level replace each other (5.16): a
    device never holds both, so the generated sets keep only the last of each."""
    kept = {}
    for p in profiles:
        kept[(p.purpose, p.connector_id, p.stack_level)] = p
    return list(kept.values())


# --- properties --------------------------------------------------------------------------------

@SETTINGS
@given(profile_sets())
def test_composite_is_the_rule_at_every_second(profiles):
    profiles = unique_stack_levels(profiles)
    composite = sc.composite(profiles, 1, T0, WINDOW, "A")
    for second in range(WINDOW):
        half = Decimal(second) + Decimal("0.5")
        expected = oracle(profiles, 1, sc.after(T0, half))
        assert composite_at(composite, half) == expected, (second, sc.describe(composite))


@SETTINGS
@given(profile_sets())
def test_composite_never_exceeds_the_charge_point_maximum_in_force(profiles):
    profiles = unique_stack_levels(profiles)
    composite = sc.composite(profiles, 1, T0, WINDOW, "A")
    cp_max = [p for p in profiles if p.purpose == "ChargePointMaxProfile"]
    for period in composite.periods:
        t = sc.after(T0, period.start)
        in_force = [p for p in sorted(cp_max, key=lambda p: -p.stack_level)
                    if oracle_limit(p, t) is not None]
        if in_force and period.limit is not None:
            assert period.limit <= oracle_limit(in_force[0], t)


@SETTINGS
@given(schedules(), schedules(), st.integers(0, 4), st.integers(1, 4))
def test_a_higher_stack_level_wins(low, high, low_level, gap):
    for schedule in (low, high):
        schedule["startSchedule"] = clock.iso(T0)
        schedule.pop("duration", None)  # both cover the whole window
    make = lambda pid, level, schedule: sc.ChargingProfile.from_ocpp(1, {  # noqa: E731
        "chargingProfileId": pid, "stackLevel": level, "chargingProfilePurpose":
        "TxDefaultProfile", "chargingProfileKind": "Absolute", "chargingSchedule": schedule})
    both = sc.composite([make(1, low_level, low), make(2, low_level + gap, high)], 1, T0,
                        WINDOW, "A")
    alone = sc.composite([make(2, low_level + gap, high)], 1, T0, WINDOW, "A")
    assert both.periods == alone.periods


@SETTINGS
@given(profile_sets())
def test_every_period_boundary_is_a_profile_boundary(profiles):
    composite = sc.composite(profiles, 1, T0, WINDOW, "A")
    edges = set()
    for p in profiles:
        start = p.schedule.start_schedule
        edges |= {sc.after(start, q.start) for q in p.schedule.periods}
        if p.schedule.duration is not None:
            edges.add(sc.after(start, p.schedule.duration))
        edges |= {b for b in (p.valid_from, p.valid_to) if b is not None}
    for period in composite.periods[1:]:
        assert sc.after(T0, period.start) in edges


@SETTINGS
@given(schedules(), st.integers(0, 300))
def test_relative_and_absolute_agree_when_the_transaction_starts_with_the_schedule(schedule,
                                                                                   since):
    started = T0 - timedelta(seconds=since)
    relative = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative", "chargingSchedule": dict(schedule)}
    absolute = {**relative, "chargingProfileKind": "Absolute",
                "chargingSchedule": {**schedule, "startSchedule": clock.iso(started)}}
    tx = sc.Transaction(7, started)
    a = sc.composite([sc.ChargingProfile.from_ocpp(1, relative)], 1, T0, WINDOW, "A",
                     transaction=tx)
    b = sc.composite([sc.ChargingProfile.from_ocpp(1, absolute)], 1, T0, WINDOW, "A",
                     transaction=tx)
    assert a.periods == b.periods


@SETTINGS
@given(schedules(), st.sampled_from(["Daily", "Weekly"]), st.integers(0, 86399),
       st.integers(-3, 3))
def test_recurring_profiles_repeat_with_their_period(schedule, kind, into, cycles):
    cycle = timedelta(days=1 if kind == "Daily" else 7)
    schedule["startSchedule"] = clock.iso(T0)
    raw = {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Recurring", "recurrencyKind": kind,
           "chargingSchedule": schedule}
    profile = sc.ChargingProfile.from_ocpp(1, raw)
    start = T0 + timedelta(seconds=into)
    here = sc.composite([profile], 1, start, WINDOW, "A")
    there = sc.composite([profile], 1, start + cycle * cycles, WINDOW, "A")
    assert here.periods == there.periods


@SETTINGS
@given(limits, st.integers(1, 3), st.sampled_from([Decimal(110), Decimal(230), Decimal(240)]))
def test_unit_conversion_round_trips(amps, phases, voltage):
    watts = sc.convert(amps, "A", "W", phases, voltage)
    assert watts == amps * voltage * phases
    assert sc.convert(watts, "W", "A", phases, voltage) == amps
    back = sc.convert(sc.convert(watts, "W", "A", phases, voltage), "A", "W", phases, voltage)
    assert back == watts


@SETTINGS
@given(limits, st.integers(1, 3))
def test_mixed_units_take_the_lower_limit_after_conversion(amps, phases):
    cp_max = sc.ChargingProfile.from_ocpp(0, {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": clock.iso(T0), "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11040,
                                        "numberPhases": 3}]}})
    tx = sc.ChargingProfile.from_ocpp(1, {
        "chargingProfileId": 2, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": clock.iso(T0), "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps,
                                        "numberPhases": phases}]}})
    composite = sc.composite([cp_max, tx], 1, T0, WINDOW, "A")
    if phases == 3:
        assert composite.periods[0].limit == min(amps, Decimal(16))  # 11040 W = 16 A x 230 V x 3
        assert composite.periods[0].number_phases == 3
    else:  # limits on different numbers of phases are not judged (rule 6)
        assert composite.periods[0].limit is None


# --- comparison --------------------------------------------------------------------------------

def as_device_reports(composite: sc.Composite) -> dict:
    """The composite as a device would write it: whole seconds, its own limit where nothing
    limits the connector."""
    return {"chargingRateUnit": composite.unit, "duration": composite.duration,
            "chargingSchedulePeriod": [
                {"startPeriod": int(p.start.to_integral()),
                 "limit": p.limit if p.limit is not None else Decimal(32)}
                for p in composite.periods]}


@SETTINGS
@given(profile_sets())
def test_the_expected_composite_matches_itself(profiles):
    composite = sc.composite(profiles, 1, T0, WINDOW, "A")
    assert sc.compare(composite, as_device_reports(composite), deviation=1) == []


@SETTINGS
@given(profile_sets(), st.data())
def test_a_limit_off_by_a_tenth_is_caught(profiles, data):
    composite = sc.composite(profiles, 1, T0, WINDOW, "A")
    judged = [i for i, (p, end) in enumerate(zip(composite.periods, [
        q.start for q in composite.periods[1:]] + [Decimal(WINDOW)]))
        if p.limit is not None and end - p.start > 2 * (1 + sc.RESOLUTION)]
    if not judged:
        return
    index = data.draw(st.sampled_from(judged))
    device = as_device_reports(composite)
    device["chargingSchedulePeriod"][index]["limit"] += Decimal("0.1")
    problems = sc.compare(composite, device, deviation=1)
    assert any(f"period {index + 1} starts at" in p for p in problems), problems


def test_message_names_the_period_the_expected_and_the_reported_limit():
    profile = sc.ChargingProfile.from_ocpp(1, {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": clock.iso(T0), "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 10}, {"startPeriod": 600, "limit": 16}]}})
    expected = sc.composite([profile], 1, T0, 900, "A")
    device = {"chargingRateUnit": "A", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 10.0}, {"startPeriod": 600, "limit": 10.0}]}
    problems = sc.compare(expected, device, deviation=4)
    assert "period 2 starts at 600 s, expected limit 16.0 A, the device reports 10.0 A" in problems


def test_limits_compare_exactly_not_through_floats():
    # 0.1 + 0.2 is 0.30000000000000004 in binary floating point; as decimals it is 0.3.
    assert sc.exact(0.1) + sc.exact(0.2) == Decimal("0.3")
    assert sc.limit_matches(Decimal("7.1"), sc.exact(7.1))
    assert not sc.limit_matches(Decimal("7.1"), Decimal("7.10000000001"))
    # a converted limit that is not a multiple of 0.1 may be rounded either way, not further
    exact = sc.convert(Decimal(11000), "W", "A", 3)  # 15.942... A
    assert sc.limit_matches(exact, Decimal("15.9")) and sc.limit_matches(exact, Decimal("16.0"))
    assert not sc.limit_matches(exact, Decimal("15.8"))


def test_a_start_beyond_the_deviation_is_caught():
    profile = sc.ChargingProfile.from_ocpp(1, {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "startSchedule": clock.iso(T0), "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 6}, {"startPeriod": 100, "limit": 8}]}})
    expected = sc.composite([profile], 1, T0, 400, "A")
    # deviation 4 s, plus the whole second a startPeriod may be rounded by
    for start, ok in ((95, True), (94, False), (105, True), (106, False)):
        device = {"chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 6}, {"startPeriod": start, "limit": 8}]}
        assert (sc.compare(expected, device, deviation=4) == []) is ok, start


@pytest.mark.parametrize("kind", ["Relative", "Absolute"])
def test_a_tx_profile_applies_only_to_its_transaction(kind):
    schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                      "limit": 6}]}
    if kind == "Absolute":
        schedule["startSchedule"] = clock.iso(T0)
    profile = sc.ChargingProfile.from_ocpp(1, {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": kind, "transactionId": 5, "chargingSchedule": schedule})
    ours = sc.composite([profile], 1, T0, 60, "A", transaction=sc.Transaction(5, T0))
    other = sc.composite([profile], 1, T0, 60, "A", transaction=sc.Transaction(6, T0))
    none = sc.composite([profile], 1, T0, 60, "A")
    assert [p.limit for p in ours.periods] == [Decimal(6)]
    assert [p.limit for p in other.periods] == [None] == [p.limit for p in none.periods]


def test_a_no_limit_sentinel_fails_even_where_nothing_is_expected():
    # Nothing installed: the expected composite limits nothing (rule 8), so any real limit is
    # accepted -- but a negative limit or numberPhases is no limit at all (rule 11).
    expected = sc.composite([], 1, T0, 300, "A")
    sentinel = {"chargingRateUnit": "A", "duration": 300, "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": Decimal("-1"), "numberPhases": -1}]}
    problems = sc.compare(expected, sentinel, deviation=4)
    assert any("limit -1: a charging rate limit cannot be negative" in p for p in problems)
    assert any("numberPhases -1: the phases used for charging are 1, 2 or 3" in p
               for p in problems)
    assert sc.compare(expected, {"chargingRateUnit": "A", "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": Decimal("32.0"), "numberPhases": 3}]}, deviation=4) == []
    assert sc.impossible_values({"duration": -5, "chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": 0, "numberPhases": 4}]}) == [
        "duration is -5: a number of seconds cannot be negative",
        "chargingSchedulePeriod 1 (startPeriod 0) has numberPhases 4: the phases used for "
        "charging are 1, 2 or 3"]
