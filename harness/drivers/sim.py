"""The ``sim`` driver: the actions done by the harness's own reference simulator, in process.

The simulator exposes ``async def control(action, params) -> dict``, the same DUT control protocol
its HTTP control endpoint serves, and refuses an action by raising an exception with ``status``
and ``message`` (its ``ControlError``). That class is duck-typed here so that the drivers do not
depend on the simulators.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.drivers.base import ActionNotDone, ActionTimedOut, Driver, check_timeout, parse_capabilities


class SimDriver(Driver):
    """``target``: the simulator. Assignable, because the plugin may restart the simulator."""

    def __init__(self, target: Any = None) -> None:
        self.target = target

    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        timeout = check_timeout(timeout)
        target = self.target
        if target is None:
            # A set-up mistake, not the device's fault: the harness has no simulator to drive.
            raise RuntimeError("the sim driver has no simulator to drive; --ocpp-driver sim works only "
                               "with --ocpp-dut sim")
        try:
            async with asyncio.timeout(timeout) as scope:
                result = await target.control(action, dict(params))
        except TimeoutError:
            if scope.expired():
                raise ActionTimedOut(f"the simulator did not finish {action} within {timeout:g} s",
                                     timeout) from None
            raise
        except Exception as exc:
            if hasattr(exc, "status") and hasattr(exc, "message"):
                raise ActionNotDone(f"the simulator refused {action} ({exc.status}): {exc.message}",
                                    exc.status if isinstance(exc.status, int) else None) from None
            raise  # anything else is a bug in the simulator: an ERROR, not an INCONCLUSIVE
        return dict(result) if result else {}

    async def capabilities(self, *, timeout: float) -> frozenset[str] | None:
        """What the simulator says it can do (its ``capabilities()``, as its control server serves
        at ``GET /capabilities``), or None: every action."""
        declare = getattr(self.target, "capabilities", None)
        if not callable(declare):
            return None
        names = declare()
        return None if names is None else parse_capabilities(names, "the simulator's capabilities()")
