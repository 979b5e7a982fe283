"""The Authorized and Charging states and their end: plug-in, idTag, StartTransaction,
StatusNotification Charging, the stop and the cable leaving. Rule: each state undoes what it did
(transaction stopped, cable out, connector Available), silently after a failure of the case.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from harness.session import DeviceTimeout, Request, Session
from harness.states.assertions import assert_id_tag, assert_status, assert_value
from harness.states.cs.data import connection_timeout, connector_under_test, triggered, valid_tag
from harness.states.cs.messages import next_status, quietly, requests_of, status_until
from harness.states.cs.configuration import configured


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
        await quietly(lambda: finish(cp, driver, pics, tx, quiet=failed), failed)


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
