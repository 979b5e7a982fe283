"""The charge point's life line: power, the WebSocket connection with bounded exponential back-off,
the BootNotification handshake (Accepted / Pending / Rejected with its retry interval) and the
heartbeat. A mixin of :class:`harness.sim.cp.chargepoint.ChargePointSim`.
"""

from __future__ import annotations

import asyncio
import base64
import random
import ssl
from typing import TYPE_CHECKING

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidURI

from harness.dialect import OCPP16
from harness.sim.common import log, wait_event
from harness.sim.cp.outbox import Offline
from harness.sim.link import CallFailed, Link, LinkDown

SUBPROTOCOL = OCPP16.subprotocol
"""The simulator speaks OCPP 1.6 (harness.dialect): the subprotocol it offers."""

if TYPE_CHECKING:
    from harness.sim.cp.chargepoint import ChargePointSim

DEFAULT_BOOT_RETRY = 30
"""Seconds between BootNotifications when the CSMS gave no interval (interval 0)."""
HEARTBEAT_LATE_S = 0.05
"""A heartbeat woken later than this after it was due counts the next interval from now (a
starved process), instead of catching up with the planned cadence."""


class ConnectionMixin:
    def power_on(self: ChargePointSim) -> None:
        self.registration = None
        self.powered = True
        self.power = self.tasks.spawn(self._connection_loop(), "connection")

    async def cut_power(self: ChargePointSim, *, graceful: bool) -> None:
        """Take the charge point down. Non-graceful is a power cut: the TCP connection just drops."""
        link = self.link
        if link is not None:
            if graceful:
                await link.close(1000, "rebooting")
            else:
                link.abort()
        if self.power is not None:
            self.power.cancel()
            await asyncio.gather(self.power, return_exceptions=True)
            self.power = None

    async def _connection_loop(self: ChargePointSim) -> None:
        backoff = self.reconnect_min
        while True:
            if not self.online_wanted:
                self.online_kick.clear()
                await self.online_kick.wait()
                backoff = self.reconnect_min
                continue
            try:
                ws = await connect(self.url, subprotocols=[SUBPROTOCOL], open_timeout=10,
                                   close_timeout=2, additional_headers=self._auth_headers(),
                                   ssl=self._tls(),
                                   ping_interval=self.config.int("WebSocketPingInterval", 0) or None,
                                   max_size=2 ** 22)
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                # Bounded exponential back-off with jitter, so a fleet does not reconnect in step.
                delay = backoff * random.uniform(0.8, 1.2)
                self.events.add("connect_failed", url=self.url, error=repr(exc),
                                retry_in_s=round(delay, 3))
                self.online_kick.clear()
                await wait_event(self.online_kick, delay)
                backoff = min(backoff * 2, self.reconnect_max)
                continue
            backoff = self.reconnect_min
            await self._serve(ws)
            if self.online_wanted:
                self.online_kick.clear()
                await wait_event(self.online_kick, backoff * random.uniform(0.8, 1.2))

    def _tls(self: ChargePointSim) -> ssl.SSLContext | None:
        """For wss://: trust the system store plus the PICS's CA file and, when the harness's own
        server certificate is self-signed, that certificate."""
        if not self.url.startswith("wss://"):
            return None
        context = ssl.create_default_context()
        security = self.pics.security
        for trusted in (security.ca_file, security.cert_file):
            if trusted:
                context.load_verify_locations(trusted)
        if roots := self.trusted_roots_pem():
            context.load_verify_locations(cadata=roots)  # its store's CentralSystemRootCertificates
        if security.profile == 3 and self.client_cert is not None \
                and self.faults.get("client_cert_missing") is None:
            context.load_cert_chain(*self.client_cert)
        return context

    def _auth_headers(self: ChargePointSim) -> dict:
        password = self.authorization_key()
        if self.pics.security.profile in (1, 2) and password:
            if self.faults.get("basic_auth_missing") is not None:
                return {}
            user = self.id + "-X" if self.faults.get("basic_auth_wrong_user") is not None \
                else self.id
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        return {}

    async def _serve(self: ChargePointSim, ws) -> None:
        link = Link(ws, me="cp", handler=self.dispatch, faults=self.faults, events=self.events,
                    spawn=self.tasks.spawn, response_timeout=self.response_timeout,
                    on_frame=self._observe, peer_id="csms")
        self.link = link
        self.events.add("connected", url=self.url, subprotocol=ws.subprotocol)
        if ws.subprotocol != SUBPROTOCOL:
            self.events.add("subprotocol_missing", got=ws.subprotocol)
        reader = asyncio.get_running_loop().create_task(link.run())
        session = asyncio.get_running_loop().create_task(self._session(link))
        try:
            await self.send_garbage_if_faulty(link)
            await reader
        finally:
            for task in (session, self.heartbeat):
                if task is not None:
                    task.cancel()
            self.outbox.detach()
            self.link = None
            self.connected.clear()
            if not reader.done():
                link.abort()
                reader.cancel()
            outcomes = await asyncio.gather(reader, session,
                                            *([self.heartbeat] if self.heartbeat else []),
                                            return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, Exception) and not isinstance(outcome, LinkDown):
                    log.error("charge point %s: %r", self.id, outcome, exc_info=outcome)
            self.heartbeat = None
            self.events.add("disconnected", code=link.close_code)

    async def send_garbage_if_faulty(self: ChargePointSim, link: Link) -> None:
        garbage = self.faults.get("garbage_frame")
        if garbage is not None:
            try:
                await link.send_text(garbage["text"])
            except LinkDown:
                pass

    async def _session(self: ChargePointSim, link: Link) -> None:
        try:
            rebooted = self.registration != "Accepted"
            if rebooted:
                await self._boot(link)
            self.connected.set()
            self.outbox.attach(link)
            self.heartbeat = self.tasks.spawn(self._heartbeat_loop(), "heartbeat")
            # After a boot every connector is reported; after a reconnection only what changed.
            self.refresh(force=rebooted)
            if rebooted:
                self.after_boot()
        except LinkDown:
            pass

    def boot_payload(self: ChargePointSim) -> dict:
        dut = self.pics.dut
        payload = {"chargePointVendor": dut.vendor, "chargePointModel": dut.model,
                   "firmwareVersion": self.firmware_version}
        if dut.serial_number:
            payload["chargePointSerialNumber"] = dut.serial_number
        return payload

    async def _boot(self: ChargePointSim, link: Link) -> None:
        while True:
            try:
                conf = await link.call("BootNotification", self.boot_payload())
            except (CallFailed, TimeoutError) as exc:
                self.events.add("boot_failed", error=repr(exc))
                self.boot_now.clear()
                await wait_event(self.boot_now, DEFAULT_BOOT_RETRY)
                continue
            status, interval = conf.get("status"), conf.get("interval", 0)
            self.sync_clock(conf.get("currentTime"))
            self.registration = status
            self.events.add("boot", status=status, interval=interval)
            if status == "Accepted":
                if isinstance(interval, int) and interval > 0:
                    self.config.set("HeartbeatInterval", str(interval))
                return
            # Pending or Rejected: wait the interval before trying again (section 4.2.1); while
            # Pending the CSMS may configure the charge point, and TriggerMessage cuts it short.
            wait = interval if isinstance(interval, int) and interval > 0 else DEFAULT_BOOT_RETRY
            if (fault := self.faults.get("boot_ignore_interval")) is not None:
                wait = fault["delay_ms"] / 1000
            self.boot_now.clear()
            await wait_event(self.boot_now, wait)

    async def _heartbeat_loop(self: ChargePointSim) -> None:
        loop = asyncio.get_running_loop()
        next_at = None
        while True:
            interval = float(self.config.int("HeartbeatInterval", 0))
            if (fault := self.faults.get("heartbeat_wrong_interval")) is not None:
                interval *= fault["factor"]
            if interval <= 0:
                self.heartbeat_changed.clear()
                await self.heartbeat_changed.wait()
                next_at = None
                continue
            if next_at is None:
                next_at = loop.time() + interval
            if await wait_event(self.heartbeat_changed, next_at - loop.time()):
                # A new interval starts counting now.
                self.heartbeat_changed.clear()
                next_at = None
                continue
            # On time: the next one an interval after this one was due (no drift). Late (the
            # process was starved): an interval after now, never sooner -- catching up with the
            # planned cadence would send the next one too early.
            now = loop.time()
            next_at = (now if now - next_at > HEARTBEAT_LATE_S else next_at) + interval
            try:
                conf = await self.outbox.call("Heartbeat", {})
                self.sync_clock(conf.get("currentTime"))
            except (Offline, CallFailed, TimeoutError) as exc:
                self.events.add("heartbeat_failed", error=repr(exc))

    def after_boot(self: ChargePointSim) -> None:
        if self.firmware_installed_pending:
            self.firmware_installed_pending = False
            self.post_firmware_status("Installed")
            self.firmware_status = "Idle"

    async def reboot(self: ChargePointSim, reason: str, *, graceful: bool) -> None:
        """Go down and come back."""
        self.events.add("reboot", reason=reason)
        await self.shut_down(reason, graceful=graceful)
        self.power_on()

    async def shut_down(self: ChargePointSim, reason: str, *, graceful: bool) -> None:
        """Go down: transactions end (without power their StopTransaction waits in the queue for
        the next boot), volatile state is lost; what a real charge point keeps in flash
        (configuration, availability, lists, profiles, queued transaction messages) survives."""
        self.powered = False
        for c in self.connectors:
            if c.transaction is not None:
                self.stop_transaction(c, reason)
        await self.cut_power(graceful=graceful)
        for c in self.all_connectors():
            self.cancel_pending(c)
            if c.status_timer is not None:
                c.status_timer.cancel()
                c.status_timer = None
            c.finishing = c.ev_suspended = False
            c.queued = c.reported = None
        self.outbox.drop_volatile()
        self.boot_now.clear()

    def post_firmware_status(self: ChargePointSim, status: str) -> None:
        self.firmware_status = status
        self.events.add("firmware_status", status=status)
        self.outbox.post("FirmwareStatusNotification", lambda: {"status": status})

    def post_diagnostics_status(self: ChargePointSim, status: str) -> None:
        self.diagnostics_status = status
        self.events.add("diagnostics_status", status=status)
        self.outbox.post("DiagnosticsStatusNotification", lambda: {"status": status})

    async def go_offline(self: ChargePointSim) -> None:
        self.online_wanted = False
        link = self.link
        if link is not None:
            link.abort()  # a network cut: no closing handshake reaches the CSMS
            await wait_event(link.closed, 5)
        self.events.add("offline")

    def go_online(self: ChargePointSim) -> None:
        self.online_wanted = True
        self.online_kick.set()
        self.events.add("online")

    def _observe(self: ChargePointSim, sender: str, text: str) -> None:
        self.frames[sender] += 1
        if self.on_frame is not None:
            self.on_frame(sender, text)
