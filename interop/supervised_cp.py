"""A charge point whose firmware exits on Reset, and the rig that supervises it.

    python -m interop.supervised_cp --csms ws://HOST:PORT/ocpp --control 127.0.0.1:PORT \
        [--pics interop/ocpp_lib_cp_supervised.toml] [--restart-delay 2]

The firmware is :mod:`interop.ocpp_lib_cp` run as a child process with ``--exit-on-reset`` (a
Reset.req stops the transactions, delivers their StopTransaction.req, then the process ends: no
WebSocket close frame, the kernel closes the socket), ``--skip-finishing`` (a transaction that ends
with nothing left at the connector goes straight to Available) and ``--state`` (configuration and
availability kept in a file, its flash memory). Its PICS gives it a socket without a cable lock
(UnlockConnector NotSupported, the cable leaves with the EV) and no authorization cache.

This process is the rig: it serves the DUT control protocol (docs/driver-protocol.md) on
``--control`` and passes every action to the firmware of the moment; when the firmware ends --
after a Reset, or a crash -- it starts it again after ``--restart-delay`` seconds, and tells the new
one what is physically there (a cable still plugged in is plugged in again, as the new firmware
finds it at boot). An action asked while the firmware restarts waits for it (bounded). When ready it
prints ``READY control=http://HOST:PORT`` on standard output, like the other implementations.

Rules it keeps: the physical world (which connector has an EV) belongs to the rig, not to the
firmware, so it survives a restart; everything else is the firmware's and survives only through its
state file. It imports nothing of ``harness``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp

from interop.control import ControlServer, Refused, host_port

log = logging.getLogger("interop.supervisor")

ROOT = Path(__file__).resolve().parent.parent
RESET_EXIT_CODE = 3
READY_TIMEOUT_S = 20.0
"""Bound of a firmware start, and of an action's wait for a firmware that is restarting."""
ACTION_TIMEOUT_S = 60.0


class Supervisor:
    def __init__(self, firmware_args: list[str], restart_delay: float):
        self.firmware_args = firmware_args
        self.restart_delay = restart_delay
        self.process: asyncio.subprocess.Process | None = None
        self.control: str | None = None
        self.up = asyncio.Event()
        self.plugged: set[int] = set()
        """Connectors with an EV plugged in: the rig's knowledge, kept across restarts."""
        self.restarts = 0
        self.actions: list[str] = []
        """The firmware's rig actions (its GET /capabilities), which this rig passes on."""
        self._stopping = False
        self._watch: asyncio.Task | None = None
        self.http: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ACTION_TIMEOUT_S))
        await self._launch()
        self._watch = asyncio.get_running_loop().create_task(self._supervise())

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.http is not None:
            await self.http.close()

    async def _launch(self) -> None:
        self.up.clear()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "interop.ocpp_lib_cp", *self.firmware_args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=None)
        assert self.process.stdout is not None
        async with asyncio.timeout(READY_TIMEOUT_S):
            while True:
                line = (await self.process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError(f"the firmware ended before it was ready (exit code "
                                       f"{await self.process.wait()})")
                found = re.search(r"control=(\S+)", line)
                if line.startswith("READY") and found:
                    self.control = found.group(1)
                    break
        log.info("firmware %s up, control %s", self.process.pid, self.control)
        assert self.http is not None
        async with self.http.get(f"{self.control}/capabilities") as reply:
            self.actions = list((await reply.json(content_type=None)).get("actions") or [])
        # What the new firmware finds at boot: the EVs still plugged in.
        for connector_id in sorted(self.plugged):
            await self._forward("plug_in", {"connectorId": connector_id})
        self.up.set()

    async def _supervise(self) -> None:
        while not self._stopping:
            assert self.process is not None
            code = await self.process.wait()
            self.up.clear()
            if self._stopping:
                return
            why = "Reset" if code == RESET_EXIT_CODE else f"exit code {code}"
            log.info("firmware ended (%s); starting it again in %.1f s", why, self.restart_delay)
            self.restarts += 1
            await asyncio.sleep(self.restart_delay)  # the rig's own restart time
            try:
                await self._launch()
            except (RuntimeError, TimeoutError) as exc:
                log.error("the firmware did not come back: %s; trying again", exc)

    async def _forward(self, action: str, params: dict) -> tuple[int, dict]:
        assert self.http is not None and self.control is not None
        async with self.http.post(f"{self.control}/{action}", json=params) as reply:
            try:
                body = await reply.json(content_type=None)
            except ValueError:
                body = {"error": (await reply.text())[:500]}
            return reply.status, body if isinstance(body, dict) else {"reply": body}

    async def capabilities(self) -> list[str]:
        """The firmware's rig actions, once a firmware is up (bounded: none after the bound)."""
        try:
            await asyncio.wait_for(self.up.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            raise Refused(503, f"the firmware is not up (for more than {READY_TIMEOUT_S:g} s)") from None
        return self.actions

    async def perform(self, action: str, params: dict) -> tuple[int, dict]:
        try:
            await asyncio.wait_for(self.up.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            return 503, {"error": f"the firmware is not up (restarting for more than "
                                  f"{READY_TIMEOUT_S:g} s)"}
        try:
            status, body = await self._forward(action, params)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 503, {"error": f"the firmware did not answer {action}: {exc!r}"}
        if 200 <= status < 300 and action in ("plug_in", "unplug"):
            connector_id = params.get("connectorId")
            if action == "plug_in":
                self.plugged.add(connector_id)
            else:
                self.plugged.discard(connector_id)
        return status, body



async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interop.supervised_cp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csms", required=True, help="the central system's URL")
    parser.add_argument("--control", default="127.0.0.1:0", help="HOST:PORT of the rig's control")
    parser.add_argument("--pics", default=str(ROOT / "interop" / "ocpp_lib_cp_supervised.toml"))
    parser.add_argument("--restart-delay", type=float, default=2.0,
                        help="seconds from the firmware's end to its new start (default 2)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="supervised-cp-") as flash:
        supervisor = Supervisor(["--csms", args.csms, "--pics", args.pics, "--control",
                                 "127.0.0.1:0", "--state", str(Path(flash) / "state.json"),
                                 "--exit-on-reset", "--skip-finishing"], args.restart_delay)

        async def perform(action: str, params: dict) -> dict:
            status, body = await supervisor.perform(action, params)
            if not 200 <= status < 300:
                raise Refused(status, str(body.get("error", body)))
            return body

        # The rig's control is up before the firmware starts: the firmware connects to the
        # central system as soon as it runs, and a harness that sees it connected may ask the rig
        # at once (TC_001_CS power-cycles first thing); capabilities and actions wait for the
        # firmware (bounded), as they do while it restarts.
        control = ControlServer(perform, supervisor.capabilities, *host_port(args.control))
        await control.start()
        await supervisor.start()
        host, port = control.host, control.port
        stopped = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stopped.set)
        print(f"READY control=http://{host}:{port}", flush=True)
        try:
            await stopped.wait()
        finally:
            await control.stop()
            await supervisor.stop()


if __name__ == "__main__":
    asyncio.run(main())
