"""Start the ocpp-library implementations as subprocesses and know where they listen.

Each prints one ``READY ...`` line on standard output once it serves; its log (standard error) goes
to a file. Used by interop/run.py and tests/test_interop_suite.py.
"""

from __future__ import annotations

import os
import random
import re
import selectors
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
CP_PICS = ROOT / "interop" / "ocpp_lib_cp.toml"
CSMS_PICS = ROOT / "interop" / "ocpp_lib_csms.toml"
SUPERVISED_PICS = ROOT / "interop" / "ocpp_lib_cp_supervised.toml"
"""The second charge point (interop/supervised_cp.py): no cable lock, no authorization cache,
Charging -> Available, a firmware that exits on Reset and is restarted by its rig."""
READY_TIMEOUT_S = 20.0


def free_port() -> int:
    """A port free now, for the harness's central system (it must be known before the charge point
    starts). Chosen below the kernel's ephemeral range (Linux: 32768-60999), so that the many
    sockets other processes open on port 0 cannot take it before the harness binds it."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port found between 20000 and 32000 on 127.0.0.1")


@contextmanager
def implementation(module: str, args: list[str], log_path: Path) -> Iterator[dict[str, str]]:
    """Run ``python -m <module> <args>``; yields the READY line's fields (``ws``, ``control``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=log, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            yield _ready(process, module, log_path)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _ready(process: subprocess.Popen, module: str, log_path: Path) -> dict[str, str]:
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    deadline = time.monotonic() + READY_TIMEOUT_S
    buffered = ""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(deadline - time.monotonic()):
                chunk = process.stdout.read() or ""
                if not chunk and process.poll() is not None:
                    break
                buffered += chunk
                for line in buffered.splitlines():
                    if line.startswith("READY"):
                        fields = dict(re.findall(r"(\w+)=(\S+)", line))
                        ws = re.search(r"\b(ws://\S+)", line)
                        if ws:
                            fields["ws"] = ws.group(1)
                        return fields
    raise RuntimeError(f"{module} did not get ready within {READY_TIMEOUT_S:g} s (exit code "
                       f"{process.poll()}); its log: {log_path}")


@contextmanager
def library_charge_point(harness_port: int, log_path: Path,
                         pics: Path = CP_PICS) -> Iterator[str]:
    """The ocpp-library charge point, connecting to the harness at ``harness_port``; yields its
    control URL."""
    with implementation("interop.ocpp_lib_cp",
                        ["--csms", f"ws://127.0.0.1:{harness_port}/ocpp", "--pics", str(pics),
                         "--control", "127.0.0.1:0"], log_path) as ready:
        yield ready["control"]


@contextmanager
def supervised_charge_point(harness_port: int, log_path: Path,
                            pics: Path = SUPERVISED_PICS) -> Iterator[str]:
    """The second charge point: the ocpp-library firmware under its rig's supervisor
    (interop/supervised_cp.py), connecting to the harness at ``harness_port``; yields the rig's
    control URL. Same shape as :func:`library_charge_point`."""
    with implementation("interop.supervised_cp",
                        ["--csms", f"ws://127.0.0.1:{harness_port}/ocpp", "--pics", str(pics),
                         "--control", "127.0.0.1:0"], log_path) as ready:
        yield ready["control"]


@contextmanager
def library_central_system(log_path: Path) -> Iterator[tuple[str, str]]:
    """The ocpp-library central system; yields (its ws:// URL for charge points, control URL)."""
    with implementation("interop.ocpp_lib_csms",
                        ["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"], log_path) as ready:
        yield f"{ready['ws']}/ocpp", ready["control"]


def pytest_args(sut: str, report_dir: Path, *, external: dict[str, str] | None = None,
                select: str | None = None) -> list[str]:
    """The harness run of the Core suite for ``sut``: against its embedded simulator, or with
    ``external`` (pics, listen / csms_url, driver) against another implementation."""
    args = [sys.executable, "-m", "pytest", "testcases", "-m", "core", "--ocpp-sut", sut,
            "--ocpp-report", str(report_dir), "-p", "no:cacheprovider", "-q", "-rN"]
    if select:
        args += ["-k", select]
    if external:
        args += ["--ocpp-dut", "external", "--ocpp-pics", external["pics"],
                 "--ocpp-driver", external["driver"]]
        if sut == "cs":
            args += ["--ocpp-listen", external["listen"]]
        else:
            args += ["--ocpp-csms-url", external["csms_url"]]
    return args
