"""A Core OCPP 1.6J charge point written with the PyPI ``ocpp`` library.

    python -m interop.ocpp_lib_cp --csms ws://HOST:PORT/ocpp --id CP --control 127.0.0.1:PORT \
        [--pics interop/ocpp_lib_cp.toml]

It connects to ``<csms>/<id>`` (retrying until the central system is there), boots, reports its
connectors, sends heartbeats, authorizes idTags (with an authorization cache), runs transactions with
sampled and clock-aligned meter values, answers the Core operations of the central system and keeps
transaction messages while offline. The PICS gives its identity, number of connectors and initial
configuration. When ready it prints ``READY control=http://HOST:PORT`` on standard output.

The control server plays the physical world (docs/driver-protocol.md): ``POST /plug_in``,
``/unplug``, ``/present_id_tag``, ``/power_cycle``, ``/power_off``, ``/power_on``, ``/go_offline``,
``/go_online``, ``/report_fault``, ``/clear_fault``, ``/ev_suspend``, ``/ev_resume``,
``/lock_failure``, ``/unlock_failure``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any

from interop.control import ControlServer, Refused, host_port
from interop.cp_model import Connector
from interop.cp_station import Station

log = logging.getLogger("interop.cp")

ERROR_CODES = ("ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature",
               "InternalError", "LocalListConflict", "OtherError", "OverCurrentFailure",
               "OverVoltage", "PowerMeterFailure", "PowerSwitchFailure", "ReaderFailure",
               "ResetFailure", "UnderVoltage", "WeakSignal")


class Rig:
    """The physical side of the charge point: cables, cards, power, network, faults."""

    def __init__(self, station: Station):
        self.station = station
        self.actions = {
            "plug_in": self.plug_in, "unplug": self.unplug, "present_id_tag": self.present_id_tag,
            "power_cycle": self.power_cycle, "power_off": self.power_off,
            "power_on": self.power_on, "go_offline": self.go_offline,
            "go_online": self.go_online, "report_fault": self.report_fault,
            "clear_fault": self.clear_fault, "ev_suspend": self.ev_suspend,
            "ev_resume": self.ev_resume, "lock_failure": self.lock_failure,
            "unlock_failure": self.unlock_failure,
        }
        if not station.has_lock:  # no cable lock to make fail: the rig cannot do these
            del self.actions["lock_failure"], self.actions["unlock_failure"]
        self._background: set[asyncio.Task] = set()

    async def perform(self, action: str, params: dict) -> dict:
        handler = self.actions.get(action)
        if handler is None:
            raise Refused(404, f"unknown action {action!r}; known: {', '.join(sorted(self.actions))}")
        needs_power = action not in ("power_on", "power_cycle")
        if needs_power and not self.station.powered:
            raise Refused(409, "the charge point is switched off")
        try:
            await handler(**params)
        except TypeError as exc:  # a parameter missing or unknown
            raise Refused(400, f"{action}: {exc}") from None
        return {}

    def _connector(self, connector_id: Any) -> Connector:
        if not isinstance(connector_id, int) or isinstance(connector_id, bool):
            raise Refused(400, f"connectorId must be an integer, got {connector_id!r}")
        connector = self.station.connectors.get(connector_id)
        if connector is None:
            raise Refused(404, f"the charge point has connectors 1 to {len(self.station.connectors)}")
        return connector

    async def plug_in(self, connectorId: int) -> None:
        self.station.plug_in(self._connector(connectorId))

    async def unplug(self, connectorId: int) -> None:
        self.station.unplug(self._connector(connectorId))

    async def present_id_tag(self, idTag: str, connectorId: int | None = None) -> None:
        if not isinstance(idTag, str) or not 0 < len(idTag) <= 20:
            raise Refused(400, f"idTag must be a string of 1 to 20 characters, got {idTag!r}")
        connector = self.station.target(None if connectorId is None else
                                        self._connector(connectorId).connector_id, idTag)
        # The card has been read: authorizing it is the charge point's business, not the rig's.
        task = asyncio.get_running_loop().create_task(self.station.present_id_tag(idTag, connector))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def power_cycle(self) -> None:
        await self.station.power_off()
        await self.station.power_on()

    async def power_off(self) -> None:
        await self.station.power_off()

    async def power_on(self) -> None:
        await self.station.power_on()

    async def go_offline(self) -> None:
        await self.station.go_offline()

    async def go_online(self) -> None:
        self.station.set_online(True)

    async def report_fault(self, connectorId: int, errorCode: str) -> None:
        if errorCode not in ERROR_CODES:
            raise Refused(400, f"errorCode must be one of {', '.join(ERROR_CODES)}")
        if connectorId == 0:
            raise Refused(501, "this rig can only fault a connector, not the whole charge point")
        connector = self._connector(connectorId)
        connector.fault = errorCode
        self.station.report(connector.connector_id)

    async def clear_fault(self, connectorId: int) -> None:
        connector = self._connector(connectorId)
        connector.fault = None
        connector.lock_fails = connector.unlock_fails = False
        self.station.report(connector.connector_id)

    async def ev_suspend(self, connectorId: int) -> None:
        connector = self._connector(connectorId)
        connector.ev_suspended = True
        self.station.report(connector.connector_id)

    async def ev_resume(self, connectorId: int) -> None:
        connector = self._connector(connectorId)
        connector.ev_suspended = False
        self.station.report(connector.connector_id)

    async def lock_failure(self, connectorId: int) -> None:
        self._connector(connectorId).lock_fails = True

    async def unlock_failure(self, connectorId: int) -> None:
        self._connector(connectorId).unlock_fails = True


def _dump_tasks() -> None:
    """SIGUSR1: every task's stack on standard error, to see what a stuck charge point waits for."""
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


RESET_EXIT_CODE = 3
"""The process ended because of a Reset.req (interop/supervised_cp.py starts it again)."""


def _save(station: Station, state: Path) -> None:
    """What the charge point keeps in flash: changed configuration values and availability."""
    data = {"configuration": station.config.changeable(),
            "station_operative": station.station_operative,
            "operative": {str(c.connector_id): c.operative for c in station.connectors.values()}}
    state.write_text(json.dumps(data))


def _restore(station: Station, state: Path) -> None:
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return  # first start: the PICS values
    station.config.restore(data.get("configuration") or {})
    station.station_operative = bool(data.get("station_operative", True))
    for key, operative in (data.get("operative") or {}).items():
        connector = station.connectors.get(int(key))
        if connector is not None:
            connector.operative = bool(operative)


def _exit(station: Station, state: Path | None, kind: str) -> None:
    """Reset: the transactions are stopped and their messages delivered (or given up on); the
    firmware ends here, without closing its WebSocket -- the kernel closes the socket."""
    if state is not None:
        _save(station, state)
    log.info("Reset %s: the firmware exits", kind)
    logging.shutdown()
    os._exit(RESET_EXIT_CODE)


def load_pics(path: str | None) -> dict:
    if path is None:
        return {}
    with Path(path).open("rb") as fh:
        return tomllib.load(fh)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m interop.ocpp_lib_cp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csms", required=True, help="the central system's URL, ws://HOST:PORT/path")
    parser.add_argument("--id", default=None, help="the charge point identity (default: the PICS)")
    parser.add_argument("--control", default="127.0.0.1:0", help="HOST:PORT of the control server")
    parser.add_argument("--pics", default=None, help="PICS TOML: identity, connectors, configuration, "
                        "hardware (features.cable, features.authorization_cache)")
    parser.add_argument("--state", default=None, help="a file that keeps the configuration and "
                        "availability across restarts of this process (its flash memory)")
    parser.add_argument("--exit-on-reset", action="store_true", help="on Reset, stop the "
                        "transactions, then end the process (exit code 3); a supervisor restarts it")
    parser.add_argument("--skip-finishing", action="store_true", help="a transaction that ends "
                        "with nothing left at the connector goes straight to Available")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    pics = load_pics(args.pics)
    dut, features = pics.get("dut", {}), pics.get("features", {})
    identity = {"charge_point_vendor": dut.get("vendor", "PyOCPP-Interop"),
                "charge_point_model": dut.get("model", "LibChargePoint"),
                "firmware_version": dut.get("firmware_version", "ocpp-2.1.0")}
    if dut.get("serial_number"):
        identity["charge_point_serial_number"] = dut["serial_number"]
    configuration = {k: (("true" if v else "false") if isinstance(v, bool) else str(v))
                     for k, v in pics.get("configuration", {}).items()}
    cable = features.get("cable", "fixed" if features.get("fixed_cable") else "socket_with_lock")
    state = Path(args.state) if args.state else None
    station = Station(charge_point_id=args.id or dut.get("charge_point_id", "INTEROP-CP-1"),
                      csms_url=args.csms, connectors=int(features.get("connectors", 1)),
                      identity=identity, configuration=configuration,
                      response_timeout=float(pics.get("timing", {}).get("response_timeout", 10)),
                      has_lock=cable == "socket_with_lock",
                      has_cache=bool(features.get("authorization_cache", False)),
                      finishing_when_empty=not args.skip_finishing,
                      exit_on_reset=(lambda kind: _exit(station, state, kind))
                      if args.exit_on_reset else None)
    if state is not None:
        _restore(station, state)
        station.config.listeners.append(lambda name: _save(station, state))
        change_availability = station.change_availability

        def persisted(connector_id: int, operative: bool) -> str:
            status = change_availability(connector_id, operative)
            _save(station, state)
            return status
        station.change_availability = persisted  # type: ignore[method-assign]
    rig = Rig(station)
    control = ControlServer(rig.perform, lambda: sorted(rig.actions), *host_port(args.control))
    await control.start()
    await station.power_on()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, _dump_tasks)
    print(f"READY control=http://{control.host}:{control.port}", flush=True)
    try:
        await asyncio.Future()
    finally:
        await station.power_off()
        await control.stop()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
