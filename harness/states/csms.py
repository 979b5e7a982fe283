"""Reusable states of the OCTT for a central system under test; the harness plays the charge point.

    await booted(csms, pics)                  # Booted: boot Accepted, connectors reported
    await authorized(csms, pics)              # Authorized: Authorize of the valid idTag Accepted
    tx = await charging(csms, pics)           # Charging: Preparing, StartTransaction, Charging
    ...
    await end_charging(csms, tx)              # clean-up: Local stop, Finishing, Available

The checks the OCTT makes inside a reusable state (BootNotification Accepted, Authorize Accepted,
StartTransaction Accepted) are the central system's obligations, so a wrong answer there is a FAIL
of the case that needed the state, with a message naming the state. A central system that does not
accept the harness's charge point at all (boot Pending or Rejected) leaves the case INCONCLUSIVE, as
:func:`harness.states.csms_booted` decides: the charge point is not registered, a set-up matter.

The module keeps, per session, what the central system has been told: the connection its boot was
accepted on, the transactions still open and each connector's last reported status. A case that
fails half-way leaves a transaction open; the next case's :func:`booted` stops it first (reason
``Other``) and reports the connector Available again, so that one failure does not cascade (a
central system refuses a second transaction for the same idTag with ConcurrentTx).

:func:`operator_sends` is the OCTT's ``[OPERATOR: ...]`` step: the driver makes the central system
send an operation while the harness waits for it on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.clock import now_iso
from harness.session import Request, Responder, Response, Session, StashKey
from harness.states import connector_ids, status_notification
from harness.states.assertions import assert_value
from harness.states.registration import Registration, answered, register
from harness.verdicts import Inconclusive

__all__ = [
    "Transaction", "configured_connector", "booted", "record_boot", "authorized", "charging",
    "answered", "call", "notify_status", "authorize", "start_transaction", "stop_transaction",
    "end_charging", "go_offline", "back_online", "operator_sends", "operator_timeout",
    "get_configuration_answer", "same_id_tag", "READ_ONLY_KEYS", "RemoteStart", "remote_started",
    "transaction_started", "register", "Registration",
]

ENERGY_PER_SESSION_WH = 1500
"""What the harness's EV draws in one session: meterStop = meterStart + this."""


@dataclass
class Transaction:
    """A transaction the harness's charge point started, with the id the central system gave."""
    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    start: Response
    """The StartTransaction.conf."""

    @property
    def id_tag_status(self) -> Any:
        return (self.start.get("idTagInfo") or {}).get("status")


@dataclass
class _Ledger:
    link: Any = None
    """The connection on which the central system accepted the harness's BootNotification."""
    open: dict[int, Transaction] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    meter_wh: int = 10_000
    given_ids: dict[int, Response] = field(default_factory=dict)
    """Every transactionId the central system gave in this run, with the .conf that gave it."""


LEDGER = StashKey[_Ledger]()
"""What the harness's charge point knows of its conversation with the central system, on
:attr:`Session.stash`."""


def _ledger(csms: Session) -> _Ledger:
    ledger = csms.stash.get(LEDGER)
    if ledger is None:
        ledger = csms.stash[LEDGER] = _Ledger()
    return ledger


def configured_connector(pics: Any) -> int:
    """The OCTT's <Configured ConnectorId>: the first connector of the harness's charge point."""
    return 1


def same_id_tag(a: Any, b: Any) -> bool:
    """idTags are compared case-insensitively (IdToken is a CiString20)."""
    return isinstance(a, str) and isinstance(b, str) and a.casefold() == b.casefold()


# --- single messages, remembered in the ledger -------------------------------------------------

async def call(csms: Session, action: str, payload: dict, *, step: int | str | None = None,
               timeout: float | None = None) -> Response:
    """Harness: ``action``.req; the central system must answer with a CALLRESULT."""
    return answered(await csms.call(action, payload, timeout=timeout), step)


async def notify_status(csms: Session, connector_id: int, status: str,
                        error_code: str = "NoError", *, step: int | str | None = None) -> Response:
    """Harness: StatusNotification.req; central system: StatusNotification.conf."""
    response = await call(csms, "StatusNotification",
                          status_notification(connector_id, status, error_code), step=step)
    _ledger(csms).statuses[connector_id] = status
    return response


async def authorize(csms: Session, pics: Any, id_tag: str, *,
                    step: int | str | None = None) -> Response:
    """Harness: Authorize.req; the answer is due within the PICS authorize_response."""
    return await call(csms, "Authorize", {"idTag": id_tag}, step=step,
                      timeout=pics.timing.authorize_response)


async def start_transaction(csms: Session, connector_id: int, id_tag: str, *,
                            timestamp: str | None = None,
                            step: int | str | None = None) -> Transaction:
    """Harness: StartTransaction.req; the transaction is remembered as open (until stopped) when the
    central system gave a transactionId. The case judges the answer."""
    ledger = _ledger(csms)
    meter_start = ledger.meter_wh
    ledger.meter_wh += ENERGY_PER_SESSION_WH  # the next session starts where this one will end
    response = await call(csms, "StartTransaction", {
        "connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
        "timestamp": timestamp or now_iso()}, step=step)
    transaction_id = response.get("transactionId")
    tx = Transaction(transaction_id, connector_id, id_tag, meter_start, response)
    if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
        earlier = ledger.given_ids.get(transaction_id)
        ledger.given_ids.setdefault(transaction_id, response)
        # Open before it is judged: a case that fails on it still has it stopped by the next
        # Booted (else the central system refuses the next start with ConcurrentTx).
        ledger.open[transaction_id] = tx
        if earlier is not None and (response.get("idTagInfo") or {}).get("status") == "Accepted":
            # OCPP 1.6 6.46: the transactionId is "the unique transaction id" the central system
            # generated; a second transaction under the same id mixes up two sessions' energy.
            raise AssertionError(
                f"step {step}: StartTransaction.conf (wire log line {response.line}) gives "
                f"transactionId {transaction_id} again: the central system already gave it to an "
                f"earlier transaction of this run (its StartTransaction.conf: {earlier.line} of "
                "that case's wire log); every transaction needs its own id")
    return tx


async def stop_transaction(csms: Session, tx: Transaction, reason: str, *,
                           id_tag: str | None = None, timestamp: str | None = None,
                           step: int | str | None = None) -> Response:
    """Harness: StopTransaction.req for ``tx`` with ``reason`` (and the idTag that stopped it, if
    one did)."""
    payload: dict[str, Any] = {"transactionId": tx.transaction_id,
                               "meterStop": tx.meter_start + ENERGY_PER_SESSION_WH,
                               "timestamp": timestamp or now_iso(), "reason": reason}
    if id_tag is not None:
        payload["idTag"] = id_tag
    _ledger(csms).open.pop(tx.transaction_id, None)  # stopped on the charge point, answered or not
    return await call(csms, "StopTransaction", payload, step=step)


# --- reusable states ---------------------------------------------------------------------------

async def booted(csms: Session, pics: Any) -> None:
    """Reusable state Booted: the harness's charge point is connected, the central system accepted
    its BootNotification on this connection, every connector (and 0) was reported Available, and no
    transaction of an earlier case is left open."""
    ledger = _ledger(csms)
    if not csms.connected:
        await csms.reconnect()
    if ledger.link is not csms.link:
        registration = await register(csms, pics, step="reusable state Booted")
        if registration.status != "Accepted":
            raise Inconclusive(
                f"reusable state Booted: the central system answered BootNotification with "
                f"{registration.status!r} (wire log line {registration.line})"
                f"{registration.after_pending}, so the harness's charge point "
                f"{pics.dut.charge_point_id} is not accepted; is it registered in the central "
                "system?")
        record_boot(csms, registration.boot)
        ledger.statuses.clear()
    # Left over by an earlier case that ended half-way: stopped, so that this case starts clean.
    for tx in list(ledger.open.values()):
        await stop_transaction(csms, tx, "Other",
                               step="reusable state Booted (clean-up of an earlier case)")
    for connector_id in connector_ids(pics):
        if ledger.statuses.get(connector_id) != "Available":
            await notify_status(csms, connector_id, "Available", step="reusable state Booted")


def record_boot(csms: Session, boot: Response) -> None:
    """Remember that the central system accepted the harness's boot on the current connection (for
    a case that boots itself, e.g. after a Reset)."""
    if boot.status == "Accepted":
        _ledger(csms).link = csms.link


def _tag(pics: Any, id_tag: str) -> str:
    """How a message names ``id_tag``: "the valid idTag 'X'" for the PICS valid one."""
    return ("the valid idTag" if same_id_tag(id_tag, pics.id_tags.valid) else "the idTag") + \
        f" {id_tag!r}"


def _steps(step: int | None, state: str) -> tuple[str, str]:
    """Labels of a request/answer pair: ("3-4", "step 4") from step 3, or the state's name."""
    if step is None:
        return state, state
    return f"{step}-{step + 1}", f"step {step + 1}"


async def authorized(csms: Session, pics: Any, id_tag: str | None = None, *,
                     step: int | None = None) -> Response:
    """Reusable state Authorized: Authorize.req of the idTag (the valid one by default), answered
    Accepted. ``step``: the case's number of the Authorize.req (its answer is ``step + 1``);
    without it the messages name the reusable state."""
    id_tag = id_tag or pics.id_tags.valid
    pair, answer = _steps(step, "reusable state Authorized")
    response = await authorize(csms, pics, id_tag, step=pair)
    assert_value(response, "idTagInfo.status", "Accepted", step=answer,
                 when=f"for {_tag(pics, id_tag)}")
    return response


async def transaction_started(csms: Session, pics: Any, connector_id: int, id_tag: str, *,
                              step: int | None = None, timestamp: str | None = None) -> Transaction:
    """StartTransaction.req (stamped ``timestamp``, now by default), answered Accepted with a
    transactionId (steps ``step`` and ``step + 1``), then StatusNotification Charging (``step + 2``,
    ``step + 3``); without ``step`` the messages name the reusable state Charging."""
    pair, answer = _steps(step, "reusable state Charging")
    tx = await start_transaction(csms, connector_id, id_tag, timestamp=timestamp, step=pair)
    assert_value(tx.start, "idTagInfo.status", "Accepted", step=answer,
                 when=f"for {_tag(pics, id_tag)}")
    await notify_status(csms, connector_id, "Charging",
                        step=pair if step is None else f"{step + 2}-{step + 3}")
    return tx


async def charging(csms: Session, pics: Any, *, id_tag: str | None = None,
                   connector_id: int | None = None) -> Transaction:
    """Reusable state Charging (runs Authorized first): StatusNotification Preparing,
    StartTransaction Accepted with a transactionId, StatusNotification Charging."""
    id_tag = id_tag or pics.id_tags.valid
    connector_id = configured_connector(pics) if connector_id is None else connector_id
    await authorized(csms, pics, id_tag)
    await notify_status(csms, connector_id, "Preparing", step="reusable state Charging")
    return await transaction_started(csms, pics, connector_id, id_tag)


async def end_charging(csms: Session, tx: Transaction, *, reason: str = "Local") -> Response:
    """Clean-up after a case that left ``tx`` running (not a step of the OCTT): the driver stops
    locally with the same card, the charge point reports Finishing, then the cable is removed."""
    stopped = await stop_transaction(csms, tx, reason, step="clean-up",
                                     id_tag=tx.id_tag if reason == "Local" else None)
    await notify_status(csms, tx.connector_id, "Finishing", step="clean-up")
    await notify_status(csms, tx.connector_id, "Available", step="clean-up")
    return stopped


# --- connection loss ---------------------------------------------------------------------------

async def go_offline(csms: Session) -> None:
    """The harness's charge point loses its connection (it stays powered: no reboot follows)."""
    await csms.close(1001, "charge point goes offline")


async def back_online(csms: Session) -> None:
    """The connection is back. Not a reboot: no BootNotification (OCPP 1.6 4.2), and the central
    system's acceptance of the earlier boot still holds."""
    ledger = _ledger(csms)
    was_accepted = ledger.link is not None
    await csms.reconnect()
    if was_accepted:
        ledger.link = csms.link


# --- operator actions on the central system ----------------------------------------------------

def operator_timeout(pics: Any) -> float:
    """How long the driver may take to make the central system send an operation: the triggered
    function time plus the response timeout, since a driver may wait for the charge point's answer
    before it replies (docs/driver-protocol.md)."""
    return pics.timing.triggered_function_timeout + pics.timing.response_timeout


async def operator_sends(csms: Session, driver: Any, pics: Any, action: str, payload: dict, *,
                         answer: Responder, step: int | str) -> Request:
    """The OCTT's ``[OPERATOR: ...]`` step: the driver makes the central system send ``action``
    (the operator is asked for ``payload``), the harness's charge point answers ``answer`` and the
    request as it came on the wire is returned for the case to judge.

    The request must arrive while the driver works, or within the PICS triggered_function_timeout
    after the driver said it was done: otherwise the central system did not send what it was told
    to (FAIL). A driver that could not do the action makes the case INCONCLUSIVE.

    An ``action`` request that came before the driver was asked is not the operator's: a central
    system may send GetConfiguration, ChangeConfiguration or TriggerMessage of its own right after
    a boot (legal, and the boot may be this case's), so those are dropped, not judged.
    """
    csms.on(action, answer)  # in force even if the request arrives before the expectation below
    csms.forget(action)
    trigger = pics.timing.triggered_function_timeout
    bound = operator_timeout(pics)
    if hasattr(driver, "action_timeout"):
        bound = driver.action_timeout(bound)  # a person at the prompt: the operator's time
    what = f"{action}.req from the central system (step {step})"
    expecting = asyncio.ensure_future(csms.expect(action, timeout=bound + trigger, what=what))
    sent = asyncio.ensure_future(
        driver.csms_send(action, pics.dut.charge_point_id, payload, timeout=bound))
    try:
        await asyncio.wait({expecting, sent}, return_when=asyncio.FIRST_COMPLETED)
        if not expecting.done():
            sent.result()  # the driver failed: its Inconclusive (or error) ends the case
            # A PICS deadline: judged against the harness's lag at it (Session.within).
            await csms.within(asyncio.shield(expecting), trigger,
                              f"step {step}: the driver made the central system send {action} "
                              f"({payload}), but no {action}.req reached the harness's charge "
                              f"point within {trigger:g} s (PICS triggered_function_timeout)")
        request = expecting.result()
        await sent
        return request
    finally:
        for task in (expecting, sent):
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            elif not task.cancelled():
                task.exception()  # retrieved, so that asyncio does not log it as lost


@dataclass
class RemoteStart:
    """What :func:`remote_started` saw: the central system's RemoteStartTransaction.req and its
    Authorize.conf for the idTag of that request."""
    request: Request
    authorize: Response

    @property
    def id_tag(self) -> str:
        return self.request["idTag"]


async def remote_started(csms: Session, driver: Any, pics: Any, *, step: int,
                         connector_id: int | None = None,
                         id_tag: str | None = None) -> RemoteStart:
    """Reusable state Authorized, started remotely (TC_010, TC_011_1, TC_011_2): steps ``step`` to
    ``step + 3`` of the case.

    ``step``: [OPERATOR: remote start for ``id_tag`` on ``connector_id``] central system:
    RemoteStartTransaction.req, which must carry the idTag asked for (compared case-insensitively)
    and, if it names a connector (it is optional), the one asked for; ``step + 1``: the harness's
    charge point answers Accepted. ``step + 2``: it sends Authorize.req with the idTag of the request
    -- always, as a charge point with AuthorizeRemoteTxRequests=true does, so that the central
    system's Authorize.conf is exercised -- and ``step + 3``: the central system must answer
    Accepted."""
    connector_id = configured_connector(pics) if connector_id is None else connector_id
    id_tag = id_tag or pics.id_tags.valid
    remote = await operator_sends(csms, driver, pics, "RemoteStartTransaction",
                                  {"connectorId": connector_id, "idTag": id_tag},
                                  answer={"status": "Accepted"}, step=step)
    assert same_id_tag(remote["idTag"], id_tag), (
        f"step {step}: RemoteStartTransaction.req idTag is {remote['idTag']!r}, expected the "
        f"idTag {id_tag!r} the operator asked for (wire log line {remote.line})")
    assert remote.get("connectorId", connector_id) == connector_id, (
        f"step {step}: RemoteStartTransaction.req connectorId is {remote['connectorId']!r}, "
        f"expected {connector_id} as the operator asked, or none (wire log line {remote.line})")
    return RemoteStart(remote, await authorized(csms, pics, remote["idTag"], step=step + 2))


# --- the harness's configuration, as GetConfiguration reports it -------------------------------

READ_ONLY_KEYS = frozenset(k.casefold() for k in (
    "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods", "ConnectorPhaseRotationMaxLength",
    "ConnectorSwitch3to1PhaseSupported", "GetConfigurationMaxKeys", "LocalAuthListMaxLength",
    "MaxChargingProfilesInstalled", "MeterValuesAlignedDataMaxLength",
    "MeterValuesSampledDataMaxLength", "NumberOfConnectors", "ReserveConnectorZeroSupported",
    "SendLocalListMaxLength", "StopTxnAlignedDataMaxLength", "StopTxnSampledDataMaxLength",
    "SupportedFeatureProfiles", "SupportedFeatureProfilesMaxLength",
    "SupportedFileTransferProtocols",
))
"""Keys OCPP 1.6 section 9 makes read-only (R); the others the harness reports as RW."""


def get_configuration_answer(pics: Any) -> Callable[[dict], dict]:
    """How the harness's charge point answers GetConfiguration: its PICS [configuration] with the
    accessibility section 9 gives each key; keys matched case-insensitively (CiString50)."""
    configuration = {k.casefold(): (k, v) for k, v in pics.configuration.items()}

    def answer(payload: dict) -> dict:
        wanted = payload.get("key") or [name for name, _ in configuration.values()]
        known = [configuration[k.casefold()] for k in wanted if k.casefold() in configuration]
        unknown = [k for k in wanted if k.casefold() not in configuration]
        result: dict[str, Any] = {"configurationKey": [
            {"key": name, "readonly": name.casefold() in READ_ONLY_KEYS, "value": value}
            for name, value in known]}
        if unknown:
            result["unknownKey"] = unknown
        return result

    return answer
