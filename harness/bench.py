"""The test bench: the harness's endpoint, the device (a real one, or an embedded simulator), the
driver for manual actions and the session, set up once for a run and shared by its test cases.

- SUT ``cs``: the harness listens as the central system; the charge point connects (and reconnects
  after every reboot, which the accept loop hands to the same session).
- SUT ``csms``: the harness is the charge point; it connects to the central system and
  :meth:`ChargePointBench.reconnect` plays its reboot.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

from harness import defaults
from harness.pics import Pics
from harness.session import Session
from harness.transport import SUBPROTOCOL, CentralSystemServer, Link, connect, tls_context


@dataclass(frozen=True)
class BenchOptions:
    sut: str
    dut: str
    """``sim`` (embedded reference simulator) or ``external``."""
    listen: tuple[str, int]
    csms_url: str | None
    driver: str
    sim_faults: tuple[str, ...] = ()
    """``--ocpp-sim-fault`` values ("name:k=v,..."), injected into the embedded simulator."""


Notify = Callable[[str], None]
"""Where the bench says what it is doing (listening, connected, refused): the terminal."""


def _quiet(text: str) -> None:
    del text


def _security_password(pics: Pics) -> str | None:
    return pics.security.basic_auth_password if pics.security.profile in (1, 2) else None


class CentralSystemBench:
    """SUT = charge point: the harness is the central system."""

    def __init__(self, pics: Pics, options: BenchOptions):
        self.pics, self.options = pics, options
        self.session = Session("csms", response_timeout=pics.timing.response_timeout,
                               defaults=defaults.central_system(pics))
        ssl_context = None
        if pics.security.profile >= 2:
            ssl_context = tls_context(server=True, ca_file=pics.security.ca_file,
                                      cert_file=pics.security.cert_file,
                                      key_file=pics.security.key_file,
                                      require_client_cert=pics.security.profile == 3)
        host, port = options.listen
        if options.dut == "sim":
            port = 0  # the embedded simulator is told where to connect
        self.server = CentralSystemServer(host, port, basic_auth_password=_security_password(pics),
                                          ssl_context=ssl_context)
        self.sim: Any = None
        self._accepting: asyncio.Task | None = None
        self.notify: Notify = _quiet
        self.server.on_refused = lambda path, finding: self._refused(
            f"refused a connection to {path!r}: {finding.message}")

    async def start(self) -> None:
        await self.server.start()
        self._accepting = asyncio.get_running_loop().create_task(self._accept_forever())
        if self.options.dut == "external":
            self.notify(f"listening on {self.server.url.removesuffix('/ocpp')}/<any path>/"
                        f"{self.pics.dut.charge_point_id}; waiting up to "
                        f"{self.pics.timing.boot_timeout:g} s for it (PICS timing.boot_timeout)")
        if self.options.dut == "sim":
            from harness.sim import ChargePointSim
            self.sim = ChargePointSim(self.pics, self.server.url, faults=self.options.sim_faults)
            await self.sim.start()

    async def _accept_forever(self) -> None:
        while True:
            link: Link = await self.server._incoming.get()
            if link.charge_point_id != self.pics.dut.charge_point_id:
                # Another charge point on the harness's port: not the device under test.
                self._refused(f"refused {link.charge_point_id!r}: expected "
                              f"{self.pics.dut.charge_point_id!r} (PICS dut.charge_point_id)")
                await link.close(1008, f"expected charge point {self.pics.dut.charge_point_id}")
                continue
            if self.options.dut == "external":
                peer = getattr(link.ws, "remote_address", None)
                self.notify(f"{link.charge_point_id} connected"
                            + (f" from {peer[0]}:{peer[1]}" if peer else ""))
            self.session.attach(link)

    def _refused(self, text: str) -> None:
        self.session.refusals.append(text)
        self.notify(text)

    async def stop(self) -> None:
        if self.sim is not None:
            await self.sim.stop()
        if self._accepting is not None:
            self._accepting.cancel()
        await self.session.close()
        await self.server.stop()

    @property
    def where(self) -> str:
        return f"{self.server.url}/{self.pics.dut.charge_point_id}"


class ChargePointBench:
    """SUT = central system: the harness is the charge point."""

    def __init__(self, pics: Pics, options: BenchOptions):
        self.pics, self.options = pics, options
        self.session = Session("cp", response_timeout=pics.timing.response_timeout,
                               defaults=defaults.charge_point(pics))
        self.session.reconnect = self.reconnect  # type: ignore[attr-defined]
        self.session.open_link = self.open_link  # type: ignore[attr-defined]
        self.sim: Any = None
        self.notify: Notify = _quiet
        self.url = options.csms_url or pics.dut.csms_url or ""
        self._ssl = None
        if pics.security.profile >= 2:
            self._ssl = tls_context(server=False, ca_file=pics.security.ca_file,
                                    cert_file=pics.security.cert_file if pics.security.profile == 3
                                    else None,
                                    key_file=pics.security.key_file if pics.security.profile == 3
                                    else None)

    async def start(self) -> None:
        if self.options.dut == "sim":
            from harness.sim import CsmsSim
            self.sim = CsmsSim(self.pics, host="127.0.0.1", port=0, faults=self.options.sim_faults)
            await self.sim.start()
            self.url = f"ws://127.0.0.1:{self.sim.port}/ocpp"
        await self.reconnect()

    async def reconnect(self, subprotocols: tuple[str, ...] = (SUBPROTOCOL,)) -> Link:
        """Close the connection if open and open a new one: the harness charge point's reboot."""
        if self.session.connected:
            await self.session.close()
        if self.options.dut == "external":
            self.notify(f"connecting to {self.url}/{self.pics.dut.charge_point_id} (up to "
                        f"{self.pics.timing.response_timeout:g} s)")
        link = await self.open_link(subprotocols)
        self.session.attach(link)
        return link

    async def open_link(self, subprotocols: tuple[str, ...] = (SUBPROTOCOL,)) -> Link:
        """A connection of the harness's charge point offering ``subprotocols``, not attached to
        the session (TC_088_CSMS negotiates on it). Raises ConnectionError, HandshakeRefused."""
        return await connect(self.url, self.pics.dut.charge_point_id,
                             timeout=self.pics.timing.response_timeout,
                             basic_auth_password=_security_password(self.pics),
                             ssl_context=self._ssl, subprotocols=subprotocols)

    async def stop(self) -> None:
        await self.session.close()
        if self.sim is not None:
            await self.sim.stop()

    @property
    def where(self) -> str:
        return f"{self.url}/{self.pics.dut.charge_point_id}"


def make_bench(pics: Pics, options: BenchOptions) -> CentralSystemBench | ChargePointBench:
    return (CentralSystemBench if options.sut == "cs" else ChargePointBench)(pics, options)
