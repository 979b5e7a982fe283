"""harness.states.smart_charging.check_composite: the composite's start is judged against the round
trip of GetCompositeSchedule, not only the moment the harness asked (found under a stalled loop:
TC_066_CS FAILed 'starts ... +0.960 s from the moment the harness asked, expected within ± 0.5 s'
for a charge point that stamped it while handling the request, held up on a loaded machine)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from harness import clock, pics as pics_module, rpc
from harness.rpc import CallResult
from harness.session import Response
from harness.states.smart_charging import Installed, check_composite
from harness.transport import Frame


class _Cp:
    """A charge point that answers GetCompositeSchedule ``delay_s`` after it was asked, stamping
    the composite ``stamp_s`` after the harness asked."""

    def __init__(self, delay_s: float, stamp_s: float):
        self.delay_s, self.stamp_s = delay_s, stamp_s

    async def call(self, action, payload, **_):
        asked_ns = time.time_ns()
        start = clock.iso(clock.now() + timedelta(seconds=self.stamp_s))
        answer = {"status": "Accepted", "connectorId": payload["connectorId"], "scheduleStart": start,
                  "chargingSchedule": {"chargingRateUnit": payload["chargingRateUnit"],
                                       "startSchedule": start, "duration": payload["duration"],
                                       "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}]}}
        request = Frame("csms", rpc.dumps([2, "1", action, payload]), time.monotonic_ns(), asked_ns)
        reply = Frame("cp", rpc.dumps(CallResult("1", answer)), time.monotonic_ns(),
                      asked_ns + int(self.delay_s * 1e9))
        return Response(action, request, reply, answer, None, 2)


def _start_problem(exc: BaseException | None) -> str:
    return str(exc) if exc is not None and "composite schedule starts at" in str(exc) else ""


async def _judged(cp) -> str:
    pics = pics_module.load(pics_module.default_path("cs"))
    try:
        await check_composite(cp, pics, Installed(), connector_id=1, step="1-2")
    except AssertionError as exc:
        return _start_problem(exc)
    return ""


@pytest.mark.parametrize("delay_s, stamp_s", [(0.0, 0.0), (1.5, 1.0), (1.5, 1.9)])
async def test_a_start_within_the_round_trip_and_its_deviation_is_right(delay_s, stamp_s):
    assert await _judged(_Cp(delay_s, stamp_s)) == ""


@pytest.mark.parametrize("delay_s, stamp_s", [(0.0, 1.0), (1.5, 2.6), (0.0, -1.0)])
async def test_a_start_outside_it_still_fails(delay_s, stamp_s):
    assert "from the round trip of the request" in await _judged(_Cp(delay_s, stamp_s))
