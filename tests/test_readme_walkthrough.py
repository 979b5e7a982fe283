"""The README's first real-device run, as written: the reference simulators started as separate
processes (its 'terminal 1' blocks), the harness's commands run one by one (its 'terminal 2'
blocks: pics discover, answering the draft, pics, the external run over the http driver, report
--pdf). Only the ports change (free ones) and `.venv/bin/` becomes this interpreter's folder, so
a README command that stops working, or prints something else than a newcomer is told, fails
here. Both walk-throughs run side by side, bounded by BUDGET_S in all."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## A first real-device run, on the reference simulators"
BUDGET_S = 55.0
"""Measured 36 s wall for both at load ~4 (the charge point run's first case waits the draft's
30 s triggered_function_timeout for a BootNotification that a reconnection does not bring)."""
PORTS = ("9000", "8800", "8180", "8181")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, comment lines dropped."""
    joined = block.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def localise(command: str, ports: dict[str, int]) -> str:
    for old, new in ports.items():
        command = command.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
    return command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")


def walkthroughs() -> list[tuple[str, list[str]]]:
    blocks = readme_blocks()
    assert len(blocks) == 4, f"expected 4 sh blocks (device, harness) x 2, found {len(blocks)}"
    pairs = []
    for device, harness in (blocks[0:2], blocks[2:4]):
        assert device.startswith("# terminal 1") and harness.startswith("# terminal 2")
        (process,) = commands(device)
        pairs.append((process, commands(harness)))
    return pairs


def test_the_readme_has_both_walkthroughs_with_the_documented_commands():
    (cp, cp_steps), (csms, csms_steps) = walkthroughs()
    assert "harness.sim charge-point" in cp and "harness.sim csms" in csms
    for steps, sut in ((cp_steps, "cs"), (csms_steps, "csms")):
        joined = "\n".join(steps)
        for needed in ("harness pics discover", f"--ocpp-sut {sut} --ocpp-dut external",
                       "--ocpp-driver http://", "harness report"):
            assert needed in joined, (sut, needed)


class Walk:
    """One walk-through: its device process, then each harness command with rc and output."""

    def __init__(self, device: str, steps: list[str], cwd: Path, deadline: float):
        self.device, self.steps, self.cwd, self.deadline = device, steps, cwd, deadline
        self.results: list[tuple[str, int | None, str]] = []
        self.failure = ""

    def run(self) -> None:
        process = subprocess.Popen(shlex.split(self.device), cwd=self.cwd, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        ready = threading.Event()
        log: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                log.append(line)
                if "control on http://" in line:  # both simulators print it once serving
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        try:
            if not ready.wait(timeout=max(0.0, self.deadline - time.monotonic())):
                self.failure = f"the device never said it was serving: {''.join(log)[-2000:]}"
                return
            for step in self.steps:
                left = self.deadline - time.monotonic()
                try:
                    done = subprocess.run(["bash", "-c", step], cwd=self.cwd, text=True,
                                          capture_output=True, stdin=subprocess.DEVNULL,
                                          timeout=max(1.0, left))
                except subprocess.TimeoutExpired as expired:
                    out = (expired.stdout or "") if isinstance(expired.stdout, str) else ""
                    self.results.append((step, None, out))
                    self.failure = f"out of time ({BUDGET_S:g} s in all) in: {step}"
                    return
                self.results.append((step, done.returncode, done.stdout + done.stderr))
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def output(self, fragment: str) -> tuple[int | None, str]:
        for step, rc, out in self.results:
            if fragment in step:
                return rc, out
        raise AssertionError(f"no step with {fragment!r} ran; {self.failure or self.results}")


def pdf_made_or_said_why(rc: int | None, out: str) -> None:
    if rc == 0:
        assert re.search(r"report\.pdf: \d+ pages?, [\d.]+ s \(Chromium", out), out
    else:  # no Chromium on this machine: one line saying how to install it, exit 2
        assert rc == 2 and "report.pdf not written" in out and shutil.which("chromium") is None, out


@pytest.mark.timeout(BUDGET_S + 30)
def test_the_readme_walkthroughs_run_as_written(tmp_path):
    for name in ("testcases", "conftest.py", "pyproject.toml"):
        (tmp_path / name).symlink_to(ROOT / name)
    ports = {old: free_port() for old in PORTS}
    deadline = time.monotonic() + BUDGET_S
    walks = [Walk(localise(device, ports), [localise(s, ports) for s in steps], tmp_path, deadline)
             for device, steps in walkthroughs()]
    threads = [threading.Thread(target=walk.run) for walk in walks]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=BUDGET_S + 20)
    took = time.monotonic() - started
    cp, csms = walks
    for walk in walks:
        assert not walk.failure, walk.failure + "\n" + "\n".join(
            f"$ {s}\nrc={rc}\n{out[-3000:]}" for s, rc, out in walk.results)

    rc, out = cp.output("pics discover")
    assert rc == 0 and "discover: wrote my-charger.toml:" in out and "values read from the device" \
        in out, out
    rc, out = cp.output("harness pics my-charger.toml")
    assert rc == 0 and "sut cs, OCPPHarness RefChargePoint" in out, out
    rc, out = cp.output("--ocpp-sut cs")
    assert rc == 0, out
    assert f"ocpp: listening on ws://127.0.0.1:{ports['9000']}/<any path>/SIMCP001" in out, out
    assert re.search(r"\[1/2\] TC_003_CS +PASS", out) and re.search(r"\[2/2\] TC_010_CS +PASS",
                                                                    out), out
    assert "certificate: None (partial: 2 of " in out, out
    assert "Traceback" not in out
    pdf_made_or_said_why(*cp.output("harness report"))

    rc, out = csms.output("pics discover")
    assert rc == 0 and "discover: wrote my-csms.toml:" in out, out
    rc, out = csms.output("harness pics my-csms.toml")
    assert rc == 0 and "sut csms" in out, out
    rc, out = csms.output("--ocpp-sut csms")
    assert rc == 0 and "4 passed" in out and "certificate: None (partial: 4 of " in out, out
    assert "Traceback" not in out
    pdf_made_or_said_why(*csms.output("harness report"))
    assert took < BUDGET_S
