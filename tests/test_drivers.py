"""The drivers, each against something real: an HTTP server, an imported module, a pipe, a pty."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import re
import select
import socket
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from aiohttp import web

from harness.drivers import (CHARGE_POINT_ACTIONS, Driver, HttpDriver, PromptDriver, PythonDriver, SimDriver,
                             describe, make_driver)
from harness.drivers.base import check_timeout, python_name, to_json
from harness.verdicts import Inconclusive, NotApplicable
from prompt_screen import Screen

REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- base

class Recorder(Driver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict, float]] = []

    async def perform(self, action, params, *, timeout):
        self.calls.append((action, params, timeout))
        return {"ok": True}


async def test_convenience_methods_send_the_protocol_names_and_params():
    d = Recorder()
    assert await d.plug_in(1, timeout=5) == {"ok": True}
    await d.unplug(2, timeout=5)
    await d.present_id_tag("ABC", timeout=5)
    await d.present_id_tag("ABC", 1, timeout=5)
    await d.power_cycle(timeout=5)
    await d.power_off(timeout=5)
    await d.power_on(timeout=5)
    await d.go_offline(timeout=5)
    await d.go_online(timeout=5)
    await d.report_fault(1, "GroundFailure", timeout=5)
    await d.clear_fault(1, timeout=5)
    await d.ev_suspend(1, timeout=5)
    await d.ev_resume(1, timeout=5)
    await d.lock_failure(1, timeout=5)
    await d.unlock_failure(1, timeout=5)
    await d.csms_send("RemoteStartTransaction", "CP001", {"idTag": "ABC"}, timeout=7)
    assert [(a, p) for a, p, _ in d.calls] == [
        ("plug_in", {"connectorId": 1}),
        ("unplug", {"connectorId": 2}),
        ("present_id_tag", {"idTag": "ABC"}),
        ("present_id_tag", {"idTag": "ABC", "connectorId": 1}),
        ("power_cycle", {}),
        ("power_off", {}),
        ("power_on", {}),
        ("go_offline", {}),
        ("go_online", {}),
        ("report_fault", {"connectorId": 1, "errorCode": "GroundFailure"}),
        ("clear_fault", {"connectorId": 1}),
        ("ev_suspend", {"connectorId": 1}),
        ("ev_resume", {"connectorId": 1}),
        ("lock_failure", {"connectorId": 1}),
        ("unlock_failure", {"connectorId": 1}),
        ("RemoteStartTransaction", {"chargePointId": "CP001", "payload": {"idTag": "ABC"}}),
    ]
    assert d.calls[-1][2] == 7


def test_every_charge_point_action_has_a_method_and_an_instruction():
    for action in CHARGE_POINT_ACTIONS:
        assert callable(getattr(Driver, action)), action
        text = describe(action, {"connectorId": 1, "idTag": "X", "errorCode": "GroundFailure"})
        assert text.endswith(".") and "?" not in text, text


def test_instructions_in_plain_words():
    assert describe("plug_in", {"connectorId": 1}) == "Plug the EV cable into connector 1."
    assert describe("present_id_tag", {"idTag": "ABC", "connectorId": 1}) == \
        "Present the id tag 'ABC' to the RFID reader (connector 1)."
    assert describe("present_id_tag", {"idTag": "ABC"}) == "Present the id tag 'ABC' to the RFID reader."
    assert describe("power_cycle", {}) == "Power-cycle the charge point: switch it off, then on again."
    assert describe("RemoteStartTransaction", {"chargePointId": "CP001", "payload": {"idTag": "ABC"}}) == \
        'Make the central system send RemoteStartTransaction to charge point CP001 with: {"idTag": "ABC"}'
    assert "GroundFailure" in describe("report_fault", {"connectorId": 2, "errorCode": "GroundFailure"})


async def test_csms_send_needs_an_ocpp_action_name():
    with pytest.raises(ValueError, match="RemoteStartTransaction"):
        await Recorder().csms_send("remote_start", "CP001", {}, timeout=1)


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, None, True, "5"])
def test_a_timeout_must_be_a_positive_number(bad):
    with pytest.raises(ValueError, match="positive number of seconds"):
        check_timeout(bad)


def test_to_json_is_exact_and_refuses_what_json_cannot_say():
    assert to_json({"a": Decimal("0.1"), "b": [Decimal("7.10"), Decimal("-0"), 1, 2.5, True, None],
                    "c": "é\""}) == '{"a":0.1,"b":[7.10,-0,1,2.5,true,null],"c":"é\\""}'
    assert to_json({"b": 1, "a": 2}, sort_keys=True) == '{"a":2,"b":1}'
    assert json.loads(to_json({"big": 2 ** 70})) == {"big": 2 ** 70}
    for bad, where in ((Decimal("NaN"), "$.x"), (float("inf"), "$.x"), ({1: 2}, "$.x"),
                       (object(), "$.x")):
        with pytest.raises(ValueError, match=re.escape(where)):
            to_json({"x": bad})


def test_operator_instruction_shows_decimals_as_written():
    text = describe("SetChargingProfile", {"chargePointId": "CP1", "payload": {"limit": Decimal("7.10")}})
    assert text.endswith('with: {"limit": 7.10}')
    assert describe("mystery", {"v": Decimal("0.1")}).endswith('with: {"v": 0.1}')


def test_python_names():
    assert python_name("RemoteStartTransaction") == "remote_start_transaction"
    assert python_name("GetCompositeSchedule") == "get_composite_schedule"
    assert python_name("plug_in") == "plug_in"


# ---------------------------------------------------------------- http

class ThreadedRig:
    """A DUT control endpoint in its own thread and loop, so it outlives any one test loop."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, object]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        action = request.match_info["action"]
        body = await request.text()
        self.requests.append((action, await request.json() if body else None))
        if action == "plug_in":
            return web.json_response({"received": await request.json()})
        if action == "unplug":
            return web.Response(status=204)
        if action == "go_online":
            return web.Response(text="OK")
        if action == "ev_resume":
            return web.json_response([1, 2])
        if action == "present_id_tag":
            return web.Response(status=409, text="connector 1 is occupied")
        if action == "power_cycle":
            return web.Response(status=500, text="E" * 2000)
        if action == "go_offline":  # never answers while the test runs
            assert self._stop is not None
            await self._stop.wait()
            return web.Response(status=204)
        if action == "RemoteStartTransaction":
            return web.json_response({"status": "Accepted", "got": await request.json()})
        if action == "SetChargingProfile":  # echoes the body exactly as it came
            return web.json_response({"text": body, "content_type": request.content_type})
        return web.Response(status=404, text=f"unknown action {action}")

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_post("/rig/{action}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> "ThreadedRig":
        self._thread.start()
        assert self._ready.wait(10), "the test rig did not start within 10 s"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def rig():
    with ThreadedRig() as server:
        yield server


@pytest.fixture
async def http(rig):
    driver = HttpDriver(f"http://127.0.0.1:{rig.port}/rig/")
    yield driver
    await driver.close()


async def test_http_2xx_hands_back_the_json_body(http, rig):
    assert await http.plug_in(1, timeout=5) == {"received": {"connectorId": 1}}
    assert rig.requests == [("plug_in", {"connectorId": 1})]


async def test_http_2xx_without_a_json_object_is_done_with_an_empty_body(http):
    assert await http.unplug(1, timeout=5) == {}
    assert await http.go_online(timeout=5) == {}
    assert await http.ev_resume(1, timeout=5) == {}


async def test_http_csms_operator_action(http, rig):
    reply = await http.csms_send("RemoteStartTransaction", "CP001", {"idTag": "ABC"}, timeout=5)
    assert reply == {"status": "Accepted", "got": {"chargePointId": "CP001", "payload": {"idTag": "ABC"}}}
    assert rig.requests[-1][0] == "RemoteStartTransaction"


async def test_http_decimals_go_out_as_the_numbers_they_are(http, rig):
    # TC_056/057/059/067_CSMS hand the driver a charging profile with Decimal limits.
    payload = {"connectorId": 1, "csChargingProfiles": {"chargingSchedule": {"chargingSchedulePeriod": [
        {"startPeriod": 0, "limit": Decimal("0.1")}, {"startPeriod": 60, "limit": Decimal("7.10")},
        {"startPeriod": 120, "limit": Decimal("6"), "numberPhases": 3},
        {"startPeriod": 180, "limit": Decimal("1E+2")},
        {"startPeriod": 240, "limit": Decimal("0.30000000000000000001")}]}}}
    reply = await http.csms_send("SetChargingProfile", "CP001", payload, timeout=5)
    assert reply["content_type"] == "application/json"
    text = reply["text"]
    for written in ('"limit":0.1}', '"limit":7.10}', '"limit":6,', '"limit":1E+2}',
                    '"limit":0.30000000000000000001}'):
        assert written in text, text
    # Valid JSON whose numbers, read exactly, are the Decimals the case gave.
    periods = json.loads(text, parse_float=Decimal)["payload"]["csChargingProfiles"][
        "chargingSchedule"]["chargingSchedulePeriod"]
    assert [p["limit"] for p in periods] == [Decimal("0.1"), Decimal("7.10"), 6, Decimal("100"),
                                             Decimal("0.30000000000000000001")]


async def test_http_4xx_is_inconclusive_with_status_and_body(http, rig):
    with pytest.raises(Inconclusive) as err:
        await http.present_id_tag("ABC", 1, timeout=5)
    assert f"POST http://127.0.0.1:{rig.port}/rig/present_id_tag answered 409 Conflict" in str(err.value)
    assert "connector 1 is occupied" in str(err.value)


async def test_http_500_is_inconclusive_with_the_body_truncated(http):
    with pytest.raises(Inconclusive) as err:
        await http.power_cycle(timeout=5)
    reason = str(err.value)
    assert "answered 500 Internal Server Error" in reason and "(2000 characters in all)" in reason
    assert len(reason) < 700


async def test_http_slow_reply_is_inconclusive_after_the_timeout(http):
    started = time.monotonic()
    with pytest.raises(Inconclusive, match=r"no reply from POST http://.*/rig/go_offline within 0.2 s"):
        await http.go_offline(timeout=0.2)
    assert 0.15 < time.monotonic() - started < 3


async def test_http_connection_refused_is_inconclusive_naming_the_url():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = HttpDriver(f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(Inconclusive, match=f"could not connect to the DUT control endpoint "
                                               f"http://127.0.0.1:{port}/plug_in"):
            await driver.plug_in(1, timeout=5)
    finally:
        await driver.close()


def test_http_driver_survives_a_new_event_loop_per_test(rig):
    driver = HttpDriver(f"http://127.0.0.1:{rig.port}/rig")
    assert asyncio.run(driver.plug_in(1, timeout=5)) == {"received": {"connectorId": 1}}
    assert asyncio.run(driver.plug_in(2, timeout=5)) == {"received": {"connectorId": 2}}
    asyncio.run(driver.close())


@pytest.mark.parametrize("bad", ["ftp://x", "http://", "127.0.0.1:8080"])
def test_http_driver_needs_an_http_url(bad):
    with pytest.raises(ValueError, match="http://HOST:PORT"):
        HttpDriver(bad)


# ---------------------------------------------------------------- python

RIG_MODULE = '''
import asyncio
from harness.verdicts import NotApplicable

class Rig:
    def __init__(self):
        self.calls = []
        self.closed = False
    async def plug_in(self, connectorId):
        self.calls.append(("plug_in", connectorId))
        return {"plugged": connectorId}
    async def present_id_tag(self, idTag, connectorId=None):
        self.calls.append(("present_id_tag", idTag, connectorId))
    async def power_cycle(self):
        await asyncio.Event().wait()   # never done
    async def go_offline(self):
        raise RuntimeError("network switch not reachable")
    async def go_online(self):
        return "yes"
    async def ev_suspend(self, connectorId):
        raise NotApplicable("this rig has no EV simulator")
    async def remote_start_transaction(self, chargePointId, payload):
        return {"status": "Accepted", "cp": chargePointId, "payload": payload}
    async def close(self):
        self.closed = True

rig = Rig()

class Generic:
    def __init__(self):
        self.seen = []
    async def perform(self, action, params):
        self.seen.append((action, params))
        return {"action": action}

def make_rig():
    return Rig()

async def async_factory():
    return Rig()

def broken_factory():
    raise OSError("serial port /dev/ttyUSB0 not found")
'''


@pytest.fixture
def rigmod(tmp_path, monkeypatch):
    name = "drivertest_rig_module"
    (tmp_path / f"{name}.py").write_text(RIG_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


async def test_python_driver_calls_the_objects_methods_with_protocol_params(rigmod):
    driver = make_driver(f"python:{rigmod}:rig")
    assert isinstance(driver, PythonDriver)
    assert await driver.plug_in(1, timeout=5) == {"plugged": 1}
    assert await driver.present_id_tag("ABC", timeout=5) == {}
    assert sys.modules[rigmod].rig.calls == [("plug_in", 1), ("present_id_tag", "ABC", None)]
    reply = await driver.csms_send("RemoteStartTransaction", "CP001", {"idTag": "ABC"}, timeout=5)
    assert reply == {"status": "Accepted", "cp": "CP001", "payload": {"idTag": "ABC"}}
    await driver.close()
    assert sys.modules[rigmod].rig.closed


@pytest.mark.parametrize("attr", ["Rig", "make_rig"])
async def test_python_driver_makes_the_object_from_a_class_or_factory(rigmod, attr):
    driver = PythonDriver(f"{rigmod}:{attr}")
    assert await driver.plug_in(3, timeout=5) == {"plugged": 3}
    assert driver.target is not sys.modules[rigmod].rig


async def test_python_driver_generic_perform(rigmod):
    driver = PythonDriver(f"{rigmod}:Generic")
    assert await driver.unplug(1, timeout=5) == {"action": "unplug"}
    await driver.csms_send("Reset", "CP001", {"type": "Soft"}, timeout=5)
    assert driver.target.seen == [("unplug", {"connectorId": 1}),
                                  ("Reset", {"chargePointId": "CP001", "payload": {"type": "Soft"}})]


async def test_python_driver_missing_method_is_inconclusive_naming_action_and_object(rigmod):
    with pytest.raises(Inconclusive, match=rf"python driver {rigmod}:rig .*cannot do the action unplug: "
                                           r"it has no method unplug\(\)"):
        await PythonDriver(f"{rigmod}:rig").unplug(1, timeout=5)


async def test_python_driver_bounded_by_the_timeout(rigmod):
    started = time.monotonic()
    with pytest.raises(Inconclusive, match=r"power_cycle\(\) did not finish within 0.2 s"):
        await PythonDriver(f"{rigmod}:rig").power_cycle(timeout=0.2)
    assert time.monotonic() - started < 3


async def test_python_driver_failures(rigmod):
    driver = PythonDriver(f"{rigmod}:rig")
    with pytest.raises(Inconclusive,
                       match=r"go_offline\(\) raised RuntimeError: network switch not reachable"):
        await driver.go_offline(timeout=5)
    with pytest.raises(Inconclusive, match=r"go_online\(\) returned 'yes'; it must return a dict"):
        await driver.go_online(timeout=5)
    with pytest.raises(NotApplicable, match="no EV simulator"):
        await driver.ev_suspend(1, timeout=5)


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_xyz:thing", "cannot import the module 'no_such_module_xyz' of the python driver"),
    ("{mod}:nothing_here", "has no attribute 'nothing_here'"),
    ("{mod}:async_factory", "names an async function"),
    ("{mod}:broken_factory", "broken_factory\\(\\) raised OSError: serial port /dev/ttyUSB0 not found"),
    (":rig", "python:package.module:attribute"),
    ("{mod}:", "python:package.module:attribute"),
])
def test_python_driver_bad_spec_is_a_clear_value_error(rigmod, spec, message):
    with pytest.raises(ValueError, match=message):
        PythonDriver(spec.format(mod=rigmod))


# ---------------------------------------------------------------- prompt



@pytest.fixture
def pipe():
    r, w = os.pipe()
    ends = {"r": r, "w": w}
    yield ends
    for fd in ends.values():
        try:
            os.close(fd)
        except OSError:
            pass


def close_write_end(pipe):
    os.close(pipe["w"])
    pipe["w"] = -1


async def test_prompt_enter_means_done(pipe):
    screen = Screen(on_question=lambda _text: os.write(pipe["w"], b"\n"))
    with os.fdopen(os.dup(pipe["r"]), "rb", buffering=0) as stdin:  # a file object, not only a descriptor
        assert await PromptDriver(stdin=stdin, stdout=screen).plug_in(1, timeout=5) == {}
    shown = screen.getvalue()
    assert "Plug the EV cable into connector 1." in shown and "You have 5 s" in shown
    assert "Press Enter when done, or type n and Enter if it cannot be done." in shown


async def test_prompt_no_means_inconclusive(pipe):
    os.write(pipe["w"], b"n\n")
    with pytest.raises(Inconclusive, match="the operator reported that this could not be done: "
                                           "Present the id tag 'ABC' to the RFID reader"):
        await PromptDriver(stdin=pipe["r"], stdout=Screen()).present_id_tag("ABC", timeout=5)


async def test_prompt_asks_again_when_not_understood(pipe):
    os.write(pipe["w"], b"maybe\n\n")
    screen = Screen()
    assert await PromptDriver(stdin=pipe["r"], stdout=screen).power_cycle(timeout=5) == {}
    assert "Not understood: 'maybe'" in screen.getvalue()


async def test_prompt_answers_piped_ahead_serve_the_next_prompts(pipe):
    os.write(pipe["w"], b"\nno\n")
    driver = PromptDriver(stdin=pipe["r"], stdout=Screen())
    assert await driver.plug_in(1, timeout=5) == {}
    with pytest.raises(Inconclusive, match="could not be done"):
        await driver.unplug(1, timeout=5)


async def test_prompt_times_out_and_leaves_no_reader(pipe):
    screen = Screen()
    started = time.monotonic()
    with pytest.raises(Inconclusive, match=r"the operator did not confirm within 0.2 s: Plug the EV cable"):
        await PromptDriver(stdin=pipe["r"], stdout=screen).plug_in(1, timeout=0.2)
    assert 0.15 < time.monotonic() - started < 3
    assert "No answer within 0.2 s" in screen.getvalue()
    assert asyncio.get_running_loop().remove_reader(pipe["r"]) is False  # nothing left watching stdin


async def test_prompt_end_of_file_is_inconclusive_at_once(pipe):
    close_write_end(pipe)
    started = time.monotonic()
    with pytest.raises(Inconclusive, match="end of file"):
        await PromptDriver(stdin=pipe["r"], stdout=Screen()).plug_in(1, timeout=30)
    assert time.monotonic() - started < 2


async def test_prompt_last_answer_without_newline_counts(pipe):
    os.write(pipe["w"], b"n")
    close_write_end(pipe)
    with pytest.raises(Inconclusive, match="could not be done"):
        await PromptDriver(stdin=pipe["r"], stdout=Screen()).plug_in(1, timeout=30)


class NoFileno:
    """Like pytest's stand-in for stdin while it captures."""

    closed = False

    def fileno(self):
        raise io.UnsupportedOperation("redirected stdin is pseudofile, has no fileno()")


@pytest.mark.parametrize("stdin", ["devnull", "closed", "nofileno", "none"])
async def test_prompt_without_a_terminal_is_inconclusive_at_once(stdin, monkeypatch):
    streams = {"devnull": open(os.devnull), "closed": open(os.devnull), "nofileno": NoFileno()}
    streams["closed"].close()
    if stdin == "none":  # sys.stdin is None when Python starts with fd 0 closed
        monkeypatch.setattr(sys, "stdin", None)
    screen = Screen()
    started = time.monotonic()
    try:
        with pytest.raises(Inconclusive, match=r"no terminal on standard input to prompt the operator; "
                                               r"use --ocpp-driver http://\.\.\. or python:\.\.\."):
            await PromptDriver(stdin=streams.get(stdin), stdout=screen).plug_in(1, timeout=30)
    finally:
        streams["devnull"].close()
    assert time.monotonic() - started < 2
    assert "Plug the EV cable into connector 1." in screen.getvalue()
    assert "no terminal on standard input" in screen.getvalue()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
async def test_prompt_on_a_terminal_ignores_keys_typed_before_the_question():
    master, slave = os.openpty()
    try:
        os.write(master, b"n\n")  # typed before the question: must not answer it
        assert select.select([slave], [], [], 5)[0], "the pty did not deliver the early keys within 5 s"
        screen = Screen(on_question=lambda _text: os.write(master, b"\n"))
        assert await PromptDriver(stdin=slave, stdout=screen).plug_in(1, timeout=5) == {}
    finally:
        os.close(master)
        os.close(slave)


async def test_prompt_suspends_pytest_style_capture_around_the_question(pipe):
    events: list[str] = []

    class FakeCaptureManager:
        @contextmanager
        def global_and_fixture_disabled(self):
            events.append("released")
            yield
            events.append("captured again")

        def suspend_global_capture(self, in_=False):
            events.append(f"stdin released={in_}")

    screen = Screen(on_question=lambda _text: (events.append("asked"), os.write(pipe["w"], b"\n")))
    driver = PromptDriver(stdin=pipe["r"], stdout=screen, capture_manager=FakeCaptureManager())
    await driver.plug_in(1, timeout=5)
    assert events == ["released", "stdin released=True", "asked", "captured again"]


async def test_prompt_accepts_a_plain_callable_hook(pipe):
    events: list[str] = []

    @contextmanager
    def hook():
        events.append("in")
        yield
        events.append("out")

    os.write(pipe["w"], b"\n")
    await PromptDriver(stdin=pipe["r"], stdout=Screen(), capture_manager=hook).go_online(timeout=5)
    assert events == ["in", "out"]


PYTEST_PROMPT_CASE = '''
import asyncio, pytest
from harness.drivers import make_driver
from harness.verdicts import Inconclusive

def test_prompt_answered_through_capture(request):
    capman = request.config.pluginmanager.getplugin("capturemanager")
    driver = make_driver("prompt", capture_manager=capman)
    assert asyncio.run(driver.plug_in(1, timeout=30)) == {}

def test_prompt_without_the_hook_sees_no_terminal():
    with pytest.raises(Inconclusive, match="no terminal on standard input"):
        asyncio.run(make_driver("prompt").plug_in(1, timeout=30))
'''


def test_prompt_under_real_pytest_capture_reaches_the_operator(tmp_path):
    case = tmp_path / "test_prompt_case.py"
    case.write_text(textwrap.dedent(PYTEST_PROMPT_CASE))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, "-m", "pytest", str(case), "-q", "-p", "no:cacheprovider",
                          "-p", "no:ocpp_harness", "--rootdir", str(tmp_path)],
                         input="\n", capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Plug the EV cable into connector 1." in run.stdout  # shown despite capture
    assert "2 passed" in run.stdout


# ---------------------------------------------------------------- sim

class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class FakeSim:
    def __init__(self, name: str = "sim") -> None:
        self.name = name
        self.calls: list[tuple[str, dict]] = []
        self.never = asyncio.Event()

    async def control(self, action: str, params: dict) -> dict:
        self.calls.append((action, params))
        if action == "plug_in" and params["connectorId"] == 9:
            raise ControlError(404, "there is no connector 9")
        if action == "power_cycle":
            await self.never.wait()
        if action == "go_offline":
            return None
        if action == "clear_fault":
            return 1 / 0
        return {"by": self.name, "action": action}


async def test_sim_driver_calls_control_and_hands_back_the_result():
    sim = FakeSim()
    driver = make_driver("sim", sim_target=sim)
    assert await driver.plug_in(1, timeout=5) == {"by": "sim", "action": "plug_in"}
    assert await driver.go_offline(timeout=5) == {}
    assert sim.calls == [("plug_in", {"connectorId": 1}), ("go_offline", {})]


async def test_sim_driver_refusal_is_inconclusive_with_the_message():
    with pytest.raises(Inconclusive, match=r"the simulator refused plug_in \(404\): there is no connector 9"):
        await SimDriver(FakeSim()).plug_in(9, timeout=5)


async def test_sim_driver_bounded_by_the_timeout():
    with pytest.raises(Inconclusive, match="the simulator did not finish power_cycle within 0.2 s"):
        await SimDriver(FakeSim()).power_cycle(timeout=0.2)


async def test_sim_driver_lets_simulator_bugs_through_as_errors():
    with pytest.raises(ZeroDivisionError):
        await SimDriver(FakeSim()).clear_fault(1, timeout=5)


async def test_sim_driver_target_can_be_replaced():
    driver = SimDriver(FakeSim("first"))
    driver.target = FakeSim("restarted")
    assert (await driver.unplug(1, timeout=5))["by"] == "restarted"
    driver.target = None
    with pytest.raises(RuntimeError, match="--ocpp-dut sim"):
        await driver.unplug(1, timeout=5)


# ---------------------------------------------------------------- make_driver

def test_make_driver_parses_every_form(rigmod):
    assert isinstance(make_driver("prompt"), PromptDriver)
    assert isinstance(make_driver("http://127.0.0.1:8080/base"), HttpDriver)
    assert make_driver("https://rig.example:8443/").base_url == "https://rig.example:8443"
    assert isinstance(make_driver(f"python:{rigmod}:rig"), PythonDriver)
    assert make_driver("sim", sim_target="x").target == "x"


@pytest.mark.parametrize("spec", ["", "manual", "tcp://x", "python"])
def test_make_driver_unknown_spec_lists_the_accepted_forms(spec):
    with pytest.raises(ValueError, match=r"accepts: prompt, http://HOST:PORT\[/base\], "
                                         r".*python:package.module:attribute, sim"):
        make_driver(spec)
