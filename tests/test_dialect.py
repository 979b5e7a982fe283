"""A version the engine has never heard of, driven end to end (issue 14, "Done when": a 2.0.1 pack
could be added without editing a file of the engine).

The test dialect is built here, in tests/, from nothing but :class:`harness.dialect.Dialect`: a
made-up subprotocol ``ocpp-test0.1``, two actions (``Greet`` from the charge point, ``Poke`` from
the central system), a schema each (and its response's), and CALLERROR codes spelt as OCPP 2.0.1
spells them (``FormatViolation``, ``OccurrenceConstraintViolation``), which 1.6 does not know. The
harness's own CentralSystemServer, connect(), Session and Checker speak it over real loopback
WebSockets: the subprotocol negotiated, a CALL validated and answered, bad payloads found and
answered with the dialect's codes, a 1.6 action refused as unknown.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve

from harness.dialect import OCPP16, Dialect, schema_set
from harness.protocol import Checker
from harness.session import ProtocolViolation, Session
from harness.transport import CentralSystemServer, connect

SUBPROTOCOL = "ocpp-test0.1"
SCHEMAS = {
    "Greet": {"type": "object", "additionalProperties": False, "required": ["name"],
              "properties": {"name": {"type": "string", "maxLength": 8}}},
    "GreetResponse": {"type": "object", "required": ["accepted"],
                      "properties": {"accepted": {"type": "boolean"}}},
    "Poke": {"type": "object", "required": ["times"],
             "properties": {"times": {"type": "integer", "minimum": 1}}},
    "PokeResponse": {"type": "object", "required": ["status"],
                     "properties": {"status": {"type": "string", "enum": ["Ouch", "Ignored"]}}},
}


@pytest.fixture(scope="module")
def dialect(tmp_path_factory) -> Dialect:
    folder = tmp_path_factory.mktemp("test-dialect-schemas")
    for name, schema in SCHEMAS.items():
        (folder / f"{name}.json").write_text(json.dumps(schema), encoding="utf-8")
    return Dialect(
        name="Test 0.1", subprotocol=SUBPROTOCOL,
        cp_actions=frozenset({"Greet"}), csms_actions=frozenset({"Poke"}),
        error_codes=frozenset({"FormatViolation", "GenericError", "NotImplemented", "NotSupported",
                               "OccurrenceConstraintViolation", "PropertyConstraintViolation",
                               "TypeConstraintViolation"}),
        error_code_spellings={},
        error_code_for_rule={"rpc.action": "NotImplemented",
                             "required": "OccurrenceConstraintViolation",
                             "type": "TypeConstraintViolation"},
        frame_error_code="FormatViolation", value_error_code="PropertyConstraintViolation",
        unsupported_error_code="NotSupported",
        schemas=schema_set(folder, "Test 0.1"), error_code_reference="Test 0.1 §1")


class Peer:
    """A raw charge point speaking the test dialect: sends what it is given, reads what comes."""

    def __init__(self, ws):
        self.ws = ws

    async def send(self, frame: list) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 5) -> list:
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))


@pytest.fixture
async def csms(dialect):
    """The harness as central system in the test dialect, a raw charge point offering its
    subprotocol connected to it."""
    server = CentralSystemServer("127.0.0.1", 0, dialect=dialect)
    await server.start()
    session = Session("csms", response_timeout=2, dialect=dialect,
                      defaults={"Greet": lambda p: {"accepted": p["name"] == "Ada"}})
    session.begin()
    ws = await ws_connect(f"ws://127.0.0.1:{server.port}/test/CP1", subprotocols=[SUBPROTOCOL])
    session.attach(await server.accept(5))
    yield session, Peer(ws)
    session.end()
    await ws.close()
    await session.close()
    await server.stop()


async def test_session_and_checker_speak_a_dialect_the_engine_does_not_know(csms):
    session, peer = csms
    assert peer.ws.subprotocol == SUBPROTOCOL and session.link.findings == []
    # The device's CALL: validated against the dialect's schema, answered by the responder.
    await peer.send([2, "g1", "Greet", {"name": "Ada"}])
    assert await peer.recv() == [3, "g1", {"accepted": True}]
    request = await session.expect("Greet", timeout=2)
    assert request["name"] == "Ada"
    # The harness's CALL: the dialect's csms action, its answer validated.
    task = asyncio.create_task(session.call("Poke", {"times": 2}))
    call = await peer.recv()
    assert call[0] == 2 and call[2:] == ["Poke", {"times": 2}]
    await peer.send([3, call[1], {"status": "Ouch"}])
    assert (await task).status == "Ouch"
    assert session.violations == [] and session.harness_errors == []


@pytest.mark.parametrize("payload, code, rule, path", [
    ({"name": 5}, "TypeConstraintViolation", "type", "$.name"),
    ({}, "OccurrenceConstraintViolation", "required", "$.name"),
    ({"name": "Bartholomew"}, "PropertyConstraintViolation", "maxLength", "$.name"),
    # Not named by the table, a broken frame: the dialect's frame code, spelt the 2.0.1 way.
    ([], "FormatViolation", "rpc.payload", "frame"),
])
async def test_bad_payload_is_found_and_answered_with_the_dialects_code(csms, payload, code, rule,
                                                                       path):
    session, peer = csms
    await peer.send([2, "g2", "Greet", payload])
    answer = await peer.recv()
    assert answer[:3] == [4, "g2", code]
    finding = session.violations[0].findings[0]
    assert (finding.rule, finding.path) == (rule, path)
    with pytest.raises(ProtocolViolation):
        await session.expect("Greet", timeout=1)


async def test_actions_are_the_dialects_own(csms):
    session, peer = csms
    await peer.send([2, "h1", "Heartbeat", {}])  # OCPP 1.6's, not this dialect's
    assert (await peer.recv())[:3] == [4, "h1", "NotImplemented"]
    assert "unknown Test 0.1 action 'Heartbeat'" in session.violations[0].findings[0].message
    await peer.send([2, "p1", "Poke", {"times": 1}])  # the central system's action
    assert (await peer.recv())[:3] == [4, "p1", "FormatViolation"]
    assert session.violations[1].findings[0].rule == "rpc.direction"


async def test_a_charge_point_not_offering_the_dialects_subprotocol_is_a_finding(dialect):
    async with CentralSystemServer("127.0.0.1", 0, dialect=dialect) as server:
        async with ws_connect(f"ws://127.0.0.1:{server.port}/x/CP1", subprotocols=["ocpp1.6"]):
            link = await server.accept(5)
    assert [f.rule for f in link.findings] == ["ws.subprotocol"]
    assert "did not offer the ocpp-test0.1 subprotocol" in link.findings[0].message


async def test_the_harness_as_charge_point_offers_the_dialects_subprotocol(dialect):
    offered: list[list[str]] = []

    async def central_system(ws):
        offered.append(ws.request.headers.get_all("Sec-WebSocket-Protocol"))
        call = json.loads(await ws.recv())
        await ws.send(json.dumps([3, call[1], {"accepted": False}]))
        await ws.wait_closed()

    async with serve(central_system, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        port = server.sockets[0].getsockname()[1]
        link = await connect(f"ws://127.0.0.1:{port}/ocpp", "CP1", timeout=5, dialect=dialect)
        session = Session("cp", response_timeout=2, dialect=dialect)
        session.begin()
        session.attach(link)
        try:
            assert (await session.call("Greet", {"name": "Bob"}))["accepted"] is False
        finally:
            session.end()
            await session.close()
    assert offered == [[SUBPROTOCOL]] and link.findings == []
    assert session.violations == []


def test_checker_judges_by_the_dialect_alone(dialect):
    checker = Checker(dialect=dialect)
    assert checker.check("cp", '[2,"a","Greet",{"name":"Ada"}]').findings == []
    assert checker.check_valid("cp", [2, "b", "Greet", {"name": "Ada"}], "") == ("cp", "b")
    # FormationViolation is 1.6's spelling: not a code of this dialect, and no spelling remark.
    error = checker.check("csms", '[4,"a","FormationViolation","",{}]')
    assert [f.rule for f in error.findings] == ["rpc.error-code"]
    assert "'FormationViolation' is not an Test 0.1 error code" in error.findings[0].message
    # The same frames in 1.6: Greet is unknown there.
    assert [f.rule for f in Checker().check("cp", '[2,"a","Greet",{"name":"Ada"}]').findings] == \
        ["rpc.action"]


ENGINE = ["harness.dialect", "harness.rpc", "harness.protocol", "harness.validation",
          "harness.transport", "harness.session", "harness.findings", "harness.verdicts",
          "harness.clock"]
FORBIDDEN = ("pytest", "_pytest", "harness.states", "harness.sim", "harness.plugin",
             "harness.cases", "harness.fidelity", "harness.drivers", "harness.bench")


def test_the_engine_imports_no_pytest_state_or_simulator():
    code = (f"import sys; import {', '.join(ENGINE)}; "
            f"bad = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') "
            f"for p in {FORBIDDEN!r})); print(bad); sys.exit(1 if bad else 0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"the engine pulls in {run.stdout.strip()} {run.stderr[-500:]}"


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["rpc", "protocol", "validation", "transport", "session"])
def test_the_engine_names_no_1_6_action_code_or_subprotocol(module):
    """What 1.6 is lives in harness.dialect's OCPP16: an engine module that spells a 1.6 action,
    CALLERROR code or the subprotocol as a string reads the version behind its dialect's back."""
    source = (ROOT / "harness" / f"{module}.py").read_text(encoding="utf-8")
    words = OCPP16.actions | OCPP16.error_codes | set(OCPP16.error_code_spellings) | \
        {OCPP16.subprotocol}
    found = sorted(w for w in words if re.search(rf"[\"']{re.escape(w)}[\"']", source))
    assert found == []
