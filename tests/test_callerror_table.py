"""One finding -> CALLERROR table (OCPP-J 1.6 section 4.2.3, ``harness.rpc.ERROR_CODE_FOR_RULE``):
the harness's central system (``harness.session.Session``) and the reference CSMS simulator
(``harness.sim.link.Link``) answer the same broken CALL of a charge point with the same code.

Both are driven over real loopback WebSockets by the same raw charge point, frame for frame.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect

from harness.findings import Finding
from harness.rpc import ERROR_CODE_FOR_RULE, ERROR_CODES, error_code_for
from harness.session import Session
from harness.sim import CsmsSim
from scripted_peers import stand_in_pics
from harness.transport import CentralSystemServer
from harness.wirelog import WireLog

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}

# (uniqueId, the frame a charge point sends, the code OCPP-J 1.6 section 4.2.3 gives it)
BROKEN_CALLS = [
    ("unknown", [2, "unknown", "MakeCoffee", {}], "NotImplemented"),
    ("short", [2, "short", "Heartbeat"], "ProtocolError"),
    ("not-object", [2, "not-object", "Heartbeat", []], "FormationViolation"),
    ("missing", [2, "missing", "StartTransaction", {"connectorId": 1}],
     "OccurenceConstraintViolation"),
    ("type", [2, "type", "Authorize", {"idTag": 5}], "TypeConstraintViolation"),
    ("enum", [2, "enum", "StatusNotification", {**STATUS, "status": "Availble"}],
     "PropertyConstraintViolation"),
    ("too-long", [2, "too-long", "Authorize", {"idTag": "X" * 21}], "PropertyConstraintViolation"),
    ("extra", [2, "extra", "Heartbeat", {"coffee": True}], "FormationViolation"),
    ("date", [2, "date", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0,
                                               "timestamp": "yesterday"}],
     "PropertyConstraintViolation"),
]


async def _answers(ws) -> dict[str, str]:
    """The CALLERROR code the peer gave each of BROKEN_CALLS, by uniqueId."""
    for _, frame, _ in BROKEN_CALLS:
        await ws.send(json.dumps(frame))
    wanted = {uid for uid, _, _ in BROKEN_CALLS}
    codes: dict[str, str] = {}
    while wanted - codes.keys():
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if message[0] == 4 and message[1] in wanted:
            codes[message[1]] = message[2]
    return codes


async def _harness_codes(tmp_path) -> dict[str, str]:
    server = CentralSystemServer("127.0.0.1", 0, max_size=4096)
    await server.start()
    session = Session("csms", response_timeout=1)
    wirelog = WireLog(tmp_path / "wire.jsonl")
    session.begin(wirelog)
    try:
        async with ws_connect(f"ws://127.0.0.1:{server.port}/ocpp/CP1",
                              subprotocols=["ocpp1.6"]) as ws:
            session.attach(await server.accept(2))
            return await _answers(ws)
    finally:
        session.end()
        wirelog.close()
        await session.close()
        await server.stop()


async def _simulator_codes() -> dict[str, str]:
    sim = CsmsSim(stand_in_pics("csms"), port=0)
    await sim.start()
    try:
        async with ws_connect(f"{sim.url.rstrip('/')}/CP001", subprotocols=["ocpp1.6"]) as ws:
            return await _answers(ws)
    finally:
        await sim.stop()


async def test_harness_and_simulator_answer_a_finding_with_the_same_code(tmp_path):
    harness, simulator = await _harness_codes(tmp_path), await _simulator_codes()
    expected = {uid: code for uid, _, code in BROKEN_CALLS}
    assert harness == expected
    assert simulator == expected


@pytest.mark.parametrize("rules, code", [
    (["enum", "required"], "OccurenceConstraintViolation"),  # the first rule the table names
    (["rpc.unique-id", "rpc.length"], "ProtocolError"),
    (["rpc.json"], "FormationViolation"),
    (["maxLength"], "PropertyConstraintViolation"),
])
def test_error_code_for(rules, code):
    assert error_code_for([Finding(rule, "$", "m") for rule in rules]) == code


def test_table_codes_are_ocpp_j_codes():
    assert set(ERROR_CODE_FOR_RULE.values()) <= ERROR_CODES
