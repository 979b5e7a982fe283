"""The ``python`` driver: the actions done by your own Python object, in the harness's process.

``python:package.module:attribute`` names an object with one async method per action, named as in
the protocol (``plug_in``; an OCPP action in snake_case: ``remote_start_transaction``) and taking the
protocol's parameters as keyword arguments (``async def plug_in(self, connectorId)``), or a generic
``async def perform(self, action, params)``. A class or a function there is called once, with no
arguments, to make the object. A method returns the reply body (a dict) or None; it raises to say
the action could not be done.

Capabilities: the object's ``capabilities`` (a list of action names, or a method, plain or async,
returning one, or None for every action); without it, every action when it has a generic
``perform``, else exactly the actions it has a method for.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from typing import Any, Callable

from harness import rpc
from harness.drivers.base import (CHARGE_POINT_ACTIONS, ActionNotDone, ActionTimedOut, Driver, check_timeout,
                                  parse_capabilities, python_name)
from harness.verdicts import Inconclusive, NotApplicable

_ABSENT = object()
CLOSE_TIMEOUT = 10.0
"""Seconds the object's own close() may take when the driver closes."""


class PythonDriver(Driver):
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.target = _load(spec)

    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        timeout = check_timeout(timeout)
        name = python_name(action)
        method = _callable(self.target, name)
        if method is not None:
            call: Callable[[], Any] = functools.partial(method, **params)
            what = f"{name}()"
        else:
            generic = _callable(self.target, "perform")
            if generic is None:
                raise ActionNotDone(f"the python driver {self.spec} ({self.target!r}) cannot do the action "
                                    f"{action}: it has no method {name}() and no generic "
                                    "perform(action, params)")
            call = functools.partial(generic, action, dict(params))
            what = f"perform({action!r})"
        try:
            async with asyncio.timeout(timeout) as scope:
                result = call()
                if inspect.isawaitable(result):
                    result = await result
        except TimeoutError:
            if scope.expired():
                raise ActionTimedOut(f"the python driver's {what} did not finish within {timeout:g} s",
                                     timeout) from None
            raise ActionNotDone(f"the python driver's {what} raised TimeoutError") from None
        except (Inconclusive, NotApplicable):
            raise  # the object already chose the verdict
        except Exception as exc:
            raise ActionNotDone(f"the python driver's {what} raised {type(exc).__name__}: {exc}") from exc
        if result is None:
            return {}
        if isinstance(result, dict):
            return result
        raise ActionNotDone(f"the python driver's {what} returned {result!r}; "
                            "it must return a dict (the reply body) or None")

    async def capabilities(self, *, timeout: float) -> frozenset[str] | None:
        source = f"the python driver {self.spec}: capabilities"
        declared = getattr(self.target, "capabilities", _ABSENT)
        if declared is _ABSENT:
            if _callable(self.target, "perform") is not None:
                return None
            known = [*CHARGE_POINT_ACTIONS, *sorted(rpc.CSMS_ACTIONS)]
            return frozenset(a for a in known if _callable(self.target, python_name(a)) is not None)
        if callable(declared):
            async with asyncio.timeout(timeout):
                declared = declared()
                if inspect.isawaitable(declared):
                    declared = await declared
        return None if declared is None else parse_capabilities(declared, source)

    async def close(self) -> None:
        close = _callable(self.target, "close")
        if close is None:
            return
        result = close()
        if inspect.isawaitable(result):
            await asyncio.wait_for(result, CLOSE_TIMEOUT)


def _callable(obj: Any, name: str) -> Callable[..., Any] | None:
    attr = getattr(obj, name, None)
    return attr if callable(attr) else None


def _load(spec: str) -> Any:
    module_name, has_attr, attr_path = spec.partition(":")
    if not module_name or (has_attr and not attr_path):
        raise ValueError(f"a python driver is named python:package.module:attribute, not python:{spec}")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"cannot import the module {module_name!r} of the python driver {spec!r}: "
                         f"{type(exc).__name__}: {exc}") from exc
    for part in attr_path.split(".") if has_attr else ():
        try:
            obj = getattr(obj, part)
        except AttributeError:
            owner = getattr(obj, "__name__", repr(obj))
            raise ValueError(f"the python driver {spec!r}: {owner} has no attribute {part!r}") from None
    if inspect.isclass(obj) or inspect.isfunction(obj):
        if inspect.iscoroutinefunction(obj):
            raise ValueError(f"the python driver {spec!r} names an async function; name the object, "
                             "its class, or a plain factory function instead")
        try:
            obj = obj()
        except Exception as exc:
            raise ValueError(f"making the python driver {spec!r} failed: {attr_path}() raised "
                             f"{type(exc).__name__}: {exc}") from exc
    return obj
