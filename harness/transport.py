"""OCPP-J over WebSocket, both roles, on `websockets`.

- As central system: :class:`CentralSystemServer` accepts ``ws://host:port/<any path>/<chargePointId>``.
- As charge point: :func:`connect` opens ``<csms_url>/<chargePointId>``.

Both negotiate the dialect's subprotocol (``ocpp1.6`` for :data:`harness.dialect.OCPP16`, the default;
OCPP-J 1.6 section 3.1.2: the charge point offers it, the central system selects it; a peer that does
not is a finding, and the connection goes on so the test
can say so), take HTTP Basic auth and TLS / mutual TLS from the PICS security settings, and stamp every
data frame with the monotonic clock at the moment the event loop reads it off the socket (not when a
consumer gets round to it), which is what the timing measurements rely on.

Every connection attempt is evidence (:class:`Attempt`): the harness's central system records each
one it sees (TLS failures, requests that are not HTTP or not an upgrade, stalled handshakes, wrong
credentials, a wrong chargePointId, completed upgrades) and tells its listeners
(:attr:`CentralSystemServer.listeners`, the session writes them to the wire log of the case that
waits); the harness's charge point's :func:`connect` raises :class:`HandshakeFailed` carrying the
:class:`Attempt`. Blame is in the attempt: ``reached`` is False only when nothing answered at all
(TCP refused, unreachable, nothing listening), the only case that is not the device's fault.
Secrets never enter an attempt: of the Authorization header only the user name is kept.

A text frame that is not UTF-8 (RFC 6455 section 8.1) is not dropped by the library: :meth:`Link.recv`
returns it as bytes with ``Frame.utf8_error`` set, so the session can log the bytes (hex) and close
with 1007 itself.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import ssl
import sys
import time
from collections import deque
from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any, Callable, Literal
from urllib.parse import unquote, urlsplit

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import (ConnectionClosed, InvalidHandshake, InvalidHeader,
                                   InvalidMessage, InvalidStatus, NegotiationError)
from websockets.frames import DATA_OPCODES, Frame as WsFrame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol

from harness.dialect import OCPP16, Dialect, Sender
from harness.findings import Finding

SUBPROTOCOL = OCPP16.subprotocol
"""OCPP 1.6's subprotocol, for the callers that mean 1.6; the engine uses its dialect's."""
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
    utf8_error: str | None = None
    """A text frame whose payload is not UTF-8: why (``text`` holds the bytes as received)."""

    @property
    def binary(self) -> bool:
        return isinstance(self.text, bytes) and self.utf8_error is None


Stage = Literal["tcp", "tls", "http", "websocket"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One connection attempt as the harness saw it, accepted or not.

    ``stage`` is how far it got: ``tcp`` (nothing or no HTTP request came), ``tls`` (the TLS
    handshake failed), ``http`` (an HTTP request or response that is not a WebSocket upgrade, or
    none in time), ``websocket`` (upgraded; refused after it, e.g. a wrong chargePointId).
    """
    mono_ns: int
    wall_ns: int
    stage: Stage
    accepted: bool
    finding: Finding | None = None
    """The rule the device broke; None for an accepted attempt or when nothing reached."""
    reached: bool = True
    """False only when nothing answered (the harness as charge point could not reach the URL)."""
    peer: str = ""
    path: str = ""
    charge_point_id: str | None = None
    status: int | None = None
    """The HTTP status answered (101 = upgraded)."""
    close_code: int | None = None
    detail: tuple[tuple[str, Any], ...] = ()
    """Headers and fields at fault (never a secret)."""

    @property
    def event(self) -> str:
        return "handshake" if self.accepted else "refused"

    @property
    def reason(self) -> str:
        if self.finding is not None:
            return self.finding.message
        return "accepted" if self.accepted else "nothing answered"

    def to_event(self) -> dict[str, Any]:
        """The ``detail`` of the wire log's ``handshake`` / ``refused`` event line."""
        out: dict[str, Any] = {"stage": self.stage, "accepted": self.accepted}
        for key in ("peer", "path", "charge_point_id", "status", "close_code"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = value
        if self.finding is not None:
            out["rule"] = self.finding.rule
            out["reason"] = self.finding.message
            if self.finding.is_remark:
                out["severity"] = self.finding.severity
        elif not self.reached:
            out["reason"] = self.reason
        out.update(self.detail)
        return out

    def __str__(self) -> str:
        where = " ".join(x for x in (self.peer, self.path) if x)
        status = f"HTTP {self.status}" if self.status else (
            f"close {self.close_code}" if self.close_code else self.stage)
        return f"{self.reason} ({status}{' from ' + where if where else ''})"


class HandshakeFailed(ConnectionError):
    """The harness as charge point did not get a WebSocket connection; ``attempt`` says why and
    whose fault (``attempt.reached`` False: nothing answered)."""

    def __init__(self, message: str, attempt: Attempt):
        super().__init__(message)
        self.attempt = attempt


class HandshakeRefused(HandshakeFailed):
    """The central system answered the WebSocket handshake with an HTTP status other than 101
    (``status``)."""

    def __init__(self, message: str, attempt: Attempt, status: int):
        super().__init__(message, attempt)
        self.status = status


def _attempt(stage: Stage, accepted: bool, finding: Finding | None = None, **kw: Any) -> Attempt:
    return Attempt(time.monotonic_ns(), time.time_ns(), stage, accepted, finding, **kw)


def _describe(exc: BaseException) -> str:
    """An exception's text, never empty (some ssl and socket errors have none)."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"TLS error {exc.reason} ({exc.library or 'SSL'})"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LinkClosed(Exception):
    """The connection is closed. ``code`` and ``reason`` are the close frame's, as received or sent."""

    def __init__(self, code: int | None, reason: str, by_peer: bool, finding: Finding | None = None):
        self.code, self.reason, self.by_peer, self.finding = code, reason, by_peer, finding
        who = "the peer" if by_peer else "the harness"
        detail = f"code {code}" + (f", {reason!r}" if reason else "") if code else "no close frame"
        super().__init__(f"connection closed by {who} ({detail})")


class _StampingMixin:
    """Record arrival times of complete data messages, in order, as the protocol parses them, and
    whether each was a text message (its payload is then checked for UTF-8 by :meth:`Link.recv`,
    not by the library, which would close the connection and drop the bytes)."""

    arrivals: deque
    _opcode: Any = None

    def process_event(self, event: Any) -> None:
        if isinstance(event, WsFrame) and event.opcode in DATA_OPCODES:
            if event.opcode is not Opcode.CONT:
                self._opcode = event.opcode
            if event.fin:
                self.arrivals.append((time.monotonic_ns(), time.time_ns(),
                                      self._opcode is Opcode.TEXT))
        super().process_event(event)  # type: ignore[misc]


class _StampedServerConnection(_StampingMixin, ServerConnection):
    def __init__(self, *args: Any, harness_server: "CentralSystemServer | None" = None,
                 **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arrivals = deque()
        self.harness_server = harness_server
        self.refusal: Finding | None = None
        """Why the harness itself refused the handshake (set by its process_request)."""

    async def handshake(self, *args: Any, **kwargs: Any) -> None:
        try:
            await super().handshake(*args, **kwargs)
        except asyncio.CancelledError:
            # The opening-handshake timeout: the peer connected and never finished its request.
            # Not when the harness had already answered (a refusal, then websockets waits for
            # the peer to close the TCP connection): that attempt is recorded by the answer.
            if self.harness_server is not None and self.response is None:
                self.harness_server._stalled(self)
            raise
        if self.request is None and self.harness_server is not None:
            self.harness_server._no_request(self)


class _StampedClientConnection(_StampingMixin, ClientConnection):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.arrivals = deque()
        self.transport_up = False
        """The transport is up: for wss://, the TLS handshake is done (asyncio calls
        ``connection_made`` only then)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport_up = True
        super().connection_made(transport)


def _recording_sslobject(server: "CentralSystemServer") -> type[ssl.SSLObject]:
    """An SSLObject class that tells ``server`` of every failed TLS handshake (asyncio logs them
    at debug level only, and the WebSocket layer never sees them), with the peer's address."""

    class RecordingSSLObject(ssl.SSLObject):
        def do_handshake(self) -> None:
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                server._tls_failed(exc, _handshake_peer(sys._getframe(1)))
                raise

    return RecordingSSLObject


def _handshake_peer(frame: Any) -> str:
    """The peer address of the TLS handshake failing in ``frame``'s call stack: an SSLObject
    knows only its memory BIOs, and asyncio's SSLProtocol that drives it (its caller,
    ``SSLProtocol._do_handshake``) holds the TCP transport. "" when not found (the campaign's
    TLS behaviours assert the address is there, so a change in asyncio shows)."""
    from asyncio.sslproto import SSLProtocol

    for _ in range(3):
        if frame is None:
            break
        protocol = frame.f_locals.get("self")
        if isinstance(protocol, SSLProtocol):
            transport = getattr(protocol, "_transport", None)
            address = transport.get_extra_info("peername") if transport is not None else None
            if isinstance(address, tuple) and len(address) >= 2:
                return f"{address[0]}:{address[1]}"
            break
        frame = frame.f_back
    return ""


CERTIFICATE_FIELDS = {
    2: "issuer (its issuer's certificate is not in the trust store)",
    7: "signature (does not verify)",
    9: "validity notBefore (not valid yet)",
    10: "validity notAfter (expired)",
    18: "issuer (self-signed, not in the trust store)",
    19: "issuer (a self-signed certificate in the chain)",
    20: "issuer (its issuer's certificate is not in the trust store)",
    21: "issuer (the chain does not reach a trusted certificate)",
    26: "extendedKeyUsage (not for this purpose)",
    62: "subjectAltName (no DNS name matches the host)",
    64: "subjectAltName (no IP address matches the host)",
}
"""OpenSSL's X509_V_ERR codes -> the certificate field at fault."""


def certificate_field(exc: ssl.SSLError) -> str | None:
    """The field of the peer's certificate at fault in a failed TLS handshake, where known."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return CERTIFICATE_FIELDS.get(exc.verify_code or 0)
    if exc.reason in ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "TLSV13_ALERT_CERTIFICATE_REQUIRED"):
        return "certificate (none sent)"
    return None


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
            data = await self.ws.recv(decode=False)
        except ConnectionClosed as exc:
            raise self._closed(exc) from None
        arrivals: deque = self.ws.arrivals  # type: ignore[union-attr]
        mono, wall, text = (arrivals.popleft() if arrivals
                            else (time.monotonic_ns(), time.time_ns(), False))
        if not text:
            return Frame(self.peer, data, mono, wall)
        try:
            return Frame(self.peer, data.decode("utf-8"), mono, wall)
        except UnicodeDecodeError as exc:
            return Frame(self.peer, data, mono, wall,
                         utf8_error=f"{exc.reason} at byte {exc.start}")

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
    (security profile 1 and 2); otherwise the handshake is refused with 401 and recorded. A tuple
    is the passwords accepted (a new AuthorizationKey in its hex and plain forms, TC_073); the
    attribute may be changed between handshakes, with ``basic_auth_whose`` saying whose password
    it is, in words (never the password): a refusal's reason names it.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, *,
                 basic_auth_password: str | tuple[str, ...] | None = None,
                 ssl_context: ssl.SSLContext | None = None, max_size: int = DEFAULT_MAX_SIZE,
                 ping_interval: float | None = 20,
                 expected_id: str | None = None, open_timeout: float = 10,
                 dialect: Dialect = OCPP16):
        self.host, self.port = host, port
        self.dialect = dialect
        """Its subprotocol is the one selected (harness.dialect; OCPP 1.6 by default)."""
        self.open_timeout = open_timeout
        self.basic_auth_password = basic_auth_password
        self.basic_auth_whose = "the PICS password"
        """Which password(s) ``basic_auth_password`` is, for a refusal's reason: "the PICS
        password", "the AuthorizationKey TC_073_CS set"."""
        self.ssl_context = ssl_context
        self.max_size = max_size
        self.ping_interval = ping_interval
        self.expected_id = expected_id
        self.attempts: list[Attempt] = []
        """Every connection attempt seen, in order (bounded: the oldest go past ``max_attempts``)."""
        self.listeners: list[Callable[[Attempt], None]] = []
        """Told of every attempt as it is recorded (the session logs them; a terminal reporter
        can show them live)."""
        self.max_attempts = 10_000
        self._incoming: asyncio.Queue[Link] = asyncio.Queue()
        self._server: Any = None
        self._links: set[Link] = set()

    @property
    def url(self) -> str:
        scheme = "wss" if self.ssl_context else "ws"
        return f"{scheme}://{self.host}:{self.port}/ocpp"

    @property
    def refused(self) -> list[Attempt]:
        """The attempts the harness refused or that failed (a test waiting for a connection
        reports them)."""
        return [a for a in self.attempts if not a.accepted]

    def _record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        if len(self.attempts) > self.max_attempts:
            del self.attempts[: len(self.attempts) - self.max_attempts]
        for listener in list(self.listeners):
            listener(attempt)

    async def start(self) -> None:
        if self.ssl_context is not None:
            self.ssl_context.sslobject_class = _recording_sslobject(self)
        self._server = await serve(
            self._handle, self.host, self.port, ssl=self.ssl_context, max_size=self.max_size,
            ping_interval=self.ping_interval, select_subprotocol=self._select_subprotocol,
            process_request=self._process_request, process_response=self._process_response,
            # websockets calls create_connection as it would the class
            create_connection=functools.partial(  # type: ignore[arg-type]
                _StampedServerConnection, harness_server=self),
            open_timeout=self.open_timeout,
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

    def _select_subprotocol(self, connection: ServerConnection,
                            offered: Sequence[Subprotocol]) -> Subprotocol | None:
        wanted = Subprotocol(self.dialect.subprotocol)
        return wanted if wanted in offered else None

    def _process_request(self, connection: ServerConnection, request: Any) -> Response | None:
        cp_id = charge_point_id_from_path(request.path)
        if cp_id is None:
            connection.refusal = Finding(  # type: ignore[attr-defined]
                "ws.path", "handshake",
                f"the URL path carries no chargePointId ({self.dialect.references['url']}: "
                "<path>/<chargePointId>)", request.path)
            return connection.respond(404, "The URL must end with /<chargePointId>\n")
        if self.basic_auth_password is not None:
            credentials = _basic_credentials(request.headers)
            accepted = ((self.basic_auth_password,) if isinstance(self.basic_auth_password, str)
                        else self.basic_auth_password)
            if credentials is None or credentials[0] != cp_id or credentials[1] not in accepted:
                why = ("no HTTP Basic credentials" if credentials is None
                       else f"wrong HTTP Basic credentials for user {credentials[0]!r}")
                connection.refusal = Finding(  # type: ignore[attr-defined]
                    "ws.basic-auth", "handshake",
                    f"{why} ({self.dialect.references['security']}, profiles 1 and 2: user = "
                    f"chargePointId, password = {self.basic_auth_whose})", cp_id)
                response = connection.respond(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP"'
                return response
        return None

    def _process_response(self, connection: ServerConnection, request: Any,
                          response: Response) -> None:
        """Every HTTP answer the harness gives to an opening handshake becomes an attempt."""
        headers = request.headers
        detail: list[tuple[str, Any]] = [
            ("subprotocols_offered", headers.get_all("Sec-WebSocket-Protocol")),
        ]
        if headers.get("User-Agent"):
            detail.append(("user_agent", headers["User-Agent"][:200]))
        credentials = _basic_credentials(headers)
        if credentials is not None:
            detail.append(("basic_auth_user", credentials[0][:100]))  # never the password
        accepted = response.status_code == 101
        finding = getattr(connection, "refusal", None)
        if not accepted and finding is None:
            body = response.body.decode("utf-8", "replace").strip()[:300]
            finding = Finding("ws.upgrade", "handshake",
                              f"not a WebSocket opening handshake (RFC 6455 section 4.2.1), "
                              f"answered HTTP {response.status_code}: {body}",
                              {"method": "GET", "path": request.path[:300],
                               "upgrade": headers.get("Upgrade"),
                               "connection": headers.get("Connection")})
        self._record(_attempt("http" if not accepted else "websocket", accepted, finding,
                              peer=_peer(connection), path=request.path[:500],
                              charge_point_id=charge_point_id_from_path(request.path),
                              status=response.status_code, detail=tuple(detail)))

    def _stalled(self, connection: ServerConnection) -> None:
        got = connection.request is not None
        self._record(_attempt(
            "http" if got else "tcp", False,
            Finding("ws.handshake-timeout", "handshake",
                    f"the opening handshake was not completed within {self.open_timeout:g} s "
                    f"of the connection ({'request read, answer not sent' if got else 'no complete HTTP request'}"
                    "; RFC 6455 section 4.1: the client sends its opening handshake on connect)"),
            peer=_peer(connection)))

    def _no_request(self, connection: ServerConnection) -> None:
        exc = connection.protocol.handshake_exc
        cause = (exc.__cause__ or exc) if exc is not None else None
        if cause is None or isinstance(cause, EOFError) and not connection.protocol.reader.buffer:
            finding = Finding("ws.no-request", "handshake",
                              "the peer opened a TCP connection and closed it without sending an "
                              "HTTP request (RFC 6455 section 4.1)")
        else:
            finding = Finding("ws.http", "handshake",
                              f"not an HTTP request: {_describe(cause)} (RFC 6455 section 4.1: "
                              "the opening handshake is an HTTP/1.1 GET)")
        self._record(_attempt("tcp" if finding.rule == "ws.no-request" else "http", False, finding,
                              peer=_peer(connection)))

    def _tls_failed(self, exc: ssl.SSLError, peer: str = "") -> None:
        why = _describe(exc)
        if exc.reason in ("HTTP_REQUEST", "WRONG_VERSION_NUMBER"):
            why += " (a plain ws:// client on the harness's wss:// port?)"
        about_certificate = (isinstance(exc, ssl.SSLCertVerificationError)
                             or "CERTIFICATE" in (exc.reason or ""))
        field = certificate_field(exc)
        if field:
            why += f"; client certificate field at fault: {field}"
        self._record(_attempt("tls", False, Finding(
            "ws.tls", "handshake", f"TLS handshake failed: {why} "
            f"({self.dialect.references['security']}: "
            "TLS 1.2 or later" + (", a client certificate the CA signed" if about_certificate
                                  else "") + ")", exc.reason), peer=peer,
            detail=(("certificate_field", field),) if field else ()))

    def refuse_link(self, link: "Link", code: int, finding: Finding) -> None:
        """Record a WebSocket connection the harness closes right after the upgrade."""
        self._record(_attempt("websocket", False, finding, peer=_peer(link.ws), path=link.path,
                              charge_point_id=link.charge_point_id, status=101, close_code=code))

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None  # websockets runs the handler after the opening handshake
        cp_id = charge_point_id_from_path(request.path) or ""
        if self.expected_id is not None and cp_id != self.expected_id:
            # Another identity on the harness's port: not the device under test.
            finding = Finding("ws.charge-point-id", "handshake",
                              f"connected as {cp_id!r}, the PICS declares {self.expected_id!r} "
                              f"({self.dialect.references['url']}: the last path segment is the "
                              "chargePointId)", cp_id)
            self._record(_attempt("websocket", False, finding, peer=_peer(ws),
                                  path=request.path[:500], charge_point_id=cp_id, status=101,
                                  close_code=1008))
            await ws.close(1008, f"expected charge point {self.expected_id}"[:120])
            return
        offered = request.headers.get_all("Sec-WebSocket-Protocol")
        findings = []
        if ws.subprotocol != self.dialect.subprotocol:
            findings.append(Finding(
                "ws.subprotocol", "handshake",
                f"the charge point did not offer the {self.dialect.subprotocol} subprotocol "
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
                  subprotocols: tuple[str, ...] | None = None,
                  dialect: Dialect = OCPP16) -> Link:
    """The harness as charge point: connect to ``<csms_url>/<chargePointId>``, offering
    ``subprotocols`` (default: the dialect's); a central system that does not select the
    dialect's, when offered, is a finding on the link.

    Raises ``ConnectionError`` with a readable reason when the handshake fails or times out.
    """
    if subprotocols is None:
        subprotocols = (dialect.subprotocol,)
    url = csms_url.rstrip("/") + "/" + charge_point_id
    headers = {}
    if basic_auth_password is not None:
        token = base64.b64encode(f"{charge_point_id}:{basic_auth_password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host, port = parts.hostname or "", parts.port or (443 if secure else 80)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    def failed(stage: Stage, message: str, finding: Finding | None, reached: bool = True,
               **kw: Any) -> HandshakeFailed:
        return HandshakeFailed(message, _attempt(stage, False, finding, reached=reached,
                                                 path=parts.path, charge_point_id=charge_point_id,
                                                 peer=f"{host}:{port}", **kw))

    # TCP first, on its own: when nothing answers, nothing reached the device (INCONCLUSIVE);
    # everything after it is the device's handshake.
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError) as exc:
        why = (f"no TCP connection within {timeout:g} s" if isinstance(exc, TimeoutError)
               else _describe(exc))
        raise failed("tcp", f"cannot connect to {url}: {why}", None, reached=False,
                     detail=(("reason", why),)) from None
    sock = writer.get_extra_info("socket").dup()
    writer.transport.abort()
    made: list[_StampedClientConnection] = []

    def create_connection(*args: Any, **kwargs: Any) -> _StampedClientConnection:
        made.append(_StampedClientConnection(*args, **kwargs))
        return made[-1]

    tls_name: dict[str, Any] = {"server_hostname": host} if secure else {}
    try:
        ws = await asyncio.wait_for(ws_connect(
            url, subprotocols=[Subprotocol(p) for p in subprotocols] or None,
            additional_headers=headers, ssl=ssl_context, max_size=max_size,
            ping_interval=ping_interval,
            create_connection=create_connection,  # type: ignore[arg-type]  # called as the class
            open_timeout=None, sock=sock, **tls_name,
        ), max(0.0, deadline - loop.time()))
    except TimeoutError:
        sock.close()
        if secure and not any(connection.transport_up for connection in made):
            message = (f"no answer to the TLS ClientHello within {timeout:g} s of the TCP "
                       "connection: the central system did not speak TLS on a wss:// URL (a "
                       f"plain ws:// server stays silent on it; {dialect.references['security']}, "
                       "profiles 2 and 3)")
            raise failed("tls", f"{url}: {message}",
                         Finding("ws.tls", "handshake", message, url)) from None
        message = (f"no answer to the WebSocket opening handshake within {timeout:g} s of the "
                   "TCP connection (RFC 6455 section 4.1)")
        raise failed("http", f"{url}: {message}",
                     Finding("ws.handshake-timeout", "handshake", message, url)) from None
    except InvalidStatus as exc:
        status = exc.response.status_code
        body = exc.response.body.decode("utf-8", "replace").strip()[:300]
        hint = {401: " (the credentials of security profile 1/2 were refused)"
                if basic_auth_password else " (it wants credentials the PICS does not declare)",
                403: " (forbidden)", 404: " (is the chargePointId registered?)"}.get(status, "")
        message = (f"answered the WebSocket upgrade with HTTP {status} "
                   f"{exc.response.reason_phrase}{hint}, not 101 Switching Protocols "
                   "(RFC 6455 section 4.1)")
        attempt = failed("http", f"{url} {message}", Finding(
            "ws.handshake-status", "handshake", message, status), status=status,
            detail=(("body", body),)).attempt
        raise HandshakeRefused(f"{url} {message}", attempt, status) from None
    except NegotiationError as exc:
        message = (f"selected a subprotocol the harness did not offer ({_describe(exc)}; "
                   f"offered: {', '.join(subprotocols)}; {dialect.references['subprotocol']}, RFC 6455 "
                   "section 4.1)")
        raise failed("http", f"{url} {message}", Finding(
            "ws.subprotocol", "handshake", message), status=101) from None
    except ssl.SSLError as exc:
        why = _describe(exc)
        field = certificate_field(exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            message = f"presented a certificate the harness does not accept: {why}"
            if field:
                message += f"; certificate field at fault: {field}"
        elif exc.reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNEXPECTED_EOF_WHILE_READING"):
            message = f"did not speak TLS on a wss:// URL: {why}"
        else:
            message = f"TLS handshake failed: {why}"
        message += f" ({dialect.references['security']}, profiles 2 and 3)"
        raise failed("tls", f"{url} {message}", Finding("ws.tls", "handshake", message,
                                                        exc.reason),
                     detail=(("certificate_field", field),) if field else ()) from None
    except (InvalidHandshake, InvalidMessage, InvalidHeader, OSError, EOFError) as exc:
        cause = exc.__cause__ if isinstance(exc, InvalidMessage) and exc.__cause__ else exc
        why = _describe(cause)
        if secure and isinstance(cause, (EOFError, ConnectionResetError)):
            message = f"closed the connection during the TLS or WebSocket handshake: {why}"
        else:
            message = f"broke the WebSocket opening handshake: {why} (RFC 6455 section 4.1)"
        raise failed("http", f"{url} {message}", Finding("ws.handshake", "handshake",
                                                         message)) from None
    findings = []
    wanted = dialect.subprotocol
    if wanted in subprotocols and ws.subprotocol != wanted:
        findings.append(Finding(
            "ws.subprotocol", "handshake",
            f"the central system did not select the {wanted} subprotocol (selected: "
            f"{ws.subprotocol or 'none'})", ws.subprotocol))
    return Link(ws, "cp", charge_point_id, findings, max_size)


def key_passphrase(password: str | None) -> Any:
    """``load_cert_chain``'s password: the PICS's, or an empty one (an encrypted key then fails
    to load instead of OpenSSL prompting on the terminal)."""
    return password if password is not None else (lambda: b"")


def _peer(ws: Any) -> str:
    try:
        address = ws.transport.get_extra_info("peername")
    except Exception:  # noqa: BLE001 -- a closed transport
        return ""
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return ""


def tls_context(*, server: bool, ca_file: str | None = None, cert_file: str | None = None,
                key_file: str | None = None, require_client_cert: bool = False,
                key_password: str | None = None) -> ssl.SSLContext:
    """A TLS context for security profiles 2 (server certificate) and 3 (mutual TLS).

    TLS 1.2 at least, as the OCPP 1.6 security whitepaper requires. ``key_password`` decrypts an
    encrypted key; without it such a key fails (OpenSSL is never left to prompt on the terminal).
    """
    purpose = ssl.Purpose.CLIENT_AUTH if server else ssl.Purpose.SERVER_AUTH
    context = ssl.create_default_context(purpose, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if cert_file:
        context.load_cert_chain(cert_file, key_file, password=key_passphrase(key_password))
    if server and require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
    return context
