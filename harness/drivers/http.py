"""The ``http`` driver: the DUT control protocol (docs/driver-protocol.md) over HTTP.

``POST <base>/<action>`` with the parameters as a JSON object. A 2xx reply means done and its JSON
object body is handed back; anything else, and no reply in time, is INCONCLUSIVE.
``GET <base>/capabilities`` says what the rig can do; a rig without it (404, 405, 501) can do
everything, as before capabilities existed.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote, urlsplit

import aiohttp

from harness.drivers.base import (ActionNotDone, ActionTimedOut, Driver, check_timeout, parse_capabilities,
                                  to_json)

_MAX_BODY_IN_REASON = 500
_JSON = {"Content-Type": "application/json"}


class HttpDriver(Driver):
    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the http driver needs a URL like http://HOST:PORT[/base], not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None

    def url(self, action: str) -> str:
        return f"{self.base_url}/{quote(action, safe='')}"

    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        timeout = check_timeout(timeout)
        url = self.url(action)
        sent = to_json(params).encode()  # exact: a Decimal limit goes out digit for digit
        try:
            limit = aiohttp.ClientTimeout(total=timeout)
            async with self._client().post(url, data=sent, headers=_JSON, timeout=limit) as reply:
                status, reason = reply.status, reply.reason
                body = (await reply.read()).decode("utf-8", errors="replace")
        except TimeoutError:  # aiohttp's own timeout errors are TimeoutErrors too
            raise ActionTimedOut(f"no reply from POST {url} within {timeout:g} s", timeout) from None
        except aiohttp.ClientConnectorError as exc:
            raise ActionNotDone(f"could not connect to the DUT control endpoint {url}: {exc}") from None
        except aiohttp.ClientError as exc:
            raise ActionNotDone(f"POST {url} failed: {type(exc).__name__}: {exc}") from None
        if not 200 <= status < 300:
            raise ActionNotDone(f"POST {url} answered {status} {reason or ''}".rstrip()
                                + f": {_truncate(body) or '(empty body)'}", status)
        return _json_object(body)

    async def capabilities(self, *, timeout: float) -> frozenset[str] | None:
        """``GET <base>/capabilities``: a JSON list of action names, or ``{"actions": [...]}``.
        404, 405 and 501 mean the rig does not say (every action). A rig that cannot be reached is
        :class:`ActionNotDone`: asked again before the next case. A 2xx body that is not a list of
        names is the rig's mistake: a ValueError naming the URL."""
        url = self.url("capabilities")
        try:
            async with self._client().get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
                status = reply.status
                body = (await reply.read()).decode("utf-8", errors="replace")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise ActionNotDone(f"GET {url}: the rig could not be reached "
                                f"({type(exc).__name__})") from None
        if status in (404, 405, 501) or not 200 <= status < 300:
            return None
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            raise ValueError(f"GET {url} answered {status} with a body that is not JSON: "
                             f"{_truncate(body)!r}") from None
        return parse_capabilities(value, f"GET {url}")

    def _client(self) -> aiohttp.ClientSession:
        # A session belongs to one event loop; pytest-asyncio may give each test its own loop while
        # this driver lives for the whole run, so a new loop gets a new session.
        loop = asyncio.get_running_loop()
        if self._session is not None and (self._session_loop is not loop or self._session.closed):
            self._session.detach()
            self._session = None
        if self._session is None:
            # No keep-alive: actions are rare, and a rig that power-cycles would leave a stale
            # pooled connection behind. It also means a dropped session holds no sockets.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if self._session_loop is asyncio.get_running_loop():
            await session.close()
        else:  # its loop is gone: nothing to await, and with no keep-alive no socket is left open
            session.detach()


def _truncate(text: str) -> str:
    text = text.strip()
    if len(text) <= _MAX_BODY_IN_REASON:
        return text
    return f"{text[:_MAX_BODY_IN_REASON]}... ({len(text)} characters in all)"


def _json_object(body: str) -> dict:
    """The reply body handed to the test: a JSON object as is; an empty or other body carries nothing."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested beyond what the parser takes
        return {}
    return value if isinstance(value, dict) else {}
