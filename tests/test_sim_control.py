"""The control protocol over HTTP (DESIGN 2.5), the command line, and docs/faults.md."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from harness.sim import ChargePointSim, ControlServer, CsmsSim
from harness.sim.cp.actions import SPECS as CP_SPECS
from harness.sim.faults import render_markdown
from scripted_peers import ScriptedCp, ScriptedCsms, stand_in_pics

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def cp_control():
    async with ScriptedCsms() as csms:
        cp = ChargePointSim(stand_in_pics("cs", connectors=1), csms.url)
        await cp.start()
        await csms.expect("BootNotification")
        server = ControlServer(cp.control, cp.status, specs=CP_SPECS)
        await server.start()
        async with aiohttp.ClientSession(base_url=server.url) as http:
            yield http, csms
        await server.stop()
        await cp.stop()


async def post(http, action: str, body=None, raw: str | None = None) -> tuple[int, dict]:
    data = raw if raw is not None else None
    async with http.post(f"/{action}", json=None if raw is not None else (body or {}),
                         data=data) as response:
        return response.status, await response.json()


async def test_charge_point_actions_over_http(cp_control):
    http, csms = cp_control
    status, body = await post(http, "plug_in", {"connectorId": 1})
    assert (status, body["outcome"]) == (200, "plugged in")
    await csms.expect("StatusNotification", lambda p: p["status"] == "Preparing")
    status, body = await post(http, "plug_in", {"connectorId": 1})
    assert status == 409 and "already" in body["error"]
    async with http.get("/status") as response:
        report = await response.json()
    assert response.status == 200 and report["role"] == "cp"
    assert report["connectors"][1]["evConnected"] is True
    async with http.get("/") as response:
        actions = (await response.json())["actions"]
    assert actions["present_id_tag"]["params"] == ["idTag", "connectorId?"]


@pytest.mark.parametrize("action,body,raw,code,words", [
    ("fly", {}, None, 404, ["unknown action 'fly'", "plug_in", "present_id_tag"]),
    ("plug_in", {}, None, 400, ["missing parameter 'connectorId'"]),
    ("plug_in", {"connectorId": 1, "force": True}, None, 400,
     ["unknown parameter(s) force", "accepted: connectorId"]),
    ("plug_in", {"connectorId": "1"}, None, 400, ["connectorId must be an integer"]),
    ("plug_in", {"connectorId": 3}, None, 400, ["connectorId must be 1 to 1"]),
    ("present_id_tag", None, "{not json", 400, ["not JSON"]),
    ("present_id_tag", None, "[1, 2]", 400, ["must be a JSON object"]),
    ("report_fault", {"connectorId": 1, "errorCode": "Smoke"}, None, 400, ["HighTemperature"]),
    ("inject_fault", {"name": "nope"}, None, 400, ["unknown fault 'nope'", "late_answer"]),
    ("inject_fault", {"name": "late_answer", "delay": 5}, None, 400, ["accepted: action, delay_ms"]),
    ("ev_suspend", {"connectorId": 1}, None, 409, ["no transaction"]),
])
async def test_charge_point_control_errors(cp_control, action, body, raw, code, words):
    http, _ = cp_control
    status, answer = await post(http, action, body, raw)
    assert status == code, answer
    for word in words:
        assert word in answer["error"]


async def test_csms_operation_over_http():
    async with CsmsSim(stand_in_pics("csms")) as csms:
        server = ControlServer(csms.control, csms.status)
        await server.start()
        try:
            async with ScriptedCp(csms.url, "CP001") as cp, \
                    aiohttp.ClientSession(base_url=server.url) as http:
                status, body = await post(http, "RemoteStartTransaction",
                                          {"chargePointId": "CP001",
                                           "payload": {"idTag": "VALID0001"}})
                assert (status, body) == (200, {"response": {"status": "Accepted"}})
                cp.responder = lambda action, p: ...  # answer nothing from now on
                status, body = await post(http, "Reset", {"payload": {"type": "Hard"},
                                                          "timeout": 0.2})
                assert status == 504 and "did not answer" in body["error"]
                status, body = await post(http, "set_boot_policy", {"status": "Pending"})
                assert (status, body["bootPolicy"]["status"]) == (200, "Pending")
                async with http.get("/status") as response:
                    report = await response.json()
                assert report["chargePoints"]["CP001"]["connected"] is True
        finally:
            await server.stop()


def test_docs_faults_md_is_generated_from_the_registry():
    assert (ROOT / "docs" / "faults.md").read_text(encoding="utf-8") == render_markdown(), \
        "docs/faults.md is out of date: python -m harness.sim faults-doc > docs/faults.md"


async def _line(stream, pattern: str) -> re.Match:
    async with asyncio.timeout(20):
        while True:
            line = (await stream.readline()).decode()
            assert line, "the simulator exited early"
            if match := re.search(pattern, line):
                return match


async def test_command_line_runs_both_simulators_until_terminated():
    csms = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "harness.sim", "csms", "--listen", "127.0.0.1:0",
        "--control", "127.0.0.1:0", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    cp = None
    try:
        found = await _line(csms.stdout, r"ws://127\.0\.0\.1:(\d+)/.*control on (http://\S+)")
        port, control = found.group(1), found.group(2)
        cp = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "harness.sim", "charge-point", "--csms-url",
            f"ws://127.0.0.1:{port}/ocpp", "--id", "CLI1", "--fault", "late_answer:delay_ms=1",
            "--set", "MeterValueSampleInterval=17", cwd=ROOT, stdout=asyncio.subprocess.PIPE)
        cp_control = (await _line(cp.stdout, r"control on (http://\S+)")).group(1)
        # The console log says when the charge point has booted.
        await _line(csms.stderr, r"csms: boot chargePointId=CLI1 status=Accepted")
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{control}/status") as response:
                report = await response.json()
            assert report["chargePoints"]["CLI1"]["registration"] == "Accepted"
            async with http.get(f"{cp_control}/status") as response:
                cp_report = await response.json()
        assert cp_report["faults"] == [{"name": "late_answer",
                                        "params": {"action": "*", "delay_ms": 1}}]
        assert cp_report["configuration"]["MeterValueSampleInterval"] == "17"
    finally:
        for process in (cp, csms):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in (cp, csms):
            if process is not None:
                assert await asyncio.wait_for(process.wait(), 20) == 0


def test_faults_doc_check_mode(tmp_path):
    from harness.sim.__main__ import main
    stale = tmp_path / "faults.md"
    stale.write_text("old\n")
    assert main(["faults-doc", "--check", str(stale)]) == 1
    assert main(["faults-doc", "--check", str(ROOT / "docs" / "faults.md")]) == 0
