"""The charge point: power, network, registration, authorization, transactions and metering.

Everything the charge point does happens in this process: "power" and "network" are flags the
control actions flip. What survives a power cycle (configuration, availability, the authorization
cache, transaction messages not yet delivered) lives in attributes that a power cycle leaves alone;
what does not (registration, authorizations in progress, timers) is reset by :meth:`power_on`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from interop.cp_config import Configuration
from interop.cp_link import Link
from interop.cp_model import Authorization, Connector, Transaction, stamp, utc_now
from interop.cp_outbox import Offline, Outbox, Outgoing

log = logging.getLogger("interop.cp")

RECONNECT_BACKOFF_S = (0.2, 2.0)
"""First and longest wait between connection attempts."""


class Station:
    def __init__(self, *, charge_point_id: str, csms_url: str, connectors: int,
                 identity: dict[str, str], configuration: dict[str, str] | None = None,
                 response_timeout: float = 10.0):
        self.charge_point_id, self.csms_url = charge_point_id, csms_url.rstrip("/")
        self.identity = identity
        self.response_timeout = response_timeout
        self.config = Configuration(connectors, configuration)
        self.config.listeners.append(self._config_changed)
        self.connectors = {i: Connector(i) for i in range(1, connectors + 1)}
        self.station_operative = True
        self.cache: dict[str, tuple[str, dict]] = {}
        """The authorization cache: casefolded idTag -> (idTag, IdTagInfo)."""
        self.outbox = Outbox(self._send, lambda: self.ready, self._retry_policy)
        self.reported: dict[int, tuple[str, str]] = {}
        self.delivered: dict[int, tuple[str, str]] = {}
        self.powered = False
        self.online = True
        self.registration: str | None = None
        self.booted = False
        """Accepted since the last power-on: a new connection is then a reconnection."""
        self.link: Link | None = None
        self._link_closed: asyncio.Event | None = None
        self._tasks: set[asyncio.Task] = set()
        self._changes = asyncio.Event()
        self._network_changed = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self.link is not None and self.registration == "Accepted"

    def spawn(self, coroutine: Any) -> asyncio.Task:
        """A task of the current power cycle: cancelled at power-off."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task failed", exc_info=task.exception())

    async def power_on(self) -> None:
        if self.powered:
            return
        self.powered, self.booted, self.registration = True, False, None
        for connector in self.connectors.values():
            connector.authorization = None
        self.reported.clear()
        self.spawn(self.outbox.run())
        self.spawn(self._network())
        self.spawn(self._heartbeat())
        self.spawn(self._clock_aligned())

    async def power_off(self) -> None:
        """No backup power: the connection drops at once; transactions end with PowerLoss, their
        StopTransaction.req kept for after the reboot."""
        if not self.powered:
            return
        self.powered = False
        await self._drop_link()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.link, self.registration = None, None
        self.outbox.drop_volatile()
        for connector in self.connectors.values():
            if connector.transaction is not None:
                self.stop_transaction(connector, "PowerLoss")
            connector.authorization = None

    async def reset(self, kind: str) -> None:
        """Reset.req: stop the transactions (reason HardReset / SoftReset) and try to deliver
        their StopTransaction.req before rebooting (section 5.14)."""
        for connector in self.connectors.values():
            if connector.transaction is not None:
                self.stop_transaction(connector, f"{kind}Reset")
        await self._drain(self.response_timeout)
        await self.power_off()
        await self.power_on()

    async def _drain(self, timeout: float) -> None:
        """Wait (bounded) until the outbox has delivered what it holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.outbox) and self.ready and loop.time() < deadline:
            await self._wait_change(deadline - loop.time())

    def _changed(self) -> None:
        """Wake every wait on a change (a new event each time, so no wake-up is lost)."""
        event, self._changes = self._changes, asyncio.Event()
        event.set()

    # --- network -------------------------------------------------------------------------------

    def set_online(self, online: bool) -> None:
        self.online = online
        self._network_changed.set()

    async def go_offline(self) -> None:
        self.set_online(False)
        await self._drop_link()

    async def _drop_link(self) -> None:
        """Close the connection; the network task sees it end and cleans up."""
        link, closed = self.link, self._link_closed
        if link is None:
            return
        try:
            await asyncio.wait_for(link._connection.close(1001, "going away"), 2)
        except (TimeoutError, ConnectionClosed):
            pass
        if closed is not None:
            try:
                await asyncio.wait_for(closed.wait(), 2)
            except TimeoutError:
                pass

    async def _network(self) -> None:
        backoff = RECONNECT_BACKOFF_S[0]
        while True:
            while not self.online:
                self._network_changed.clear()
                await self._network_changed.wait()
            url = f"{self.csms_url}/{self.charge_point_id}"
            try:
                websocket = await connect(url, subprotocols=["ocpp1.6"], open_timeout=5,
                                          ping_interval=None, close_timeout=2)
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                log.info("cannot connect to %s (%s); again in %.1f s", url, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RECONNECT_BACKOFF_S[1])
                continue
            backoff = RECONNECT_BACKOFF_S[0]
            if not self.online:  # the network went down while connecting
                await websocket.close()
                continue
            link = Link(self.charge_point_id, websocket, self, self.response_timeout)
            self.link, self._link_closed = link, asyncio.Event()
            reader = asyncio.get_running_loop().create_task(link.start())
            registering = self.spawn(self._register(link))
            try:
                await reader
            except ConnectionClosed:
                pass
            finally:
                registering.cancel()
                self._link_closed.set()
                if self.link is link:
                    self.link = None
                    self.outbox.drop_volatile()
                    self.outbox.poke()
                log.info("connection to %s closed", url)

    async def _send(self, request: Any) -> Any:
        """One CALL on the current link; Offline if there is none or it closes meanwhile."""
        link, closed = self.link, self._link_closed
        if link is None or closed is None:
            raise Offline("not connected")
        calling = asyncio.ensure_future(link.call(request, suppress=False))
        closing = asyncio.ensure_future(closed.wait())
        try:
            await asyncio.wait({calling, closing}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            calling.cancel()  # powered off meanwhile: nothing may go out later
            raise
        finally:
            closing.cancel()
        if not calling.done():
            calling.cancel()
            raise Offline("the connection closed while waiting for the answer")
        try:
            return calling.result()
        except ConnectionClosed as exc:
            raise Offline(str(exc)) from None
        finally:
            self._changed()

    async def _register(self, link: Link) -> None:
        """BootNotification until Accepted, retrying after the interval the central system gives
        (section 4.2); a reconnection after an accepted boot is not a reboot and sends none."""
        if self.booted:
            self.outbox.poke()
            self._report_changes()
            return
        while True:
            try:
                conf = await self._send(call.BootNotification(**self.identity))
            except (Offline, asyncio.TimeoutError) as exc:
                log.info("BootNotification not answered: %s", exc)
                return
            except OCPPError as error:  # the central system could not take it: try again later
                log.info("BootNotification answered %s", error.code)
                await asyncio.sleep(self.response_timeout)
                continue
            self.registration = conf.status
            if conf.status == "Accepted":
                break
            await asyncio.sleep(conf.interval if conf.interval > 0 else 30)
        self.booted = True
        if conf.interval > 0:  # section 4.2: the heartbeat interval the central system wants
            self.config.set_internal("HeartbeatInterval", str(conf.interval))
        # Every connector's state, connector 0 first, ahead of anything queued.
        self.reported.clear()
        self.delivered.clear()
        for connector_id in reversed(range(len(self.connectors) + 1)):
            self._status_message(connector_id, front=True)
        self.outbox.poke()
        self._changed()

    def _retry_policy(self) -> tuple[int, int]:
        return (max(1, self.config.number("TransactionMessageAttempts")),
                self.config.number("TransactionMessageRetryInterval"))

    # --- status notifications ----------------------------------------------------------------

    def status_of(self, connector_id: int) -> tuple[str, str]:
        if connector_id == 0:
            return ("Available" if self.station_operative else "Unavailable"), "NoError"
        return self.connectors[connector_id].status(self.station_operative)

    def report(self, connector_id: int) -> None:
        """Tell the central system if the connector's status changed."""
        if self.status_of(connector_id) != self.reported.get(connector_id):
            self._status_message(connector_id)

    def report_all(self) -> None:
        for connector_id in range(len(self.connectors) + 1):
            self.report(connector_id)

    def _report_changes(self) -> None:
        """After a reconnection: the statuses that changed while offline (section 4.9: the state
        is what matters, so only the current one is sent)."""
        for connector_id in range(len(self.connectors) + 1):
            if self.status_of(connector_id) != self.delivered.get(connector_id):
                self._status_message(connector_id)

    def _status_message(self, connector_id: int, *, front: bool = False) -> None:
        status, error_code = now = self.status_of(connector_id)
        self.reported[connector_id] = now
        if not self.ready and not front:
            return  # offline: the current status is sent on reconnection

        def delivered(_: Any) -> None:
            self.delivered[connector_id] = now

        request = call.StatusNotification(connector_id=connector_id, error_code=error_code,
                                          status=status, timestamp=stamp(utc_now()))
        self.outbox.put(Outgoing(lambda: request, on_result=delivered,
                                 label=f"StatusNotification {connector_id} {status}"), front=front)

    # --- heartbeat and clock-aligned meter values -----------------------------------------------

    def _config_changed(self, name: str) -> None:
        self._changed()

    async def _wait_change(self, timeout: float | None) -> bool:
        """Wait for a change of state or configuration (True) or the timeout (False); the waiter
        then looks again at what it waits for."""
        event = self._changes
        try:
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that coincides with
            # the event being set, and power-off would wait for the task forever.
            async with asyncio.timeout(timeout):
                await event.wait()
            return True
        except TimeoutError:
            return False

    async def _heartbeat(self) -> None:
        """A Heartbeat.req every HeartbeatInterval seconds while registered."""
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            interval = self.config.number("HeartbeatInterval")
            if interval <= 0 or not self.ready:
                await self._wait_change(None)
                last = loop.time()
                continue
            left = last + interval - loop.time()
            if left > 0:
                await self._wait_change(left)
                continue  # time is up, or something changed (the interval perhaps): look again
            last = loop.time()
            self.outbox.put(Outgoing(lambda: call.Heartbeat(), label="Heartbeat"))

    async def _clock_aligned(self) -> None:
        while True:
            interval = self.config.number("ClockAlignedDataInterval")
            if interval <= 0:
                await self._wait_change(None)
                continue
            now = utc_now()
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            ticks = math.floor((now - midnight).total_seconds() / interval) + 1
            due = midnight + timedelta(seconds=ticks * interval)
            if await self._wait_change((due - utc_now()).total_seconds()):
                continue
            for connector in self.connectors.values():
                if connector.transaction is not None:
                    self._meter_values(connector, connector.transaction, "Sample.Clock",
                                       self.config.measurands("MeterValuesAlignedData"), due)

    async def _sample(self, connector: Connector, tx: Transaction) -> None:
        """MeterValueSampleInterval seconds apart, counted from the start of the transaction."""
        last = tx.started
        while connector.transaction is tx:
            interval = self.config.number("MeterValueSampleInterval")
            if interval <= 0:
                await self._wait_change(None)
                continue
            due = last + timedelta(seconds=interval)
            left = (due - utc_now()).total_seconds()
            if left > 0 and await self._wait_change(left):
                continue
            if connector.transaction is not tx:
                return
            last = due
            self._meter_values(connector, tx, "Sample.Periodic",
                               self.config.measurands("MeterValuesSampledData"), due)

    def _meter_values(self, connector: Connector, tx: Transaction, context: str,
                      measurands: list[str], moment: datetime) -> None:
        readings = {
            "Energy.Active.Import.Register": (str(connector.meter_wh()), "Wh"),
            "Power.Active.Import": (f"{connector.power_w():.1f}", "W"),
            "Current.Import": (f"{connector.power_w() / 230:.1f}", "A"),
            "Voltage": ("230.0", "V"),
        }
        sampled = [{"value": readings[m][0], "context": context, "measurand": m,
                    "unit": readings[m][1]} for m in measurands or ["Energy.Active.Import.Register"]]

        def build() -> Any:
            if tx.abandoned or tx.transaction_id is None:
                return None
            return call.MeterValues(connector_id=connector.connector_id,
                                    transaction_id=tx.transaction_id,
                                    meter_value=[{"timestamp": stamp(moment),
                                                  "sampledValue": sampled}])

        self.outbox.put(Outgoing(build, transactional=True, label=f"MeterValues {context}"))

    # --- authorization ---------------------------------------------------------------------------

    def _cached(self, id_tag: str) -> dict | None:
        if not self.config.flag("AuthorizationCacheEnabled"):
            return None
        entry = self.cache.get(id_tag.casefold())
        if entry is None:
            return None
        info = dict(entry[1])
        expiry = info.get("expiryDate")
        if expiry and datetime.fromisoformat(expiry.replace("Z", "+00:00")) < utc_now():
            info["status"] = "Expired"
        return info

    def remember(self, id_tag: str, info: dict | None) -> None:
        """Section 3.5.1: the cache keeps the latest IdTagInfo the central system gave."""
        if info is not None and self.config.flag("AuthorizationCacheEnabled"):
            self.cache[id_tag.casefold()] = (id_tag, dict(info))

    async def authorize(self, id_tag: str) -> dict | None:
        """The IdTagInfo for ``id_tag``: from the cache when LocalPreAuthorize (online) or
        LocalAuthorizeOffline (offline) allows it, else from the central system; offline and
        unknown, AllowOfflineTxForUnknownId decides. None: it cannot be authorized now."""
        cached = self._cached(id_tag)
        if self.ready:
            if cached is not None and cached.get("status") == "Accepted" \
                    and self.config.flag("LocalPreAuthorize"):
                return cached
            future = asyncio.get_running_loop().create_future()
            self.outbox.put(Outgoing(lambda: call.Authorize(id_tag=id_tag), future=future,
                                     label="Authorize"))
            try:
                conf = await future
            except (Offline, asyncio.TimeoutError):
                return await self._authorize_offline(id_tag, cached)
            except Exception as exc:  # a CALLERROR: the central system did not authorize it
                log.info("Authorize %s failed: %s", id_tag, exc)
                return None
            info = _camel(conf.id_tag_info)
            self.remember(id_tag, info)
            return info
        return await self._authorize_offline(id_tag, cached)

    async def _authorize_offline(self, id_tag: str, cached: dict | None) -> dict | None:
        if cached is not None:
            return cached if self.config.flag("LocalAuthorizeOffline") else None
        if self.config.flag("AllowOfflineTxForUnknownId"):
            return {"status": "Accepted"}
        return None

    # --- the EV driver's actions --------------------------------------------------------------

    def target(self, connector_id: int | None, id_tag: str | None = None) -> Connector:
        if connector_id is not None:
            return self.connectors[connector_id]
        if id_tag is not None:
            for connector in self.connectors.values():
                if connector.transaction and connector.transaction.id_tag.casefold() == id_tag.casefold():
                    return connector
        free = [c for c in self.connectors.values() if c.transaction is None]
        return next((c for c in free if c.cable_in), free[0] if free else self.connectors[1])

    async def present_id_tag(self, id_tag: str, connector: Connector) -> None:
        tx = connector.transaction
        if tx is not None:
            await self._present_during_transaction(id_tag, connector, tx)
            return
        pending = connector.authorization
        if pending is not None:
            if pending.id_tag.casefold() == id_tag.casefold():
                connector.authorization = None  # presented again: the driver changed their mind
                self.report(connector.connector_id)
            return
        if connector.fault is not None or not self._usable(connector):
            return
        info = await self.authorize(id_tag)
        if info is None or info.get("status") != "Accepted":
            log.info("idTag %s not authorized: %s", id_tag, info)
            return
        self._authorized(connector, Authorization(id_tag, info))

    async def _present_during_transaction(self, id_tag: str, connector: Connector,
                                          tx: Transaction) -> None:
        """The idTag that started the transaction stops it; another one only if it belongs to the
        same group (parentIdTag, section 4.10): asked only when the transaction has a group."""
        if id_tag.casefold() == tx.id_tag.casefold():
            self.stop_transaction(connector, "Local", id_tag=id_tag)
            return
        if tx.parent is None:
            return
        info = await self.authorize(id_tag)
        if info and info.get("status") == "Accepted" and info.get("parentIdTag") \
                and info["parentIdTag"].casefold() == tx.parent.casefold() \
                and connector.transaction is tx:
            self.stop_transaction(connector, "Local", id_tag=id_tag)

    def _usable(self, connector: Connector) -> bool:
        return connector.operative and self.station_operative and connector.fault is None

    def _authorized(self, connector: Connector, authorization: Authorization) -> None:
        connector.authorization = authorization
        self.report(connector.connector_id)
        if not connector.ev_connected:
            self.spawn(self._connection_timeout(connector, authorization))
        self._try_start(connector)

    async def _connection_timeout(self, connector: Connector, authorization: Authorization) -> None:
        """ConnectionTimeOut from the authorization: no EV by then, the authorization lapses."""
        while connector.authorization is authorization:
            left = authorization.at + self.config.number("ConnectionTimeOut") \
                - asyncio.get_running_loop().time()
            if left <= 0:
                connector.authorization = None
                self.report(connector.connector_id)
                return
            await self._wait_change(left)

    def plug_in(self, connector: Connector) -> None:
        connector.cable_in = connector.ev_connected = True
        connector.finishing = False
        self.report(connector.connector_id)
        self._try_start(connector)

    def unplug(self, connector: Connector) -> None:
        """The EV side is disconnected; the cable comes out too unless the lock holds it."""
        connector.ev_connected = False
        tx = connector.transaction
        if tx is not None:
            if self.config.flag("StopTransactionOnEVSideDisconnect"):
                self.stop_transaction(connector, "EVDisconnected")
            else:
                self.report(connector.connector_id)  # SuspendedEV: the transaction goes on
            return
        self._release_cable(connector)

    def _release_cable(self, connector: Connector) -> None:
        if not connector.locked and not connector.ev_connected:
            connector.cable_in = connector.finishing = False
        self.report(connector.connector_id)

    def _try_start(self, connector: Connector) -> None:
        authorization = connector.authorization
        if authorization is None or not connector.ev_connected or connector.transaction is not None \
                or not self._usable(connector):
            return
        if connector.lock_fails:
            connector.authorization = None
            connector.fault = "ConnectorLockFailure"
            self.report(connector.connector_id)
            return
        connector.locked = True
        connector.authorization = None
        tx = Transaction(connector.connector_id, authorization.id_tag, dict(authorization.info),
                         connector.meter_wh(), utc_now())
        connector.transaction = tx

        def build() -> Any:
            return call.StartTransaction(connector_id=tx.connector_id, id_tag=tx.id_tag,
                                         meter_start=tx.meter_start, timestamp=stamp(tx.started))

        self.outbox.put(Outgoing(build, transactional=True, label="StartTransaction",
                                 on_result=lambda conf: self._started(connector, tx, conf)))
        self.report(connector.connector_id)
        self.spawn(self._sample(connector, tx))

    def _started(self, connector: Connector, tx: Transaction, conf: Any) -> None:
        tx.transaction_id = conf.transaction_id
        info = _camel(conf.id_tag_info)
        self.remember(tx.id_tag, info)
        tx.info = info
        if info.get("status") == "Accepted" or connector.transaction is not tx:
            return
        # Section 4.8 (errata): stop the transaction, or only the energy, as configured.
        if self.config.flag("StopTransactionOnInvalidId"):
            self.stop_transaction(connector, "DeAuthorized")
        else:
            tx.deauthorized = True
            self.report(connector.connector_id)

    def stop_transaction(self, connector: Connector, reason: str, *,
                         id_tag: str | None = None) -> None:
        tx = connector.transaction
        if tx is None:
            return
        meter_stop, moment = connector.meter_wh(), utc_now()
        connector.transaction = None
        connector.finishing = True

        def build() -> Any:
            if tx.abandoned or tx.transaction_id is None:
                return None
            return call.StopTransaction(meter_stop=meter_stop, timestamp=stamp(moment),
                                        transaction_id=tx.transaction_id, reason=reason,
                                        id_tag=id_tag)

        self.outbox.put(Outgoing(build, transactional=True, label=f"StopTransaction {reason}",
                                 on_result=lambda conf: self.remember(
                                     id_tag, _camel(conf.id_tag_info)) if id_tag else None))
        if connector.scheduled_inoperative:
            connector.scheduled_inoperative, connector.operative = False, False
        self.report(connector.connector_id)
        keep_locked = reason == "EVDisconnected" and \
            not self.config.flag("UnlockConnectorOnEVSideDisconnect")
        if not keep_locked:
            connector.locked = False
            self._release_cable(connector)

    # --- the central system's operations ----------------------------------------------------

    def connector_of_transaction(self, transaction_id: int) -> Connector | None:
        return next((c for c in self.connectors.values() if c.transaction is not None
                     and c.transaction.transaction_id == transaction_id), None)

    def remote_start_target(self, connector_id: int | None) -> Connector | None:
        """Where a RemoteStartTransaction.req can start, or None (Rejected): connectorId 0 is not
        a connector (section 6.33), a busy, unavailable or faulted one cannot."""
        if connector_id is None:
            candidates = list(self.connectors.values())
        elif connector_id in self.connectors:
            candidates = [self.connectors[connector_id]]
        else:
            return None
        return next((c for c in candidates if c.transaction is None and c.authorization is None
                     and self._usable(c)), None)

    async def remote_start(self, connector: Connector, id_tag: str) -> None:
        if self.config.flag("AuthorizeRemoteTxRequests"):
            info = await self.authorize(id_tag)
            if info is None or info.get("status") != "Accepted":
                return
        else:
            info = {"status": "Accepted"}
        if connector.transaction is None and connector.authorization is None:
            self._authorized(connector, Authorization(id_tag, info))

    def change_availability(self, connector_id: int, operative: bool) -> str:
        if connector_id != 0 and connector_id not in self.connectors:
            return "Rejected"
        targets = list(self.connectors.values()) if connector_id == 0 \
            else [self.connectors[connector_id]]
        busy = [c for c in targets if c.transaction is not None]
        if connector_id == 0:
            self.station_operative = operative or bool(busy)
        for connector in targets:
            if connector.transaction is not None and not operative:
                connector.scheduled_inoperative = True
            else:
                connector.operative, connector.scheduled_inoperative = operative, False
        return "Scheduled" if busy and not operative else "Accepted"

    def unlock_status(self, connector_id: int) -> str:
        connector = self.connectors.get(connector_id)
        if connector is None:
            return "NotSupported"
        return "UnlockFailed" if connector.unlock_fails else "Unlocked"

    def unlock(self, connector_id: int) -> None:
        """Section 5.18: a running transaction is stopped first (reason UnlockCommand)."""
        connector = self.connectors[connector_id]
        if connector.transaction is not None:
            self.stop_transaction(connector, "UnlockCommand")
        connector.locked = False
        self._release_cable(connector)


def _camel(info: Any) -> dict:
    """An IdTagInfo as the library hands it over (snake_case keys) in the wire's camelCase."""
    if not isinstance(info, dict):
        return {}
    names = {"parent_id_tag": "parentIdTag", "expiry_date": "expiryDate"}
    return {names.get(k, k): v for k, v in info.items()}
