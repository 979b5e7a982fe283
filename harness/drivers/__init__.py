"""Drivers: how a test case gets manual and operator actions done (DESIGN 2.5, docs/driver-protocol.md)."""

from __future__ import annotations

from typing import Any

from harness.drivers.base import CHARGE_POINT_ACTIONS, Driver, describe
from harness.drivers.http import HttpDriver
from harness.drivers.prompt import PromptDriver
from harness.drivers.python import PythonDriver
from harness.drivers.sim import SimDriver

__all__ = ["Driver", "PromptDriver", "HttpDriver", "PythonDriver", "SimDriver", "make_driver",
           "describe", "CHARGE_POINT_ACTIONS", "SPEC_FORMS"]

SPEC_FORMS = "prompt, http://HOST:PORT[/base], https://HOST:PORT[/base], python:package.module:attribute, sim"


def make_driver(spec: str, *, sim_target: Any = None, capture_manager: Any = None) -> Driver:
    """The driver named by ``--ocpp-driver``. ``sim_target``: the simulator for ``sim``;
    ``capture_manager``: pytest's, so that ``prompt`` can be seen and answered under capture."""
    text = spec.strip()
    if text.lower() == "prompt":
        return PromptDriver(capture_manager=capture_manager)
    if text.lower() == "sim":
        return SimDriver(sim_target)
    if text.lower().startswith(("http://", "https://")):
        return HttpDriver(text)
    if text.startswith("python:"):
        return PythonDriver(text[len("python:"):])
    raise ValueError(f"unknown driver {spec!r}; --ocpp-driver accepts: {SPEC_FORMS}")
