"""OCPP-J over WebSocket, both roles, on `websockets`.

- As central system: :class:`CentralSystemServer` accepts ``ws://host:port/<any path>/<chargePointId>``.
- As charge point: :func:`connect` opens ``<csms_url>/<chargePointId>``.

Both negotiate the ``ocpp1.6`` subprotocol (OCPP-J 1.6 section 3.1.2: the charge point offers it, the
central system selects it; a peer that does not is a finding, and the connection goes on so the test
can say so), take HTTP Basic auth and TLS / mutual TLS from the PICS security settings, and stamp every
data frame with the monotonic clock at the moment the event loop reads it off the socket (not when a
consumer gets round to it), which is what the timing measurements rely on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import DATA_OPCODES, Frame as WsFrame
from websockets.http11 import Response

from harness.findings import Finding
from harness.rpc import Sender

SUBPROTOCOL = "ocpp1.6"
DEFAULT_MAX_SIZE = 1 << 20
"""Largest frame accepted, in bytes. Larger ones close the connection with 1009 and are findings."""


@dataclass(slots=True)
class Frame:
    """One WebSocket data frame as it crossed the socket."""
    sender: Sender
    text: str | bytes
    mono_ns: int
    """time.monotonic_ns() when the frame was read off / handed to the socket."""
    wall_ns: int
    """time.time_ns() at the same moment, for the wire log's RFC 3339 stamp."""

    @property
    def binary(self) -> bool:
        return isinstance(self.text, bytes)


class LinkClosed(Exception):
    """The connection is closed. ``code`` and ``reason`` are the close frame's, as received or sent."""

    def __init__(self, code: int | None, reason: str, by_peer: bool, finding: Finding | None = None):
        self.code, self.reason, self.by_peer, self.finding = code, reason, by_peer, finding
        who = "the peer" if by_peer else "the harness"
        detail = f"code {code}" + (f", {reason!r}" if reason else "") if code else "no close frame"
        super().__init__(f"connection closed by {who} ({detail})")


class HandshakeRefused(ConnectionError):
    """The central system answered the WebSocket handshake with an HTTP status other than 101."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _StampingMixin:
    """Record arrival times of complete data messages, in order, as the protocol parses them."""

    arrivals: deque

    def process_event(self, event: Any) -> None:
        if isinstance(event, WsFrame) and event.opcode in DATA_OPCODES and event.fin:
            self.arrivals.append((time.monotonic_ns(), time.time_ns()))
        super().process_event(event)  # type: ignore[misc]


class _StampedServerConnection(_StampingMixin, ServerConnection):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arrivals = deque()


class _StampedClientConnection(_StampingMixin, ClientConnection):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arrivals = deque()


class Link:
    """One OCPP-J WebSocket connection, seen from the harness (``local`` is the harness's role)."""

    def __init__(self, ws: ServerConnection | ClientConnection, local: Sender, charge_point_id: str,
                 findings: list[Finding] | None = None, max_size: int = DEFAULT_MAX_SIZE):
        self.ws = ws
        self.max_size = max_size
        self.local: Sender = local
        self.peer: Sender = "cp" if local == "csms" else "csms"
        self.charge_point_id = charge_point_id
        self.findings: list[Finding] = findings or []
        """Handshake findings: subprotocol not offered or not selected, credentials missing."""
        self.closed = asyncio.Event()

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    @property
    def path(self) -> str:
        request = getattr(self.ws, "request", None)
        return request.path if request is not None else ""

    def stamp(self, text: str) -> Frame:
        """A frame of the harness's, stamped now; :meth:`write` sends it."""
        return Frame(self.local, text, time.monotonic_ns(), time.time_ns())

    async def write(self, frame: Frame) -> None:
        try:
            await self.ws.send(frame.text)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None

    async def send(self, text: str) -> Frame:
        frame = self.stamp(text)
        await self.write(frame)
        return frame

    async def recv(self) -> Frame:
        try:
            data = await self.ws.recv()
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        arrivals: deque = self.ws.arrivals  # type: ignore[union-attr]
        mono, wall = arrivals.popleft() if arrivals else (time.monotonic_ns(), time.time_ns())
        return Frame(self.peer, data, mono, wall)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)
        self.closed.set()

    def _closed(self, exc: ConnectionClosed) -> LinkClosed:
        self.closed.set()
        finding = None
        if exc.sent is not None and exc.sent.code == 1009:
            finding = Finding("ws.too-large", "frame",
                              "the peer sent a message larger than the harness's frame size limit "
                              f"({self.max_size} bytes)", self.max_size)
        if exc.rcvd is not None and exc.sent is not None:
            # Both close frames crossed: whoever sent first closed the connection.
            first = exc.rcvd if exc.rcvd_then_sent else exc.sent
            return LinkClosed(first.code, first.reason, bool(exc.rcvd_then_sent), finding)
        if exc.rcvd is not None:
            return LinkClosed(exc.rcvd.code, exc.rcvd.reason, True, finding)
        if exc.sent is not None:
            return LinkClosed(exc.sent.code, exc.sent.reason, False, finding)
        return LinkClosed(None, "", True, finding)


def charge_point_id_from_path(path: str) -> str | None:
    """The last non-empty segment of the request path, URL-decoded (``/ocpp/CP001`` -> ``CP001``)."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    return unquote(segments[-1]) if segments else None


def _basic_credentials(headers: Headers) -> tuple[str, str] | None:
    value = headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


class CentralSystemServer:
    """The harness as central system: a WebSocket server that hands over each charge point connection.

    ``basic_auth_password`` set: the charge point must authenticate as its chargePointId with it
    (security profile 1 and 2); otherwise the handshake is refused with 401 and recorded.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, *,
                 basic_auth_password: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 max_size: int = DEFAULT_MAX_SIZE, ping_interval: float | None = 20):
        self.host, self.port = host, port
        self.basic_auth_password = basic_auth_password
        self.ssl_context = ssl_context
        self.max_size = max_size
        self.ping_interval = ping_interval
        self.refused: list[tuple[str, Finding]] = []
        """Handshakes refused (path, why): a test waiting for a connection reports them."""
        self.on_refused: Callable[[str, Finding], None] | None = None
        """Told of every refused handshake as it happens (the bench's live status)."""
        self._incoming: asyncio.Queue[Link] = asyncio.Queue()
        self._server: Any = None
        self._links: set[Link] = set()

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://{self.host}:{self.port}/ocpp"

    async def start(self) -> None:
        self._server = await serve(
            self._handle, self.host, self.port, ssl=self.ssl_context, max_size=self.max_size,
            ping_interval=self.ping_interval, select_subprotocol=self._select_subprotocol,
            process_request=self._process_request, create_connection=_StampedServerConnection,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for link in list(self._links):
                link.closed.set()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> "CentralSystemServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    async def accept(self, timeout: float) -> Link:
        """The next charge point connection, within ``timeout`` seconds (TimeoutError otherwise)."""
        return await asyncio.wait_for(self._incoming.get(), timeout)

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in offered else None

    def _refuse(self, path: str, finding: Finding) -> None:
        self.refused.append((path, finding))
        if self.on_refused is not None:
            self.on_refused(path, finding)

    def _process_request(self, connection: ServerConnection, request: Any) -> Response | None:
        cp_id = charge_point_id_from_path(request.path)
        if cp_id is None:
            finding = Finding("ws.path", "handshake",
                              "the URL path carries no chargePointId (expected /<path>/<id>)",
                              request.path)
            self._refuse(request.path, finding)
            return connection.respond(404, "The URL must end with /<chargePointId>\n")
        if self.basic_auth_password is not None:
            credentials = _basic_credentials(request.headers)
            if credentials != (cp_id, self.basic_auth_password):
                why = ("no HTTP Basic credentials" if credentials is None
                       else f"wrong HTTP Basic credentials for user {credentials[0]!r}")
                finding = Finding("ws.basic-auth", "handshake",
                                  f"{why} (security profile 1/2: user = chargePointId)", cp_id)
                self._refuse(request.path, finding)
                response = connection.respond(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
                return response
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        cp_id = charge_point_id_from_path(ws.request.path) or ""
        offered = ws.request.headers.get_all("Sec-WebSocket-Protocol")
        findings = []
        if ws.subprotocol != SUBPROTOCOL:
            findings.append(Finding(
                "ws.subprotocol", "handshake",
                "the charge point did not offer the ocpp1.6 subprotocol "
                f"(Sec-WebSocket-Protocol: {', '.join(offered) or 'absent'})", offered))
        link = Link(ws, "csms", cp_id, findings, self.max_size)
        self._links.add(link)
        await self._incoming.put(link)
        try:
            # The session reads from the link; this handler only keeps the connection open.
            await ws.wait_closed()
        finally:
            link.closed.set()
            self._links.discard(link)


async def connect(csms_url: str, charge_point_id: str, *, timeout: float,
                  basic_auth_password: str | None = None,
                  ssl_context: ssl.SSLContext | None = None,
                  max_size: int = DEFAULT_MAX_SIZE, ping_interval: float | None = 20,
                  subprotocols: tuple[str, ...] = (SUBPROTOCOL,)) -> Link:
    """The harness as charge point: connect to ``<csms_url>/<chargePointId>``.

    Raises ``ConnectionError`` with a readable reason when the handshake fails or times out.
    """
    url = csms_url.rstrip("/") + "/" + charge_point_id
    headers = {}
    if basic_auth_password is not None:
        token = base64.b64encode(f"{charge_point_id}:{basic_auth_password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        ws = await asyncio.wait_for(ws_connect(
            url, subprotocols=list(subprotocols) or None, additional_headers=headers,
            ssl=ssl_context, max_size=max_size, ping_interval=ping_interval,
            create_connection=_StampedClientConnection, open_timeout=None,
        ), timeout)
    except TimeoutError:
        raise ConnectionError(f"no WebSocket handshake with {url} within {timeout:g} s") from None
    except InvalidStatus as exc:
        raise HandshakeRefused(
            f"{url} refused the WebSocket handshake: HTTP {exc.response.status_code}",
            exc.response.status_code) from None
    except (OSError, InvalidHandshake) as exc:
        raise ConnectionError(f"cannot connect to {url}: {exc}") from None
    findings = []
    if SUBPROTOCOL in subprotocols and ws.subprotocol != SUBPROTOCOL:
        findings.append(Finding(
            "ws.subprotocol", "handshake",
            f"the central system did not select the ocpp1.6 subprotocol (selected: "
            f"{ws.subprotocol or 'none'})", ws.subprotocol))
    return Link(ws, "cp", charge_point_id, findings, max_size)


def tls_context(*, server: bool, ca_file: str | None = None, cert_file: str | None = None,
                key_file: str | None = None, require_client_cert: bool = False) -> ssl.SSLContext:
    """A TLS context for security profiles 2 (server certificate) and 3 (mutual TLS).

    TLS 1.2 at least, as the OCPP 1.6 security whitepaper requires.
    """
    purpose = ssl.Purpose.CLIENT_AUTH if server else ssl.Purpose.SERVER_AUTH
    context = ssl.create_default_context(purpose, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file)
    if server and require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
    return context
