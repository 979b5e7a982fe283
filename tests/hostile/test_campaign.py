"""The hostile-device campaign: the harness run as users run it (pytest on testcases, --ocpp-dut
external, in a subprocess) against a hand-made hostile peer on a real loopback socket, one
behaviour per run, several runs at a time.

For every behaviour: the verdict of the case, the rule named in its reason, the wire log complete
and parseable (the offline validator reads it), report.json and report.html written, no device
markup live in report.html, and a bounded wall time. The table behaviour -> verdict -> rule is
written to docs/hostile.md when OCPP_HOSTILE_DOC=1 (``OCPP_HOSTILE_DOC=1 pytest tests/hostile``).

SUT cs runs TC_062_CS (Booted, then one DataTransfer the peer answers UnknownVendorId: a correct
peer PASSes it); SUT csms runs TC_001_CSMS (the harness boots, reports, heartbeats).
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import re
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import pytest

from harness import wirelog
from harness.__main__ import main as harness_cli
import browser
import hostile_peer as P

ROOT = Path(__file__).resolve().parents[2]
CS_CASE = ROOT / "testcases/cs/core/test_tc_062_data_transfer.py"
CSMS_CASE = ROOT / "testcases/csms/core/test_tc_001_cold_boot.py"
CP_ID = "HOSTILE1"
PASSWORD = "hostile-campaign-secret-0123"
RUN_BOUND_S = 240
"""Wall time of one harness run, at most, start-up included (killed past it; ~12 s on an idle
machine; its Python and pytest start-up alone took 70 s with eight runs at once on two cores at
load average 20)."""
CASE_BOUND_S = 40
"""The case's own duration, at most: its waits are bounded by the PICS (boot 5 s, response 2 s)."""
PARALLEL = 8
pytestmark = pytest.mark.timeout(900)
"""Whichever test asks first for the campaign waits for all of it (a few minutes under load)."""
MARKUP = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@dataclass
class Ctx:
    """What a peer gets: where the harness listens (cs) and the run's folder (certificates)."""
    port: int
    folder: Path
    pki: dict[str, Any] = field(default_factory=dict)


PeerFn = Callable[[Ctx], Awaitable[None]]


@dataclass
class Behaviour:
    name: str
    role: str
    what: str
    peer: PeerFn
    verdict: str
    rule: str
    """A regular expression the case's reason must match (the rule it names)."""
    security: str = ""
    """A [security] table for the PICS ("" = profile 0)."""
    remark: str = ""
    """A regular expression one of the case's remarks must match."""
    args: tuple[str, ...] = ()
    """More options of the harness run."""
    refused: dict[str, str] = field(default_factory=dict)
    """detail key -> regular expression: a ``refused`` event of the wire log must match them all
    (the evidence of the attempt: the peer's address, the certificate field at fault)."""


BEHAVIOURS: list[Behaviour] = []
USAGE = "usage error"
"""Not a verdict: the run stops before the first case with exit code 4 and one line."""


def behaviour(name: str, role: str, what: str, verdict: str, rule: str, **kw: Any):
    def register(fn: PeerFn) -> PeerFn:
        BEHAVIOURS.append(Behaviour(name, role, what, fn, verdict, rule, **kw))
        return fn
    return register


# --- the charge point side (the harness is the central system) -------------------------------

async def booted_cp(ctx: Ctx, **kw: Any) -> P.ChargePoint:
    status, ws = await P.connect_cp("127.0.0.1", ctx.port, CP_ID, **kw)
    assert status == 101, status
    cp = P.ChargePoint(ws, answers={"DataTransfer": {"status": "UnknownVendorId"},
                                    "GetConfiguration": {"configurationKey": []}})
    await cp.boot()
    return cp


async def raw_cs(ctx: Ctx, data: bytes, hold: float = 8, tls: ssl.SSLContext | None = None) -> None:
    reader, writer = await P.open_raw("127.0.0.1", ctx.port, tls=tls)
    writer.write(data)
    await writer.drain()
    await asyncio.sleep(hold)
    writer.transport.abort()


@behaviour("cs-correct", "cs", "a correct charge point (the campaign's control)", "PASS", r"^$")
async def _(ctx):
    cp = await booted_cp(ctx)
    await cp.serve(30)


@behaviour("cs-nothing", "cs", "never connects", "INCONCLUSIVE",
           r"no connection attempt reached the harness")
async def _(ctx):
    await asyncio.sleep(30)


@behaviour("cs-wrong-id", "cs", "connects with another chargePointId", "FAIL",
           r"ws\.charge-point-id.*'INTRUDER'")
async def _(ctx):
    status, ws = await P.connect_cp("127.0.0.1", ctx.port, "INTRUDER")
    await ws.recv(10)


@behaviour("cs-plain-http", "cs", "plain HTTP GET, no upgrade", "FAIL", r"ws\.upgrade.*HTTP 426")
async def _(ctx):
    await raw_cs(ctx, f"GET /ocpp/{CP_ID} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), hold=2)


@behaviour("cs-garbage-request", "cs", "bytes that are not HTTP", "FAIL", r"ws\.http")
async def _(ctx):
    await raw_cs(ctx, b"\x00\xff garbage garbage\r\n\r\n", hold=0.5)


@behaviour("cs-slowloris", "cs", "handshake sent one byte every 0.3 s, never finished", "FAIL",
           r"ws\.handshake-timeout")
async def _(ctx):
    reader, writer = await P.open_raw("127.0.0.1", ctx.port)
    for byte in P.handshake_request("127.0.0.1", ctx.port, f"/ocpp/{CP_ID}")[:-2]:
        writer.write(bytes([byte]))
        await asyncio.sleep(0.3)
    writer.transport.abort()


@behaviour("cs-half-open", "cs", "opens TCP and sends nothing", "FAIL", r"ws\.handshake-timeout")
async def _(ctx):
    await raw_cs(ctx, b"", hold=10)


@behaviour("cs-tcp-close", "cs", "opens TCP and closes it at once", "FAIL", r"ws\.no-request")
async def _(ctx):
    await raw_cs(ctx, b"", hold=0)


@behaviour("cs-wrong-password", "cs", "Basic auth with a wrong password (profile 1)", "FAIL",
           r"ws\.basic-auth.*wrong HTTP Basic credentials",
           security=f'profile = 1\nbasic_auth_password = "{PASSWORD}"\n')
async def _(ctx):
    await P.connect_cp("127.0.0.1", ctx.port, CP_ID, auth=(CP_ID, "not-the-password"))


@behaviour("cs-no-credentials", "cs", "no Basic auth on profile 1", "FAIL",
           r"ws\.basic-auth.*no HTTP Basic credentials",
           security=f'profile = 1\nbasic_auth_password = "{PASSWORD}"\n')
async def _(ctx):
    await P.connect_cp("127.0.0.1", ctx.port, CP_ID)


TLS_SERVER = (f'profile = 2\nbasic_auth_password = "{PASSWORD}"\ncert_file = "server.pem"\n'
              'key_file = "server.key"\n')
PEER = r"^127\.0\.0\.1:\d+$"
"""The peer's address in a refused attempt (the hostile peers connect from loopback)."""
MTLS_SERVER = 'profile = 3\ncert_file = "server.pem"\nkey_file = "server.key"\nca_file = "ca.pem"\n'


@behaviour("cs-plain-ws-on-wss", "cs", "plain ws:// to the harness's wss:// port", "FAIL",
           r"ws\.tls.*plain ws:// client", security=TLS_SERVER, refused={"peer": PEER})
async def _(ctx):
    await P.connect_cp("127.0.0.1", ctx.port, CP_ID, auth=(CP_ID, PASSWORD))


@behaviour("cs-untrusted-client-cert", "cs", "a client certificate of another CA (profile 3)",
           "FAIL", r"ws\.tls.*certificate", security=MTLS_SERVER,
           refused={"peer": PEER, "certificate_field": r"^issuer"})
async def _(ctx):
    context = ssl.create_default_context(cafile=ctx.pki["ca"])
    ctx.pki["rogue_client"].configure_cert(context)
    try:
        await P.connect_cp("127.0.0.1", ctx.port, CP_ID, tls=context)
    except (ssl.SSLError, OSError):
        pass


@behaviour("cs-no-client-cert", "cs", "no client certificate (profile 3)", "FAIL",
           r"ws\.tls.*certificate", security=MTLS_SERVER,
           refused={"peer": PEER, "certificate_field": r"none sent"})
async def _(ctx):
    try:
        await P.connect_cp("127.0.0.1", ctx.port, CP_ID,
                           tls=ssl.create_default_context(cafile=ctx.pki["ca"]))
    except (ssl.SSLError, OSError):
        pass


@behaviour("cs-no-subprotocol", "cs", "offers no subprotocol", "FAIL", r"absent\) \[ws\.subprotocol\]")
async def _(ctx):
    cp = await booted_cp(ctx, subprotocol=None)
    await cp.serve(30)


@behaviour("cs-wrong-subprotocol", "cs", "offers only ocpp2.0.1", "FAIL",
           r"ocpp2\.0\.1\) \[ws\.subprotocol\]")
async def _(ctx):
    cp = await booted_cp(ctx, subprotocol="ocpp2.0.1")
    await cp.serve(30)


def after_boot(frames: Callable[[], list[bytes | str]], opcode: int = P.TEXT):
    async def run(ctx: Ctx) -> None:
        cp = await booted_cp(ctx)
        for frame in frames():
            await cp.ws.send(frame, opcode)
        await cp.serve(30)
    return run


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


for name, what, frames, rule in (
    ("cs-garbage-frame", "a text frame that is not JSON", lambda: ["this is not json"], r"rpc\.json"),
    ("cs-not-array", "a JSON object as frame", lambda: ['{"a": 1}'], r"rpc\.array"),
    ("cs-huge-int", "an integer of 10^29 in a string field",
     lambda: [json.dumps([2, "x1", "StatusNotification", {"connectorId": 1, "errorCode": 10**29,
                                                           "status": "Available"}])],
     r"errorCode.*\[type\]"),
    ("cs-deep-300", "a DataTransfer data nested 300 levels",
     lambda: ['[2,"x1","DataTransfer",{"vendorId":"v","data":' + deep(300) + "}]"],
     r"\$\.data.*\[type\]"),
    ("cs-deep-5000", "a frame nested 5,000 levels",
     lambda: ['[2,"x1","DataTransfer",{"vendorId":"v","data":' + deep(5000) + "}]"], r"rpc\.limit"),
    ("cs-5000-digits", "an integer of 5,000 digits",
     lambda: ['[2,"x1","Heartbeat",{"n":' + "9" * 5000 + "}]"], r"digits.*\[rpc\.limit\]"),
    ("cs-invalid-utf8", "a text frame with invalid UTF-8",
     lambda: [b'[2,"x1","Heartbeat",{"a":"\xff\xfe"}]'], r"not UTF-8.*\[ws\.utf-8\]"),
    ("cs-oversize", "a 2 MiB text frame", lambda: ["[" + " " * (2 << 20) + "]"], r"ws\.too-large"),
    ("cs-unknown-action", "a CALL of an action OCPP 1.6 does not have",
     lambda: ['[2,"x1","Hack",{}]'], r"rpc\.action"),
    ("cs-numeric-unique-id", "a uniqueId that is a number", lambda: ['[2,5,"Heartbeat",{}]'],
     r"rpc\.unique-id"),
    ("cs-long-unique-id", "a uniqueId of 37 characters",
     lambda: ['[2,"' + "u" * 37 + '","Heartbeat",{}]'], r"rpc\.unique-id"),
    ("cs-duplicate-unique-id", "two CALLs with the same uniqueId",
     lambda: ['[2,"dup","Heartbeat",{}]', '[2,"dup","Heartbeat",{}]'], r"rpc\.duplicate-id"),
    ("cs-markup", "markup in BootNotification-like string fields",
     lambda: [json.dumps([2, "x1", "StatusNotification", {
         "connectorId": 1, "errorCode": "NoError", "status": MARKUP, "info": IMG,
         "vendorErrorCode": MARKUP}])], r"\$\.status.*\[enum\]"),
    ("cs-flood", "2,000 Heartbeat CALLs without waiting for the answers",
     lambda: ['[2,"f%d","Heartbeat",{}]' % i for i in range(2000)],
     r"outstanding at once \(bound 10\).*\[ocpp-j\.flow\]"),
):
    BEHAVIOURS.append(Behaviour(name, "cs", what, after_boot(frames), "FAIL", rule))
BEHAVIOURS.append(Behaviour("cs-binary-frame", "cs", "a binary frame", after_boot(
    lambda: [b"\x00\x01binary"], P.BINARY), "FAIL", r"ws\.binary"))


@behaviour("cs-two-outstanding", "cs", "a second CALL before the first is answered", "PASS",
           r"^$", remark=r"2 CALLs while one of the device's CALLs was outstanding")
async def _(ctx):
    cp = await booted_cp(ctx)
    # Inside the case, not before it (a loaded run may begin the case after any burst sent at
    # once, and a remark of the start-up is no case's): the burst answers TC_062_CS's DataTransfer.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not cp.ws.closed:
        try:
            opcode, data = await cp.ws.recv(max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return
        if opcode == P.CLOSE:
            return
        message = json.loads(data)
        if message[0] != 2:
            continue
        if message[2] == "DataTransfer":
            # The three CALLs in one write: the harness reads them before it answers the first
            # (sent one by one, it may answer each before the next arrives: no overlap).
            cp.ws.writer.write(b"".join(P.encode(json.dumps([2, f"o{i}", "StatusNotification", {
                "connectorId": 1, "errorCode": "NoError", "status": "Available"}]).encode(),
                mask=True) for i in range(3)))
            await cp.ws.writer.drain()
            await cp.answer(message)
            break
        await cp.answer(message)
    await cp.serve(30)


async def duplicate(ctx):
    cp = await booted_cp(ctx)
    status, second = await P.connect_cp("127.0.0.1", ctx.port, CP_ID)
    await asyncio.gather(cp.serve(30), second.recv(30))


DUPLICATE = r"a second connection as 'HOSTILE1'.*newcomer is refused.*\[ws\.duplicate-connection\] \(remark\)"
# OCPP-J 1.6 has no normative rule on a second connection (harness.severity): a remark, the
# newcomer refused (1008); a FAIL only under --ocpp-strict.
BEHAVIOURS.append(Behaviour("cs-duplicate-connection", "cs",
                            "a second connection as itself, both alive", duplicate, "PASS", r"^$",
                            remark=DUPLICATE))
BEHAVIOURS.append(Behaviour("cs-duplicate-connection-strict", "cs",
                            "the same, under --ocpp-strict", duplicate, "FAIL",
                            r"a second connection as 'HOSTILE1'.*\[ws\.duplicate-connection\]",
                            args=("--ocpp-strict",)))


@behaviour("cs-duplicate-connection-replace", "cs",
           "a second connection as itself, both alive, under --ocpp-duplicate-connection replace",
           "PASS", r"^$", remark=r"the old connection is closed.*\[ws\.duplicate-connection\] "
           r"\(remark\)", args=("--ocpp-duplicate-connection", "replace"))
async def _(ctx):
    # The first connection boots; the second, opened as the same charge point, takes over (the
    # harness closes the old one) and answers the case's DataTransfer.
    first = await booted_cp(ctx)
    status, ws = await P.connect_cp("127.0.0.1", ctx.port, CP_ID)
    second = P.ChargePoint(ws, answers={"DataTransfer": {"status": "UnknownVendorId"},
                                        "GetConfiguration": {"configurationKey": []}})
    await asyncio.gather(first.serve(30), second.serve(30))


@behaviour("cs-reconnect-storm", "cs", "30 more connections as itself at once", "PASS", r"^$",
           remark=r"30 second connections of the device.*\[ws\.duplicate-connection\] "
           r"\(remark\)")
async def _(ctx):
    cp = await booted_cp(ctx)
    storm = await asyncio.gather(*(P.connect_cp("127.0.0.1", ctx.port, CP_ID) for _ in range(30)))
    await asyncio.gather(cp.serve(30), *(ws.recv(30) for _, ws in storm))


# --- the central system side (the harness is the charge point) -------------------------------

def server(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    return fn


async def upgrade_then(reader, writer, answer=None, subprotocol="ocpp1.6"):
    ws = await P.upgraded(reader, writer, subprotocol=subprotocol)
    await P.answer_calls(ws, 30, answer)


def answering(make: Callable[[list], list[bytes | str]], opcode: int = P.TEXT,
              only: str = "BootNotification"):
    """A central system whose answer to ``only`` is ``make(call)`` frames, sent as they are."""
    async def run(reader, writer):
        async def answer(call):
            if call[2] != only:
                return False
            for frame in make(call):
                await ws.send(frame, opcode)
            return True
        ws = await P.upgraded(reader, writer)
        await P.answer_calls(ws, 30, answer)
    return run


def boot_conf(call, **override):
    payload = {"status": "Accepted", "currentTime": P.now(), "interval": 300, **override}
    return [json.dumps([3, call[1], payload])]


CSMS: list[tuple[str, str, Any, str, str, str]] = [
    ("csms-correct", "a correct central system (the campaign's control)",
     lambda r, w: upgrade_then(r, w), "PASS", r"^$", ""),
    ("csms-http-200", "answers the upgrade with HTTP 200",
     lambda r, w: http_answer(r, w, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
     "FAIL", r"ws\.handshake-status|HTTP 200", ""),
    ("csms-http-401", "answers the upgrade with HTTP 401",
     lambda r, w: http_answer(r, w, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"),
     "FAIL", r"HTTP 401", ""),
    ("csms-never-answers", "reads the upgrade request and never answers",
     lambda r, w: stall(r, w), "FAIL", r"no answer to the WebSocket opening handshake", ""),
    ("csms-garbage-handshake", "answers the upgrade with bytes that are not HTTP",
     lambda r, w: http_answer(r, w, b"\x00garbage\r\n\r\n"), "FAIL",
     r"broke the WebSocket opening handshake", ""),
    ("csms-wrong-subprotocol", "selects ocpp2.0.1",
     lambda r, w: upgrade_then(r, w, subprotocol="ocpp2.0.1"), "FAIL",
     r"selected a subprotocol the harness did not offer", ""),
    ("csms-no-subprotocol", "selects no subprotocol",
     lambda r, w: upgrade_then(r, w, subprotocol=None), "FAIL", r"ws\.subprotocol", ""),
    ("csms-garbage-answer", "answers BootNotification with text that is not JSON",
     answering(lambda c: ["not json at all"]), "FAIL", r"rpc\.json", ""),
    ("csms-huge-int", "currentTime is an integer of 10^29",
     answering(lambda c: boot_conf(c, currentTime=10**29)), "FAIL", r"currentTime.*\[type\]", ""),
    ("csms-deep-300", "status nested 300 levels",
     answering(lambda c: ['[3,"%s",{"status":%s,"currentTime":"%s","interval":1}]'
                          % (c[1], deep(300), P.now())]), "FAIL", r"\$\.status", ""),
    ("csms-deep-5000", "an answer nested 5,000 levels",
     answering(lambda c: ['[3,"%s",{"status":%s}]' % (c[1], deep(5000))]), "FAIL",
     r"rpc\.limit", ""),
    ("csms-invalid-utf8", "a text frame with invalid UTF-8",
     answering(lambda c: [b'[3,"' + c[1].encode() + b'",{"status":"\xff"}]']), "FAIL",
     r"ws\.utf-8", ""),
    ("csms-binary", "answers with a binary frame",
     answering(lambda c: [b"\x01\x02"], P.BINARY), "FAIL", r"ws\.binary", ""),
    ("csms-oversize", "answers with a 2 MiB frame",
     answering(lambda c: ["[" + " " * (2 << 20) + "]"]), "FAIL", r"ws\.too-large", ""),
    ("csms-markup", "markup in the answer's strings",
     answering(lambda c: boot_conf(c, status=MARKUP, currentTime=IMG)), "FAIL",
     r"\$\.status.*\[enum\]", ""),
    ("csms-wrong-unique-id", "answers with another uniqueId",
     answering(lambda c: [json.dumps([3, "not-" + c[1], {"status": "Accepted",
                                                          "currentTime": P.now(),
                                                          "interval": 1}])]),
     "FAIL", r"answers no outstanding CALL \[rpc\.unmatched\]", ""),
    ("csms-flood", "500 CALLs to the charge point without waiting",
     answering(lambda c: boot_conf(c) + ['[2,"f%d","ClearCache",{}]' % i for i in range(500)]),
     "FAIL", r"ocpp-j\.flow", ""),
    ("csms-close-after-upgrade", "closes the connection right after the upgrade",
     lambda r, w: close_after_upgrade(r, w), "FAIL", r"closed the connection|not connected", ""),
]


async def http_answer(reader, writer, data: bytes) -> None:
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    writer.write(data)
    await writer.drain()
    await asyncio.sleep(1)


async def stall(reader, writer) -> None:
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    await asyncio.sleep(30)


async def close_after_upgrade(reader, writer) -> None:
    ws = await P.upgraded(reader, writer)
    ws.abort()


for name, what, fn, verdict, rule, security in CSMS:
    BEHAVIOURS.append(Behaviour(name, "csms", what, fn, verdict, rule, security=security))

TLS_CSMS = [
    ("csms-untrusted-cert", "a certificate the harness's trust store does not hold",
     "server", 'profile = 2\nbasic_auth_password = "%s"\n' % PASSWORD,
     r"certificate verify failed.*field at fault: issuer.*\[ws\.tls\]"),
    ("csms-wrong-host-cert", "a certificate for another host name (CA trusted)",
     "other_host", 'profile = 2\nbasic_auth_password = "%s"\nca_file = "ca.pem"\n' % PASSWORD,
     r"mismatch.*field at fault: subjectAltName.*\[ws\.tls\]"),
    ("csms-plain-on-wss", "plain ws:// where the PICS says wss:// (silent on a ClientHello)",
     None, 'profile = 2\nbasic_auth_password = "%s"\nca_file = "ca.pem"\n' % PASSWORD,
     r"no answer to the TLS ClientHello.*did not speak TLS.*\[ws\.tls\]"),
    ("csms-http-on-wss", "plain HTTP where the PICS says wss:// (answers a ClientHello with 400)",
     None, 'profile = 2\nbasic_auth_password = "%s"\nca_file = "ca.pem"\n' % PASSWORD,
     r"did not speak TLS on a wss:// URL: TLS error.*\[ws\.tls\]"),
]
TLS_PEERS = {"csms-http-on-wss": lambda r, w: http_on_tls(r, w)}
"""The plain (not TLS) central systems of TLS_CSMS; the others are ``upgrade_then`` behind TLS."""


async def http_on_tls(reader, writer) -> None:
    """A plain HTTP server: whatever arrives (a TLS ClientHello), it answers 400 and closes."""
    await asyncio.wait_for(reader.read(1), 10)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()
    writer.close()


for name, what, cert, security, rule in TLS_CSMS:
    BEHAVIOURS.append(Behaviour(
        name, "csms", what, TLS_PEERS.get(name, cert), "FAIL", rule, security=security,
        refused={"peer": PEER, "certificate_field": r"^(issuer|subjectAltName)"} if cert else
        {"peer": PEER}))
# Nothing to talk to at the URL is a set-up error found before the first case (DESIGN 2.3:
# exit code 4, one line, no report), not a verdict on the device: nothing reached it. The
# start-up check reaches the URL with TCP only; what a central system that accepted TCP does with
# the TLS or WebSocket handshake is the device's (FAIL, ws.tls and the like, above).
BEHAVIOURS.append(Behaviour("csms-nothing-listening", "csms", "nothing listens at the URL",
                            None, USAGE, r"^ERROR: PICS dut\.csms_url 'ws://127\.0\.0\.1:\d+/ocpp': "
                            r"cannot reach 127\.0\.0\.1:\d+: connection refused$"))


# --- running ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_pki(folder: Path) -> dict[str, Any]:
    import trustme

    ca, rogue = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(folder / "server.pem")
    server.private_key_pem.write_to_path(folder / "server.key")
    ca.cert_pem.write_to_path(folder / "ca.pem")
    return {"ca": str(folder / "ca.pem"), "ca_obj": ca, "server": server,
            "other_host": ca.issue_cert("example.org"),
            "rogue_client": rogue.issue_cert(CP_ID)}


def write_pics(b: Behaviour, folder: Path, port: int) -> Path:
    role_file = ROOT / f"harness/sim/default_{b.role}.toml"
    text = role_file.read_text()
    text = re.sub(r'charge_point_id = ".*"', f'charge_point_id = "{CP_ID}"', text)
    text = re.sub(r"response_timeout = \d+", "response_timeout = 2", text)
    text = re.sub(r"boot_timeout = \d+", "boot_timeout = 5", text)
    scheme = "wss" if "profile = 2" in b.security or "profile = 3" in b.security else "ws"
    text = re.sub(r'csms_url = ".*"', f'csms_url = "{scheme}://127.0.0.1:{port}/ocpp"', text)
    text = text.replace("[security]\nprofile = 0\n", "[security]\n" + (b.security or "profile = 0\n"))
    path = folder / "pics.toml"
    path.write_text(text)
    return path


@dataclass
class Outcome:
    behaviour: Behaviour
    wall_s: float
    returncode: int
    stdout: str
    folder: Path
    case: dict | None = None
    report: dict | None = None

    @property
    def usage(self) -> list[str]:
        """The usage error's lines (pytest prints them as ``ERROR: ...``), if the run stopped
        before the first case."""
        return [line[len("ERROR: "):] for line in self.stdout.splitlines()
                if line.startswith("ERROR: ")]


async def run_one(b: Behaviour, base: Path, gate: asyncio.Semaphore) -> Outcome:
    async with gate:
        folder = base / b.name
        folder.mkdir()
        pki = make_pki(folder)
        ctx = Ctx(free_port(), folder, pki)
        servers: list[asyncio.Server] = []
        if b.role == "csms":
            if b.name == "csms-nothing-listening":
                port = free_port()
            else:
                tls = None
                if isinstance(b.peer, str):  # a certificate of make_pki's: TLS, then correct
                    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                    pki[b.peer].configure_cert(tls)
                handler = (b.peer if callable(b.peer) else  # None: plain, where TLS is expected
                           (lambda r, w: upgrade_then(r, w)))
                srv = await P.central_system(handler, tls=tls)
                servers.append(srv)
                port = srv.sockets[0].getsockname()[1]
        else:
            port = ctx.port
        pics = write_pics(b, folder, port)
        case = CS_CASE if b.role == "cs" else CSMS_CASE
        args = [sys.executable, "-m", "pytest", str(case), "--ocpp-sut", b.role,
                "--ocpp-dut", "external", "--ocpp-pics", str(pics),
                "--ocpp-report", str(folder / "out"), "--ocpp-driver", "prompt",
                f"--junitxml={folder / 'out' / 'junit.xml'}",
                "-p", "no:cacheprovider", "-q", "-o", "addopts=", f"--rootdir={ROOT}"]
        args += b.args
        if b.role == "cs":
            args += ["--ocpp-listen", f"127.0.0.1:{ctx.port}", "--ocpp-connect-timeout", "3"]
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        output = bytearray()
        listening = asyncio.Event()

        async def read() -> None:
            while chunk := await process.stdout.read(1 << 16):
                output.extend(chunk)
                if not listening.is_set() and b"ocpp: listening on " in output:
                    listening.set()

        async def peer() -> None:
            # The harness's start-up (Python, pytest, the plugin) can take a minute on a loaded
            # machine; its connection window (PICS boot_timeout) opens when it listens.
            await listening.wait()
            await b.peer(ctx)

        reading = asyncio.create_task(read())
        peer_task = asyncio.create_task(peer()) if b.role == "cs" else None
        try:
            await asyncio.wait_for(asyncio.gather(reading, process.wait()), RUN_BOUND_S)
        except TimeoutError:
            process.kill()
            await process.wait()
            output.extend(b"\n[campaign: killed after the run bound]")
        reading.cancel()
        stdout = bytes(output)
        wall = time.monotonic() - started
        if peer_task is not None:
            peer_task.cancel()
            await asyncio.gather(peer_task, return_exceptions=True)
        for srv in servers:
            srv.close()
        outcome = Outcome(b, wall, process.returncode, stdout.decode("utf-8", "replace"), folder)
        (folder / "terminal.txt").write_text(outcome.stdout)  # to read, with OCPP_HOSTILE_DIR
        report = folder / "out" / "report.json"
        if report.is_file():
            outcome.report = json.loads(report.read_text())
            outcome.case = next(iter(outcome.report["test_cases"]), None)
        return outcome


@pytest.fixture(scope="module")
def campaign(request, tmp_path_factory) -> dict[str, Outcome]:
    """Runs the selected behaviours (all of them, or those ``-k`` keeps), PARALLEL at a time."""
    base = tmp_path_factory.mktemp("hostile")
    if os.environ.get("OCPP_HOSTILE_DIR"):  # to keep the outputs for a look
        base = Path(os.environ["OCPP_HOSTILE_DIR"])
        base.mkdir(parents=True, exist_ok=True)
    selected = {item.callspec.params["name"] for item in request.session.items
                if getattr(item, "callspec", None) and "name" in item.callspec.params}

    async def everything() -> list[Outcome]:
        gate = asyncio.Semaphore(PARALLEL)
        return await asyncio.gather(*(run_one(b, base, gate) for b in BEHAVIOURS
                                      if b.name in selected))

    started = time.monotonic()
    outcomes = {o.behaviour.name: o for o in asyncio.run(everything())}
    wall = time.monotonic() - started
    if os.environ.get("OCPP_HOSTILE_DOC") and set(outcomes) == {b.name for b in BEHAVIOURS}:
        DOC.write_text(render_table(outcomes, wall), encoding="utf-8")
    request.config.stash[WALL] = wall
    return outcomes


DOC = ROOT / "docs" / "hostile.md"
WALL = pytest.StashKey[float]()
RULE_TAG = re.compile(r"\[([a-z][\w.:-]*)\]( \(remark\))?")


def verdict_and_rule(o: Outcome) -> tuple[str, str]:
    """What the table shows for one behaviour: the verdict, and the rules the reason names (for a
    PASS, those its remarks name, "(remark)"); a usage error, with its line (the port left out)."""
    if o.behaviour.verdict == USAGE or (o.case is None and o.usage):
        line = "; ".join(o.usage) or "-"
        line = re.sub(r"^.*?'[a-z]+://[^']*': ", "", line)  # the option and URL, the port in it
        return "usage error (exit 4)", re.sub(r":\d+\b", ":PORT", line)
    case = o.case or {}
    reason = case.get("reason", "")
    rules = sorted({m.group(1) for m in RULE_TAG.finditer(reason)})
    if not rules and not reason:
        rules = sorted({f"{m.group(1)} (remark)" for r in case.get("remarks", [])
                        for m in RULE_TAG.finditer(r)})
    named = ", ".join(rules) or (reason.split(":")[0][:80] if reason else "-")
    return case.get("verdict", "?"), named


def render_table(outcomes: dict[str, Outcome], wall: float | None) -> str:
    """docs/hostile.md from the campaign's outcomes, in BEHAVIOURS' order; ``wall`` None: the
    timings left out (what :func:`comparable` keeps of a generated file)."""
    counts: dict[str, int] = {}
    rows = []
    for b in BEHAVIOURS:
        o = outcomes[b.name]
        verdict, named = verdict_and_rule(o)
        counts[verdict] = counts.get(verdict, 0) + 1
        took = "-" if wall is None else f"{o.wall_s:.1f}"
        rows.append(f"| {b.name} | {b.role} | {b.what} | {verdict} | {named} | {took} |")
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    timing = "" if wall is None else f", {wall:.0f} s wall"
    lines = ["# The hostile-device campaign", "",
             "Generated by `OCPP_HOSTILE_DOC=1 .venv/bin/python -m pytest tests/hostile` "
             "(tests/hostile/test_campaign.py): each behaviour is a hand-made peer on a real "
             "loopback socket; the harness is run as users run it (pytest on testcases, "
             "`--ocpp-dut external`): TC_062_CS for a charge point, TC_001_CSMS for a central "
             "system. `tests/hostile/test_campaign.py::test_docs_hostile_md_is_the_campaigns` "
             "fails when this file is not what the campaign produced (timings aside).", "",
             f"{len(outcomes)} behaviours ({tally}), {PARALLEL} runs at a time{timing}.", "",
             "A PASS shows the rule its remark names (a remark: a FAIL only under "
             "`--ocpp-strict`); a usage error is the set-up's, found before the first case (one "
             "line, exit code 4, no report): nothing reached a device.", "",
             "| behaviour | role | what the device does | verdict | rule named in the reason | "
             "run (s) |", "|---|---|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


def comparable(text: str) -> str:
    """A generated docs/hostile.md without its timings (the wall time, each run's seconds)."""
    text = re.sub(r", \d+ s wall\.", ".", text)
    return re.sub(r"\| [\d.]+ \|$", "| - |", text, flags=re.M)


@pytest.mark.parametrize("name", [b.name for b in BEHAVIOURS])
def test_behaviour(campaign, name):
    o = campaign[name]
    b = o.behaviour
    if b.verdict == USAGE:
        # One line naming the PICS key, exit code 4, before any case: no report, no wire log.
        assert o.returncode == 4, (o.returncode, o.stdout[-2000:])
        assert len(o.usage) == 1 and re.fullmatch(b.rule, "ERROR: " + o.usage[0]), o.stdout[-2000:]
        assert "Traceback" not in o.stdout and o.report is None
        assert not (o.folder / "out" / "wire").exists() or not any((o.folder / "out" / "wire").iterdir())
        assert o.wall_s < RUN_BOUND_S
        assert_no_secret(o, PASSWORD)
        return
    assert o.case is not None, f"no report.json with the case; harness output:\n{o.stdout[-3000:]}"
    assert o.case["verdict"] == b.verdict, (
        f"{name}: verdict {o.case['verdict']}, expected {b.verdict}; reason: "
        f"{o.case['reason'][:1500]}")
    assert re.search(b.rule, o.case["reason"], re.S), (
        f"{name}: the reason does not name {b.rule!r}: {o.case['reason'][:1500]}")
    if b.remark:
        assert any(re.search(b.remark, r) for r in o.case.get("remarks", [])), o.case
    assert len(o.case["reason"]) <= 2000
    # Bounded: the case by the PICS timeouts (boot 5 s, response 2 s), the run by RUN_BOUND_S.
    assert o.case["duration_s"] < CASE_BOUND_S and o.wall_s < RUN_BOUND_S, (o.case, o.wall_s)
    assert "INTERNALERROR" not in o.stdout, o.stdout[-2000:]
    # The wire log: complete (every line parses) and read by the offline validator.
    log = Path(o.case["wire_log"])
    lines = list(wirelog.read(log))
    assert lines or b.verdict == "INCONCLUSIVE", f"{log} is empty"
    if lines:
        assert harness_cli(["validate", str(log)]) in (0, 1)
    events = {line.event for line in lines if line.event}
    if re.match(r"ws\\\.(charge-point-id|upgrade|http|handshake|no-request|basic-auth|tls)|"
                r"HTTP|no answer to the WebSocket|broke the WebSocket|selected a|did not speak|"
                r"certificate verify failed|mismatch|no answer to the TLS",
                b.rule):
        # The attempt the harness refused or that failed is evidence in the case's wire log.
        assert "refused" in events, (name, events)
    elif b.role == "cs" and "subprotocol" in b.rule:
        # Accepted with the finding: the handshake line shows what was offered. The frames may all
        # have come before the case began (seen on a loaded run), so they are not the evidence.
        assert any(line.event == "handshake" and "subprotocols_offered" in (line.detail or {})
                   for line in lines), (name, events)
    elif b.verdict != "INCONCLUSIVE":
        assert any(line.event is None for line in lines), f"{log}: no frame logged"
    if b.refused:
        details = [line.detail or {} for line in lines if line.event == "refused"]
        assert any(all(re.search(rx, str(d.get(key, ""))) for key, rx in b.refused.items())
                   for d in details), (name, b.refused, details)
    # The reports: written, the device's markup escaped in the HTML (the browser check below
    # renders them), and the PICS's password in no output of the run.
    html = (o.folder / "out" / "report.html").read_text()
    assert MARKUP not in html and IMG not in html
    assert (o.folder / "out" / "junit.xml").is_file()
    assert_no_secret(o, PASSWORD)


def outputs(o: Outcome) -> dict[str, str]:
    """Every output of one run: the terminal's, and each file it wrote (report.json and .html,
    the wire logs, JUnit XML, device-state.json), by name."""
    found = {"terminal output": o.stdout}
    out = o.folder / "out"
    if out.is_dir():
        for path in sorted(out.rglob("*")):
            if path.is_file():
                found[str(path.relative_to(o.folder))] = path.read_text("utf-8", "replace")
    return found


def assert_no_secret(o: Outcome, *secrets: str) -> None:
    from urllib.parse import quote
    for where, text in outputs(o).items():
        for value in secrets:
            for form in {value, quote(value, safe="")}:
                assert form not in text, f"{o.behaviour.name}: a secret in {where}"


def test_docs_hostile_md_is_the_campaigns(campaign, request):
    """docs/hostile.md is what this campaign produced (regenerated with OCPP_HOSTILE_DOC=1),
    timings aside; checked when the whole campaign ran (not under -k)."""
    if set(campaign) != {b.name for b in BEHAVIOURS}:
        pytest.skip("only part of the campaign ran (-k); docs/hostile.md is the whole one's")
    produced = render_table(campaign, request.config.stash[WALL])
    committed = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
    assert comparable(committed) == comparable(produced), (
        "docs/hostile.md is not what the campaign produced: OCPP_HOSTILE_DOC=1 .venv/bin/python "
        "-m pytest tests/hostile -p no:cacheprovider\n" + "\n".join(
            line for line in difflib.unified_diff(comparable(committed).splitlines(),
                                                  comparable(produced).splitlines(),
                                                  "docs/hostile.md", "the campaign", lineterm="")))


MARKUP_BEHAVIOURS = ("cs-markup", "csms-markup")
"""Their reports show the device's markup (as text) in the case's reason."""


@pytest.mark.skipif(not browser.available(), reason="/usr/bin/chromium is absent (apt-get "
                    "install chromium; .ci/run installs it)")
def test_no_device_markup_is_live_in_any_rendered_report(campaign, tmp_path):
    """Every report.html of the campaign, rendered in one headless Chromium (one launch, one
    tab): no script or handler the device sent ran, none became an element. A control page with
    the same markup live shows that the probe sees it when it is."""
    reports = {name: o.folder / "out" / "report.html" for name, o in campaign.items()
               if (o.folder / "out" / "report.html").is_file()}
    assert len(reports) == sum(b.verdict != USAGE for b in BEHAVIOURS if b.name in campaign)
    control = tmp_path / "live.html"
    control.write_text(f"<!doctype html><html><body><p>{MARKUP}{IMG}</p></body></html>")
    profile = tmp_path / "profile"
    profile.mkdir()
    started = time.monotonic()
    seen = asyncio.run(browser.probe([control, *reports.values()], profile))
    took = time.monotonic() - started
    assert seen[control]["pwned"] and seen[control]["handlers"] == 1, seen[control]
    for name, page in reports.items():
        result = seen[page]
        assert not result["pwned"] and not result["scripts"] and not result["handlers"], \
            (name, {k: v for k, v in result.items() if k != "text"})
        assert result["title"] and "TC_0" in result["text"], (name, result["title"])
        if name in MARKUP_BEHAVIOURS:
            assert MARKUP in result["text"] or IMG in result["text"], name
    print(f"{len(reports)} reports rendered in one chromium in {took:.1f} s")


def test_the_campaign_covers_forty_behaviours_in_both_roles():
    roles = {b.role for b in BEHAVIOURS}
    assert roles == {"cs", "csms"} and len(BEHAVIOURS) >= 40, len(BEHAVIOURS)
