"""Hostile peers for the campaign: a charge point and a central system that speak WebSocket by
hand (RFC 6455 framing over asyncio streams), so that they can break every rule the library would
not let them break: invalid UTF-8 in a text frame, stalled or non-HTTP handshakes, wrong
subprotocols, floods, frames past the size limit.

Rules of this module:
- nothing here judges anything: the harness under test does (the campaign asserts its verdicts);
- every wait is bounded (``asyncio.wait_for``) so that a peer never outlives its harness run;
- pings are answered (the harness pings a connection to tell a live duplicate from a dead one).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Callable

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def encode(payload: bytes, opcode: int = TEXT, *, mask: bool, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n, bit = len(payload), 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    keystream = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")).to_bytes(n, "big") \
        if n else b""
    return head + key + masked


class Ws:
    """One hand-made WebSocket connection (either side)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, client: bool):
        self.reader, self.writer, self.client = reader, writer, client
        self.closed = False

    async def send(self, data: str | bytes, opcode: int = TEXT, fin: bool = True) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.writer.write(encode(raw, opcode, mask=self.client, fin=fin))
        await self.writer.drain()

    async def send_json(self, value: Any) -> None:
        await self.send(json.dumps(value))

    async def recv(self, timeout: float = 10) -> tuple[int, bytes]:
        """The next data frame (pings answered on the way); (CLOSE, b"") when closed."""
        while True:
            try:
                head = await asyncio.wait_for(self.reader.readexactly(2), timeout)
                opcode, n = head[0] & 0x0F, head[1] & 0x7F
                if n == 126:
                    n = int.from_bytes(await self.reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await self.reader.readexactly(8), "big")
                key = await self.reader.readexactly(4) if head[1] & 0x80 else b""
                data = await self.reader.readexactly(n)
            except (asyncio.IncompleteReadError, ConnectionError, OSError):
                self.closed = True
                return CLOSE, b""
            if key:
                data = bytes(b ^ key[i % 4] for i, b in enumerate(data))
            if opcode == PING:
                await self.send(data, PONG)
                continue
            if opcode == CLOSE:
                self.closed = True
                return CLOSE, data
            return opcode, data

    async def recv_json(self, timeout: float = 10) -> Any:
        opcode, data = await self.recv(timeout)
        return None if opcode == CLOSE else json.loads(data)

    def abort(self) -> None:
        self.closed = True
        self.writer.transport.abort()


# --- the hostile charge point (the harness is the central system) ----------------------------

async def open_raw(host: str, port: int, *, tls: ssl.SSLContext | None = None,
                   retry_for: float = 60) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP (or TLS) connection to the harness, retried while it is not listening yet."""
    deadline = time.monotonic() + retry_for
    while True:
        try:
            return await asyncio.wait_for(asyncio.open_connection(
                host, port, ssl=tls, server_hostname="localhost" if tls else None), 10)
        except (ConnectionRefusedError, OSError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def handshake_request(host: str, port: int, path: str, *, subprotocol: str | None = "ocpp1.6",
                      auth: tuple[str, str] | None = None) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    if auth:
        lines.append("Authorization: Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode())
                     .decode())
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def connect_cp(host: str, port: int, cp_id: str, *, subprotocol: str | None = "ocpp1.6",
                     auth: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None,
                     retry_for: float = 60) -> tuple[int, Ws]:
    """Open a WebSocket to the harness as ``cp_id``: (HTTP status, connection)."""
    reader, writer = await open_raw(host, port, tls=tls, retry_for=retry_for)
    writer.write(handshake_request(host, port, f"/ocpp/{cp_id}", subprotocol=subprotocol,
                                   auth=auth))
    await writer.drain()
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        status = int(head.split(b" ", 2)[1])
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError,
            ConnectionError):
        status = 0
    return status, Ws(reader, writer, client=True)


@dataclass
class ChargePoint:
    """A charge point that boots, reports its connectors and answers the harness's calls; the
    behaviour under test is done by ``hostile`` once booted."""
    ws: Ws
    connectors: int = 2
    answers: dict[str, Any] = field(default_factory=dict)
    _ids: int = 0

    def next_id(self) -> str:
        self._ids += 1
        return f"h{self._ids}"

    async def call(self, action: str, payload: dict, timeout: float = 10) -> Any:
        unique_id = self.next_id()
        await self.ws.send_json([2, unique_id, action, payload])
        return await self.wait_answer(unique_id, timeout)

    async def wait_answer(self, unique_id: str, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ws.closed:
            opcode, data = await self.ws.recv(max(0.01, deadline - time.monotonic()))
            if opcode == CLOSE:
                return None
            message = json.loads(data)
            if message[0] == 2:
                await self.answer(message)
            elif message[1] == unique_id:
                return message
        return None

    async def answer(self, message: list) -> None:
        _, unique_id, action, payload = message
        answer = self.answers.get(action, {"status": "Accepted"})
        if callable(answer):
            answer = answer(payload)
        await self.ws.send_json([3, unique_id, answer])

    async def boot(self, **fields: Any) -> None:
        payload = {"chargePointVendor": "HostileInc", "chargePointModel": "H1", **fields}
        await self.call("BootNotification", payload)
        for connector in range(self.connectors + 1):
            await self.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                                   "status": "Available", "timestamp": now()})

    async def serve(self, seconds: float) -> None:
        """Answer the harness's calls for ``seconds`` (or until the connection closes)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.ws.closed:
            try:
                opcode, data = await self.ws.recv(max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                return
            if opcode == CLOSE:
                return
            message = json.loads(data)
            if message[0] == 2:
                await self.answer(message)


# --- the hostile central system (the harness is the charge point) ----------------------------

def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def upgrade_response(request: bytes, *, subprotocol: str | None = "ocpp1.6") -> bytes:
    key = ""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-key":
            key = value.strip()
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Accept: {accept_key(key)}"]
    if subprotocol:
        lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def central_system_answer(action: str, payload: dict) -> dict:
    return {"BootNotification": {"status": "Accepted", "currentTime": now(), "interval": 300},
            "Heartbeat": {"currentTime": now()},
            "Authorize": {"idTagInfo": {"status": "Accepted"}},
            }.get(action, {})


Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]


async def central_system(behaviour: Behaviour, *, tls: ssl.SSLContext | None = None
                         ) -> asyncio.Server:
    """A TCP (or TLS) server on an ephemeral loopback port running ``behaviour`` per connection."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(behaviour(reader, writer), 60)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 -- a hostile peer just stops
            pass
        finally:
            writer.transport.abort()
    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)


async def upgraded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                   subprotocol: str | None = "ocpp1.6") -> Ws:
    request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.write(upgrade_response(request, subprotocol=subprotocol))
    await writer.drain()
    return Ws(reader, writer, client=False)


async def answer_calls(ws: Ws, seconds: float = 30,
                       answer: Callable[[list], Any] | None = None) -> None:
    """Answer the harness charge point's CALLs like a central system; ``answer`` may send
    something else instead (it returns True when it did)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not ws.closed:
        try:
            opcode, data = await ws.recv(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return
        if opcode == CLOSE:
            return
        message = json.loads(data)
        if message[0] != 2:
            continue
        if answer is not None and await answer(message):
            continue
        await ws.send_json([3, message[1], central_system_answer(message[2], message[3])])
