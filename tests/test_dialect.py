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
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import serve

from harness.dialect import OCPP16, Dialect, schema_set
from harness.findings import REMARK, Finding
from harness.protocol import Checker
from harness.session import Flow, ProtocolViolation, Session
from harness.transport import CentralSystemServer, connect
from harness.validation import SchemaError

SUBPROTOCOL = "ocpp-test0.1"
# Laid out as OCPP 2.0.1's schema files are (mobilityhouse/ocpp v201/schemas, the OCA's part 3):
# <Action>Request.json / <Action>Response.json, draft-06, a "comment" keyword, definitions with a
# CustomDataType reached by $ref, javaType, "minimum": 0.0 on an integer.
_CUSTOM = {"customData": {"$ref": "#/definitions/CustomDataType"}}
_DEFINITIONS = {"CustomDataType": {"javaType": "CustomData", "type": "object",
                                   "properties": {"vendorId": {"type": "string", "maxLength": 255}},
                                   "required": ["vendorId"]}}


def _schema(properties: dict, required: list[str]) -> dict:
    return {"$schema": "http://json-schema.org/draft-06/schema#", "comment": "Test 0.1 FINAL",
            "definitions": _DEFINITIONS, "type": "object", "additionalProperties": False,
            "properties": {**_CUSTOM, **properties}, "required": required}


SCHEMAS = {
    "GreetRequest": _schema({"name": {"type": "string", "maxLength": 8},
                             "count": {"type": "integer", "minimum": 0.0}}, ["name"]),
    "GreetResponse": _schema({"accepted": {"type": "boolean"}}, ["accepted"]),
    "PokeRequest": _schema({"times": {"type": "integer", "minimum": 1}}, ["times"]),
    "PokeResponse": _schema({"status": {"type": "string", "additionalProperties": False,
                                        "enum": ["Ouch", "Ignored"]}}, ["status"]),
}


def draft6_integers(action: str | None, response: bool, findings: list[Finding]) -> list[Finding]:
    """The test dialect's remark policy: its files are draft-06, where 2.0 is an integer; the
    harness judges as draft 4 and makes that one difference a remark (as 1.6's ERRATA D1)."""
    return [replace(f, severity=REMARK) if f.rule == "type" and type(f.value) in (float, Decimal)
            and f.value == int(f.value) else f for f in findings]


@pytest.fixture(scope="module")
def dialect(tmp_path_factory) -> Dialect:
    folder = tmp_path_factory.mktemp("test-dialect-schemas")
    for name, schema in SCHEMAS.items():
        (folder / f"{name}.json").write_text(json.dumps(schema), encoding="utf-8")
    return Dialect(
        name="Test 0.1", subprotocol=SUBPROTOCOL,
        cp_actions=frozenset({"Greet"}), csms_actions=frozenset({"Poke"}),
        # OCPP-J 2.0.1's codes: FormatViolation, OccurrenceConstraintViolation as 2.0.1 spells them
        error_codes=frozenset({
            "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
            "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
            "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
            "TypeConstraintViolation"}),
        error_code_spellings={},
        error_code_for_rule={"rpc.action": "NotImplemented",
                             "required": "OccurrenceConstraintViolation",
                             "type": "TypeConstraintViolation"},
        frame_error_code="FormatViolation", value_error_code="PropertyConstraintViolation",
        unsupported_error_code="NotSupported",
        schemas=schema_set(folder, "Test 0.1", request_suffix="Request",
                           annotations=frozenset({"comment"})),
        error_code_reference="Test 0.1 §1", remarks=draft6_integers,
        references={"url": "Test 0.1 §2", "subprotocol": "Test 0.1 §3", "flow": "Test 0.1 §4",
                    "security": "Test 0.1 §5"})


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


async def test_the_dialects_remark_policy_decides_what_is_only_a_remark(csms):
    session, peer = csms
    # 2.0 for an integer: draft-06 (the dialect's files) accepts it, the harness's draft-4 reading
    # does not; the dialect makes that a remark, so the CALL is answered and nothing fails.
    await peer.send([2, "g4", "Greet", {"name": "Ada", "count": 2.0,
                                        "customData": {"vendorId": "Example"}}])
    assert await peer.recv() == [3, "g4", {"accepted": True}]
    assert session.violations == []
    assert [r for r in session.remarks if "expected integer" in r and "$.count" in r]
    await peer.send([2, "g5", "Greet", {"name": "Ada", "count": -1}])  # minimum 0.0, no remark
    assert (await peer.recv())[:3] == [4, "g5", "PropertyConstraintViolation"]
    assert session.violations[0].findings[0].rule == "minimum"


def test_a_schema_set_laid_out_as_2_0_1s_loads_and_nothing_else_does(dialect, tmp_path):
    validator = dialect.validator()
    assert validator.actions == {"Greet", "Poke"} and validator.version == "Test 0.1"
    assert validator.validate("Greet", False, {"name": "Ada", "customData": {}})[0].rule == \
        "required"  # $.customData.vendorId, through the $ref
    (tmp_path / "Greet.json").write_text(json.dumps(SCHEMAS["GreetRequest"]), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"neither <Action>Request.json"):
        schema_set(tmp_path, "Test 0.1", request_suffix="Request",
                   annotations=frozenset({"comment"}))()
    (tmp_path / "Greet.json").rename(tmp_path / "GreetRequest.json")
    with pytest.raises(SchemaError, match=r"unsupported keyword\(s\) comment"):
        schema_set(tmp_path, "Test 0.1", request_suffix="Request")()


async def test_a_charge_point_not_offering_the_dialects_subprotocol_is_a_finding(dialect):
    async with CentralSystemServer("127.0.0.1", 0, dialect=dialect) as server:
        async with ws_connect(f"ws://127.0.0.1:{server.port}/x/CP1", subprotocols=["ocpp1.6"]):
            link = await server.accept(5)
    assert [f.rule for f in link.findings] == ["ws.subprotocol"]
    assert "did not offer the ocpp-test0.1 subprotocol" in link.findings[0].message


async def test_the_engines_messages_cite_the_dialect(dialect):
    async with CentralSystemServer("127.0.0.1", 0, dialect=dialect) as server:
        with pytest.raises(Exception):  # refused: the path names no chargePointId
            async with ws_connect(f"ws://127.0.0.1:{server.port}/", subprotocols=[SUBPROTOCOL]):
                pass
    assert [a.finding.message for a in server.refused] == [
        "the URL path carries no chargePointId (Test 0.1 §2: <path>/<chargePointId>)"]
    assert "(Test 0.1 §4: SHOULD NOT" in Flow(while_outstanding=1, reference="Test 0.1 §4").summary()
    assert Session("csms", response_timeout=1, dialect=dialect).flow.reference == "Test 0.1 §4"


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


def test_a_dialect_is_a_value_that_keys_a_dict(dialect):
    by_dialect = {OCPP16: "1.6", dialect: "test"}
    assert by_dialect[OCPP16] == "1.6" and by_dialect[dialect] == "test" and OCPP16 != dialect
    with pytest.raises(AttributeError):
        OCPP16.subprotocol = "ocpp2.0.1"  # type: ignore[misc]


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
