"""Reusable states of a charge point under test (the harness plays the central system).

The OCTT runs "Before" preparations ahead of a scenario: a configuration state (keys set with
ChangeConfiguration), a memory state (an idTag in the authorization cache ...) and reusable states
(Booted, Authorized, Charging ...). This module gives each of them as a coroutine or an async
context manager that also undoes what it did, so that every test case leaves the charge point as it
found it: configuration restored, transaction stopped, cable unplugged, connector Available.

Verdicts, as everywhere in the harness:
- the charge point doing something wrong while a state is set up (no StartTransaction after the
  plug-in, a wrong status) is a FAIL (an ``AssertionError`` naming the state and the wire log line);
- a state that cannot be set up for a reason that is not the device's fault (the driver or the
  operator could not act, the device refuses a configuration value the case needs) is
  INCONCLUSIVE; an "(if implemented)" key the device does not know is skipped, and a key the case
  cannot run without makes it N/A.

Clean-up after a failure is best effort and silent: it must not hide the failure that ended the case.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

from harness.clock import parse_time
from harness.rpc import CP_ACTIONS
from harness.session import DeviceTimeout, HarnessError, Request, Response, Session, StashKey
from harness.states import connector_ids, cs_connected
from harness.states.assertions import (  # noqa: F401  -- re-exported: the cases import them here
    assert_id_tag, assert_status, assert_value, cite, conf_status, expect_status)
from harness.transport import Link
from harness.verdicts import Inconclusive, NotApplicable

DEFAULT = object()
"""Marker: use the harness's default answer."""


# --- test data the OCTT keeps in its configuration --------------------------------------------

NO_LOCK = (lambda pics: not pics.features.has_lock,
           "the PICS says the connectors have no cable lock (features.cable is not "
           "\"socket_with_lock\"): there is no lock to lock, fail or open")
"""``na_when`` entry of the cases that need a cable lock."""


def connector_under_test(pics: Any) -> int:
    """The OCTT's <Configured ConnectorId>: the connector the scenarios use."""
    return 1


def other_connectors(pics: Any) -> list[int]:
    return [c for c in connector_ids(pics, with_zero=False) if c != connector_under_test(pics)]


def short_interval(pics: Any) -> int:
    """An interval (seconds) the harness configures for timers it then watches: the OCTT's
    <Configured Meter Value (Sample) interval>, <Configured Clock Aligned Data interval> and
    <Configured connectionTimeout>. Short, so that a case takes seconds (the keys are whole
    seconds: 1 at least); at least twice the PICS max_time_deviation, so that a timer that ignores
    the configured value cannot pass as "within the deviation"."""
    return max(1, math.ceil(2 * pics.timing.max_time_deviation))


def sample_interval(pics: Any) -> int:
    """<Configured Meter Value (Sample) interval> (MeterValueSampleInterval)."""
    return short_interval(pics)


def clock_aligned_interval(pics: Any) -> int:
    """<Configured Clock Aligned Data interval> (ClockAlignedDataInterval)."""
    return short_interval(pics)


def connection_timeout(pics: Any) -> int:
    """<Configured connectionTimeout> (ConnectionTimeOut)."""
    return short_interval(pics)


def quiet_period(pics: Any) -> float:
    """How long the harness watches for a message that must NOT come (a StartTransaction after an
    invalid idTag, a StopTransaction after a rejected request): the PICS triggered function
    timeout, the longest the device may take to send what an event causes. What has not come by
    then is not coming."""
    return pics.timing.triggered_function_timeout


def triggered(pics: Any) -> float:
    """Bound of a wait for a request that an action or a call causes."""
    return pics.timing.triggered_function_timeout


def valid_tag(pics: Any) -> str:
    """<Configured Valid IdTag>."""
    return pics.id_tags.valid


# --- Booted -----------------------------------------------------------------------------------

SETTLED = StashKey[Link]()
"""The connection on which the harness last saw the charge point settle (booted and reported its
connectors, or reconnected without a boot), on :attr:`Session.stash`: the current connection is
settled when it is this one (a new connection never is)."""


def settled(cp: Session) -> None:
    """Mark the current connection as settled: a case that rebooted or reconnected the charge point
    and took its BootNotification and StatusNotifications itself says so at its end."""
    if cp.link is not None:
        cp.stash[SETTLED] = cp.link


async def booted(cp: Session, pics: Any) -> None:
    """Reusable state Booted: the charge point is connected and accepted, and has reported its
    connectors. On a connection the harness has not seen settle yet (the first case of a run, or
    after a reboot done outside these states) the harness waits for its BootNotification (answered
    Accepted by default) and the StatusNotification of connector 0 and every connector; a
    connection that brings no BootNotification is a reconnection and is taken as it is."""
    await cs_connected(cp, pics)
    if cp.link is not None and cp.stash.get(SETTLED) is cp.link:
        return
    try:
        await cp.expect("BootNotification", timeout=triggered(pics),
                        what="Booted: BootNotification on a new connection")
    except DeviceTimeout:
        # A reconnection, or a boot answered before the case began: the StatusNotifications the
        # device sent meanwhile are its start-up report, not answers to what the case does next
        # (a charge point that is the run's first case, still reporting as the case starts, had
        # its boot 'Available' taken for the Preparing of the case's first card).
        while True:
            try:
                await cp.expect("StatusNotification", timeout=0)
            except DeviceTimeout:
                break
        settled(cp)
        return
    await booted_statuses(cp, pics, step="Booted")
    settled(cp)


# --- small helpers ----------------------------------------------------------------------------

async def expect_since(cp: Session, actions: str | tuple[str, ...] | frozenset[str], since_ns: int,
                       where: Callable[[dict], bool] | None = None, *, timeout: float,
                       what: str, not_on: Link | None = None) -> Request:
    """The charge point's next ``actions`` request sent at or after ``since_ns`` (the harness's
    time.monotonic_ns(), the clock frames are stamped with) and not on the connection ``not_on``.
    Requests still waiting from before -- sent on the connection a power cycle closed, say, even
    as the power cycle was being asked for -- are passed over, not judged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            request = await cp.expect(actions, where, timeout=max(0.0, deadline - loop.time()),
                                      what=what)
        except DeviceTimeout:
            raise DeviceTimeout(f"expected {what} within {timeout:g} s; it did not come") from None
        if request.frame.mono_ns >= since_ns and (not_on is None or request.link is not not_on):
            return request


async def boot_retried(cp: Session, previous: Request, interval: float, *, since_ns: int,
                       not_on: Link | None, timeout: float, step: str) -> Request:
    """The charge point's next request after a BootNotification answered Rejected or Pending
    (``previous``): it must be a BootNotification again (OCPP 1.6 4.2: while not Accepted it sends
    nothing else), not before the ``interval`` it was given. Requests from before ``since_ns`` or on
    the connection ``not_on`` are passed over (see :func:`expect_since`)."""
    status = previous.answer["status"]
    again = await expect_since(cp, CP_ACTIONS, since_ns, not_on=not_on, timeout=timeout,
                               what=f"{step}: a new BootNotification after the {status} one")
    assert again.action == "BootNotification", (
        f"{step}: while {status} the charge point may send only BootNotification; it sent "
        f"{again.action} ({cite(again)})")
    if previous.answer_frame is None:
        raise HarnessError(f"{step}: the harness did not answer the {status} BootNotification")
    waited = (again.frame.mono_ns - previous.answer_frame.mono_ns) / 1e9
    assert waited >= interval, (
        f"{step}: the charge point retried BootNotification {waited:.3f} s after the {status} "
        f"answer, before the {interval:g} s interval it was given ({cite(again)})")
    return again


async def next_status(cp: Session, pics: Any, connector_id: int, *, timeout: float | None = None,
                      what: str | None = None) -> Request:
    """The next StatusNotification the charge point sends for ``connector_id`` (earlier ones not
    yet taken count: the OCTT judges the sequence, so none is skipped)."""
    return await cp.expect("StatusNotification", lambda p: p.get("connectorId") == connector_id,
                           timeout=triggered(pics) if timeout is None else timeout,
                           what=what or f"a StatusNotification for connector {connector_id}")


async def status_until(cp: Session, pics: Any, connector_id: int, status: str, *,
                       timeout: float | None = None) -> Request:
    """The first StatusNotification with ``status`` for ``connector_id``, skipping others
    (clean-up, where the path to the state does not matter)."""
    return await cp.expect("StatusNotification",
                           lambda p: p.get("connectorId") == connector_id and p.get("status") == status,
                           timeout=triggered(pics) if timeout is None else timeout,
                           what=f"StatusNotification {status} for connector {connector_id}")


def harness_answered(request: Request, status: str, *, step: str) -> None:
    """The OCTT's "Central System side" validation: the harness answered ``request`` with
    ``status`` (the answer's status, or its idTagInfo.status). What the harness sends is the
    harness's business: a wrong answer is a :class:`HarnessError` (ERROR), never the device's FAIL."""
    answer = request.answer if isinstance(request.answer, dict) else {}
    given = answer.get("status", (answer.get("idTagInfo") or {}).get("status"))
    if given != status:
        raise HarnessError(f"{step}: the harness answered {request.action}.req ({cite(request)}) "
                           f"with status {given!r}, the case needs {status!r}: a responder of the "
                           "case or the PICS id tags are wrong")


def requests_of(cp: Session, action: str, where: Callable[[dict], bool] | None = None) -> list[Request]:
    """Every ``action`` request the charge point sent during this test case."""
    return [r for r in cp.requests if r.action == action and (where is None or where(r.payload))]


def id_tag_info(pics: Any, id_tag: str, *, parent: Any = DEFAULT) -> dict:
    """The IdTagInfo the harness gives ``id_tag``: the PICS status; ``parent`` None leaves the
    parentIdTag out, a string sets it."""
    from harness.defaults import id_tag_statuses
    info = dict(id_tag_statuses(pics).get(id_tag, {"status": "Invalid"}))
    if parent is None:
        info.pop("parentIdTag", None)
    elif parent is not DEFAULT:
        info["parentIdTag"] = parent
    return info


def answer_id_tags(cp: Session, pics: Any, table: dict[str, dict]) -> None:
    """Answer Authorize / StartTransaction / StopTransaction for the idTags in ``table`` with the
    IdTagInfo given there; other idTags get the default answer. StartTransaction keeps the
    harness's transactionId numbering."""
    defaults = cp.defaults

    def default(action: str, p: dict) -> dict:
        responder = defaults[action]
        if not callable(responder):
            raise HarnessError(f"the harness's default {action} answer is not a function")
        return responder(p)

    def info_for(payload: dict) -> dict | None:
        tag = payload.get("idTag")
        for known, info in table.items():
            if tag is not None and tag.casefold() == known.casefold():
                return dict(info)
        return None

    def authorize(p: dict) -> dict:
        info = info_for(p)
        return {"idTagInfo": info} if info is not None else default("Authorize", p)

    def start(p: dict) -> dict:
        answer = default("StartTransaction", p)
        info = info_for(p)
        if info is not None:
            answer["idTagInfo"] = info
        return answer

    def stop(p: dict) -> dict:
        info = info_for(p)
        return {"idTagInfo": info} if info is not None else default("StopTransaction", p)

    cp.on("Authorize", authorize)
    cp.on("StartTransaction", start)
    cp.on("StopTransaction", stop)


async def _quietly(step: Callable[[], Any], quiet: bool) -> None:
    """Run a clean-up step; after a failure of the case its own errors are dropped."""
    try:
        await step()
    except Exception:
        if not quiet:
            raise


# --- configuration state ----------------------------------------------------------------------

@dataclass
class Configuration:
    """What a configuration preparation did: keys set, keys skipped ("if implemented" keys the
    device does not know), and the values to restore afterwards."""
    applied: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """key -> why it was skipped (the device's answer)."""
    original: dict[str, str] = field(default_factory=dict)
    readonly: dict[str, str] = field(default_factory=dict)
    """Keys the device reports read-only, with their value (not changed)."""
    responses: dict[str, Response] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        return key in self.applied or key in self.readonly

    def value(self, key: str) -> str | None:
        return self.applied.get(key, self.readonly.get(key))


MAX_KEYS = StashKey["int | None"]()
"""The charge point's GetConfigurationMaxKeys, read once per session (None: no limit known), on
:attr:`Session.stash`."""


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    return number if number > 0 else None


async def get_configuration_max_keys(cp: Session, pics: Any) -> int | None:
    """GetConfigurationMaxKeys: how many keys one GetConfiguration.req may name (None: no limit
    known). Read from the charge point itself, once per session: it is a required read-only Core
    key, a request for this one key is within any limit, and the device's own value is what it
    enforces -- the PICS is a claim (the report compares the two), and a PICS that leaves the key
    out or gets it wrong would otherwise make every preparation INCONCLUSIVE. Only when the device
    does not report a usable value does the PICS [configuration] value count."""
    if MAX_KEYS in cp.stash:
        return cp.stash[MAX_KEYS]
    response = await cp.call("GetConfiguration", {"key": ["GetConfigurationMaxKeys"]})
    reported = {kv.get("key"): kv for kv in (response.get("configurationKey") or [])
                if isinstance(kv, dict)} if response.error is None else {}
    limit = _positive_int((reported.get("GetConfigurationMaxKeys") or {}).get("value"))
    if limit is None:
        limit = _positive_int(pics.configuration.get("GetConfigurationMaxKeys"))
    cp.stash[MAX_KEYS] = limit
    return limit


async def read_configuration(cp: Session, keys: list[str], *, max_keys: int | None = None
                             ) -> tuple[dict[str, dict], list[str], Response]:
    """GetConfiguration for ``keys``: (key -> KeyValue, unknown keys, the last response); at most
    ``max_keys`` keys a request (the device's GetConfigurationMaxKeys), so several requests when
    there are more."""
    size = max_keys or len(keys) or 1
    known: dict[str, dict] = {}
    unknown: list[str] = []
    for first in range(0, max(1, len(keys)), size):
        batch = keys[first:first + size]
        response = await cp.call("GetConfiguration", {"key": batch})
        if response.error is not None:
            raise Inconclusive(f"preparation: GetConfiguration {batch} was answered with CALLERROR "
                               f"{response.error.error_code} ({cite(response)}), so the "
                               "configuration could not be read")
        known.update({kv.get("key"): kv for kv in response.get("configurationKey") or []})
        unknown.extend(response.get("unknownKey") or [])
    return known, unknown, response


async def set_configuration(cp: Session, pics: Any, required: dict[str, str] | None = None,
                            if_implemented: dict[str, str] | None = None, *,
                            na_if_missing: tuple[str, ...] = ()) -> Configuration:
    """The OCTT's Configuration State: ChangeConfiguration for every key.

    ``required`` keys must be Accepted (or already hold the value when read-only), otherwise the
    case is INCONCLUSIVE (its precondition was not reached) -- or N/A when the key is listed in
    ``na_if_missing`` (the case cannot run without it). ``if_implemented`` keys the device answers
    NotSupported (or lists as unknown) are skipped."""
    required, if_implemented = dict(required or {}), dict(if_implemented or {})
    config = Configuration()
    keys = [*required, *if_implemented]
    if not keys:
        return config
    limit = await get_configuration_max_keys(cp, pics) if len(keys) > 1 else None
    known, unknown, _ = await read_configuration(cp, keys, max_keys=limit)
    for key in keys:
        if key in known and "value" in known[key]:
            config.original[key] = known[key]["value"]
    try:
        for key, value in [*required.items(), *if_implemented.items()]:
            optional = key in if_implemented
            kv = known.get(key)
            if kv is None and optional:
                config.skipped[key] = "not reported by GetConfiguration"
                continue
            if kv is not None and kv.get("readonly"):
                if str(kv.get("value", "")).strip().lower() == value.strip().lower():
                    config.readonly[key] = kv.get("value", "")
                    continue
                reason = f"{key} is read-only with value {kv.get('value')!r}; the case needs {value!r}"
                if optional and key not in na_if_missing:
                    config.skipped[key] = reason
                    continue
                if key in na_if_missing:
                    raise NotApplicable(reason)
                raise Inconclusive(f"preparation: {reason}")
            response = await cp.call("ChangeConfiguration", {"key": key, "value": value})
            config.responses[key] = response
            status = response.status if response.error is None else f"CALLERROR {response.error.error_code}"
            if status == "Accepted":
                config.applied[key] = value
                continue
            if status in ("NotSupported", "CALLERROR NotSupported", "CALLERROR NotImplemented") and optional \
                    and key not in na_if_missing:
                config.skipped[key] = status
                continue
            if key in na_if_missing and status in ("NotSupported", "Rejected", "CALLERROR NotSupported",
                                                   "CALLERROR NotImplemented"):
                raise NotApplicable(f"the charge point answered {status} to ChangeConfiguration "
                                    f"{key}={value} ({cite(response)}); the case cannot run without it")
            raise Inconclusive(f"preparation: ChangeConfiguration {key}={value!r} was answered {status} "
                               f"({cite(response)}); the configuration state of the case was not reached")
    except BaseException:
        # A later key ends the preparation (N/A, INCONCLUSIVE, the connection lost): the keys
        # already changed go back now -- the case never gets this configuration to restore.
        await _quietly(lambda: restore_configuration(cp, config), True)
        raise
    return config


async def restore_configuration(cp: Session, config: Configuration) -> None:
    """Put back the values the keys had before :func:`set_configuration` changed them."""
    for key in config.applied:
        before = config.original.get(key)
        if before is not None and before != config.applied[key]:
            await cp.call("ChangeConfiguration", {"key": key, "value": before})


@asynccontextmanager
async def configured(cp: Session, pics: Any, required: dict[str, str] | None = None,
                     if_implemented: dict[str, str] | None = None, *,
                     na_if_missing: tuple[str, ...] = ()) -> AsyncIterator[Configuration]:
    """:func:`set_configuration` for the duration of the block, then the old values back."""
    config = Configuration()
    failed = False
    try:
        config = await set_configuration(cp, pics, required, if_implemented,
                                         na_if_missing=na_if_missing)
        yield config
    except BaseException:
        failed = True
        raise
    finally:
        await _quietly(lambda: restore_configuration(cp, config), failed or not cp.connected)


# --- Authorized and Charging ------------------------------------------------------------------

@dataclass
class Tx:
    """A transaction the harness brought about (or watches), and what clean-up has to undo."""
    connector_id: int
    id_tag: str
    start: Request | None = None
    transaction_id: int | None = None
    running: bool = True
    """False once the case saw its StopTransaction."""
    plugged: bool = True
    """False once the cable is out (the case unplugged it)."""
    charging: Request | None = None
    """The StatusNotification Charging."""
    ev_side_unlock: bool | None = None
    """UnlockConnectorOnEVSideDisconnect as the case configured it (None: not configured, the
    PICS value is taken)."""
    ev_disconnected: bool = False
    """The case disconnected the EV side (:func:`disconnect_ev`) while the transaction ran."""
    after_stop: Request | None = None
    """The StatusNotification :func:`stopped` took after the stop (Finishing, or Available when
    nothing was left at the connector)."""

    def nothing_left(self, pics: Any) -> bool:
        """After an EV-side disconnect, whether the PICS hardware model leaves nothing in the
        socket (:meth:`harness.pics.Features.nothing_left_after_unplug`)."""
        if not self.ev_disconnected:
            return False
        unlock = self.ev_side_unlock
        if unlock is None:
            unlock = str(pics.configuration.get("UnlockConnectorOnEVSideDisconnect", "true")
                         ).strip().lower() == "true"
        return pics.features.nothing_left_after_unplug(unlock)


def authorizes_locally(pics: Any) -> bool:
    """The PICS declares the charge point delivered with LocalPreAuthorize=true: it starts for an
    idTag it already holds (authorization cache, local list) "without waiting for or requesting an
    Authorize.conf" (OCPP 1.6 section 9.1.18), so the reusable states Authorized and Charging cannot
    require an Authorize.req from it. (Cases that set LocalPreAuthorize themselves say what they
    expect.)"""
    return str(pics.configuration.get("LocalPreAuthorize", "false")).strip().lower() == "true"


async def take_authorize(cp: Session, id_tag: str) -> None:
    """Where the Authorize.req is optional (the idTag may be known locally) and came, take it from
    the requests no expectation took yet: otherwise a later "no Authorize.req must come" of the
    case would find this one (a LocalPreAuthorize charge point still asks for an idTag it does not
    hold)."""
    def same(p: dict) -> bool:
        return str(p.get("idTag", "")).casefold() == id_tag.casefold()
    if requests_of(cp, "Authorize", same):
        try:
            await cp.expect("Authorize", same, timeout=0)
        except DeviceTimeout:
            pass  # already taken


async def authorized(cp: Session, driver: Any, pics: Any, *, id_tag: str | None = None,
                     connector_id: int | None = None, expect_authorize: bool | None = True,
                     state: str = "Authorized") -> Request | None:
    """Reusable state Authorized: [present the idTag] -> Authorize.req, answered by the harness
    (Accepted for a valid idTag) -> StatusNotification Preparing on the connector.

    ``expect_authorize``: True, the Authorize.req must come -- unless the PICS declares
    LocalPreAuthorize=true (:func:`authorizes_locally`), then as None; False, it is not waited for
    (the case judges its absence); None, either is right (the idTag may be known locally). Returns
    the Authorize request, if one came."""
    id_tag = id_tag or valid_tag(pics)
    connector_id = connector_under_test(pics) if connector_id is None else connector_id
    if expect_authorize and authorizes_locally(pics):
        expect_authorize = None
    await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
    authorize = None
    if expect_authorize is None:
        # Either way is right (the idTag may be known locally): take the Authorize if it came.
        preparing = await next_status(cp, pics, connector_id,
                                      what=f"{state}: StatusNotification Preparing for connector "
                                           f"{connector_id} after the idTag was presented")
        seen = requests_of(cp, "Authorize", lambda p: str(p.get("idTag", "")).casefold()
                           == id_tag.casefold())
        await take_authorize(cp, id_tag)
        assert_status(preparing, "Preparing", step=state,
                      when=f"after the idTag {id_tag} was presented")
        return seen[-1] if seen else None
    if expect_authorize:
        authorize = await cp.expect("Authorize", lambda p: str(p.get("idTag", "")).casefold()
                                    == id_tag.casefold(), timeout=triggered(pics),
                                    what=f"{state}: Authorize.req for idTag {id_tag}")
    preparing = await next_status(cp, pics, connector_id,
                                  what=f"{state}: StatusNotification Preparing for connector "
                                       f"{connector_id} after the idTag was presented")
    assert_status(preparing, "Preparing", step=state,
                  when=f"after the idTag {id_tag} was presented")
    return authorize


async def start_after_plug_in(cp: Session, driver: Any, pics: Any, tx: Tx, *,
                              state: str = "Charging", step: str | None = None) -> Tx:
    """[Plug in] -> StartTransaction.req (the harness answers) and StatusNotification Charging, in
    either order."""
    await driver.plug_in(tx.connector_id, timeout=pics.timing.response_timeout)
    tx.plugged = True
    return await started(cp, pics, tx, state=state, step=step)


async def started(cp: Session, pics: Any, tx: Tx, *, state: str = "Charging",
                  step: str | None = None) -> Tx:
    """StartTransaction.req for the transaction ``tx`` and StatusNotification Charging, in either
    order (the OCTT allows both)."""
    label = step or state
    start = await cp.expect("StartTransaction", lambda p: p.get("connectorId") == tx.connector_id,
                            timeout=triggered(pics),
                            what=f"{label}: StartTransaction.req on connector {tx.connector_id}")
    tx.start = start
    answer = start.answer if isinstance(start.answer, dict) else {}
    tx.transaction_id = answer.get("transactionId")
    tx.running = True
    assert_id_tag(start, "idTag", tx.id_tag, step=label)
    charging = await next_status(cp, pics, tx.connector_id,
                                 what=f"{label}: StatusNotification Charging for connector "
                                      f"{tx.connector_id}")
    tx.charging = charging
    assert_status(charging, "Charging", step=label, when="with the transaction started")
    return tx


LOCAL = ("Local", None)
"""The reasons of a local stop: Local, or omitted (StopTransaction.req "MAY only be omitted when the
Reason is Local")."""


async def stop_request(cp: Session, pics: Any, tx: Tx, *, step: str, after: str,
                       reasons: tuple[str | None, ...] | None = None,
                       id_tag: str | None = None) -> Request:
    """The StopTransaction.req of ``tx``, caused by what the case did (``after`` says it, for the
    message of a timeout): its transactionId, a reason among ``reasons`` (None in it: the reason
    may be omitted) and, if given, the idTag that stopped it."""
    stop = await cp.expect("StopTransaction", timeout=triggered(pics),
                           what=f"{step}: StopTransaction.req {after}")
    tx.running = False
    assert_value(stop, "transactionId", tx.transaction_id, step=step)
    if reasons is not None:
        assert_value(stop, "reason", *reasons, step=step)
    if id_tag is not None:
        assert_id_tag(stop, "idTag", id_tag, step=step, why=", the idTag that stopped the transaction")
    return stop


async def stopped(cp: Session, pics: Any, tx: Tx, *, step: str, after: str,
                  reasons: tuple[str | None, ...] | None = None,
                  id_tag: str | None = None) -> Request:
    """The counterpart of :func:`started`: :func:`stop_request` and StatusNotification Finishing,
    in either order (the OCTT allows both). Returns the StopTransaction.req; the status is
    ``tx.after_stop``.

    After an EV-side disconnect that leaves nothing at the connector (the PICS hardware model:
    a fixed cable, a cable that left with the EV, :meth:`Tx.nothing_left`), Available is as right
    as Finishing: OCPP 1.6 section 4.9 has Charging -> Available (C1) and SuspendedEV -> Available
    (D1) for "the EV is unplugged and nothing more is needed", and Finishing is for "the cable has
    not been removed". With the cable still in (or held by the lock) only Finishing is right."""
    stop = await stop_request(cp, pics, tx, step=step, after=after, reasons=reasons, id_tag=id_tag)
    wanted = ("Finishing", "Available") if tx.nothing_left(pics) else ("Finishing",)
    status = await next_status(cp, pics, tx.connector_id,
                               what=f"{step}: StatusNotification {' or '.join(wanted)} for "
                                    f"connector {tx.connector_id} after the stop")
    tx.after_stop = status
    why = "" if len(wanted) > 1 else (
        " (the cable is still at the connector)" if tx.ev_disconnected else "")
    assert_status(status, *wanted, step=step, when="after the stop", why=why)
    if status["status"] == "Available":
        tx.plugged = False
    return stop


async def finish(cp: Session, driver: Any, pics: Any, tx: Tx, *, quiet: bool = False) -> None:
    """Clean-up of a transaction: stop it if it still runs (RemoteStopTransaction), unplug, and
    wait for the connector to be Available again."""
    if not cp.connected:
        await cp.wait_connected(pics.timing.boot_timeout)
    if tx.running and tx.transaction_id is not None:
        response = await cp.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        if response.status == "Accepted":
            await cp.expect("StopTransaction", lambda p: p.get("transactionId") == tx.transaction_id,
                            timeout=triggered(pics),
                            what=f"clean-up: StopTransaction for transaction {tx.transaction_id}")
        tx.running = False
    if tx.plugged:
        await unplug_cable(driver, pics, tx)
        await status_until(cp, pics, tx.connector_id, "Available")
    elif quiet and _last_status(cp, tx.connector_id) != "Available":
        # The case failed half-way: let the connector settle now, so that its last statuses do
        # not arrive during the next case and fail it too. Authorized and waiting for a cable
        # (Preparing without one) ends when the idTag is presented again, not before
        # ConnectionTimeOut otherwise.
        if _last_status(cp, tx.connector_id) == "Preparing" and pics.features.rfid_readers:
            await driver.present_id_tag(tx.id_tag, tx.connector_id,
                                        timeout=pics.timing.response_timeout)
        await available_again(cp, pics, tx.connector_id)


def _last_status(cp: Session, connector_id: int) -> str | None:
    seen = requests_of(cp, "StatusNotification", lambda p: p.get("connectorId") == connector_id)
    return seen[-1]["status"] if seen else None


async def available_again(cp: Session, pics: Any, connector_id: int) -> Request:
    """Clean-up once the EV is gone: StatusNotification Available for ``connector_id``; a cable the
    charge point still holds locked (UnlockConnectorOnEVSideDisconnect=false) is released with
    UnlockConnector first."""
    try:
        return await status_until(cp, pics, connector_id, "Available")
    except DeviceTimeout:
        await cp.call("UnlockConnector", {"connectorId": connector_id})
        return await status_until(cp, pics, connector_id, "Available")


@asynccontextmanager
async def charging(cp: Session, driver: Any, pics: Any, *, id_tag: str | None = None,
                   connector_id: int | None = None, expect_authorize: bool | None = True,
                   plug_first: bool = False) -> AsyncIterator[Tx]:
    """Reusable state Charging: Authorized, then [plug in] -> StartTransaction.req (Accepted by
    the harness, which assigns the transactionId) and StatusNotification Charging.

    ``plug_first``: plug in before presenting the idTag (the order of TC_003); the connector then
    reports Preparing at the plug-in. ``expect_authorize`` as for :func:`authorized`. On leaving
    the block the transaction is stopped if it still runs, the cable unplugged and the connector
    Available again."""
    if expect_authorize and authorizes_locally(pics):
        expect_authorize = None
    async with transaction(cp, driver, pics, id_tag=id_tag, connector_id=connector_id) as tx:
        id_tag, connector_id = tx.id_tag, tx.connector_id
        if plug_first:
            await driver.plug_in(connector_id, timeout=pics.timing.response_timeout)
            tx.plugged = True
            preparing = await next_status(cp, pics, connector_id,
                                          what="Charging: StatusNotification Preparing after the "
                                               "plug-in")
            assert_status(preparing, "Preparing", step="Charging", when="after the plug-in")
            await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
            if expect_authorize:
                await cp.expect("Authorize", lambda p: str(p.get("idTag", "")).casefold()
                                == id_tag.casefold(), timeout=triggered(pics),
                                what=f"Charging: Authorize.req for idTag {id_tag}")
            await started(cp, pics, tx)
            await take_authorize(cp, id_tag)
        else:
            await authorized(cp, driver, pics, id_tag=id_tag, connector_id=connector_id,
                             expect_authorize=expect_authorize, state="Charging")
            await start_after_plug_in(cp, driver, pics, tx)
        yield tx


@asynccontextmanager
async def transaction(cp: Session, driver: Any, pics: Any, *, id_tag: str | None = None,
                      connector_id: int | None = None) -> AsyncIterator[Tx]:
    """A :class:`Tx` the case fills in as it goes (``plugged``, ``running`` via :func:`started`);
    on leaving the block :func:`finish` undoes what is left: stop, unplug, Available."""
    tx = Tx(connector_under_test(pics) if connector_id is None else connector_id,
            id_tag or valid_tag(pics), running=False, plugged=False)
    failed = False
    try:
        yield tx
    except BaseException:
        failed = True
        raise
    finally:
        await _quietly(lambda: finish(cp, driver, pics, tx, quiet=failed), failed)


@asynccontextmanager
async def charging_with_ev_side_rules(cp: Session, driver: Any, pics: Any, *, stop: bool,
                                      unlock: bool) -> AsyncIterator[Tx]:
    """The preparation of TC_005_1/2/3: configuration StopTransactionOnEVSideDisconnect=``stop``,
    UnlockConnectorOnEVSideDisconnect=``unlock`` and MinimumStatusDuration=0 (if implemented) --
    N/A when the charge point cannot take the StopTransactionOnEVSideDisconnect value --, then
    reusable state Charging. Restores all of it on leaving, like :func:`configured` and
    :func:`charging`."""
    async with configured(cp, pics, {"StopTransactionOnEVSideDisconnect": str(stop).lower(),
                                     "UnlockConnectorOnEVSideDisconnect": str(unlock).lower()},
                          {"MinimumStatusDuration": "0"},
                          na_if_missing=("StopTransactionOnEVSideDisconnect",)), \
            charging(cp, driver, pics) as tx:
        tx.ev_side_unlock = unlock
        yield tx


async def disconnect_ev(driver: Any, pics: Any, tx: Tx) -> None:
    """[Disconnect the cable at the EV side]: the driver's unplug. What it does to the cable is the
    PICS hardware model's (features.cable, unplug_at_ev): it leaves with the EV unless the charge
    point holds it locked, or it stays in the socket (cable_stays)."""
    await driver.unplug(tx.connector_id, timeout=pics.timing.response_timeout)
    tx.plugged = False
    tx.ev_disconnected = tx.running


async def unplug_cable(driver: Any, pics: Any, tx: Tx) -> None:
    """[Unplug the cable] at the end of a session, the cable taken out (:func:`take_cable_out`).
    Not for TC_005's EV-side disconnect (:func:`disconnect_ev`), which judges the states between
    the two."""
    tx.plugged = False
    await take_cable_out(driver, pics, tx.connector_id)


def cable_stays(pics: Any) -> bool:
    """The PICS says the rig's unplug leaves a socket's cable in (features.unplug_at_ev)."""
    return pics.features.unplug_at_ev == "cable_stays" and not pics.features.fixed_cable


async def take_cable_out(driver: Any, pics: Any, connector_id: int) -> None:
    """The driver's unplug, then its remove_cable where the rig's unplug leaves the cable in the
    socket (:func:`cable_stays`) -- also when the unplug found no EV (the cable may still be in)."""
    try:
        await driver.unplug(connector_id, timeout=pics.timing.response_timeout)
    finally:
        if cable_stays(pics):
            await driver.remove_cable(connector_id, timeout=pics.timing.response_timeout)


async def id_tag_cached(cp: Session, driver: Any, pics: Any, id_tag: str | None = None) -> None:
    """Memory state IdTagCached: the idTag is put in the authorization cache by one successful
    online authorization (present it, Authorize.conf Accepted, Preparing), then de-authorized by
    presenting it again (or by ConnectionTimeOut), back to Available. A charge point that
    authorizes it locally without an Authorize.req already holds it."""
    id_tag = id_tag or valid_tag(pics)
    connector_id = connector_under_test(pics)
    await authorized(cp, driver, pics, id_tag=id_tag, connector_id=connector_id,
                     expect_authorize=None, state="IdTagCached")
    await driver.present_id_tag(id_tag, connector_id, timeout=pics.timing.response_timeout)
    await status_until(cp, pics, connector_id, "Available",
                       timeout=triggered(pics) + connection_timeout_bound(pics))


def connection_timeout_bound(pics: Any) -> float:
    """The device's declared ConnectionTimeOut (seconds), or the short test value."""
    try:
        return float(pics.configuration.get("ConnectionTimeOut", connection_timeout(pics)))
    except ValueError:
        return float(connection_timeout(pics))


# --- availability -----------------------------------------------------------------------------

async def change_availability(cp: Session, pics: Any, connector_id: int, kind: str, *,
                              step: str) -> Response:
    response = await cp.call("ChangeAvailability", {"connectorId": connector_id, "type": kind})
    assert response.error is None, (
        f"{step}: ChangeAvailability {kind} for connector {connector_id} was answered with CALLERROR "
        f"{response.error.error_code if response.error else ''}, expected Accepted ({cite(response)})")
    return response


@asynccontextmanager
async def operative_at_end(cp: Session, pics: Any, connector_id: int) -> AsyncIterator[list[bool]]:
    """Makes ``connector_id`` (0: the whole charge point) Operative again at the end if the case
    left it Inoperative. The case sets ``flag[0] = False`` once it restored it itself."""
    flag = [True]
    failed = False
    try:
        yield flag
    except BaseException:
        failed = True
        raise
    finally:
        async def undo() -> None:
            if flag[0]:
                if not cp.connected:
                    await cp.wait_connected(pics.timing.boot_timeout)
                await cp.call("ChangeAvailability", {"connectorId": connector_id,
                                                     "type": "Operative"})
                targets = connector_ids(pics, with_zero=False) if connector_id == 0 else [connector_id]
                for c in targets:
                    await status_until(cp, pics, c, "Available")
        await _quietly(undo, failed)


async def booted_statuses(cp: Session, pics: Any, *, step: str) -> dict[int, Request]:
    """After a BootNotification: one StatusNotification per connector and for connector 0."""
    seen: dict[int, Request] = {}
    for connector_id in connector_ids(pics):
        seen[connector_id] = await next_status(
            cp, pics, connector_id,
            what=f"{step}: StatusNotification for connector {connector_id} after the boot")
    return seen



# --- remote start -----------------------------------------------------------------------------

async def authorize_remote_tx_requests(cp: Session, pics: Any, *, step: str) -> tuple[bool, Response]:
    """GetConfiguration AuthorizeRemoteTxRequests (a required Core key): its value, and the
    response."""
    response = await cp.call("GetConfiguration", {"key": ["AuthorizeRemoteTxRequests"]})
    assert response.error is None, (
        f"{step}: GetConfiguration AuthorizeRemoteTxRequests was answered with CALLERROR "
        f"{response.error.error_code if response.error else ''} ({cite(response)})")
    keys = {kv.get("key"): kv for kv in response.get("configurationKey") or []}
    assert "AuthorizeRemoteTxRequests" in keys, (
        f"{step}: GetConfiguration.conf does not report AuthorizeRemoteTxRequests, a required Core "
        f"key (unknownKey {response.get('unknownKey')}) ({cite(response)})")
    value = str(keys["AuthorizeRemoteTxRequests"].get("value", "")).strip().lower()
    assert value in ("true", "false"), (
        f"{step}: AuthorizeRemoteTxRequests has value {value!r}, expected true or false "
        f"({cite(response)})")
    return value == "true", response


async def remote_start(cp: Session, pics: Any, tx: Tx, *, step: str,
                       payload: dict | None = None) -> Response:
    """RemoteStartTransaction.req for ``tx`` (connectorId and idTag), bounded by the PICS
    remote_start_response; asserts Accepted."""
    body = payload or {"connectorId": tx.connector_id, "idTag": tx.id_tag}
    response = await cp.call("RemoteStartTransaction", body,
                             timeout=pics.timing.remote_start_response or pics.timing.response_timeout)
    conf_status(response, "Accepted", step=step)
    return response


def _same_tag(id_tag: str) -> Callable[[dict], bool]:
    return lambda p: str(p.get("idTag", "")).casefold() == id_tag.casefold()


async def remote_started(cp: Session, pics: Any, tx: Tx, *, authorize: bool | None,
                         step: str) -> tuple[Response, Request | None]:
    """The remote counterpart of Authorized: RemoteStartTransaction.req for ``tx`` answered Accepted,
    then the Authorize.req for its idTag -- ``authorize`` True: required; False: forbidden (the
    idTag is known locally and may not be asked for); None: either is right -- and
    StatusNotification Preparing. Returns the RemoteStartTransaction.conf and the Authorize, if one
    came."""
    response = await remote_start(cp, pics, tx, step=step)
    request = None
    if authorize:
        request = await cp.expect("Authorize", _same_tag(tx.id_tag), timeout=triggered(pics),
                                  what=f"{step}: Authorize.req for idTag {tx.id_tag} after the "
                                       "RemoteStartTransaction.req")
    preparing = await next_status(cp, pics, tx.connector_id,
                                  what=f"{step}: StatusNotification Preparing for connector "
                                       f"{tx.connector_id} after the remote start")
    assert_status(preparing, "Preparing", step=step, when="after the remote start")
    if authorize is not True:
        # Since the request left: a charge point may authorize before it answers.
        asked = [r for r in requests_of(cp, "Authorize", _same_tag(tx.id_tag))
                 if r.frame.mono_ns >= response.request.mono_ns]
        assert authorize is None or not asked, (
            f"{step}: the idTag {tx.id_tag} is known locally (LocalPreAuthorize), yet the charge "
            f"point sent Authorize.req for the remote start ({cite(asked[0] if asked else None)})")
        request = asked[-1] if asked else None
        await take_authorize(cp, tx.id_tag)
    return response, request


@asynccontextmanager
async def cached_for_remote_start(cp: Session, pics: Any) -> AsyncIterator[float]:
    """Preparation of the remote-start cache cases (TC_007_2, TC_061_2): configuration
    LocalPreAuthorize=true, AuthorizeRemoteTxRequests=true (N/A when the charge point cannot take
    it), ConnectionTimeOut=<Configured connectionTimeout>, AuthorizationCacheEnabled=true (if
    implemented); then memory state IdTagCached by a remote start (:func:`id_tag_cached_remotely`).
    Yields the ConnectionTimeOut set, in seconds."""
    lapse = connection_timeout(pics)
    async with configured(cp, pics, {"LocalPreAuthorize": "true", "AuthorizeRemoteTxRequests": "true",
                                     "ConnectionTimeOut": str(lapse)},
                          {"AuthorizationCacheEnabled": "true"},
                          na_if_missing=("AuthorizeRemoteTxRequests",)):
        await id_tag_cached_remotely(cp, pics, lapse=lapse)
        yield lapse


async def id_tag_cached_remotely(cp: Session, pics: Any, *, lapse: float,
                                 id_tag: str | None = None) -> None:
    """Memory state IdTagCached for a charge point driven remotely (no card needed): with
    AuthorizeRemoteTxRequests=true a RemoteStartTransaction.req is authorized like a card (OCPP 1.6
    section 5.11), so its Authorize.conf Accepted puts the idTag in the cache (if it is not there
    already: then no Authorize.req comes); nobody plugs in, and the authorization lapses after
    ConnectionTimeOut, ``lapse`` seconds (the case configures it short): Available again."""
    tx = Tx(connector_under_test(pics), id_tag or valid_tag(pics), running=False, plugged=False)
    await remote_started(cp, pics, tx, authorize=None, step="memory state IdTagCached")
    await status_until(cp, pics, tx.connector_id, "Available", timeout=lapse + triggered(pics))


# --- meter values -----------------------------------------------------------------------------

DEFAULT_MEASURAND = "Energy.Active.Import.Register"


async def configured_list(cp: Session, key: str, *, step: str) -> list[str]:
    """Reusable state "GetConfiguration for key K": the comma separated list K holds (the
    measurands the charge point was told to report)."""
    known, unknown, response = await read_configuration(cp, [key])
    assert key in known, (
        f"{step}: GetConfiguration.conf does not report {key}, a required Core key "
        f"(unknownKey {unknown}) ({cite(response)})")
    return [m.strip() for m in str(known[key].get("value", "")).split(",") if m.strip()]


def meter_value_problems(request: Request, tx: Tx, measurands: list[str],
                         contexts: tuple[str | None, ...]) -> list[str]:
    """What is wrong with a MeterValues.req of the transaction ``tx``: connector and transactionId,
    context (omitted counts as Sample.Periodic, its default), format Raw or omitted, location EV
    only for SoC, and exactly the configured measurands (an empty list means
    Energy.Active.Import.Register)."""
    problems = []
    if request.get("connectorId") != tx.connector_id:
        problems.append(f"connectorId {request.get('connectorId')}, expected {tx.connector_id}")
    if request.get("transactionId") != tx.transaction_id:
        problems.append(f"transactionId {request.get('transactionId')}, expected "
                        f"{tx.transaction_id}")
    wanted = set(measurands or [DEFAULT_MEASURAND])
    for meter_value in request.get("meterValue") or []:
        seen = set()
        for value in meter_value.get("sampledValue") or []:
            measurand = value.get("measurand", DEFAULT_MEASURAND)
            seen.add(measurand)
            context = value.get("context")
            if context not in contexts:
                problems.append(f"{measurand}: context {context!r}, expected "
                                f"{' or '.join(repr(c) for c in contexts if c)}")
            if value.get("format", "Raw") != "Raw":
                problems.append(f"{measurand}: format {value.get('format')!r}, expected 'Raw' or "
                                "omitted")
            if value.get("location") == "EV" and measurand != "SoC":
                problems.append(f"{measurand}: location 'EV', only SoC is measured in the EV")
        if seen != wanted:
            problems.append(f"measurands {sorted(seen)}, expected the configured {sorted(wanted)}")
    return problems


def sample_times(request: Request) -> list:
    return [parse_time(mv.get("timestamp")) for mv in request.get("meterValue") or []]


# --- offline ----------------------------------------------------------------------------------

@dataclass
class Offline:
    """What :func:`offline` saw: when the charge point was told to go online again (harness wall
    clock, seconds since the epoch)."""
    online_wall: float | None = None


@asynccontextmanager
async def offline(cp: Session, driver: Any, pics: Any) -> AsyncIterator[Offline]:
    """[Cut the network] for the block, then [restore it] and wait for the charge point to
    reconnect (a reconnection, not a reboot: no BootNotification is needed)."""
    import time
    state = Offline()
    failed = False
    await driver.go_offline(timeout=pics.timing.response_timeout)
    if cp.connected:
        await cp.wait_disconnected(pics.timing.response_timeout)
    try:
        yield state
    except BaseException:
        failed = True
        raise
    finally:
        async def back() -> None:
            state.online_wall = time.time()
            await driver.go_online(timeout=pics.timing.response_timeout)
            await cp.wait_connected(pics.timing.boot_timeout)
            settled(cp)
        await _quietly(back, failed)


async def status_after_reconnect(cp: Session, pics: Any, connector_id: int, wanted: tuple[str, ...],
                                 online_wall: float, *, step: str,
                                 timeout: float | None = None,
                                 passing: tuple[str, ...] = ()) -> Request:
    """The first StatusNotification for ``connector_id`` with a status in ``wanted`` after a
    reconnection. Statuses the charge point kept from its offline time (timestamp before the cut
    ended) are history and skipped, and so are the ``passing`` ones (states the offline session
    really went through, reported as the connection came back); any other fails."""
    while True:
        status = await next_status(cp, pics, connector_id, timeout=timeout,
                                   what=f"{step}: StatusNotification {' or '.join(wanted)} for "
                                        f"connector {connector_id}")
        if status["status"] in wanted:
            return status
        moment = parse_time(status.get("timestamp", ""))
        queued = moment is not None and moment.timestamp() <= online_wall
        if not queued and status["status"] not in passing:
            assert_status(status, *wanted, step=step)


@asynccontextmanager
async def offline_authorization(cp: Session, driver: Any, pics: Any, config: Configuration,
                                id_tag: str | None = None) -> AsyncIterator[str]:
    """Memory state for starting offline with a valid idTag (TC_037_1, TC_039): IdTagCached when the
    charge point has an authorization cache, else IdTagLocalAuthList (the idTag added with a
    Differential SendLocalList, removed again at the end), else the case relies on
    AllowOfflineTxForUnknownId=true -- and is N/A without any of the three. Yields how."""
    id_tag = id_tag or valid_tag(pics)
    if pics.features.authorization_cache and "AuthorizationCacheEnabled" not in config.skipped:
        await id_tag_cached(cp, driver, pics, id_tag)
        yield "IdTagCached"
        return
    if pics.features.local_auth_list and "LocalAuthListEnabled" not in config.skipped:
        version = await cp.call("GetLocalListVersion", {})
        current = max(0, int(version.get("listVersion", 0) or 0))
        # An empty list reports version 0 (section 5.10) whatever version the charge point keeps
        # for it, so a Differential update numbered 1 may be a VersionMismatch: into an empty list
        # the idTag goes with a Full update (no version check, the same list).
        kind = "Full" if current == 0 else "Differential"
        send = await cp.call("SendLocalList", {
            "listVersion": current + 1, "updateType": kind,
            "localAuthorizationList": [{"idTag": id_tag, "idTagInfo": id_tag_info(pics, id_tag)}]})
        if send.status != "Accepted":
            raise Inconclusive(f"memory state IdTagLocalAuthList: SendLocalList was answered "
                               f"{send.status!r} ({cite(send)})")
        failed = False
        try:
            yield "IdTagLocalAuthList"
        except BaseException:
            failed = True
            raise
        finally:
            await _quietly(lambda: cp.call("SendLocalList", {
                "listVersion": current + 2, "updateType": kind,
                **({"localAuthorizationList": [{"idTag": id_tag}]} if kind == "Differential"
                   else {})}), failed)
        return
    if config.has("AllowOfflineTxForUnknownId"):
        yield "AllowOfflineTxForUnknownId"
        return
    raise NotApplicable("the charge point has no authorization cache, no local authorization list "
                        "and no AllowOfflineTxForUnknownId: it cannot authorize offline")
