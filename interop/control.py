"""The DUT control protocol (docs/driver-protocol.md) served with aiohttp, for both implementations.

``POST /<action>`` with a JSON object; the handler returns the reply body (a dict) or raises
:class:`Refused` with the HTTP status to answer (400 bad parameters, 404 unknown action, 409 not
possible now, 501 cannot be done, 504 the peer did not answer). ``GET /`` lists the actions, and
``GET /capabilities`` declares them (docs/driver-protocol.md).
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("interop.control")

Handler = Callable[[str, dict], Awaitable[dict | None]]


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class ControlServer:
    def __init__(self, handler: Handler, actions: Callable[[], list[str] | Awaitable[list[str]]],
                 host: str, port: int):
        self.handler, self.actions = handler, actions
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._list)
        app.router.add_get("/capabilities", self._list)
        app.router.add_post("/{action}", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]  # the one bound, when asked for port 0

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _list(self, request: web.Request) -> web.Response:
        try:
            actions = self.actions()
            if inspect.isawaitable(actions):  # a rig that learns them from what it runs
                actions = await actions
        except Refused as exc:
            return web.json_response({"error": exc.message}, status=exc.status)
        return web.json_response({"actions": actions})

    async def _post(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        raw = await request.read()
        try:
            params = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            return web.json_response({"error": f"the body is not JSON: {exc}"}, status=400)
        if not isinstance(params, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        log.info("control %s %s", action, params)
        try:
            body = await self.handler(action, params)
        except Refused as exc:
            log.info("control %s refused: %s %s", action, exc.status, exc.message)
            return web.json_response({"error": exc.message}, status=exc.status)
        except Exception as exc:  # an implementation bug must not take the control server down
            log.exception("control %s failed", action)
            return web.json_response({"error": f"{action} failed: {exc!r}"}, status=500)
        return web.json_response(body or {})


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)
