"""Shared preparation of the Smart Charging cases, for both roles.

Charge point under test (the harness is the central system):

    async with profiles_installed(cp, pics) as installed:      # no profile before, none after
        await set_profile(cp, installed, 1, tx_default_profile(pics, ...), step="1-2")
        await check_composite(cp, pics, installed, connector_id=1, step="3-4")

:func:`check_composite` asks GetCompositeSchedule and judges the answer against the composite the
harness computes itself (:mod:`harness.smart_charging`) from the profiles the charge point accepted,
within the PICS max_time_deviation.

Test data the OCTT keeps in its configuration, taken here from the PICS: <Configured
chargingRateUnit> is the first unit ChargingScheduleAllowedChargingRateUnit lists (Current: A,
Power: W; limits are written in A and multiplied by 1000 for W, as the OCTT does);
<Configured numberPhases> is 3 (OCPP's default); <Configured stackLevel> is 0;
<Configured duration> is :data:`COMPOSITE_DURATION`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, AsyncIterator

from harness import clock, rpc
from harness import smart_charging as sc
from harness.clock import now  # noqa: F401 (the cases' wall clock, imported from here)
from harness.session import Response, Session
from harness.states.cs import cite

COMPOSITE_DURATION = 400
"""<Configured duration> of GetCompositeSchedule, seconds (TC_066 asks for 400)."""
STACK_LEVEL = 0
"""<Configured stackLevel>."""
NUMBER_PHASES = 3
"""<Configured numberPhases>."""


# --- test data ---------------------------------------------------------------------------------

def rate_unit(pics: Any) -> str:
    """<Configured chargingRateUnit>: A when the device lists Current first (or lists nothing:
    Current is the key's default), W when it lists Power first."""
    listed = [u.strip() for u in str(pics.configuration.get(
        "ChargingScheduleAllowedChargingRateUnit", "Current")).split(",") if u.strip()]
    return "W" if listed and listed[0] == "Power" else "A"


def limit(pics: Any, amps: str | int) -> Decimal:
    """A limit of the scenario tables (written in A) in the configured unit: x 1000 for W."""
    value = Decimal(str(amps))
    return value * 1000 if rate_unit(pics) == "W" else value


def deviation(pics: Any) -> Decimal:
    """<Configured max time deviation>, exact."""
    return sc.exact(pics.timing.max_time_deviation)


def config_int(pics: Any, key: str, default: int) -> int:
    try:
        return int(pics.configuration.get(key, default))
    except (TypeError, ValueError):
        return default


def period(start: int, value: Decimal, phases: int | None = NUMBER_PHASES) -> dict:
    entry: dict[str, Any] = {"startPeriod": start, "limit": value}
    if phases is not None:
        entry["numberPhases"] = phases
    return entry


def profile(pics: Any, profile_id: int, purpose: str, periods: list[tuple[int, str | int]], *,
            kind: str = "Absolute", stack_level: int = STACK_LEVEL,
            start_schedule: datetime | None = None, duration: int | None = None,
            valid_from: datetime | None = None, valid_to: datetime | None = None,
            transaction_id: int | None = None, recurrency: str | None = None) -> dict:
    """A csChargingProfiles object; ``periods`` as (startPeriod, limit in A of the table)."""
    schedule: dict[str, Any] = {"chargingRateUnit": rate_unit(pics), "chargingSchedulePeriod": [
        period(start, limit(pics, amps)) for start, amps in periods]}
    if duration is not None:
        schedule["duration"] = duration
    if start_schedule is not None:
        schedule["startSchedule"] = clock.iso(start_schedule)
    raw: dict[str, Any] = {"chargingProfileId": profile_id, "stackLevel": stack_level,
                           "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                           "chargingSchedule": schedule}
    for key, value in (("validFrom", valid_from), ("validTo", valid_to)):
        if value is not None:
            raw[key] = clock.iso(value)
    if transaction_id is not None:
        raw["transactionId"] = transaction_id
    if recurrency is not None:
        raw["recurrencyKind"] = recurrency
    return raw


def status_of(response: Response) -> str:
    return (f"CALLERROR {response.error.error_code}" if response.error is not None
            else repr(response.status))


def exact_payload(response: Response) -> dict:
    """The payload of a CALLRESULT as written on the wire, numbers as Decimal."""
    message = rpc.loads(response.frame.text, exact=True)
    return message[2] if isinstance(message, list) and len(message) > 2 else {}


# --- the profiles a case installed -------------------------------------------------------------

@dataclass
class Installed:
    """The profiles the charge point accepted during the case, as the harness models them."""
    profiles: dict[int, sc.ChargingProfile] = field(default_factory=dict)
    transaction: sc.Transaction | None = None
    """The running transaction, for TxProfiles and Relative schedules (set by the case)."""

    def add(self, connector_id: int, raw: dict) -> None:
        model = sc.ChargingProfile.from_ocpp(connector_id, raw)
        if model.purpose == "TxProfile" and model.transaction_id is None and \
                self.transaction is not None:
            # 5.16: a TxProfile set without transactionId belongs to the running transaction.
            model = replace(model, transaction_id=self.transaction.transaction_id)
        # 5.16: the same id replaces; so does the same stackLevel and purpose on a connector.
        self.profiles = {k: p for k, p in self.profiles.items()
                         if p.id != model.id and not (p.stack_level == model.stack_level
                                                      and p.purpose == model.purpose
                                                      and p.connector_id == model.connector_id)}
        self.profiles[model.id] = model

    def clear(self, *, profile_id: int | None = None, connector_id: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> None:
        """ClearChargingProfile's selection (5.3): by id, else by every criterion given."""
        def hit(p: sc.ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return ((connector_id is None or p.connector_id == connector_id)
                    and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        self.profiles = {k: p for k, p in self.profiles.items() if not hit(p)}

    def end_transaction(self) -> None:
        """3.13.2: a TxProfile lives as long as its transaction."""
        self.profiles = {k: p for k, p in self.profiles.items() if p.purpose != "TxProfile"}
        self.transaction = None


def transaction_of(tx: Any) -> sc.Transaction:
    """The model's transaction from a :class:`harness.states.cs.Tx`: its id and the start the
    charge point stamped on StartTransaction.req (its own clock, like its composite)."""
    return sc.Transaction(tx.transaction_id, sc.moment_of(tx.start["timestamp"]))


async def clear_all(cp: Session, *, step: str) -> Response:
    """ClearChargingProfile with no criteria: every installed profile goes (Accepted), or there
    was none (Unknown)."""
    response = await cp.call("ClearChargingProfile", {})
    assert response.error is None and response.status in ("Accepted", "Unknown"), (
        f"{step}: ClearChargingProfile (all) was answered {status_of(response)}, expected "
        f"'Accepted' or 'Unknown' ({cite(response)})")
    return response


@asynccontextmanager
async def profiles_installed(cp: Session, pics: Any) -> AsyncIterator[Installed]:
    """Memory state "no charging profile installed" for the block: ClearChargingProfile (all)
    before, so that profiles of earlier cases or of the site do not change the composite, and
    after, so that the case leaves none behind."""
    await clear_all(cp, step="preparation")
    failed = False
    try:
        yield Installed()
    except BaseException:
        failed = True
        raise
    finally:
        try:
            if cp.connected:
                await cp.call("ClearChargingProfile", {})
        except Exception:
            if not failed:
                raise


async def set_profile(cp: Session, installed: Installed, connector_id: int, raw: dict, *,
                      step: str, expected: tuple[str, ...] = ("Accepted",)) -> Response:
    """SetChargingProfile.req; the answer must be one of ``expected`` (a status, or
    'CALLERROR <code>'). An Accepted profile joins the harness's model."""
    response = await cp.call("SetChargingProfile", {"connectorId": connector_id,
                                                    "csChargingProfiles": raw})
    got = (f"CALLERROR {response.error.error_code}" if response.error is not None
           else response.status)
    assert got in expected, (
        f"step {step}: SetChargingProfile.conf (profile {raw['chargingProfileId']}, "
        f"{raw['chargingProfilePurpose']}, connector {connector_id}) status is "
        f"{status_of(response)}"
        f", expected {' or '.join(map(repr, expected))} ({cite(response)})")
    if got == "Accepted":
        installed.add(connector_id, raw)
    return response


async def clear_profile(cp: Session, installed: Installed, payload: dict, *, step: str,
                        expected: str = "Accepted") -> Response:
    """ClearChargingProfile.req with ``payload`` (id, connectorId, chargingProfilePurpose,
    stackLevel); the model forgets the same profiles."""
    response = await cp.call("ClearChargingProfile", payload)
    assert response.error is None and response.status == expected, (
        f"step {step}: ClearChargingProfile.conf for {payload or 'all profiles'} is "
        f"{status_of(response)}, expected {expected!r} ({cite(response)})")
    installed.clear(profile_id=payload.get("id"), connector_id=payload.get("connectorId"),
                    purpose=payload.get("chargingProfilePurpose"),
                    stack_level=payload.get("stackLevel"))
    return response


async def check_composite(cp: Session, pics: Any, installed: Installed, *, connector_id: int,
                          step: str, duration: int = COMPOSITE_DURATION,
                          unit: str | None = None) -> sc.Composite:
    """GetCompositeSchedule.req (connectorId, duration, chargingRateUnit) -> .conf Accepted, with
    connectorId and unit as asked, a scheduleStart within max_time_deviation of the request's round
    trip (from the moment the harness asked to the answer read), and the periods of the composite
    the harness computes from ``installed``."""
    unit = unit or rate_unit(pics)
    asked = now()
    response = await cp.call("GetCompositeSchedule", {"connectorId": connector_id,
                                                      "duration": duration,
                                                      "chargingRateUnit": unit})
    where = f"({cite(response)})"
    assert response.error is None and response.status == "Accepted", (
        f"step {step}: GetCompositeSchedule.conf status is {status_of(response)}, expected "
        f"'Accepted' {where}")
    answer = exact_payload(response)
    assert answer.get("connectorId") == connector_id, (
        f"step {step}: GetCompositeSchedule.conf connectorId is {answer.get('connectorId')!r}, "
        f"expected {connector_id} {where}")
    schedule = answer.get("chargingSchedule")
    assert isinstance(schedule, dict), (
        f"step {step}: GetCompositeSchedule.conf Accepted carries no chargingSchedule {where}")
    start_text = schedule.get("startSchedule") or answer.get("scheduleStart")
    assert start_text, (
        f"step {step}: GetCompositeSchedule.conf gives neither scheduleStart nor "
        f"chargingSchedule.startSchedule, so its periods cannot be placed in time {where}")
    start = sc.moment_of(start_text)
    # The device stamps its composite when it handles the request: any moment of the round trip
    # (the CALL on the wire .. the answer read) is right, not only the one the harness asked at --
    # on a loaded machine either leg can take longer than max_time_deviation.
    answered = datetime.fromtimestamp(response.frame.wall_ns / 1e9, clock.UTC)
    off = sc.seconds(start - asked) if start < asked else \
        sc.seconds(start - answered) if start > answered else Decimal(0)
    assert abs(off) <= deviation(pics), (
        f"step {step}: the composite schedule starts at {start_text}, {off:+.3f} s from the "
        f"round trip of the request (asked {clock.iso(asked)}, answered {clock.iso(answered)}), "
        f"expected within ± {pics.timing.max_time_deviation} s of it (PICS "
        f"max_time_deviation) {where}")
    if schedule.get("duration") is not None:
        assert schedule["duration"] == duration, (
            f"step {step}: the composite schedule's duration is {schedule['duration']} s, "
            f"expected {duration} s as asked {where}")
    expected = sc.composite(installed.profiles.values(), connector_id, start, duration, unit,
                            transaction=installed.transaction)
    problems = sc.compare(expected, schedule, deviation=deviation(pics))
    assert not problems, (
        f"step {step}: the composite schedule of connector {connector_id} is not the one the "
        f"installed profiles give: " + "; ".join(problems)
        + f". Expected {sc.describe(expected)}; the device reports {sc.describe(schedule)} "
        + where)
    return expected


# --- central system under test: judging the profiles it sends ----------------------------------

def profile_problems(raw: Any, *, purpose: str, connector_id: int | None = None,
                     given_connector: int | None = None) -> list[str]:
    """Checks every charging profile a central system sends must pass (5.16, 7.8): the purpose,
    the kind rules (Absolute: startSchedule; Relative: no startSchedule; Recurring: recurrencyKind,
    and recurrencyKind only with Recurring), transactionId only in a TxProfile, a first period at
    startPeriod 0 and rising startPeriods, and a ChargePointMaxProfile only on connector 0."""
    if not isinstance(raw, dict):
        return [f"the charging profile is {raw!r}, not an object"]
    problems = []
    if raw.get("chargingProfilePurpose") != purpose:
        problems.append(f"chargingProfilePurpose is {raw.get('chargingProfilePurpose')!r}, "
                        f"expected {purpose!r}")
    kind = raw.get("chargingProfileKind")
    schedule = raw.get("chargingSchedule") or {}
    if kind == "Relative" and "startSchedule" in schedule:
        problems.append("a Relative profile carries chargingSchedule.startSchedule")
    if kind == "Recurring" and not raw.get("recurrencyKind"):
        problems.append("a Recurring profile without recurrencyKind")
    if kind != "Recurring" and "recurrencyKind" in raw:
        problems.append(f"recurrencyKind {raw['recurrencyKind']!r} in a {kind} profile")
    if "transactionId" in raw and raw.get("chargingProfilePurpose") != "TxProfile":
        problems.append("transactionId in a profile that is not a TxProfile")
    starts = [p.get("startPeriod") for p in schedule.get("chargingSchedulePeriod") or []]
    if starts and starts[0] != 0:
        problems.append(f"the first chargingSchedulePeriod starts at {starts[0]}, expected 0")
    if starts != sorted(set(starts)):
        problems.append(f"startPeriods {starts} do not rise")
    if given_connector is not None and connector_id is not None and \
            given_connector != connector_id:
        problems.append(f"connectorId is {given_connector}, expected {connector_id}")
    return problems


def request_limits(request: Any) -> list[Decimal]:
    """The limits of the chargingSchedulePeriods of a central system's request, as written on
    the wire (a CALL frame: [2, id, action, payload])."""
    message = rpc.loads(request.frame.text, exact=True)
    payload = message[3] if isinstance(message, list) and len(message) > 3 else {}
    raw = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
    return [sc.exact(p["limit"]) for p in
            (raw.get("chargingSchedule") or {}).get("chargingSchedulePeriod") or []]


def assert_profile(request: Any, raw: Any, *, step: Any, purpose: str,
                   connector_id: int | None = None, given_connector: int | None = None) -> None:
    """:func:`profile_problems` as one assertion naming the step and the wire log line."""
    problems = profile_problems(raw, purpose=purpose, connector_id=connector_id,
                                given_connector=given_connector)
    assert not problems, (f"step {step}: {request.action}.req: " + "; ".join(problems)
                          + f" (wire log line {request.line})")


def composite_answer(pics: Any, amps: str = "16") -> Any:
    """How the harness's charge point answers GetCompositeSchedule when no profile limits it: one
    period at its own limit (``amps`` A per phase, converted for W at 230 V and 3 phases), from
    now, over the duration asked, in the unit asked (else the configured one)."""
    def answer(payload: dict) -> dict:
        unit = payload.get("chargingRateUnit") or rate_unit(pics)
        value = sc.convert(Decimal(amps), "A", unit, NUMBER_PHASES)
        start = clock.iso(now())
        return {"status": "Accepted", "connectorId": payload["connectorId"],
                "scheduleStart": start,
                "chargingSchedule": {"duration": payload["duration"], "startSchedule": start,
                                     "chargingRateUnit": unit, "chargingSchedulePeriod": [
                                         {"startPeriod": 0, "limit": value,
                                          "numberPhases": NUMBER_PHASES}]}}
    return answer
