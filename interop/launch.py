"""Start the devices the harness is run against as subprocesses and know where they listen: the
ocpp-library implementations, and the harness's own reference simulators started as a vendor starts
a device (``python -m harness.sim ...``, driven over HTTP).

Each prints one line on standard output once it serves (``READY ...``; the simulators
``... control on http://...``); its log (standard error) goes to a file. Used by interop/run.py and
tests/test_interop_suite.py.
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
READY_TIMEOUT_S = 90.0
"""A Python process starting on a loaded 2-core machine may take tens of seconds to import."""


_GIVEN: set[int] = set()
"""The ports :func:`free_port` gave in this process."""


def free_port() -> int:
    """A port free now, for the harness's central system (it must be known before the charge point
    starts). Chosen below the kernel's ephemeral range (Linux: 32768-60999), so that the many
    sockets other processes open on port 0 cannot take it before the harness binds it."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        if port in _GIVEN:  # runs side by side (--jobs): never the same port to two of them
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            _GIVEN.add(port)
            return port
    raise RuntimeError("no free port found between 20000 and 32000 on 127.0.0.1")


@contextmanager
def implementation(module: str, args: list[str], log_path: Path,
                   ready: str = "READY") -> Iterator[dict[str, str]]:
    """Run ``python -m <module> <args>``; yields the ready line's fields (``ws``, ``control``):
    the first line on standard output that contains ``ready``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=log, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            yield _ready(process, module, log_path, ready)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _ready(process: subprocess.Popen, module: str, log_path: Path, marker: str) -> dict[str, str]:
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
                    if marker in line:
                        fields = dict(re.findall(r"(\w+)=(\S+)", line))
                        ws = re.search(r"\b(ws://[^\s;]+)", line)
                        if ws:
                            fields["ws"] = ws.group(1).split("/<")[0]
                        control = re.search(r"control on (http://[^\s;]+)", line)
                        if control:
                            fields["control"] = control.group(1)
                        return fields
    raise RuntimeError(f"{module} did not get ready within {READY_TIMEOUT_S:g} s (exit code "
                       f"{process.poll()}); its log: {log_path}")


@contextmanager
def library_charge_point(harness_port: int, log_path: Path,
                         pics: Path = CP_PICS, control_port: int = 0) -> Iterator[str]:
    """The ocpp-library charge point, connecting to the harness at ``harness_port``; yields its
    control URL."""
    with implementation("interop.ocpp_lib_cp",
                        ["--csms", f"ws://127.0.0.1:{harness_port}/ocpp", "--pics", str(pics),
                         "--control", f"127.0.0.1:{control_port}"], log_path) as ready:
        yield ready["control"]


def wait_listening(port: int, process: subprocess.Popen, timeout: float) -> bool:
    """Until the harness's central system listens on ``port``, ``process`` (the harness run) ends,
    or ``timeout`` passes; True when it listens. Read from the kernel's socket table, without
    touching the port: a probe connection would be a connection attempt in the harness's evidence,
    and a probe bind could take the port from under the harness."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if _listening(port):
            return True
        time.sleep(0.1)
    return False


def _listening(port: int) -> bool:
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:  # not Linux: connect, after all
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    for row in table.splitlines()[1:]:
        fields = row.split()
        if len(fields) > 3 and fields[3] == "0A" and fields[1].endswith(f":{port:04X}"):
            return True
    return False


@contextmanager
def supervised_charge_point(harness_port: int, log_path: Path,
                            pics: Path = SUPERVISED_PICS, control_port: int = 0) -> Iterator[str]:
    """The second charge point: the ocpp-library firmware under its rig's supervisor
    (interop/supervised_cp.py), connecting to the harness at ``harness_port``; yields the rig's
    control URL. Same shape as :func:`library_charge_point`."""
    with implementation("interop.supervised_cp",
                        ["--csms", f"ws://127.0.0.1:{harness_port}/ocpp", "--pics", str(pics),
                         "--control", f"127.0.0.1:{control_port}"], log_path) as ready:
        yield ready["control"]


@contextmanager
def library_central_system(log_path: Path) -> Iterator[tuple[str, str]]:
    """The ocpp-library central system; yields (its ws:// URL for charge points, control URL)."""
    with implementation("interop.ocpp_lib_csms",
                        ["--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"], log_path) as ready:
        yield f"{ready['ws']}/ocpp", ready["control"]


@contextmanager
def reference_charge_point(harness_port: int, log_path: Path, pics: Path | None = None,
                           control_port: int = 0) -> Iterator[str]:
    """The harness's reference charge point as a separate process (``python -m harness.sim
    charge-point``), connecting to the harness at ``harness_port``; yields its control URL."""
    args = ["charge-point", "--csms-url", f"ws://127.0.0.1:{harness_port}/ocpp",
            "--control", f"127.0.0.1:{control_port}"] + (["--pics", str(pics)] if pics else [])
    with implementation("harness.sim", args, log_path, ready="control on") as ready:
        yield ready["control"]


@contextmanager
def reference_central_system(log_path: Path, pics: Path | None = None) -> Iterator[tuple[str, str]]:
    """The harness's reference central system as a separate process (``python -m harness.sim
    csms``); yields (its ws:// URL for charge points, control URL)."""
    args = ["csms", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"] + (
        ["--pics", str(pics)] if pics else [])
    with implementation("harness.sim", args, log_path, ready="control on") as ready:
        yield f"{ready['ws']}/ocpp", ready["control"]


def pytest_args(sut: str, report_dir: Path, *, external: dict[str, str] | None = None,
                select: str | None = None, markers: str | None = None) -> list[str]:
    """The harness run of the suite for ``sut`` (all of it, or the ``markers`` selection, e.g.
    ``core``): against its embedded simulator, or with ``external`` (pics, listen / csms_url, driver)
    against a device in another process."""
    args = [sys.executable, "-m", "pytest", "testcases", "--ocpp-sut", sut,
            "--ocpp-report", str(report_dir), "-p", "no:cacheprovider", "-q", "-rN",
            "-p", "no:unraisableexception"]  # its session-end gc.collect() x5: ~0.35 s CPU a run
    if markers:
        args += ["-m", markers]
    if select:
        args += ["-k", select]
    if external:
        args += ["--ocpp-dut", "external", "--ocpp-driver", external["driver"]]
        if external.get("pics"):
            args += ["--ocpp-pics", external["pics"]]
        if sut == "cs":
            args += ["--ocpp-listen", external["listen"]]
        else:
            args += ["--ocpp-csms-url", external["csms_url"]]
    return args
