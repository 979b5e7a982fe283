"""The terminal while a run goes on: where the harness listens and whom it waits for, every
refused connection with its reason, one line per case with its verdict and reason, tracebacks
only for harness ERRORs, no third-party warnings."""

from __future__ import annotations

import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]

WAITS_FOR_THE_DEVICE = """
from harness.cases import case

@case("TC_960_CS", "Needs the charge point", profile="Core")
async def test_tc_960_cs(cp, pics):
    await cp.wait_connected(pics.timing.boot_timeout)  # as the Booted state does
    raise AssertionError("must not run: the charge point never connected")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_wrong_charge_point_id_is_refused_aloud_and_named_in_the_verdict(tmp_path):
    (tmp_path / "test_cases.py").write_text(WAITS_FOR_THE_DEVICE)
    pics = re.sub(r"(?m)^boot_timeout = .*$", "boot_timeout = 4",
                  (ROOT / "harness/sim/default_cs.toml").read_text())
    (tmp_path / "pics.toml").write_text(pics)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "test_cases.py", "-p", "no:cacheprovider",
         "--ocpp-dut", "external", "--ocpp-driver", "prompt", "--ocpp-pics", "pics.toml",
         "--ocpp-listen", f"127.0.0.1:{port}", "--ocpp-report", str(tmp_path / "out"),
         "--ocpp-connect-timeout", "1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    seen = []

    def wait_for(fragment: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"no line with {fragment!r} in:\n{''.join(seen)}")

    try:
        listening = wait_for("ocpp: listening on")
        assert listening.strip() == (f"ocpp: listening on ws://127.0.0.1:{port}/<any path>/SIMCP001;"
                                     f" waiting up to 4 s for it (PICS timing.boot_timeout)")
        with connect(f"ws://127.0.0.1:{port}/ocpp/SIM-CP-001", subprotocols=["ocpp1.6"],
                     open_timeout=5) as ws:
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=5)
        refused = wait_for("ocpp: refused")
        assert refused.strip() == ("ocpp: refused 'SIM-CP-001': expected 'SIMCP001' "
                                   "(PICS dut.charge_point_id)")
        for _ in range(3):  # a charge point retrying at once: the same line is not repeated
            with connect(f"ws://127.0.0.1:{port}/ocpp/SIM-CP-001", subprotocols=["ocpp1.6"],
                         open_timeout=5) as ws:
                with pytest.raises(ConnectionClosed):
                    ws.recv(timeout=5)
        line = wait_for("TC_960_CS")
        # A device that tried and broke the handshake FAILs (issue 13), naming what was refused.
        assert "FAIL" in line and "did not connect within 4 s" in line and \
            "[ws.charge-point-id]" in line and "'SIM-CP-001'" in line, line
        process.wait(timeout=30)
        while process.stdout is not None and not lines.empty():
            seen.append(lines.get())
        rest = "".join(seen)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "Traceback" not in rest and "harness/session.py" not in rest
    assert rest.count("ocpp: refused") == 1, rest  # 4 attempts in < 10 s: one line
    assert "4 connection attempts: 4 x [ws.charge-point-id]" in line, line


FOUR_VERDICTS = """
from harness.cases import case
from harness.verdicts import Inconclusive

@case("TC_950_CS", "Fine", profile="Core")
async def test_tc_950_cs(pics):
    assert pics.dut.sut == "cs"

@case("TC_951_CS", "Operator away", profile="Core")
async def test_tc_951_cs(pics):
    raise Inconclusive("the operator did not plug in the cable within 60 s")

@case("TC_952_CS", "Fails", profile="Core")
async def test_tc_952_cs(pics):
    problems = ["StatusNotification Faulted"]
    assert not problems, "step 3: the charge point sent StatusNotification Faulted"

@case("TC_953_CS", "Breaks", profile="Core")
async def test_tc_953_cs(pics):
    raise RuntimeError("the harness broke")
"""


def test_one_line_per_case_and_tracebacks_only_for_harness_errors(pytester):
    pytester.makepyfile(test_cases=FOUR_VERDICTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-report",
                                           str(pytester.path / "out"), timeout=60)
    result.stdout.fnmatch_lines([
        "[[]1/4] TC_950_CS       PASS         * s  Fine",
        "[[]2/4] TC_951_CS       INCONCLUSIVE * s  the operator did not plug in the cable "
        "within 60 s",
        "[[]3/4] TC_952_CS       FAIL         * s  step 3: the charge point sent "
        "StatusNotification Faulted",
        "[[]4/4] TC_953_CS       ERROR        * s  harness error: RuntimeError: the harness "
        "broke",
    ])
    text = result.stdout.str()
    # No Python after an INCONCLUSIVE or a FAIL, no prefixes, no "assert not [...]" repeats.
    assert "raise Inconclusive" not in text and "assert not problems" not in text
    assert "AssertionError:" not in text and "Inconclusive:" not in text
    assert "assert not [" not in text
    # The harness's own failure keeps its traceback: someone must fix it.
    assert 'raise RuntimeError("the harness broke")' in text
    result.stdout.fnmatch_lines(["INCONCLUSIVE test_cases.py::test_tc_951_cs - the operator*",
                                 "FAIL test_cases.py::test_tc_952_cs - step 3:*",
                                 "ERROR test_cases.py::test_tc_953_cs - RuntimeError:*"])
    # -v gives pytest's own lines, with the verdict word, and the tracebacks.
    verbose = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", "--ocpp-report",
                                            str(pytester.path / "out"), timeout=60)
    verbose.stdout.fnmatch_lines(["*test_tc_951_cs INCONCLUSIVE*"])
    assert "raise Inconclusive" in verbose.stdout.str()


def test_third_party_warnings_are_filtered(pytester):
    pytester.makepyfile(test_cases="""
from harness.cases import case

@case("TC_954_CS", "Imports pyftpdlib", profile="Core")
async def test_tc_954_cs(pics):
    import pyftpdlib.servers  # noqa: F401 -- imports asynchat and asyncore
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--ocpp-report",
                                           str(pytester.path / "out"), timeout=60)
    assert "DeprecationWarning" not in result.stdout.str()
    assert "warnings summary" not in result.stdout.str()


NEEDS_THE_CHARGE_POINT = """
from harness.cases import case
from harness.states import cs_connected

@case("TC_961_CS", "Needs the charge point", profile="Core")
async def test_tc_961_cs(cp, pics):
    await cs_connected(cp, pics)

@case("TC_963_CS", "Needs it too", profile="Core")
async def test_tc_963_cs(cp, pics):
    await cs_connected(cp, pics)
"""


def test_a_charge_point_that_never_reached_the_harness_is_told_where_to_connect(pytester):
    """The README walk-through with the charge point pointed at another port: the waiting line is
    live, the verdict names the port it must dial and, on the default loopback address,
    --ocpp-listen 0.0.0.0; the next case is BLOCKED at once (it waited boot_timeout again before,
    each case: a full suite took hours), and the run does not wait the response timeout at the
    end to read the configuration of a device that never came."""
    pytester.makepyfile(test_cases=NEEDS_THE_CHARGE_POINT)
    pics = re.sub(r"(?m)^boot_timeout = .*$", "boot_timeout = 1",
                  (ROOT / "harness/sim/default_cs.toml").read_text())
    pics = re.sub(r"(?m)^response_timeout = .*$", "response_timeout = 40", pics)
    pytester.path.joinpath("pics.toml").write_text(pics)
    port = free_port()
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ocpp-dut", "external", "--ocpp-driver", "prompt",
        "--ocpp-pics", "pics.toml", "--ocpp-listen", f"127.0.0.1:{port}",
        "--ocpp-connect-timeout", "0.5", "--ocpp-report", str(pytester.path / "out"), timeout=90)
    result.stdout.fnmatch_lines([
        f"ocpp: waiting up to 0.5 s for the charge point SIMCP001 to connect to "
        f"ws://127.0.0.1:{port}/... (--ocpp-connect-timeout)",
        "[[]1/2] TC_961_CS       INCONCLUSIVE * s  the charge point *",
        "[[]2/2] TC_963_CS       BLOCKED         0.0 s  not run: the charge point has not "
        "connected to the harness once in this run; TC_961_CS waited for it (INCONCLUSIVE)"])
    result.stdout.fnmatch_lines([  # the reason in full, below the per-case line (cut to the width)
        f"the charge point SIMCP001 is not connected "
        f"to the harness: the device did not connect within 1 s (no connection attempt reached "
        f"the harness at 127.0.0.1:{port}: is the charge point's central system URL "
        f"ws://<this machine>:{port}/<any path>/<chargePointId>? (--ocpp-listen); 127.0.0.1 is "
        f"loopback: a charge point on the network needs --ocpp-listen 0.0.0.0:{port})"])
    assert result.duration < 30, result.duration  # not the 40 s response timeout at the end


def test_a_run_against_the_embedded_simulator_says_so(pytester):
    """`pytest testcases` with none of the plugin's options passes against the reference
    simulator: the terminal must say that no device of the user's was tested."""
    pytester.makepyfile(test_cases="""
from harness.cases import case

@case("TC_962_CS", "Needs the charge point", profile="Core")
async def test_tc_962_cs(cp):
    assert cp is not None  # the bench, and so the simulator, started
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--ocpp-report",
                                           str(pytester.path / "out"), timeout=60)
    result.stdout.fnmatch_lines([
        "ocpp: the charge point under test is the harness's embedded reference simulator "
        "(--ocpp-dut sim, the default); a device of yours needs --ocpp-dut external and its "
        "PICS (--ocpp-pics)"])
