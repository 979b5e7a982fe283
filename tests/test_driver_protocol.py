"""The driver layer's own rules: every action recorded in the wire log (event "driver"), a rig's
declared capabilities read by every driver, and the actions a case needs read from its code."""

from __future__ import annotations

import asyncio
import json
import textwrap
import threading
from pathlib import Path

import pytest
from aiohttp import web

from harness import __main__ as harness_cli
from harness.drivers import HttpDriver, PromptDriver, PythonDriver, SimDriver
from harness.drivers.base import (CHARGE_POINT_ACTIONS, ActionNotDone, ActionTimedOut, Driver,
                                  acting_for, parse_capabilities)
from harness.drivers.needs import needed_actions
from harness.report.evidence import arrows as sequence_of
from harness.session import Session
from harness.verdicts import Inconclusive
from harness.wirelog import WireLog, read

ROOT = Path(__file__).resolve().parents[1]


class Scripted(Driver):
    """Answers each action as told: a dict (done), an exception to raise, or 'hang'."""

    def __init__(self, script: dict) -> None:
        self.script = script

    async def perform(self, action, params, *, timeout):
        answer = self.script[action]
        if answer == "hang":
            await asyncio.Event().wait()
        if isinstance(answer, BaseException):
            raise answer
        return answer


def recorded(driver: Driver) -> list[tuple[str, dict]]:
    lines: list[tuple[str, dict]] = []
    driver.recorder = lambda event, **detail: lines.append((event, detail))
    return lines


# ---------------------------------------------------------------- event lines

async def test_every_action_is_recorded_asked_then_answered_with_its_outcome():
    driver = Scripted({"plug_in": {"ok": 1}, "present_id_tag": ActionNotDone("409 occupied", 409),
                       "power_cycle": ActionTimedOut("no reply within 0.1 s", 0.1),
                       "go_offline": Inconclusive("operator said no")})
    lines = recorded(driver)
    assert await driver.plug_in(1, timeout=5) == {"ok": 1}
    with pytest.raises(ActionNotDone):
        await driver.present_id_tag("ABC", 1, timeout=5)
    with pytest.raises(ActionTimedOut):
        await driver.power_cycle(timeout=0.1)
    with pytest.raises(Inconclusive):
        await driver.go_offline(timeout=5)
    assert [e for e, _ in lines] == ["driver"] * 8
    asked, done = lines[0][1], lines[1][1]
    assert asked == {"phase": "asked", "action": "plug_in", "params": {"connectorId": 1},
                     "instruction": "Plug the EV cable into connector 1.", "timeout_s": 5.0}
    assert done["phase"] == "answered" and done["outcome"] == "done" and done["reply"] == {"ok": 1}
    assert isinstance(done["elapsed_s"], float) and done["elapsed_s"] >= 0
    assert lines[3][1]["outcome"] == "not done" and lines[3][1]["status"] == 409
    assert lines[3][1]["reason"] == "409 occupied"
    assert lines[5][1]["outcome"] == "timeout"
    assert lines[7][1]["outcome"] == "not done" and "status" not in lines[7][1]


async def test_an_action_the_case_stopped_waiting_for_is_recorded_abandoned():
    driver = Scripted({"power_on": "hang"})
    lines = recorded(driver)
    task = asyncio.ensure_future(driver.power_on(timeout=30))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert lines[-1][1]["outcome"] == "abandoned" and lines[-1][1]["action"] == "power_on"


async def test_actions_done_to_bring_the_device_idle_say_so():
    driver = Scripted({"unplug": {}})
    lines = recorded(driver)
    with acting_for("idle"):
        await driver.unplug(1, timeout=5)
    await driver.unplug(1, timeout=5)
    assert [d.get("for") for _, d in lines] == ["idle", "idle", None, None]


async def test_decimals_are_numbers_in_the_event_and_secrets_are_masked():
    from decimal import Decimal
    driver = Scripted({"SetChargingProfile": {}, "ChangeConfiguration": {"token": "abc"}})
    lines = recorded(driver)
    await driver.csms_send("SetChargingProfile", "CP1", {"limit": Decimal("7.10")}, timeout=5)
    await driver.csms_send("ChangeConfiguration", "CP1", {"key": "AuthorizationKey",
                                                          "value": "0011223344556677"}, timeout=5)
    assert lines[0][1]["params"]["payload"] == {"limit": 7.1}
    assert "7.10" in lines[0][1]["instruction"]
    text = json.dumps(lines)
    assert "0011223344556677" not in text and '"token": "abc"' not in text
    assert lines[2][1]["params"]["payload"] == {"key": "AuthorizationKey", "value": "***"}


async def test_a_wire_log_that_cannot_take_the_line_does_not_undo_the_action():
    driver = Scripted({"plug_in": {"ok": 1}})

    def closed(event, **detail):
        raise ValueError("wire log x is closed")
    driver.recorder = closed
    assert await driver.plug_in(1, timeout=5) == {"ok": 1}


class Rig:
    """A DUT control endpoint in its own thread: POST /<action>, GET /capabilities as told."""

    def __init__(self, capabilities=None, status: int = 200) -> None:
        self.capabilities, self.status = capabilities, status
        self.port = 0
        self._ready = threading.Event()
        self._loop = self._stop = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _post(self, request):
        action = request.match_info["action"]
        if action == "present_id_tag":
            return web.Response(status=409, text="connector 1 is occupied")
        return web.json_response({"done": action})

    async def _caps(self, request):
        if self.capabilities is None:
            return web.Response(status=self.status, text="no")
        if isinstance(self.capabilities, str):
            return web.Response(status=self.status, text=self.capabilities)
        return web.json_response(self.capabilities, status=self.status)

    async def _main(self):
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_post("/{action}", self._post)
        if self.capabilities is not None or self.status != 405:
            app.router.add_get("/capabilities", self._caps)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


async def test_http_actions_land_in_the_wire_log_the_report_and_validate_accepts_it(tmp_path, capsys):
    path = tmp_path / "TC_X.jsonl"
    session = Session("csms", response_timeout=5)
    with Rig() as rig, WireLog(path) as log:
        session.begin(log)
        driver = HttpDriver(f"http://127.0.0.1:{rig.port}")
        driver.recorder = session.record_event
        try:
            await driver.plug_in(1, timeout=5)
            with pytest.raises(ActionNotDone) as refused:
                await driver.present_id_tag("ABC", 1, timeout=5)
        finally:
            await driver.close()
        session.end()
    assert refused.value.status == 409
    lines = list(read(path))
    assert [(line.event, line.detail["phase"]) for line in lines] == [
        ("driver", "asked"), ("driver", "answered"), ("driver", "asked"), ("driver", "answered")]
    assert lines[1].detail["reply"] == {"done": "plug_in"}
    assert lines[3].detail["status"] == 409 and "connector 1 is occupied" in lines[3].detail["reason"]
    arrows, total, error = sequence_of(path, 100)
    assert error is None and total == 4
    assert [a.label for a in arrows][:2] == ["operator: Plug the EV cable into connector 1.",
                                              arrows[1].label]
    assert arrows[1].label.startswith("operator: plug_in done (")
    assert arrows[3].label.startswith("operator: present_id_tag not done 409 (")
    assert harness_cli.main(["validate", str(path)]) == 0


# ---------------------------------------------------------------- capabilities

@pytest.mark.parametrize("body, expected", [
    (["plug_in", "unplug"], {"plug_in", "unplug"}),
    ({"actions": ["Reset"]}, {"Reset"}),
    ({"actions": {"plug_in": {"params": ["connectorId"]}}}, {"plug_in"}),
    ([], set()),
])
async def test_http_capabilities_read_from_the_rig(body, expected):
    with Rig(capabilities=body) as rig:
        driver = HttpDriver(f"http://127.0.0.1:{rig.port}")
        try:
            assert await driver.load_capabilities(timeout=5) == frozenset(expected)
            assert driver.cannot(["plug_in", "power_cycle"]) == sorted({"plug_in", "power_cycle"}
                                                                        - expected)
        finally:
            await driver.close()


@pytest.mark.parametrize("status", [404, 405, 501, 500])
async def test_http_rig_without_capabilities_can_do_everything(status):
    with Rig(status=status) as rig:
        driver = HttpDriver(f"http://127.0.0.1:{rig.port}")
        try:
            assert await driver.load_capabilities(timeout=5) is None
            assert driver.cannot(["plug_in", "power_cycle"]) == []
        finally:
            await driver.close()


@pytest.mark.parametrize("body", ["not json", json.dumps({"actions": "plug_in"}), json.dumps([1, 2])])
async def test_http_capabilities_that_are_not_a_list_of_names_are_the_rigs_mistake(body):
    with Rig(capabilities=body) as rig:
        driver = HttpDriver(f"http://127.0.0.1:{rig.port}")
        try:
            with pytest.raises(ValueError, match=f"GET http://127.0.0.1:{rig.port}/capabilities"):
                await driver.load_capabilities(timeout=5)
        finally:
            await driver.close()


async def test_http_capabilities_of_an_unreachable_rig_are_asked_again_later():
    from interop.launch import free_port
    port = free_port()
    driver = HttpDriver(f"http://127.0.0.1:{port}")
    try:
        assert await driver.load_capabilities(timeout=2) is None
        assert not driver.capabilities_known and driver.cannot(["plug_in"]) == []
    finally:
        await driver.close()
    with Rig(capabilities=["unplug"]) as rig:  # now it answers
        driver = HttpDriver(f"http://127.0.0.1:{rig.port}")
        try:
            assert await driver.load_capabilities(timeout=2) == {"unplug"}
            assert driver.capabilities_known and driver.cannot(["plug_in"]) == ["plug_in"]
        finally:
            await driver.close()


def test_parse_capabilities_names_the_source():
    assert parse_capabilities(("a", "b"), "x") == {"a", "b"}
    with pytest.raises(ValueError, match="^here: "):
        parse_capabilities("plug_in", "here")


async def test_python_driver_capabilities(tmp_path, monkeypatch):
    (tmp_path / "caprigs.py").write_text(textwrap.dedent('''
        class Declared:
            capabilities = ["plug_in", "unplug"]
            async def perform(self, action, params): return {}
        class AsyncDeclared:
            async def capabilities(self): return {"actions": ["Reset"]}
        class Generic:
            async def perform(self, action, params): return {}
        class Methods:
            async def plug_in(self, connectorId): return {}
            async def remote_start_transaction(self, chargePointId, payload): return {}
            def close(self): pass
        class Undeclared:
            capabilities = None
            async def plug_in(self, connectorId): return {}
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    expected = {"Declared": {"plug_in", "unplug"}, "AsyncDeclared": {"Reset"}, "Generic": None,
                "Methods": {"plug_in", "RemoteStartTransaction"}, "Undeclared": None}
    for name, wanted in expected.items():
        assert await PythonDriver(f"caprigs:{name}").load_capabilities(timeout=5) == wanted, name


async def test_prompt_can_do_everything_and_sim_says_what_the_simulator_can():
    assert await PromptDriver().load_capabilities(timeout=5) is None

    class Target:
        def capabilities(self):
            return ["plug_in"]
    assert await SimDriver(Target()).load_capabilities(timeout=5) == {"plug_in"}
    assert await SimDriver(object()).load_capabilities(timeout=5) is None


async def test_reference_simulators_serve_their_capabilities_over_http():
    from harness import pics as pics_module
    from harness.sim import ControlServer, CsmsSim
    from harness.sim.csms.csms import SPECS

    csms = CsmsSim(pics_module.load(pics_module.default_path("csms")), "127.0.0.1", 0)
    server = ControlServer(csms.control, csms.status, specs=SPECS, capabilities=csms.capabilities)
    await server.start()
    try:
        driver = HttpDriver(server.url)
        try:
            declared = await driver.load_capabilities(timeout=5)
        finally:
            await driver.close()
    finally:
        await server.stop()
    assert {"RemoteStartTransaction", "SetChargingProfile", "Reset"} <= declared


def test_new_actions_have_an_instruction_and_a_method():
    for action in ("remove_cable", "reset_device"):
        assert action in CHARGE_POINT_ACTIONS and callable(getattr(Driver, action))
    assert "socket" in CHARGE_POINT_ACTIONS["remove_cable"][1]({"connectorId": 2})


# ---------------------------------------------------------------- what a case needs

def test_needs_are_read_through_states_helpers_decorators_and_forwarded_operations(tmp_path):
    from harness.states.csms import operator_sends
    from harness.states.cs import charging

    async def helper(driver):
        await driver.go_offline(timeout=1)

    async def forwards(csms, driver, pics, what):
        return await operator_sends(csms, driver, pics, what, {}, answer=None, step=1)

    async def case(cp, driver, pics):
        async with charging(cp, driver, pics):   # an asynccontextmanager state
            await helper(driver)
        await forwards(None, driver, pics, "Reset")
        await driver.act("power_cycle", {}, timeout=1)
    needs = needed_actions(case)
    assert {"plug_in", "present_id_tag", "go_offline", "Reset", "power_cycle"} <= needs.actions
    assert not needs.unresolved


def test_an_operation_that_is_not_a_literal_is_reported_unresolved():
    from harness.states.csms import operator_sends

    async def case(csms, driver, pics):
        for action in ("Reset", "ClearCache"):
            await operator_sends(csms, driver, pics, action, {}, answer=None, step=1)
    assert needed_actions(case).unresolved


def test_every_case_of_the_suite_has_its_needs_read_without_unresolved_operations():
    import importlib
    import pkgutil

    import testcases
    seen = 0
    for module in pkgutil.walk_packages(testcases.__path__, "testcases."):
        for name, obj in vars(importlib.import_module(module.name)).items():
            info = getattr(obj, "ocpp_case", None)
            if info is None or not name.startswith("test"):
                continue
            seen += 1
            needs = needed_actions(obj)
            assert not needs.unresolved, (info.id, needs.unresolved)
            assert not needs.forwards, (info.id, needs.forwards)
    assert seen > 140


RIG_CASES = '''
from harness.cases import case

async def cycle(driver):
    await driver.power_cycle(timeout=1)

@case("TC_910_CS", "Needs a power cycle", profile="Core")
async def test_tc_910_cs(cp, driver, pics):
    await cycle(driver)
    raise AssertionError("must not start: the rig cannot power-cycle")

@case("TC_911_CS", "Needs nothing of the rig", profile="Core")
async def test_tc_911_cs(pics):
    pass
'''

RIG_OBJECT = '''
class Rig:
    async def plug_in(self, connectorId):
        return {}
rig = Rig()
'''


def test_a_case_needing_an_action_the_rig_cannot_do_is_na_before_it_starts(pytester, tmp_path):
    from interop.launch import free_port

    pytester.makepyfile(test_rigcases=RIG_CASES, norig=RIG_OBJECT)
    out = tmp_path / "out"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ocpp-sut", "cs", "--ocpp-dut", "external", "--ocpp-listen",
        f"127.0.0.1:{free_port()}", "--ocpp-connect-timeout", "0", "--ocpp-driver", "python:norig:rig",
        "--ocpp-report", str(out),
        "-rs", timeout=120)
    result.assert_outcomes(passed=1, skipped=1)
    verdicts = {c["id"]: (c["verdict"], c["reason"]) for c in
                json.loads((out / "report.json").read_text())["test_cases"]}
    assert verdicts["TC_910_CS"] == ("N/A", "N/A: the case needs the driver action power_cycle, which "
                                     "the rig does not declare among its capabilities (plug_in)")
    assert verdicts["TC_911_CS"] == ("PASS", "")
    assert not (out / "wire" / "TC_910_CS.jsonl").exists()  # not started at all
