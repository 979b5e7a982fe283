"""Reusable states and helpers of the Reservation profile, for both roles.

Charge point under test (the harness plays the central system):

    async with other_connectors_unavailable(cp, pics):      # SetConnectorUnavailable (unused ones)
        async with reserved(cp, pics) as r:                  # Reserved: ReserveNow Accepted, Reserved
            ...

Central system under test (the harness plays the charge point): :func:`operator_reserves` is the
``[OPERATOR: ReserveNow ...]`` step, :func:`start_reserved` the StartTransaction that uses a
reservation.

Time. A reservation ends at its expiryDate, read on the DEVICE's clock (OCPP 1.6 section 5.13). The
harness reads the charge point's clock from the timestamps of the frames it sends (see
:func:`device_clock`), computes the expiryDate it sends from that clock, and judges the end of the
reservation against it within the PICS max_time_deviation.
"""

from __future__ import annotations

import itertools
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, AsyncIterator

from harness.clock import UTC, iso, now, parse_time
from harness.session import DeviceTimeout, Request, Response, Session
from harness.states.assertions import assert_status, conf_status
from harness.states.cs import (change_availability, cite, connector_under_test, next_status,
                               other_connectors, short_interval, status_until, triggered)

CONNECTOR_ZERO_NA = (
    lambda pics: not pics.features.reserve_connector_zero,
    "the PICS says the charge point cannot reserve connector 0 (features.reserve_connector_zero = "
    "false, i.e. ReserveConnectorZeroSupported is not true)")
"""``na_when`` entry of the cases that reserve the whole charge point (connectorId 0)."""

VALID2_NA = (lambda pics: not pics.id_tags.valid2,
             "the PICS gives no second valid idTag (id_tags.valid2, <Configured Valid IdTag 2>)")
PARENT_NA = (lambda pics: not pics.id_tags.parent or not pics.id_tags.valid2,
             "the PICS gives no parentIdTag shared by two valid idTags (id_tags.parent, "
             "id_tags.valid2)")

# Unique within a run and, by starting from the wall clock, across runs against the same device: a
# reservationId already held by the device would replace that reservation (section 5.13).
_IDS = itertools.count(int(time.time()) % 100_000 * 10_000)


def new_reservation_id() -> int:
    return next(_IDS)


def lasting(pics: Any) -> float:
    """Validity (seconds) of a reservation that must outlive the case: long against every wait of
    the case, yet short enough that one a failed clean-up leaves behind does not hold a connector
    for long. Clean-up cancels it anyway."""
    return max(120.0, 6 * (pics.timing.response_timeout + triggered(pics)))


def expiry_offset(pics: Any) -> int:
    """The OCTT's <Configured Reservation Expiry offset> for TC_047: short, so that the case takes
    seconds; at least twice max_time_deviation, so that a reservation that ends at once (or never
    really held) cannot pass as "within the deviation"."""
    return short_interval(pics)


# --- the device's clock -------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceClock:
    """The charge point's clock as the harness estimates it: ``offset_s`` = its time minus the
    harness's, at the moment a frame reached the harness's socket."""
    offset_s: float
    source: str

    def now(self) -> datetime:
        return now() + timedelta(seconds=self.offset_s)

    def at(self, wall_ns: int) -> datetime:
        """The device's time when a frame stamped ``wall_ns`` (harness clock) arrived."""
        return datetime.fromtimestamp(wall_ns / 1e9, UTC) + timedelta(seconds=self.offset_s)


def _stamps(request: Request) -> list[str]:
    payload = request.payload
    if request.action in ("StatusNotification", "StartTransaction", "StopTransaction"):
        return [payload["timestamp"]] if payload.get("timestamp") else []
    if request.action == "MeterValues":
        return [mv.get("timestamp") for mv in payload.get("meterValue") or [] if mv.get("timestamp")]
    return []


def device_clock(session: Session) -> DeviceClock:
    """The charge point's clock, from the timestamps in the frames it sent during this case.

    Reading: a timestamp says when the device made the message, so ``timestamp - arrival`` is the
    device's offset minus the time the message took to arrive (never negative). The largest of
    these over the case's frames is the best estimate (the one that waited least). A device that
    sent no timestamp yet is taken to run on the harness's clock: it sets its clock from the
    currentTime the harness gives in BootNotification.conf and Heartbeat.conf (sections 4.2, 4.6)."""
    best: tuple[float, Request] | None = None
    for request in session.requests:
        for text in _stamps(request):
            moment = parse_time(text)
            if moment is None or moment.tzinfo is None:
                continue
            offset = moment.timestamp() - request.frame.wall_ns / 1e9
            if best is None or offset > best[0]:
                best = (offset, request)
    if best is None:
        return DeviceClock(0.0, "no timestamp seen yet: taken to be the harness's clock, which the "
                                "charge point is given in BootNotification.conf / Heartbeat.conf")
    return DeviceClock(best[0], f"{best[1].action} timestamp at {cite(best[1])}")


# --- charge point under test: reservations ------------------------------------------------------

@dataclass
class Reservation:
    """A ReserveNow the harness sent, and what came of it."""
    reservation_id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime
    """expiryDate as sent: a moment on the charge point's clock."""
    clock: DeviceClock
    """The device clock the expiry was computed from."""
    response: Response | None = None
    reported: Request | None = None
    """The StatusNotification Reserved."""
    watched_connector: int | None = None
    """The connector that reported Reserved (for connectorId 0: the one held for the idTag)."""
    held: bool = True
    """False once the case saw the reservation end (used, cancelled, expired)."""

    @property
    def status(self) -> Any:
        return self.response.status if self.response is not None else None


async def reserve_now(cp: Session, pics: Any, *, connector_id: int | None = None,
                      id_tag: str | None = None, parent: str | None = None,
                      expires_in: float | None = None,
                      reservation_id: int | None = None) -> Reservation:
    """Harness: ReserveNow.req, expiryDate ``expires_in`` seconds ahead on the device's clock;
    the case judges the answer (:func:`assert_reserve_status`)."""
    connector_id = connector_under_test(pics) if connector_id is None else connector_id
    clock = device_clock(cp)
    expiry = clock.now() + timedelta(seconds=lasting(pics) if expires_in is None else expires_in)
    r = Reservation(new_reservation_id() if reservation_id is None else reservation_id,
                    connector_id, id_tag or pics.id_tags.valid, parent, expiry, clock)
    payload = {"connectorId": connector_id, "expiryDate": iso(expiry), "idTag": r.id_tag,
               "reservationId": r.reservation_id}
    if parent:
        payload["parentIdTag"] = parent
    r.response = await cp.call("ReserveNow", payload)
    return r


def assert_reserve_status(r: Reservation, expected: str, *, step: str) -> None:
    assert_status(r.response, expected, step=step,
                  when=f"for connector {r.connector_id} (reservationId {r.reservation_id})")


async def cancel_reservation(cp: Session, reservation_id: int) -> Response:
    return await cp.call("CancelReservation", {"reservationId": reservation_id})


def assert_cancel_status(response: Response, expected: str, *, step: str) -> None:
    assert_status(response, expected, step=step)


async def expect_reserved(cp: Session, pics: Any, r: Reservation, *, step: str) -> Request | None:
    """StatusNotification Reserved for the reserved connector.

    A reservation of connector 0 (the whole charge point): OCPP 1.6 section 5.13 asks only that
    "one connector remains available for the reserved IdTag" while it is valid; it does not ask
    that a connector report Reserved (and connector 0 itself may report only Available,
    Unavailable or Faulted, section 4.9). So the charge point may report Reserved for the connector
    under test (the only one the case left free), or report nothing: the connector stays
    Available and refuses other idTags, which the case then proves. Within the triggered function
    timeout a StatusNotification for that connector must be Reserved, and none at all is right
    too (returns None). ``r.watched_connector`` is the connector held for the idTag either way;
    ``r.reported`` the StatusNotification, if one came."""
    watched = r.connector_id or connector_under_test(pics)
    r.watched_connector = watched
    if r.connector_id == 0:
        try:
            status = await next_status(cp, pics, watched,
                                       what=f"{step}: StatusNotification Reserved for connector "
                                            f"{watched}")
        except DeviceTimeout:
            return None  # nothing reported: section 5.13 does not ask for a status
    else:
        status = await next_status(cp, pics, watched,
                                   what=f"{step}: StatusNotification Reserved for connector "
                                        f"{watched}")
    assert_status(status, "Reserved", step=step, when="after ReserveNow was Accepted")
    r.reported = status
    return status


async def release(cp: Session, pics: Any, r: Reservation, *, quiet: bool) -> None:
    """Clean-up: a reservation the case did not see end is cancelled, and its connector seen
    Available again. Rejected means it had ended already (used or expired): nothing to undo."""
    try:
        if not cp.connected:
            await cp.wait_connected(pics.timing.boot_timeout)
        response = await cancel_reservation(cp, r.reservation_id)
        if response.status == "Accepted" and r.reported is not None:
            await status_until(cp, pics, r.reported["connectorId"], "Available")
    except Exception:
        if not quiet:
            raise


@asynccontextmanager
async def reserved(cp: Session, pics: Any, *, connector_id: int | None = None,
                   id_tag: str | None = None, parent: str | None = None,
                   expires_in: float | None = None, step: str = "Reserved") -> AsyncIterator[Reservation]:
    """Reusable state Reserved: ReserveNow.req (the connector under test, the valid idTag unless
    told otherwise, an expiry that outlives the case) answered Accepted, then StatusNotification
    Reserved. On leaving, a reservation still held is cancelled."""
    r = await reserve_now(cp, pics, connector_id=connector_id, id_tag=id_tag, parent=parent,
                          expires_in=expires_in)
    failed = False
    try:
        assert_reserve_status(r, "Accepted", step=step)
        await expect_reserved(cp, pics, r, step=step)
        yield r
    except BaseException:
        failed = True
        raise
    finally:
        if r.held:
            await release(cp, pics, r, quiet=failed)


def reservation_id_problem(start: Request, expected: int | None) -> str | None:
    """What is wrong with the reservationId of a StartTransaction.req (None: right). ``expected``
    None: the transaction must not claim any reservation."""
    got = start.get("reservationId")
    if got == expected:
        return None
    if expected is None:
        return (f"StartTransaction.req carries reservationId {got}, expected none: the reservation "
                f"had ended ({cite(start)})")
    return (f"StartTransaction.req carries reservationId {got!r}, expected {expected}, the id of "
            f"the reservation it uses ({cite(start)})")


# --- charge point under test: availability ------------------------------------------------------

@asynccontextmanager
async def other_connectors_unavailable(cp: Session, pics: Any) -> AsyncIterator[list[int]]:
    """Reusable state SetConnectorUnavailable for every connector the case does not use:
    ChangeAvailability Inoperative, each reported Unavailable. So that an idTag presented without a
    connector, or a reservation of connector 0, can only mean the connector under test. Undone at
    the end: Operative again, each Available."""
    done: list[int] = []
    failed = False
    try:
        for connector_id in other_connectors(pics):
            step = f"SetConnectorUnavailable (connector {connector_id})"
            response = await change_availability(cp, pics, connector_id, "Inoperative", step=step)
            conf_status(response, "Accepted", step=step)
            done.append(connector_id)
            status = await next_status(cp, pics, connector_id, what=f"{step}: StatusNotification "
                                                                     "Unavailable")
            assert_status(status, "Unavailable", step=step)
        yield done
    except BaseException:
        failed = True
        raise
    finally:
        for connector_id in done:
            try:
                if not cp.connected:
                    await cp.wait_connected(pics.timing.boot_timeout)
                await cp.call("ChangeAvailability", {"connectorId": connector_id,
                                                     "type": "Operative"})
                await status_until(cp, pics, connector_id, "Available")
            except Exception:
                if not failed:
                    raise


# --- timing of the end of a reservation ---------------------------------------------------------

def minimum_status_duration(pics: Any) -> float:
    """MinimumStatusDuration (OCPP 1.6 section 9.1): a status must hold that long before
    it is reported, so a StatusNotification may lawfully come that much after the change."""
    try:
        return float(pics.configuration.get("MinimumStatusDuration", 0) or 0)
    except ValueError:
        return 0.0


def end_wait(r: Reservation, pics: Any) -> float:
    """How long to wait from now for the StatusNotification that ends the reservation: until the
    expiry (device clock), plus the deviation, plus MinimumStatusDuration, plus the triggered
    function time, so that a late one is seen and judged by its lateness, not by a time-out."""
    remaining = (r.expiry - r.clock.now()).total_seconds()
    return max(0.0, remaining) + pics.timing.max_time_deviation + minimum_status_duration(pics) \
        + triggered(pics)


def ended_at_expiry_problems(available: Request, r: Reservation, pics: Any) -> list[str]:
    """The reservation must end at its expiryDate within max_time_deviation, on the device's clock:
    the StatusNotification's own timestamp (when present) within expiry ± deviation, and its
    arrival (the harness's clock, carried to the device's by the clock estimate) not before
    expiry - deviation nor after expiry + deviation + MinimumStatusDuration."""
    deviation = pics.timing.max_time_deviation
    expiry = r.expiry.timestamp()
    problems = []
    clock = device_clock_after(r)
    arrived = clock.at(available.frame.wall_ns).timestamp() - expiry
    late_bound = deviation + minimum_status_duration(pics)
    if arrived < -deviation or arrived > late_bound:
        problems.append(
            f"it arrived {arrived:+.3f} s from the expiryDate {iso(r.expiry)} on the charge point's "
            f"clock ({clock.source}, offset {clock.offset_s:+.3f} s), expected between "
            f"-{deviation:g} s and +{late_bound:g} s (max_time_deviation"
            f"{' + MinimumStatusDuration' if minimum_status_duration(pics) else ''})")
    stamped = parse_time(available.get("timestamp", ""))
    if stamped is not None and stamped.tzinfo is not None:
        said = stamped.timestamp() - expiry
        if abs(said) > deviation:
            problems.append(f"its timestamp {available['timestamp']} is {said:+.3f} s from the "
                            f"expiryDate {iso(r.expiry)}, expected within ±{deviation:g} s")
    return problems


def device_clock_after(r: Reservation) -> DeviceClock:
    """The device clock re-estimated with the StatusNotification Reserved (a fresh sample taken
    after the ReserveNow): the larger of the two offsets, as in :func:`device_clock`. An estimate
    that was only an assumption gives way to any real sample."""
    candidates = [] if r.clock.source.startswith("no timestamp") else [r.clock]
    reported = r.reported
    moment = parse_time(reported.get("timestamp", "")) if reported is not None else None
    if moment is not None and moment.tzinfo is not None:
        candidates.append(DeviceClock(moment.timestamp() - reported.frame.wall_ns / 1e9,
                                      f"StatusNotification Reserved timestamp at {cite(reported)}"))
    return max(candidates, key=lambda c: c.offset_s) if candidates else r.clock


# --- central system under test ------------------------------------------------------------------

def expiry_ahead(pics: Any, seconds: float) -> str:
    """An expiryDate ``seconds`` ahead on the harness's charge point's clock (the harness's own)."""
    return iso(now() + timedelta(seconds=seconds))


def reserve_request(pics: Any, *, connector_id: int, id_tag: str | None = None,
                    expires_in: float | None = None, parent: str | None = None) -> dict:
    """What the operator is asked to make the central system send: the OCTT's ReserveNow with
    <Configured ConnectorId>, <Configured Valid IdTag> and an expiry in the future. The central
    system picks the reservationId; the harness proposes one."""
    payload = {"connectorId": connector_id,
               "expiryDate": expiry_ahead(pics, lasting(pics) if expires_in is None else expires_in),
               "idTag": id_tag or pics.id_tags.valid, "reservationId": new_reservation_id()}
    if parent:
        payload["parentIdTag"] = parent
    return payload


def reserve_request_problems(request: Request, asked: dict) -> list[str]:
    """The OCTT's central system checks on a ReserveNow.req: the connectorId and the idTag (and
    parentIdTag, when one was asked for) the operator asked for; idTags compared
    case-insensitively."""
    problems = []
    if request.get("connectorId") != asked["connectorId"]:
        problems.append(f"connectorId {request.get('connectorId')!r}, expected "
                        f"{asked['connectorId']}")
    for key in ("idTag", "parentIdTag"):
        want, got = asked.get(key), request.get(key)
        if want is not None and (not isinstance(got, str) or got.casefold() != want.casefold()):
            problems.append(f"{key} {got!r}, expected {want!r}")
    return problems


async def start_reserved(csms: Session, connector_id: int, id_tag: str, reservation_id: Any, *,
                         step: str):
    """Harness: StartTransaction.req with the reservationId of the reservation it uses.
    :func:`harness.states.csms.start_transaction` has no reservationId; this sends the same request
    with it and enters the transaction in the same ledger, so that clean-up stops it."""
    from harness.clock import now_iso
    from harness.states import csms as csms_states

    ledger = csms_states._ledger(csms)
    meter_start = ledger.meter_wh
    ledger.meter_wh += csms_states.ENERGY_PER_SESSION_WH
    response = await csms_states.call(csms, "StartTransaction", {
        "connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
        "reservationId": reservation_id, "timestamp": now_iso()}, step=step)
    transaction_id = response.get("transactionId")
    tx = csms_states.Transaction(transaction_id, connector_id, id_tag, meter_start, response)
    if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
        ledger.open[transaction_id] = tx
    return tx


async def operator_reserves(csms: Session, driver: Any, pics: Any, asked: dict, *, answer: str,
                            step: int | str) -> Request:
    """[OPERATOR: ReserveNow ...]: the driver makes the central system send ReserveNow.req as
    ``asked`` (:func:`reserve_request`); the harness's charge point answers ``answer``; the
    request must carry the connectorId and idTag (and parentIdTag) asked for."""
    from harness.states.csms import operator_sends

    request = await operator_sends(csms, driver, pics, "ReserveNow", asked,
                                   answer={"status": answer}, step=step)
    problems = reserve_request_problems(request, asked)
    assert not problems, (f"step {step}: ReserveNow.req has " + "; ".join(problems)
                          + f" (wire log line {request.line})")
    return request
