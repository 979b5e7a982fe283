"""Smart Charging: installed charging profiles and the composite schedule (OCPP 1.6 section 3.13).

At any moment a connector's limit is the lowest of: the ChargePointMaxProfile in force, the
transaction's TxProfile in force (or else the TxDefaultProfile in force, a connector's own taking
precedence over connector 0's), and what the hardware can do. "In force" means: the profile is
within validFrom/validTo, its schedule has started and not run past its duration, and among the
profiles of that purpose it has the highest stackLevel. Schedules are Absolute (from
startSchedule), Relative (from the transaction start, or from now without one) or Recurring (Daily
or Weekly from startSchedule). The composite schedule samples that rule at every point where any
profile can change (period starts, durations, validity bounds, recurrences) and merges equal
neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from harness import clock
from harness.sim.cp.model import CONNECTOR_MAX_A, PHASES, VOLTAGE

_CYCLE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}


@dataclass
class Profile:
    connector_id: int
    raw: dict
    installed: datetime

    @property
    def id(self) -> int:
        return self.raw["chargingProfileId"]

    @property
    def stack(self) -> int:
        return self.raw["stackLevel"]

    @property
    def purpose(self) -> str:
        return self.raw["chargingProfilePurpose"]

    @property
    def transaction_id(self) -> int | None:
        return self.raw.get("transactionId")

    @property
    def schedule(self) -> dict:
        return self.raw["chargingSchedule"]

    def _bound(self, key: str) -> datetime | None:
        return clock.parse_time(self.raw.get(key), default_zone=clock.UTC)

    def _start(self, tx_start: datetime | None, now: datetime) -> datetime:
        kind = self.raw.get("chargingProfileKind")
        if kind == "Relative":
            return tx_start or now
        given = clock.parse_time(self.schedule.get("startSchedule"), default_zone=clock.UTC)
        return given or self._bound("validFrom") or self.installed

    def cycle_starts(self, t0: datetime, t1: datetime, tx_start: datetime | None,
                     now: datetime) -> list[datetime]:
        """The schedule start(s) that matter between t0 and t1."""
        base = self._start(tx_start, now)
        cycle = _CYCLE.get(self.raw.get("recurrencyKind", "")) \
            if self.raw.get("chargingProfileKind") == "Recurring" else None
        if cycle is None:
            return [base]
        first = base + cycle * math.floor((t0 - base) / cycle)
        starts, s = [], first
        while s < t1:
            starts.append(s)
            s += cycle
        return starts

    def limit_at(self, t: datetime, tx_start: datetime | None, now: datetime
                 ) -> tuple[float, str, int] | None:
        """(limit, unit A|W, numberPhases) at ``t``, or None when the profile is not in force."""
        lo, hi = self._bound("validFrom"), self._bound("validTo")
        if (lo is not None and t < lo) or (hi is not None and t >= hi):
            return None
        start = self.cycle_starts(t, t + timedelta(microseconds=1), tx_start, now)[-1]
        offset = (t - start).total_seconds()
        duration = self.schedule.get("duration")
        if offset < 0 or (duration is not None and offset >= duration):
            return None
        found = None
        for period in sorted(self.schedule["chargingSchedulePeriod"],
                             key=lambda p: p["startPeriod"]):
            if period["startPeriod"] <= offset:
                found = period
        if found is None:
            return None
        return (float(found["limit"]), self.schedule["chargingRateUnit"],
                int(found.get("numberPhases", PHASES)))

    def changes(self, t0: datetime, t1: datetime, tx_start: datetime | None,
                now: datetime) -> set[datetime]:
        points = {b for b in (self._bound("validFrom"), self._bound("validTo")) if b}
        duration = self.schedule.get("duration")
        for start in self.cycle_starts(t0, t1, tx_start, now):
            points.update(start + timedelta(seconds=p["startPeriod"])
                          for p in self.schedule["chargingSchedulePeriod"])
            if duration is not None:
                points.add(start + timedelta(seconds=duration))
        return {p for p in points if t0 < p < t1}


def to_amps(limit: float, unit: str, phases: int) -> float:
    return limit if unit == "A" else limit / (VOLTAGE * max(phases, 1))


def from_amps(amps: float, unit: str, phases: int) -> float:
    return amps if unit == "A" else amps * VOLTAGE * max(phases, 1)


class ProfileStore:
    def __init__(self) -> None:
        self.profiles: list[Profile] = []
        # Seeded faults (harness/sim/faults.py), set by the charge point from its active faults.
        self.lowest_stack_wins = False
        """stack_level_inverted: the lowest stackLevel of a purpose wins."""
        self.default_skips_running_tx = False
        """tx_default_skips_running_tx: a TxDefaultProfile installed after the transaction
        started does not limit it."""

    def install(self, connector_id: int, raw: dict, now: datetime, *, connectors: int,
                tx_id: int | None, tx_running: bool, max_stack: int, max_periods: int,
                allowed_units: list[str], max_installed: int) -> str:
        """SetChargingProfile: returns Accepted or Rejected (section 5.16)."""
        purpose, schedule = raw["chargingProfilePurpose"], raw["chargingSchedule"]
        unit_name = {"A": "Current", "W": "Power"}.get(schedule["chargingRateUnit"])
        if not 0 <= connector_id <= connectors:
            return "Rejected"
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return "Rejected"
        if purpose == "TxProfile":
            # A TxProfile belongs to a running transaction on that connector.
            if connector_id == 0 or not tx_running:
                return "Rejected"
            if raw.get("transactionId") is not None and raw["transactionId"] != tx_id:
                return "Rejected"
        if raw["stackLevel"] > max_stack or len(schedule["chargingSchedulePeriod"]) > max_periods:
            return "Rejected"
        if allowed_units and unit_name not in allowed_units:
            return "Rejected"
        if raw.get("chargingProfileKind") == "Recurring" and not raw.get("recurrencyKind"):
            return "Rejected"
        kept = [p for p in self.profiles
                if p.id != raw["chargingProfileId"]
                and not (p.stack == raw["stackLevel"] and p.purpose == purpose
                         and p.connector_id == connector_id)]
        if len(kept) >= max_installed:
            return "Rejected"
        if purpose == "TxProfile" and raw.get("transactionId") is None and tx_id is not None:
            raw = {**raw, "transactionId": tx_id}
        kept.append(Profile(connector_id, raw, now))
        self.profiles = kept
        return "Accepted"

    def clear(self, profile_id: int | None, connector_id: int | None, purpose: str | None,
              stack: int | None) -> bool:
        """ClearChargingProfile: True when a profile was removed (Accepted), else Unknown."""
        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return ((connector_id is None or p.connector_id == connector_id)
                    and (purpose is None or p.purpose == purpose)
                    and (stack is None or p.stack == stack))
        kept = [p for p in self.profiles if not matches(p)]
        removed = len(kept) != len(self.profiles)
        self.profiles = kept
        return removed

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile ends with its transaction (section 3.13.2)."""
        self.profiles = [p for p in self.profiles
                         if not (p.purpose == "TxProfile" and p.connector_id == connector_id)]

    def _governing(self, candidates: list[Profile], t: datetime, tx_start: datetime | None,
                   now: datetime) -> tuple[float, str, int] | None:
        for profile in sorted(candidates, key=lambda p: p.stack,
                              reverse=not self.lowest_stack_wins):
            limit = profile.limit_at(t, tx_start, now)
            if limit is not None:
                return limit
        return None

    def limit_amps(self, connector_id: int, t: datetime, *, connectors: int,
                   tx_id: int | None, tx_start: datetime | None, now: datetime
                   ) -> tuple[float, int]:
        """(amps per phase, phases) allowed at ``t``: the composite rule, capped by the hardware."""
        ps = self.profiles
        limits: list[tuple[float, int]] = []
        cp_max = self._governing([p for p in ps if p.purpose == "ChargePointMaxProfile"], t,
                                 tx_start, now)
        if cp_max is not None:
            limits.append((to_amps(*cp_max), cp_max[2]))
        if connector_id == 0:
            limits.append((CONNECTOR_MAX_A * connectors, PHASES))
        else:
            tx = None
            if tx_start is not None:
                tx = self._governing([p for p in ps if p.purpose == "TxProfile"
                                      and p.connector_id == connector_id
                                      and p.transaction_id in (None, tx_id)], t, tx_start, now)
            if tx is None:
                defaults = [p for p in ps if p.purpose == "TxDefaultProfile"]
                if self.default_skips_running_tx and tx_start is not None:
                    defaults = [p for p in defaults if p.installed <= tx_start]
                tx = self._governing([p for p in defaults if p.connector_id == connector_id],
                                     t, tx_start, now) \
                    or self._governing([p for p in defaults if p.connector_id == 0], t,
                                       tx_start, now)
            if tx is not None:
                limits.append((to_amps(*tx), tx[2]))
            limits.append((CONNECTOR_MAX_A, PHASES))
        amps, phases = min(limits, key=lambda lp: lp[0])
        return amps, phases

    def composite(self, connector_id: int, start: datetime, duration: int, unit: str | None, *,
                  connectors: int, tx_id: int | None, tx_start: datetime | None) -> dict:
        """The chargingSchedule of GetCompositeSchedule.conf, starting at ``start``."""
        end = start + timedelta(seconds=duration)
        if unit is None:
            units = [p.schedule["chargingRateUnit"] for p in self.profiles]
            unit = units[0] if units else "A"
        points = {start}
        for profile in self.profiles:
            points |= profile.changes(start, end, tx_start, start)
        periods: list[dict] = []
        for t in sorted(points):
            amps, phases = self.limit_amps(connector_id, t, connectors=connectors, tx_id=tx_id,
                                           tx_start=tx_start, now=start)
            limit = round(from_amps(amps, unit, phases), 1)
            offset = round((t - start).total_seconds())
            if periods and periods[-1]["limit"] == limit and \
                    periods[-1]["numberPhases"] == phases:
                continue
            if periods and periods[-1]["startPeriod"] == offset:
                periods.pop()
            periods.append({"startPeriod": offset, "limit": limit, "numberPhases": phases})
        return {"duration": duration, "startSchedule": start, "chargingRateUnit": unit,
                "chargingSchedulePeriod": periods}
