"""A load run against the reference CSMS started as a separate process (``make load``, the tests).

    python -m harness.load.refsim [--fault NAME[:k=v,...]] [--heartbeat-interval S] \\
        [--boot-pending S] [--pics PICS] -- --users 50 --time 10 --scenario steady --report DIR

Starts ``python -m harness.sim csms --listen 127.0.0.1:0`` (its own process, as a vendor's CSMS
would be), sets its boot policy (the heartbeat interval it gives; with --boot-pending, Pending for
the first S seconds, then Accepted) and gives every load charge point its own idTag through the
control protocol, runs ``python -m harness.load`` against it with the arguments after ``--``, stops
the simulator and exits with the load run's code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT = 30.0
DEFAULT_PICS = Path(__file__).resolve().parents[1] / "sim" / "default_csms.toml"
"""The PICS the reference CSMS runs with when not given one (harness.sim csms)."""
TAG_PREFIX = "LOADTAG"
_READY = re.compile(r"listening on (wss?)://([\d.]+):(\d+)/.*control on (http://\S+)")


def _post(control: str, action: str, body: dict) -> dict:
    request = urllib.request.Request(f"{control}/{action}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


class RefCsms:
    """The reference CSMS in its own process."""

    def __init__(self, faults: list[str] = (), pics: str | None = None):
        command = [sys.executable, "-m", "harness.sim", "csms", "--listen", "127.0.0.1:0",
                   "--control", "127.0.0.1:0"]
        for fault in faults:
            command += ["--fault", fault]
        if pics:
            command += ["--pics", pics]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        ready = threading.Event()
        found: list[re.Match] = []

        def read() -> None:
            for line in self.process.stdout:
                match = _READY.search(line)
                if match and not found:
                    found.append(match)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(STARTUP_TIMEOUT) or not found:
            self.stop()
            raise RuntimeError(f"the reference CSMS did not start within {STARTUP_TIMEOUT:g} s")
        scheme, host, port, self.control = found[0].groups()
        self.url = f"{scheme}://{host}:{port}/ocpp"

    def post(self, action: str, body: dict) -> dict:
        return _post(self.control, action, body)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _users(load_args: list[str]) -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--users", type=int, default=0)
    return parser.parse_known_args(load_args)[0].users


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    own, load_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    parser = argparse.ArgumentParser(prog="python -m harness.load.refsim",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[:k=v,...]")
    parser.add_argument("--heartbeat-interval", type=int, default=5, metavar="S",
                        help="the interval the CSMS gives at boot (default 5)")
    parser.add_argument("--boot-pending", type=float, metavar="S",
                        help="answer Pending (interval 1) for the first S seconds")
    parser.add_argument("--pics", help="the CSMS simulator's PICS")
    parser.add_argument("--cases", metavar="PYTEST_ARGS", help="CSMS test cases to run against "
                        "the reference CSMS while the swarm runs (python -m harness load --cases,"
                        " with the simulator's PICS and its control protocol as the driver)")
    args = parser.parse_args(own)
    if args.pics:  # a PICS the simulator would refuse: say why here, not "did not start"
        from harness import pics as pics_module
        try:
            pics_module.load(args.pics)
        except (pics_module.PicsError, OSError) as exc:
            print(f"refsim: --pics {args.pics}: {exc}", file=sys.stderr)
            return 4
    csms = RefCsms(args.fault, args.pics)
    timer = None
    try:
        users = _users(load_args)
        if args.boot_pending:
            csms.post("set_boot_policy", {"status": "Pending", "interval": 1})

            def accept() -> None:
                csms.post("set_boot_policy", {"status": "Accepted",
                                              "interval": args.heartbeat_interval})
            timer = threading.Timer(args.boot_pending, accept)
        else:
            csms.post("set_boot_policy", {"status": "Accepted",
                                          "interval": args.heartbeat_interval})
        for index in range(1, users + 1):
            csms.post("set_id_tag", {"idTag": f"{TAG_PREFIX}{index:05d}", "status": "Accepted"})
        print(f"refsim: reference CSMS at {csms.url} (pid {csms.process.pid}); faults: "
              f"{', '.join(args.fault) or 'none'}", flush=True)
        command = [sys.executable, "-m", "harness.load", "--csms-url", csms.url,
                   "--id-tag-prefix", TAG_PREFIX, *load_args]
        if args.cases:
            command += ["--cases", args.cases, "--cases-driver", csms.control,
                        "--cases-pics", args.pics or str(DEFAULT_PICS)]
        load = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                stdout=subprocess.PIPE, text=True)
        for line in load.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            if timer is not None and line.startswith("harness load: ") and not timer.ident:
                timer.start()  # the Pending period counts from the swarm's start
        return load.wait()
    finally:
        if timer is not None:
            timer.cancel()
        started = time.monotonic()
        csms.stop()
        if time.monotonic() - started > 5:
            print("refsim: the reference CSMS took long to stop", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
