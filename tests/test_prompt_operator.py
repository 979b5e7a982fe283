"""The operator's time at the prompt (harness/drivers/prompt.py): the operator timeout instead of
the device's timings, the question ended by what the wire shows, the step and the time left
shown, keys typed before the question said to be ignored; PICS [operator] and the option."""

from __future__ import annotations

import asyncio
import os
import select
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import pics as pics_module
from harness.drivers import PromptDriver
from harness.drivers.prompt import expected_effect
from harness.verdicts import Inconclusive
from prompt_screen import Screen

ROOT = Path(__file__).resolve().parents[1]




@dataclass
class Request:
    action: str
    payload: dict


@dataclass
class Wire:
    """What the prompt driver watches: the session's request observers."""
    request_observers: list = field(default_factory=list)

    def arrives(self, action: str, payload: dict) -> None:
        for observer in list(self.request_observers):
            observer(Request(action, payload))


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield {"r": r, "w": w}
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


async def test_the_operator_gets_the_operator_timeout_not_the_device_timing(pipe):
    screen = Screen()
    driver = PromptDriver(stdin=pipe["r"], stdout=screen, operator_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(Inconclusive, match=r"did not confirm within 0.5 s \(the operator timeout\)"):
        await driver.plug_in(1, timeout=60)  # the case's bound, from the device's timings
    assert time.monotonic() - started < 5
    assert "You have 0.5 s" in screen.getvalue()
    # And the other way round: 5 s of device timing do not cut the operator's 120 s short.
    assert PromptDriver(operator_timeout=120).action_timeout(5) == 120


@pytest.mark.parametrize("action, params, request_action, payload, said", [
    ("plug_in", {"connectorId": 1}, "StatusNotification",
     {"connectorId": 1, "status": "Preparing", "errorCode": "NoError"},
     "the charge point reported Preparing (NoError) on connector 1"),
    ("present_id_tag", {"idTag": "TAG1", "connectorId": 1}, "Authorize", {"idTag": "tag1"},
     "the charge point sent Authorize for 'tag1'"),
    ("ChangeConfiguration", {"chargePointId": "CP1", "payload": {"key": "K", "value": "1"}},
     "ChangeConfiguration", {"key": "K", "value": "1"}, "the central system sent ChangeConfiguration"),
])
async def test_the_question_ends_when_the_wire_shows_the_effect(pipe, action, params,
                                                                request_action, payload, said):
    wire = Wire()
    loop = asyncio.get_running_loop()

    def on_question(text: str) -> None:
        # Something else first (another connector, another message), then the effect.
        loop.call_soon(wire.arrives, "StatusNotification",
                       {"connectorId": 2, "status": "Preparing", "errorCode": "NoError"})
        loop.call_soon(wire.arrives, "Heartbeat", {})
        loop.call_later(0.05, wire.arrives, request_action, payload)

    screen = Screen(on_question)
    driver = PromptDriver(stdin=pipe["r"], stdout=screen, operator_timeout=30)
    driver.watch(wire)
    started = time.monotonic()
    assert await driver.act(action, params, timeout=5) == {}
    assert time.monotonic() - started < 10  # nobody pressed Enter
    shown = screen.getvalue()
    assert "The harness carries on by itself when it sees" in shown
    assert f"Seen on the wire: {said}. Carrying on; no need to press Enter." in shown
    assert wire.request_observers == []  # nothing left watching


def test_effects_per_action():
    assert expected_effect("unknown_rig_thing", {}) is None
    words, seen = expected_effect("plug_in", {"connectorId": 1})
    assert seen("StatusNotification", {"connectorId": 1, "status": "Available"}) is None
    assert seen("StatusNotification", {"connectorId": 1, "status": "SuspendedEV"})
    _, seen = expected_effect("power_cycle", {})
    assert seen("BootNotification", {}) and not seen("Heartbeat", {})


async def test_the_question_shows_the_case_the_step_and_the_time_left(pipe):
    def on_question(text: str) -> None:
        if "s left]" in text:
            os.write(pipe["w"], b"\n")  # answered after the 10 s reminder

    screen = Screen(on_question)
    driver = PromptDriver(stdin=pipe["r"], stdout=screen, operator_timeout=11)
    driver.case_title = "TC_003_CS Regular Charging Session - Plugin First"

    async def test_like_a_case():
        # 1. [EV driver plugs in the cable] -> StatusNotification.req
        await driver.plug_in(1, timeout=5)

    await test_like_a_case()
    shown = screen.getvalue()
    assert "=== Operator action for TC_003_CS Regular Charging Session - Plugin First ===" in shown
    assert "At step 1: [EV driver plugs in the cable] -> StatusNotification.req" in shown
    assert "[10 s left] > " in shown and "Done, thank you." in shown


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
async def test_keys_typed_before_the_question_are_said_to_be_ignored():
    master, slave = os.openpty()
    try:
        os.write(master, b"n\n")
        assert select.select([slave], [], [], 5)[0]
        screen = Screen(on_question=lambda text: os.write(master, b"\n"))
        assert await PromptDriver(stdin=slave, stdout=screen, operator_timeout=5).plug_in(
            1, timeout=5) == {}
        assert "(Keys typed before this question were ignored.)" in screen.getvalue()
    finally:
        os.close(master)
        os.close(slave)


def test_the_pics_operator_table(tmp_path):
    text = (ROOT / "harness/sim/default_cs.toml").read_text()
    assert pics_module.load(ROOT / "harness/sim/default_cs.toml").operator.timeout == 120
    (tmp_path / "p.toml").write_text(text + "\n[operator]\ntimeout = 300\n")
    assert pics_module.load(tmp_path / "p.toml").operator.timeout == 300
    (tmp_path / "p.toml").write_text(text + "\n[operator]\ntimeout = -1\n")
    with pytest.raises(pics_module.PicsError, match="operator.timeout"):
        pics_module.load(tmp_path / "p.toml")


def test_the_option_must_be_a_positive_number(pytester):
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--rootdir={ROOT}",
        str(ROOT / "testcases/cs/core/test_tc_003_charging_plugin_first.py"),
        "--ocpp-operator-timeout", "0", timeout=60)
    assert result.ret == 4
    assert "--ocpp-operator-timeout must be a positive number of seconds" in result.stderr.str()


@pytest.mark.parametrize("cable, unplug_at_ev, plug, unplug", [
    ("fixed", "cable_leaves", "Plug the charge point's fixed cable of connector 1 into the EV.",
     "Unplug the charge point's fixed cable of connector 1 from the EV."),
    ("socket_with_lock", "cable_stays", "Plug the EV charging cable into the socket of connector 1 "
     "and into the EV (the socket locks it).", "Unplug the cable at the EV end only (connector 1); "
     "leave it in the charge point's socket."),
])
async def test_the_wording_follows_the_cable(pipe, cable, unplug_at_ev, plug, unplug):
    screen = Screen(on_question=lambda text: os.write(pipe["w"], b"\n"))
    driver = PromptDriver(stdin=pipe["r"], stdout=screen, operator_timeout=5)

    @dataclass
    class Features:
        cable: str
        unplug_at_ev: str

    driver.features = Features(cable, unplug_at_ev)
    await driver.plug_in(1, timeout=5)
    await driver.unplug(1, timeout=5)
    assert plug in screen.getvalue() and unplug in screen.getvalue()
