"""Run a reference simulator standalone.

    python -m harness.sim charge-point --csms-url ws://127.0.0.1:9000/ocpp --id CP1 \\
        [--pics PICS] [--control 127.0.0.1:8081] [--fault NAME[:k=v,...]] [--set Key=Value]
    python -m harness.sim csms [--listen 127.0.0.1:9000] [--pics PICS] \\
        [--control 127.0.0.1:8082] [--fault NAME[:k=v,...]]
    python -m harness.sim faults-doc [--check FILE]

Both serve the DUT control protocol (POST /<action>, GET /status, GET /capabilities; GET / lists
the actions) on --control and run until interrupted (SIGINT / SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from harness.sim.faults import FaultError, render_markdown
from harness.startup import host_port


def _host_port(text: str) -> tuple[str, int]:
    try:
        return host_port(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _setting(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.sim", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cp = sub.add_parser("charge-point", help="the reference charge point")
    cp.add_argument("--csms-url", required=True, help="CSMS endpoint; the id is appended")
    cp.add_argument("--id", help="charge point identity (default: the PICS [dut] charge_point_id)")
    cp.add_argument("--set", action="append", type=_setting, default=[], metavar="KEY=VALUE",
                    help="override a configuration key of the PICS")
    csms = sub.add_parser("csms", help="the reference central system")
    csms.add_argument("--listen", type=_host_port, default=("127.0.0.1", 9000),
                      metavar="HOST:PORT", help="where charge points connect (default "
                                                "127.0.0.1:9000)")
    for p in (cp, csms):
        p.add_argument("--pics", type=Path, help="PICS TOML (default: the simulator's own)")
        p.add_argument("--control", type=_host_port, default=None, metavar="HOST:PORT",
                       help="serve the control protocol here (default: 127.0.0.1, any free port)")
        p.add_argument("--fault", action="append", default=[], metavar="NAME[:k=v,...]",
                       help="inject a fault (repeatable; see docs/faults.md)")
        p.add_argument("-v", "--verbose", action="store_true")
    doc = sub.add_parser("faults-doc", help="print docs/faults.md from the fault registry")
    doc.add_argument("--check", type=Path, metavar="FILE",
                     help="exit 1 when FILE differs from the registry")
    return parser


async def _run(args: argparse.Namespace) -> int:
    from harness import pics as pics_module
    from harness.sim.control import ControlServer

    sut = "cs" if args.command == "charge-point" else "csms"
    pics = pics_module.load(args.pics or pics_module.default_path(sut))
    if args.command == "charge-point":
        from harness.sim.cp import ChargePointSim
        from harness.sim.cp.actions import SPECS
        sim = ChargePointSim(pics, args.csms_url, charge_point_id=args.id, faults=args.fault,
                             configuration=dict(args.set))
        where = f"connecting to {sim.url}"
    else:
        from harness.sim.csms import CsmsSim
        from harness.sim.csms.csms import SPECS
        sim = CsmsSim(pics, *args.listen, faults=args.fault)
    host, port = args.control or ("127.0.0.1", 0)
    control = ControlServer(sim.control, sim.status, host, port, specs=SPECS,
                            capabilities=sim.capabilities)
    await sim.start()
    await control.start()
    if args.command == "csms":
        where = (f"listening on {getattr(sim, 'scheme', 'ws')}://{sim.host}:{sim.port}/<path>/"
                 "<chargePointId>")
    print(f"{args.command}: {where}; control on {control.url}", flush=True)
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    try:
        await done.wait()
    finally:
        await control.stop()
        await sim.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "faults-doc":
        text = render_markdown()
        if args.check:
            current = args.check.read_text(encoding="utf-8") if args.check.exists() else ""
            if current != text:
                print(f"{args.check} is out of date: python -m harness.sim faults-doc > "
                      f"{args.check}", file=sys.stderr)
                return 1
            return 0
        sys.stdout.write(text)
        return 0
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_run(args))
    except FaultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # PicsError, an occupied port: one line, not a traceback
        if exc.__class__.__name__ == "PicsError" or isinstance(exc, OSError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
