"""The DUT control protocol (DESIGN 2.5) of both simulators: ``POST /<action>`` with a JSON object,
``GET /status``, ``GET /capabilities`` (the actions the simulator can perform).

A simulator exposes one coroutine, ``control(action, params) -> dict``, and this module serves it
over HTTP with aiohttp; the pytest plugin and the ``sim`` driver call the same coroutine in-process.
Parameters are declared per action (:class:`Spec`) so that a typo gets a 4xx naming what is
accepted instead of being silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from harness.sim.common import log

REQUIRED = object()


class ControlError(Exception):
    """A control request that cannot be done: ``status`` is the HTTP status it maps to (400 bad
    parameters, 404 unknown action or charge point, 409 not possible in the current state, 504 the
    charge point did not answer in time)."""

    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(f"{status}: {message}")


@dataclass(frozen=True)
class Spec:
    """The parameters of one control action: name -> (type or tuple of types, default or REQUIRED)."""
    params: Mapping[str, tuple[Any, Any]]
    help: str = ""
    open: bool = False
    """Accept parameters beyond those listed (inject_fault passes the fault's own parameters)."""


_TYPE_NAMES = {int: "an integer", str: "a string", dict: "a JSON object", float: "a number",
               bool: "a boolean", list: "an array"}


def check_params(action: str, params: Any, specs: Mapping[str, Spec]) -> dict:
    """Validate ``params`` for ``action``; returns them with defaults filled in."""
    spec = specs.get(action)
    if spec is None:
        raise ControlError(404, f"unknown action {action!r}; accepted: {', '.join(sorted(specs))}")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ControlError(400, f"{action}: the body must be a JSON object, got "
                                f"{type(params).__name__}")
    accepted = ", ".join(f"{k}{'' if d is REQUIRED else '?'}" for k, (_, d) in spec.params.items())
    unknown = sorted(set(params) - set(spec.params))
    if unknown and not spec.open:
        raise ControlError(400, f"{action}: unknown parameter(s) {', '.join(unknown)}; accepted: "
                                f"{accepted or 'none'}")
    out = dict(params)
    for name, (types, default) in spec.params.items():
        if name not in params:
            if default is REQUIRED:
                raise ControlError(400, f"{action}: missing parameter {name!r}; accepted: "
                                        f"{accepted}")
            out[name] = default
            continue
        value = params[name]
        wanted = types if isinstance(types, tuple) else (types,)
        ok = any(isinstance(value, t) and not (isinstance(value, bool) and t in (int, float))
                 for t in wanted) or (value is None and default is None)
        if float in wanted and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in wanted)
            raise ControlError(400, f"{action}: {name} must be {names}, got {value!r}")
    return out


Handler = Callable[[str, dict], Awaitable[dict]]


def describe(specs: Mapping[str, Spec]) -> dict:
    """The action list served at GET /: each action's parameters (``?`` marks optional ones)."""
    return {name: {"params": [f"{k}{'' if d is REQUIRED else '?'}" for k, (_, d) in
                              spec.params.items()], "help": spec.help}
            for name, spec in sorted(specs.items())}


class ControlServer:
    """aiohttp server wrapping ``control`` and ``status``."""

    def __init__(self, control: Handler, status: Callable[[], dict], host: str = "127.0.0.1",
                 port: int = 0, specs: Mapping[str, Spec] | None = None,
                 capabilities: Callable[[], Iterable[str]] | None = None):
        self._control, self._status = control, status
        self._specs = specs or {}
        self._capabilities = capabilities
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._get_status)
        app.router.add_get("/capabilities", self._get_capabilities)
        app.router.add_get("/", self._get_actions)
        app.router.add_post("/{action}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        # With port 0 the OS picks one; report the one bound.
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _get_status(self, request: web.Request) -> web.Response:
        return _json(200, self._status())

    async def _get_capabilities(self, request: web.Request) -> web.Response:
        if self._capabilities is not None:
            return _json(200, {"actions": sorted(self._capabilities())})
        if self._specs:
            return _json(200, {"actions": sorted(self._specs)})
        return _json(404, {"error": "this control server does not declare its capabilities"})

    async def _get_actions(self, request: web.Request) -> web.Response:
        return _json(200, {"actions": describe(self._specs)})

    async def _post(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.read()
        try:
            params = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            return _json(400, {"error": f"{action}: the body is not JSON: {exc}"})
        try:
            result = await self._control(action, params)
        except ControlError as exc:
            return _json(exc.status, {"error": exc.message})
        except Exception as exc:  # a bug in the simulator must not kill the control server
            log.exception("control %s failed", action)
            return _json(500, {"error": f"{action} failed inside the simulator: {exc!r}"})
        return _json(200, result)


def _json(status: int, body: Any) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, default=str),
                        content_type="application/json")
