"""harness.states.registration: the harness's charge point registering with a central system that
answers Pending first (OCPP 1.6 section 4.2), against the reference CSMS given that legal
behaviour: retried after the interval and not before, woken by TriggerMessage BootNotification,
and bounded by the PICS boot_timeout when the central system never accepts."""

from __future__ import annotations

import dataclasses
import time

import pytest

from harness import defaults, pics as pics_module
from harness.session import Session
from harness.sim import CsmsSim
from harness.states.registration import register
from harness.states.triggered import answer_triggers
from harness.transport import connect


def _pics(boot_timeout: float = 10.0, response_timeout: float = 5.0):
    pics = pics_module.load(pics_module.default_path("csms"))
    return dataclasses.replace(pics, timing=dataclasses.replace(
        pics.timing, boot_timeout=boot_timeout, response_timeout=response_timeout))


@pytest.fixture
async def bench(request):
    param = getattr(request, "param", {})
    pics = _pics(param.get("boot_timeout", 10.0), param.get("response_timeout", 5.0))
    sim = CsmsSim(pics, port=0, faults=param.get("faults", ()))
    await sim.start()
    session = Session("cp", response_timeout=5, defaults=defaults.charge_point(pics))
    answer_triggers(session, pics)  # as the bench does: a triggered message is sent
    session.begin()
    session.attach(await connect(sim.url, pics.dut.charge_point_id, timeout=5))
    yield session, sim, pics
    session.end()
    await session.close()
    await sim.stop()


def _boots(sim: CsmsSim, pics) -> list[str]:
    return [b["status"] for b in sim.status()["chargePoints"][pics.dut.charge_point_id]
            ["bootNotifications"]]


@pytest.mark.parametrize("bench", [{"faults": ["boot_pending_first:interval=1"]}], indirect=True)
async def test_pending_is_retried_after_its_interval_not_before(bench):
    session, sim, pics = bench
    registration = await register(session, pics, step="1-2")
    assert registration.status == "Accepted" and registration.pending == 1
    assert registration.waited_s >= 1.0  # 4.2: SHOULD NOT send it earlier
    assert _boots(sim, pics) == ["Pending", "Accepted"]
    assert "after 1 Pending answer over" in registration.after_pending


@pytest.mark.parametrize("bench", [{"faults": ["boot_pending_first:interval=30,trigger_ms=100"]}],
                         indirect=True)
async def test_a_trigger_message_ends_the_wait_at_once(bench):
    session, sim, pics = bench
    started = time.monotonic()
    registration = await register(session, pics, step="1-2")
    assert registration.status == "Accepted" and registration.pending == 1
    assert time.monotonic() - started < 5  # not the 30 s interval
    triggers = [r for r in session.requests if r.action == "TriggerMessage"]
    assert [r["requestedMessage"] for r in triggers] == ["BootNotification"]
    assert _boots(sim, pics) == ["Pending", "Accepted"]


@pytest.mark.parametrize("bench", [{"boot_timeout": 1.5}], indirect=True)
async def test_a_central_system_that_stays_pending_ends_at_the_boot_timeout(bench):
    session, sim, pics = bench
    await sim.control("set_boot_policy", {"status": "Pending", "interval": 30})
    started = time.monotonic()
    registration = await register(session, pics, step="1-2")
    assert 1.4 < time.monotonic() - started < 4
    assert registration.status == "Pending" and registration.pending == 1
    assert "past the PICS timing.boot_timeout 1.5 s" in registration.after_pending
    assert _boots(sim, pics) == ["Pending"]  # never before its interval


async def test_accepted_at_once_is_one_boot(bench):
    session, sim, pics = bench
    registration = await register(session, pics, step="1-2")
    assert (registration.status, registration.pending, registration.after_pending) == \
        ("Accepted", 0, "")
    assert _boots(sim, pics) == ["Accepted"]


@pytest.mark.parametrize("bench", [{"faults": ["boot_pending_first:interval=0"],
                                    "response_timeout": 1.0}], indirect=True)
async def test_interval_zero_lets_the_charge_point_choose_its_wait(bench):
    # 4.2: zero means the charge point chooses, without flooding: the harness waits its response
    # timeout, not zero.
    session, sim, pics = bench
    registration = await register(session, pics, step="1-2")
    assert registration.status == "Accepted" and 0.9 < registration.waited_s < 4
    assert _boots(sim, pics) == ["Pending", "Accepted"]


@pytest.mark.parametrize("bench", [{"faults": ["boot_pending_first:interval=30,trigger_ms=100",
                                               "requests_after_boot:on_pending=1"]}],
                         indirect=True)
async def test_requests_while_pending_are_answered_and_the_trigger_still_ends_the_wait(bench):
    session, sim, pics = bench
    registration = await register(session, pics, step="1-2")
    assert registration.status == "Accepted" and registration.waited_s < 5
    # Those of the Pending answer, before the Accepted one (whose own may still be on their way).
    got = [(r.action, r.get("requestedMessage"), r.answer) for r in session.requests[:4]]
    assert [(action, what) for action, what, _ in got] == [
        ("GetConfiguration", None), ("ChangeConfiguration", None),
        ("TriggerMessage", "StatusNotification"), ("TriggerMessage", "BootNotification")]
    assert got[0][2]["configurationKey"] and got[1][2] == {"status": "Accepted"}
    assert _boots(sim, pics) == ["Pending", "Accepted"]
