"""The harness's own model of OCPP 1.6 Smart Charging: charging profiles and the composite schedule.

Free of pytest and independent of the reference charge point (``harness/sim/cp/smart.py``): the
verdict on a device's GetCompositeSchedule.conf comes from this module alone.

    profiles = [ChargingProfile.from_ocpp(0, cp_max), ChargingProfile.from_ocpp(1, tx_default)]
    expected = composite(profiles, connector_id=1, start=t0, duration=400, unit="A")
    problems = compare(expected, reported_schedule, deviation=Decimal(4))

Limits are ``Decimal`` throughout (the schema makes them ``multipleOf 0.1``): values are compared
exactly, never through float rounding. Times are aware UTC datetimes; offsets are ``Decimal``
seconds (microsecond resolution).

Readings of OCPP 1.6 (sections 3.13, 5.7, 5.16, 6.21, 7.7-7.14) this module takes:

1. Purposes. At an instant, a connector > 0 is limited by (a) the ChargePointMaxProfile in force and
   (b) the TxProfile in force for its running transaction, or, when none is, the TxDefaultProfile
   in force for that connector, or, when none is, the TxDefaultProfile in force on connector 0
   ("a TxDefaultProfile on a specific connector overrides the one on connector 0", 3.13.2, taken
   per instant). The limit is the lowest of (a) and (b). For connector 0 the composite is the grid
   connection's: the ChargePointMaxProfile alone.
2. A TxProfile counts only while a transaction runs on its connector, and only if its
   transactionId is absent or that transaction's id (5.16: it then belongs to that transaction).
3. "In force" at t: validFrom <= t < validTo (absent bounds are open), the schedule has started
   (t >= its start) and not ended (t < start + duration; no duration: it does not end), and among
   the profiles of the same purpose (and connector) in force it has the highest stackLevel. A
   profile whose schedule has ended gives way to the next lower stack level (3.13.1: stacking).
4. Schedule start. Absolute: startSchedule; an Absolute schedule without startSchedule is, as the
   field's definition says, relative to the start of charging, like a Relative one. Relative: the
   transaction's start; with no transaction (a TxDefaultProfile looked at before any charging)
   the start of the composite window, as if charging started at the moment asked about.
   Recurring: startSchedule (else validFrom) repeated every 24 h (Daily) or 7 days (Weekly), also
   backwards (a daily profile holds every day at that time of day); a duration longer than the
   recurrence, or none, is cut at the next recurrence.
5. Periods: the one with the greatest startPeriod <= the offset into the schedule applies; an offset
   before the first startPeriod (a malformed schedule) is "not in force".
6. numberPhases absent means 3 (7.9). Where the limits in force have different numbers of phases
   (0.3 A on one phase against 0.2 A on three), OCPP says neither which one is lower (per phase,
   or in power?) nor which phases the composite carries: the harness does not judge the limit
   there (``None``, as in rule 8). The OCTT cases use one numberPhases throughout.
7. Units. The composite is given in the unit asked for (GetCompositeSchedule "can be used to force
   a power or current profile"). A and W convert as P = U x I x phases at the declared voltage
   (OCPP does not define it; the caller passes it, 230 V by default). Limits in different units are
   compared after conversion to the wanted unit (at their common phases, rule 6). A converted
   limit that is not a multiple of 0.1 may be reported rounded either way to 0.1.
8. Where no profile limits the connector, the limit is the charge point's own (hardware, cable,
   installation), which no PICS key declares: the composite says ``None`` there and any reported
   limit is accepted (``None`` means "not judged", here and in rule 6).
9. minChargingRate is the EV's minimum (7.9), informative for the charge point ("may use it to
   optimise power distribution"): it is modelled and carried, and changes no limit.
10. Comparison. The device's startSchedule must be within the allowed deviation of the moment the
   harness asked; the expected composite is computed from the device's own start (so offsets line
   up as the device sees them), after merging equal neighbours on both sides; every expected
   period must match the device's, with a start within the deviation plus one second (startPeriod
   is an integer, so a boundary between two seconds may be written either side), the limit exact
   (rule 7 for conversions) and numberPhases equal when the device reports it.
11. Values that cannot be. Whatever is expected, a reported period's limit is a charging rate
   (7.10 ChargingSchedulePeriod: "Charging rate limit during the schedule period"), so it is never
   negative, and numberPhases, when given, is a number of phases that can be used for charging:
   1, 2 or 3. The schemas give neither a minimum, so ``limit: -1`` or ``numberPhases: -1`` (a
   firmware's internal "no limit" sentinel leaking out) is schema-valid, and still a violation:
   a composite is judged on them even where nothing limits the connector (rule 8). ``duration``,
   when given, is a number of seconds and not negative either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from typing import Any, Iterable, Mapping

from harness import clock

__all__ = [
    "Period", "Schedule", "ChargingProfile", "Transaction", "CompositePeriod", "Composite",
    "composite", "compare", "convert", "describe", "exact", "moment_of", "limits_at",
    "reported_periods", "impossible_values", "DEFAULT_VOLTAGE",
    "DEFAULT_PHASES",
]

DEFAULT_VOLTAGE = Decimal(230)
DEFAULT_PHASES = 3
TENTH = Decimal("0.1")
RESOLUTION = Decimal(1)
"""startPeriod is a whole number of seconds: a boundary that falls between two seconds may be
written either side of it, so period starts are judged within the deviation plus one second."""
_CYCLES = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
_MICRO = timedelta(microseconds=1)


# --- small conversions -------------------------------------------------------------------------

def exact(number: Any) -> Decimal:
    """A JSON number as written: an int or a Decimal as it is, a float as its shortest repr."""
    if isinstance(number, bool) or not isinstance(number, (int, float, Decimal, str)):
        raise TypeError(f"not a number: {number!r}")
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


def moment_of(text: str) -> datetime:
    """A profile's or a transaction's dateTime for the model (:func:`harness.clock.require_time`;
    the model reads one without an offset as UTC): ValueError if it is not one."""
    return clock.require_time(text, default_zone=clock.UTC)


def seconds(delta: timedelta) -> Decimal:
    """A timedelta as exact Decimal seconds."""
    return Decimal(delta // _MICRO) / Decimal(1_000_000)


def after(moment: datetime, offset: Decimal | int) -> datetime:
    """``moment`` + ``offset`` seconds (microsecond resolution)."""
    return moment + _MICRO * int(Decimal(offset) * 1_000_000)


def convert(limit: Decimal, unit: str, to: str, phases: int,
            voltage: Decimal = DEFAULT_VOLTAGE) -> Decimal:
    """``limit`` in ``unit`` (A per phase, or W) expressed in ``to``: P = U x I x phases."""
    if unit == to:
        return limit
    factor = Decimal(voltage) * max(phases, 1)
    if unit == "A" and to == "W":
        return limit * factor
    if unit == "W" and to == "A":
        with localcontext() as ctx:
            ctx.prec = 40
            return limit / factor
    raise ValueError(f"unknown charging rate unit {unit!r} or {to!r}; A or W")


# --- the model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: int
    """startPeriod: seconds from the schedule's start."""
    limit: Decimal
    number_phases: int | None = None


@dataclass(frozen=True)
class Schedule:
    unit: str
    periods: tuple[Period, ...]
    duration: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Decimal | None = None

    @classmethod
    def from_ocpp(cls, raw: Mapping[str, Any]) -> Schedule:
        periods = tuple(sorted(
            (Period(int(p["startPeriod"]), exact(p["limit"]),
                    int(p["numberPhases"]) if p.get("numberPhases") is not None else None)
             for p in raw["chargingSchedulePeriod"]), key=lambda p: p.start))
        return cls(raw["chargingRateUnit"], periods,
                   int(raw["duration"]) if raw.get("duration") is not None else None,
                   moment_of(raw["startSchedule"]) if raw.get("startSchedule") else None,
                   exact(raw["minChargingRate"]) if raw.get("minChargingRate") is not None
                   else None)

    def period_at(self, offset: Decimal) -> Period | None:
        found = None
        for period in self.periods:
            if period.start <= offset:
                found = period
        return found


@dataclass(frozen=True)
class ChargingProfile:
    id: int
    connector_id: int
    stack_level: int
    purpose: str
    """ChargePointMaxProfile | TxDefaultProfile | TxProfile."""
    kind: str
    """Absolute | Recurring | Relative."""
    schedule: Schedule
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None

    @classmethod
    def from_ocpp(cls, connector_id: int, raw: Mapping[str, Any]) -> ChargingProfile:
        """From SetChargingProfile.req's connectorId and csChargingProfiles (or a
        RemoteStartTransaction.req's chargingProfile, with its connectorId)."""
        return cls(int(raw["chargingProfileId"]), connector_id, int(raw["stackLevel"]),
                   raw["chargingProfilePurpose"], raw["chargingProfileKind"],
                   Schedule.from_ocpp(raw["chargingSchedule"]), raw.get("recurrencyKind"),
                   moment_of(raw["validFrom"]) if raw.get("validFrom") else None,
                   moment_of(raw["validTo"]) if raw.get("validTo") else None,
                   raw.get("transactionId"))

    def valid_at(self, t: datetime) -> bool:
        return ((self.valid_from is None or t >= self.valid_from)
                and (self.valid_to is None or t < self.valid_to))

    def _base(self, origin: datetime) -> datetime:
        """The schedule's start for a non-recurring profile (rule 4); ``origin``: the start of
        charging, or of the composite window when nothing charges."""
        if self.kind == "Absolute" and self.schedule.start_schedule is not None:
            return self.schedule.start_schedule
        if self.kind == "Recurring":
            base = self.schedule.start_schedule or self.valid_from
            if base is None:
                raise ValueError(f"profile {self.id}: a Recurring profile needs startSchedule")
            return base
        return origin

    def _cycle(self) -> timedelta | None:
        return _CYCLES.get(self.recurrency or "") if self.kind == "Recurring" else None

    def start_for(self, t: datetime, origin: datetime) -> datetime:
        """The start of the schedule (of its current recurrence) that governs ``t``."""
        base, cycle = self._base(origin), self._cycle()
        if cycle is None:
            return base
        return base + cycle * math.floor((t - base) / cycle)

    def _length(self) -> Decimal | None:
        """How long one run of the schedule lasts (rule 4: cut at the next recurrence)."""
        cycle, duration = self._cycle(), self.schedule.duration
        if cycle is None:
            return None if duration is None else Decimal(duration)
        whole = seconds(cycle)
        return whole if duration is None else min(Decimal(duration), whole)

    def limit_at(self, t: datetime, origin: datetime) -> Period | None:
        """The period in force at ``t``, or None when the profile is not in force."""
        if not self.valid_at(t):
            return None
        offset = seconds(t - self.start_for(t, origin))
        length = self._length()
        if offset < 0 or (length is not None and offset >= length):
            return None
        return self.schedule.period_at(offset)

    def changes(self, t0: datetime, t1: datetime, origin: datetime) -> set[datetime]:
        """Every moment in (t0, t1) where this profile's contribution may change."""
        points = {b for b in (self.valid_from, self.valid_to) if b is not None}
        starts = [self.start_for(t0, origin)]
        cycle = self._cycle()
        if cycle is not None:
            while starts[-1] + cycle < t1:
                starts.append(starts[-1] + cycle)
        length = self._length()
        for start in starts:
            points.update(after(start, p.start) for p in self.schedule.periods)
            points.add(start)
            if length is not None:
                points.add(after(start, length))
        return {p for p in points if t0 < p < t1}


@dataclass(frozen=True)
class Transaction:
    """The transaction running on the connector the composite is asked for."""
    transaction_id: int
    started: datetime


@dataclass(frozen=True)
class CompositePeriod:
    start: Decimal
    """Seconds from the composite's start."""
    limit: Decimal | None
    """None: no profile limits the connector there (rule 8)."""
    number_phases: int | None


@dataclass(frozen=True)
class Composite:
    connector_id: int
    start: datetime
    duration: int
    unit: str
    periods: tuple[CompositePeriod, ...]
    limiting: tuple[tuple[int, ...], ...] = field(default=())
    """For each period, the ids of the profiles that set its limit (for messages)."""


def _governing(profiles: Iterable[ChargingProfile], t: datetime, origin: datetime
               ) -> tuple[ChargingProfile, Period] | None:
    for profile in sorted(profiles, key=lambda p: p.stack_level, reverse=True):
        period = profile.limit_at(t, origin)
        if period is not None:
            return profile, period
    return None


def limits_at(profiles: list[ChargingProfile], connector_id: int, t: datetime,
              transaction: Transaction | None, window_start: datetime
              ) -> list[tuple[ChargingProfile, Period]]:
    """The profiles that limit ``connector_id`` at ``t`` (rules 1-3), with their periods."""
    origin = transaction.started if transaction is not None else window_start
    found = []
    cp_max = _governing([p for p in profiles if p.purpose == "ChargePointMaxProfile"], t, origin)
    if cp_max is not None:
        found.append(cp_max)
    if connector_id == 0:
        return found
    tx = None
    if transaction is not None:
        tx = _governing([p for p in profiles if p.purpose == "TxProfile"
                         and p.connector_id == connector_id
                         and p.transaction_id in (None, transaction.transaction_id)], t, origin)
    if tx is None:
        tx = _governing([p for p in profiles if p.purpose == "TxDefaultProfile"
                         and p.connector_id == connector_id], t, origin)
    if tx is None:
        tx = _governing([p for p in profiles if p.purpose == "TxDefaultProfile"
                         and p.connector_id == 0], t, origin)
    if tx is not None:
        found.append(tx)
    return found


def composite(profiles: Iterable[ChargingProfile], connector_id: int, start: datetime,
              duration: int, unit: str, *, transaction: Transaction | None = None,
              voltage: Decimal = DEFAULT_VOLTAGE) -> Composite:
    """The composite schedule of ``connector_id`` over [start, start + duration) in ``unit``."""
    profiles = list(profiles)
    end = after(start, duration)
    origin = transaction.started if transaction is not None else start
    points = {start}
    for profile in profiles:
        points |= profile.changes(start, end, origin)
    periods: list[CompositePeriod] = []
    limiting: list[tuple[int, ...]] = []
    for t in sorted(points):
        found = limits_at(profiles, connector_id, t, transaction, start)
        all_phases = {period.number_phases or DEFAULT_PHASES for _, period in found}
        if len(all_phases) == 1:
            phases = all_phases.pop()
            values = [convert(period.limit, profile.schedule.unit, unit, phases, voltage)
                      for profile, period in found]
            limit = min(values)
            ids = tuple(p.id for (p, _), v in zip(found, values) if v == limit)
        elif found:  # rule 6: limits on different numbers of phases, not judged
            limit, phases, ids = None, None, tuple(p.id for p, _ in found)
        else:
            limit, phases, ids = None, None, ()
        offset = seconds(t - start)
        if periods and periods[-1].limit == limit and periods[-1].number_phases == phases:
            continue
        periods.append(CompositePeriod(offset, limit, phases))
        limiting.append(ids)
    return Composite(connector_id, start, duration, unit, tuple(periods), tuple(limiting))


# --- comparing a device's answer ---------------------------------------------------------------

def _fmt(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "no limit"
    text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if "." not in text:
        text += ".0"
    return f"{text} {unit}"


def _secs(value: Decimal) -> str:
    if value == value.to_integral():
        return f"{int(value)} s"
    return f"{value.quantize(Decimal('0.001')).normalize():f} s"


def limit_matches(expected: Decimal, reported: Decimal) -> bool:
    """Rule 7: exact; a value that is not a multiple of 0.1 (after conversion) may be reported
    rounded down or up to 0.1."""
    if (expected / TENTH) == (expected / TENTH).to_integral():
        return reported == expected
    low = (expected / TENTH).to_integral(ROUND_FLOOR) * TENTH
    high = (expected / TENTH).to_integral(ROUND_CEILING) * TENTH
    return reported in (low, high)


def reported_periods(schedule: Mapping[str, Any]) -> list[CompositePeriod]:
    """A device's chargingSchedulePeriod list, equal neighbours merged."""
    merged: list[CompositePeriod] = []
    for raw in sorted(schedule.get("chargingSchedulePeriod") or [],
                      key=lambda p: p.get("startPeriod", 0)):
        period = CompositePeriod(Decimal(raw["startPeriod"]), exact(raw["limit"]),
                                 raw.get("numberPhases"))
        if merged and merged[-1].limit == period.limit and \
                merged[-1].number_phases == period.number_phases:
            continue
        merged.append(period)
    return merged


def _device_at(periods: list[CompositePeriod], offset: Decimal,
               end: Decimal | None) -> CompositePeriod | None:
    if end is not None and offset >= end:
        return None
    found = None
    for period in periods:
        if period.start <= offset:
            found = period
    return found


def compare(expected: Composite, schedule: Mapping[str, Any], *,
            deviation: Decimal | float | int) -> list[str]:
    """What is wrong with the device's composite ``schedule`` (GetCompositeSchedule.conf's
    chargingSchedule, numbers read exactly) against ``expected`` (computed from the device's own
    startSchedule). Empty when it matches.

    Rule 10, made precise for clocks that may differ by ``deviation``, plus the whole second a
    startPeriod (an integer) may be rounded by (:data:`RESOLUTION`): (a) every expected period is
    judged on its inside, more than ``deviation`` away from its ends, where the device's limit
    (and numberPhases, if reported) must be the expected one; (b) every change of limit between two
    limited periods must have a device period starting within ``deviation`` of it; (c) every device
    period must start within ``deviation`` of an expected change, or where nothing limits the
    connector (rule 8). A period shorter than twice the deviation is judged by (b) and (c) only.
    """
    deviation = exact(deviation) + RESOLUTION
    problems: list[str] = impossible_values(schedule)
    unit = expected.unit
    if schedule.get("chargingRateUnit") != unit:
        problems.append(f"chargingRateUnit is {schedule.get('chargingRateUnit')!r}, expected "
                        f"{unit!r}")
    got = reported_periods(schedule)
    if got and got[0].start != 0:
        problems.append(f"the device's first period starts at {_secs(got[0].start)}, expected 0 s "
                        "(the composite starts at its startSchedule)")
    window = Decimal(expected.duration)
    end = Decimal(schedule["duration"]) if schedule.get("duration") is not None else None
    want = list(expected.periods)
    ends = [p.start for p in want[1:]] + [window]
    # (a) the inside of every expected period
    for number, (period, stop) in enumerate(zip(want, ends), start=1):
        lo, hi = period.start + deviation, stop - deviation
        if period.limit is None or lo >= hi:
            continue
        covering = [_device_at(got, lo, end)] + [p for p in got if lo < p.start < hi]
        for device in covering:
            if device is None or not limit_matches(period.limit, device.limit):
                reported = "no limit" if device is None else _fmt(device.limit, unit)
                where = "" if device is None or device.start <= lo else \
                    f" from {_secs(device.start)}"
                problems.append(f"period {number} starts at {_secs(period.start)}, expected limit "
                                f"{_fmt(period.limit, unit)}, the device reports {reported}{where}")
                break
            if device.number_phases is not None and period.number_phases is not None and \
                    device.number_phases != period.number_phases:
                problems.append(f"period {number} starts at {_secs(period.start)}, expected "
                                f"numberPhases {period.number_phases}, the device reports "
                                f"{device.number_phases}")
                break
    # (b) every change between limited periods is seen
    starts = [p.start for p in got]
    for number, (before, period) in enumerate(zip(want, want[1:]), start=2):
        if before.limit is None or period.limit is None:
            continue
        if before.limit == period.limit and None in (before.number_phases, period.number_phases):
            continue  # only the phases change, and they are not judged there (rule 6)
        if not any(abs(s - period.start) <= deviation for s in starts):
            problems.append(f"period {number} starts at {_secs(period.start)} (limit "
                            f"{_fmt(before.limit, unit)} -> {_fmt(period.limit, unit)}), the "
                            f"device's schedule changes nowhere within ± {_secs(deviation)} of "
                            f"it (its periods: {describe(schedule)})")
    # (c) every change the device reports is explained
    changes = [p.start for p in want]
    for device in got[1:]:
        if any(abs(device.start - c) <= deviation for c in changes):
            continue
        if window - device.start <= deviation:
            continue  # the last instants of the window: an edge seen through a skewed clock
        inside = _device_at([CompositePeriod(p.start, p.limit, p.number_phases) for p in want],
                            device.start, None)
        if inside is not None and inside.limit is None:
            continue  # nothing limits the connector there (rule 8)
        problems.append(f"the device's period at {_secs(device.start)} (limit "
                        f"{_fmt(device.limit, unit)}) matches no change of the expected schedule "
                        f"({describe(expected)})")
    return problems


def impossible_values(schedule: Mapping[str, Any]) -> list[str]:
    """Rule 11: what a device's chargingSchedule says that no schedule can (a negative limit, a
    numberPhases outside 1..3, a negative duration), whatever the expected composite; numbers
    read exactly. Empty when none."""
    problems: list[str] = []
    duration = schedule.get("duration")
    if isinstance(duration, (int, Decimal)) and not isinstance(duration, bool) and duration < 0:
        problems.append(f"duration is {duration}: a number of seconds cannot be negative")
    for number, raw in enumerate(schedule.get("chargingSchedulePeriod") or [], start=1):
        if not isinstance(raw, Mapping):
            continue
        limit, phases = raw.get("limit"), raw.get("numberPhases")
        start = raw.get("startPeriod")
        where = f"chargingSchedulePeriod {number} (startPeriod {start})"
        if isinstance(limit, (int, float, Decimal)) and not isinstance(limit, bool) \
                and exact(limit) < 0:
            problems.append(f"{where} has limit {limit}: a charging rate limit cannot be negative "
                            "(a 'no limit' sentinel is not a limit)")
        if phases is not None and (isinstance(phases, bool) or not isinstance(phases, int)
                                   or not 1 <= phases <= 3):
            problems.append(f"{where} has numberPhases {phases}: the phases used for charging "
                            "are 1, 2 or 3")
    return problems


def describe(schedule: Composite | Mapping[str, Any]) -> str:
    """A one-line rendering of a composite, for assertion messages."""
    if isinstance(schedule, Composite):
        items, unit = schedule.periods, schedule.unit
    else:
        items, unit = reported_periods(schedule), schedule.get("chargingRateUnit", "?")
    return ", ".join(f"{_secs(p.start)}: {_fmt(p.limit, unit)}" for p in items) or "no periods"
