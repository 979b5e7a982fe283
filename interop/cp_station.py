"""The charge point: power, network, registration and status notifications; authorization and
transactions come from :mod:`interop.cp_charging`, heartbeats and meter values from
:mod:`interop.cp_timers`.

Everything the charge point does happens in this process: "power" and "network" are flags the
control actions flip. What survives a power cycle (configuration, availability, the authorization
cache, transaction messages not yet delivered) lives in attributes that a power cycle leaves alone;
what does not (registration, authorizations in progress, timers) is reset by :meth:`power_on`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from interop.cp_charging import Charging
from interop.cp_config import Configuration
from interop.cp_link import Link
from interop.cp_model import Connector, stamp, utc_now
from interop.cp_outbox import Offline, Outbox, Outgoing
from interop.cp_timers import Timers

log = logging.getLogger("interop.cp")

RECONNECT_BACKOFF_S = (0.2, 2.0)
"""First and longest wait between connection attempts."""


class Station(Charging, Timers):
    def __init__(self, *, charge_point_id: str, csms_url: str, connectors: int,
                 identity: dict[str, str], configuration: dict[str, str] | None = None,
                 response_timeout: float = 10.0, has_lock: bool = True, has_cache: bool = True,
                 finishing_when_empty: bool = True, exit_on_reset: Any = None):
        self.charge_point_id, self.csms_url = charge_point_id, csms_url.rstrip("/")
        self.identity = identity
        self.response_timeout = response_timeout
        self.has_lock, self.has_cache = has_lock, has_cache
        """The hardware: a socket with a cable lock (else UnlockConnector is NotSupported and the
        cable leaves with the EV); an authorization cache (else no AuthorizationCacheEnabled key,
        ClearCache Rejected)."""
        self.finishing_when_empty = finishing_when_empty
        """False: a transaction that ends with nothing left at the connector goes straight to
        Available, without Finishing."""
        self.exit_on_reset = exit_on_reset
        """None, or what to call once a Reset has stopped the transactions: this firmware then
        ends its process and its supervisor starts it again (interop/supervised_cp.py)."""
        self.config = Configuration(connectors, configuration, cache=has_cache)
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
        if self.exit_on_reset is not None:
            self.exit_on_reset(kind)  # does not return: the process ends
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
            # The library keeps the WebSocket as _connection and offers no close of its own.
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
            while not (self.online and self.powered):  # not while power-off takes it down
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
            if not (self.online and self.powered):  # gone down while connecting
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

    # --- changes -------------------------------------------------------------------------------

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
