"""The session and the transport, against a scripted raw peer over real loopback WebSockets.

The peer is deliberately dumb (it sends whatever text the test gives), so each bad-input case of the
engine issue is exercised on the wire: garbage, unknown actions, duplicate ids, unmatched results,
binary and oversized frames, silence, disconnects.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect

from harness.session import (DeviceDisconnected, DeviceTimeout, HarnessError, NO_ANSWER,
                             ProtocolViolation, Session)
from harness.transport import CentralSystemServer, LinkClosed, connect
from harness.wirelog import WireLog, read

BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}


class Harness:
    """A harness central system with one session, and a raw charge point connected to it."""

    def __init__(self, server: CentralSystemServer, session: Session, peer, log_path):
        self.server, self.session, self.peer, self.log_path = server, session, peer, log_path

    async def peer_send(self, frame) -> None:
        await self.peer.send(frame if isinstance(frame, (str, bytes)) else json.dumps(frame))

    async def peer_recv(self, timeout: float = 2) -> list:
        return json.loads(await asyncio.wait_for(self.peer.recv(), timeout))

    def log(self) -> list:
        return list(read(self.log_path))


@pytest.fixture
async def harness(tmp_path):
    server = CentralSystemServer("127.0.0.1", 0, max_size=4096)
    await server.start()
    session = Session("csms", response_timeout=1, defaults={
        "BootNotification": lambda p: {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                                       "interval": 10},
        "StatusNotification": lambda p: {},
    })
    log_path = tmp_path / "wire.jsonl"
    wirelog = WireLog(log_path)
    session.begin(wirelog)
    peer = await ws_connect(f"ws://127.0.0.1:{server.port}/ocpp/CP1", subprotocols=["ocpp1.6"])
    session.attach(await server.accept(2))
    yield Harness(server, session, peer, log_path)
    session.end()
    wirelog.close()
    await peer.close()
    await session.close()
    await server.stop()


async def test_call_returns_answer_and_round_trip(harness):
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Soft"}))
    call = await harness.peer_recv()
    assert call[0] == 2 and call[2] == "Reset" and call[3] == {"type": "Soft"}
    await harness.peer_send([3, call[1], {"status": "Accepted"}])
    response = await task
    assert response.status == "Accepted"
    assert 0 < response.rtt_s < 1
    assert harness.session.violations == []


async def test_a_call_preparer_runs_before_the_call_and_not_for_its_own_calls(harness):
    """Session.call_preparers: awaited before the CALL leaves (its own CALL goes first on the
    wire), not again for the CALLs it makes itself."""
    seen: list[str] = []

    async def prepare(action: str, payload: dict) -> None:
        seen.append(action)
        if action == "ChangeConfiguration":
            await harness.session.call("GetConfiguration", {"key": [payload["key"]]})

    harness.session.call_preparers.append(prepare)
    task = asyncio.create_task(harness.session.call("ChangeConfiguration",
                                                    {"key": "K", "value": "2"}))
    for action, answer in (("GetConfiguration", {"configurationKey": []}),
                           ("ChangeConfiguration", {"status": "Accepted"})):
        call = await harness.peer_recv()
        assert call[2] == action, call
        await harness.peer_send([3, call[1], answer])
    assert (await task).status == "Accepted"
    assert seen == ["ChangeConfiguration"]


async def test_call_without_answer_times_out(harness):
    with pytest.raises(DeviceTimeout, match=r"no answer to Reset .* within 0.2 s"):
        await harness.session.call("Reset", {"type": "Soft"}, timeout=0.2)


async def test_expect_answers_with_given_answer(harness):
    task = asyncio.create_task(harness.session.expect(
        "BootNotification", timeout=2,
        answer={"status": "Rejected", "currentTime": "2026-01-01T00:00:00Z", "interval": 5}))
    await asyncio.sleep(0)  # let the expectation register before the peer sends
    await harness.peer_send([2, "b1", "BootNotification", BOOT])
    request = await task
    assert request["chargePointVendor"] == "V"
    assert (await harness.peer_recv())[2]["status"] == "Rejected"


async def test_request_before_expect_is_kept_and_answered_by_default(harness):
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    assert await harness.peer_recv() == [3, "s1", {}]
    request = await harness.session.expect("StatusNotification", lambda p: p["status"] == "Available",
                                           timeout=1)
    assert request["connectorId"] == 1


async def test_expect_times_out_naming_what_came_instead(harness):
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    await harness.peer_recv()
    with pytest.raises(DeviceTimeout, match=r"expected Heartbeat within 0.2 s.*StatusNotification"):
        await harness.session.expect("Heartbeat", timeout=0.2)


async def test_garbage_is_a_violation_and_fails_waits(harness):
    waiting = asyncio.create_task(harness.session.expect("Heartbeat", timeout=2))
    await asyncio.sleep(0)
    await harness.peer_send("this is not json")
    with pytest.raises(ProtocolViolation, match="not valid JSON"):
        await waiting
    assert harness.session.violations[0].findings[0].rule == "rpc.json"


async def test_unknown_action_answered_not_implemented_and_recorded(harness):
    await harness.peer_send([2, "u1", "MakeCoffee", {}])
    answer = await harness.peer_recv()
    assert answer[:3] == [4, "u1", "NotImplemented"]
    assert harness.session.violations[0].findings[0].rule == "rpc.action"


async def test_schema_violation_answered_with_callerror(harness):
    await harness.peer_send([2, "s1", "StatusNotification", {**STATUS, "status": "Availble"}])
    answer = await harness.peer_recv()
    assert answer[:3] == [4, "s1", "PropertyConstraintViolation"]  # an invalid value (enum)
    finding = harness.session.violations[0].findings[0]
    assert (finding.rule, finding.path, finding.value) == ("enum", "$.status", "Availble")


async def test_duplicate_unique_id_is_a_violation(harness):
    await harness.peer_send([2, "d1", "StatusNotification", STATUS])
    await harness.peer_recv()
    await harness.peer_send([2, "d1", "StatusNotification", STATUS])
    await harness.peer_recv()
    assert [f.rule for v in harness.session.violations for f in v.findings] == ["rpc.duplicate-id"]


async def test_result_for_unknown_id_is_a_violation(harness):
    await harness.peer_send([3, "nobody-asked", {}])
    with pytest.raises(ProtocolViolation, match="answers no outstanding CALL"):
        await harness.session.expect("Heartbeat", timeout=1)


async def test_invalid_answer_fails_the_call_at_once(harness):
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Soft"}, timeout=5))
    call = await harness.peer_recv()
    await harness.peer_send([3, call[1], {"status": "Acepted"}])
    with pytest.raises(ProtocolViolation, match=r"\$\.status"):
        await asyncio.wait_for(task, 2)


async def test_binary_frame_is_a_violation(harness):
    await harness.peer_send(b"\x00\x01")
    with pytest.raises(ProtocolViolation, match="binary"):
        await harness.session.expect("Heartbeat", timeout=1)


async def test_oversized_frame_is_a_violation_and_closes(harness):
    await harness.peer_send([2, "big", "DataTransfer", {"vendorId": "V", "data": "x" * 10000}])
    await harness.session.wait_disconnected(2)
    assert any(f.rule == "ws.too-large" for v in harness.session.violations for f in v.findings)


async def test_disconnect_mid_call(harness):
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Hard"}, timeout=5))
    await harness.peer_recv()
    await harness.peer.close()
    with pytest.raises(DeviceDisconnected, match="while the harness waited for the answer to Reset"):
        await asyncio.wait_for(task, 2)


async def test_a_connection_lost_at_the_write_is_the_device_disconnecting(harness, monkeypatch):
    # The link still looks open when call() checks it, and closes as the CALL is written: a
    # device failure (DeviceDisconnected, a FAIL), not a harness error.
    async def closed_write(frame):
        raise LinkClosed(1006, "", by_peer=True)
    monkeypatch.setattr(harness.session.link, "write", closed_write)
    with pytest.raises(DeviceDisconnected, match="cannot send Reset: the device closed"):
        await harness.session.call("Reset", {"type": "Hard"})
    assert not harness.session._pending


async def test_harness_refuses_to_send_an_invalid_frame_unless_on_purpose(harness):
    with pytest.raises(HarnessError, match="invalid frame"):
        await harness.session.call("Reset", {"type": "Lukewarm"})
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Lukewarm"},
                                                    invalid_on_purpose=True))
    call = await harness.peer_recv()
    await harness.peer_send([4, call[1], "TypeConstraintViolation", "bad type", {}])
    response = await task
    assert response.error.error_code == "TypeConstraintViolation"
    assert any(line.event == "invalid_on_purpose" for line in harness.log())


async def test_no_answer_responder(harness):
    harness.session.on("StatusNotification", lambda p: NO_ANSWER)
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    request = await harness.session.expect("StatusNotification", timeout=1)
    assert request.answer is None
    with pytest.raises(TimeoutError):
        await harness.peer_recv(timeout=0.2)


async def test_wire_log_has_every_frame_with_findings(harness):
    await harness.peer_send([2, "s1", "StatusNotification", {**STATUS, "status": "Nope"}])
    await harness.peer_recv()
    frames = [line for line in harness.log() if line.is_frame]
    assert [line.sender for line in frames] == ["cp", "csms"]
    assert frames[0].findings and frames[0].findings[0]["rule"] == "enum"


async def test_reconnect_is_attached_to_the_same_session(harness):
    await harness.peer.close()
    await harness.session.wait_disconnected(2)
    peer = await ws_connect(f"ws://127.0.0.1:{harness.server.port}/x/y/CP1", subprotocols=["ocpp1.6"])
    harness.session.attach(await harness.server.accept(2))
    await peer.send(json.dumps([2, "b2", "BootNotification", BOOT]))
    assert json.loads(await asyncio.wait_for(peer.recv(), 2))[2]["status"] == "Accepted"
    await peer.close()


async def test_subprotocol_not_offered_is_a_finding():
    async with CentralSystemServer("127.0.0.1", 0) as server:
        async with ws_connect(f"ws://127.0.0.1:{server.port}/ocpp/CP1"):
            link = await server.accept(2)
            assert link.subprotocol is None
            assert [f.rule for f in link.findings] == ["ws.subprotocol"]


async def test_basic_auth_required():
    async with CentralSystemServer("127.0.0.1", 0, basic_auth_password="s3cret") as server:
        with pytest.raises(ConnectionError, match="HTTP 401"):
            await connect(server.url, "CP1", timeout=2)
        assert server.refused[0].finding.rule == "ws.basic-auth"
        link = await connect(server.url, "CP1", timeout=2, basic_auth_password="s3cret")
        assert (await server.accept(2)).charge_point_id == "CP1"
        assert link.findings == []
        await link.close()


async def test_a_basic_auth_refusal_says_whose_password_was_expected_never_the_password():
    """The reason names the password the harness expected in words -- the PICS one by default,
    the AuthorizationKey a case set when it says so (TC_073_CS) -- and never either password."""
    async with CentralSystemServer("127.0.0.1", 0, basic_auth_password="s3cret") as server:
        with pytest.raises(ConnectionError, match="HTTP 401"):
            await connect(server.url, "CP1", timeout=2, basic_auth_password="wrong1")
        server.basic_auth_password = ("n3w-key",)
        server.basic_auth_whose = "the AuthorizationKey TC_073_CS set"
        with pytest.raises(ConnectionError, match="HTTP 401"):
            await connect(server.url, "CP1", timeout=2, basic_auth_password="s3cret")
        first, second = (str(attempt.finding) for attempt in server.refused)
        assert "password = the PICS password" in first, first
        assert "password = the AuthorizationKey TC_073_CS set" in second, second
        assert not any(word in text for word in ("s3cret", "n3w-key", "wrong1")
                       for text in (first, second))


async def test_a_refused_request_is_one_attempt_even_if_the_peer_holds_the_socket():
    """A plain GET the harness answers 426, from a peer that keeps the TCP connection open past
    the opening-handshake timeout: one ws.upgrade attempt, not also a ws.handshake-timeout (the
    timeout then only ends websockets' wait for the peer to close; CI saw both on a loaded run)."""
    async with CentralSystemServer("127.0.0.1", 0, open_timeout=0.3) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await asyncio.wait_for(reader.readline(), 2)).startswith(b"HTTP/1.1 426")
        await asyncio.sleep(0.6)  # the peer holding the socket (past open_timeout) is the case
        writer.close()
        assert [a.finding.rule for a in server.attempts] == ["ws.upgrade"]


async def test_frames_are_stamped_at_the_socket(harness):
    # Two frames sent back to back arrive with non-decreasing monotonic stamps, both taken before
    # the session got round to them.
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    await harness.peer_send([2, "s2", "StatusNotification", {**STATUS, "connectorId": 2}])
    first = await harness.session.expect("StatusNotification", timeout=1)
    second = await harness.session.expect("StatusNotification", timeout=1)
    assert first.frame.mono_ns <= second.frame.mono_ns
    assert first.answer_frame.mono_ns >= first.frame.mono_ns


async def test_close_by_the_harness_is_logged_as_such(harness):
    await harness.session.close(1000, "done")
    closed = [line for line in harness.log() if line.event == "closed"]
    assert closed and closed[-1].detail["by"] == "harness"


async def test_reconnect_goes_through_the_dialer_of_the_session():
    """Session.reconnect / open_link are the bench's (Session.dialer); a session whose device dials
    in has none, and says so as the harness's own error."""
    session = Session("csms", response_timeout=1)
    with pytest.raises(HarnessError, match="cannot reconnect: the harness does not dial"):
        await session.reconnect()

    class Dialer:
        def __init__(self):
            self.asked: list[tuple[str, tuple[str, ...]]] = []

        async def reconnect(self, subprotocols=("ocpp1.6",)):
            self.asked.append(("reconnect", subprotocols))
            return "link"

        async def open_link(self, subprotocols=("ocpp1.6",)):
            self.asked.append(("open_link", subprotocols))
            return "other link"

    cp = Session("cp", response_timeout=1)
    cp.dialer = dialer = Dialer()
    assert await cp.reconnect() == "link"
    assert await cp.open_link(("x", "ocpp1.6")) == "other link"
    assert dialer.asked == [("reconnect", ("ocpp1.6",)), ("open_link", ("x", "ocpp1.6"))]


async def _reconnect_peer(harness, path: str = "/ocpp/CP1"):
    """A second connection of the device, attached as the bench attaches one."""
    peer = await ws_connect(f"ws://127.0.0.1:{harness.server.port}{path}", subprotocols=["ocpp1.6"])
    harness.session.attach(await harness.server.accept(2))
    return peer


async def test_a_call_left_unanswered_on_a_lost_connection_is_not_outstanding_on_the_next(harness):
    # OCPP-J 4.1.1 counts a CALL while one of the device's own is outstanding; a CALL of a
    # connection that is gone can never be answered, so the first CALL of the new one is not
    # "while one was outstanding" (the session counted it until its response timeout: a false
    # remark on the BootNotification after every reboot with a request in flight).
    harness.session.on("StatusNotification", lambda p: NO_ANSWER)
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    await harness.session.expect("StatusNotification", timeout=1)
    await harness.peer.close()
    await harness.session.wait_disconnected(2)
    peer = await _reconnect_peer(harness)
    await peer.send(json.dumps([2, "b1", "BootNotification", BOOT]))
    assert json.loads(await asyncio.wait_for(peer.recv(), 2))[2]["status"] == "Accepted"
    assert harness.session.flow.calls == 2
    assert harness.session.flow.while_outstanding == 0, harness.session.flow.summary()
    await peer.close()


async def test_a_call_outstanding_on_the_same_connection_is_still_counted(harness):
    # The counterpart, so the test above cannot pass by counting nothing.
    harness.session.on("StatusNotification", lambda p: NO_ANSWER)
    await harness.peer_send([2, "s1", "StatusNotification", STATUS])
    await harness.session.expect("StatusNotification", timeout=1)
    await harness.peer_send([2, "b1", "BootNotification", BOOT])
    await harness.peer_recv()
    assert harness.session.flow.while_outstanding == 1
    assert "outstanding" in harness.session.flow.summary()


async def test_a_harness_call_on_a_replaced_connection_ends_at_once(harness):
    # The device's connection is replaced while the harness waits for an answer (a reconnect the
    # harness saw before the old socket's close): that answer can no longer come, so the call
    # ends as DeviceDisconnected when the new connection is attached, not at its timeout, and an
    # answer with its uniqueId on the new connection answers no outstanding CALL there.
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Soft"}, timeout=30))
    call = await harness.peer_recv()
    peer = await _reconnect_peer(harness)
    with pytest.raises(DeviceDisconnected, match="opened a new connection .* answer to Reset"):
        await asyncio.wait_for(task, 2)
    await peer.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    with pytest.raises(ProtocolViolation, match="answers no outstanding CALL"):
        await harness.session.expect("Heartbeat", timeout=2)
    await peer.close()


async def test_a_closed_connection_fails_only_the_calls_sent_on_it(harness):
    old = harness.session.link
    peer = await _reconnect_peer(harness)
    task = asyncio.create_task(harness.session.call("Reset", {"type": "Soft"}, timeout=5))
    call = json.loads(await asyncio.wait_for(peer.recv(), 2))
    harness.session._on_closed(old, LinkClosed(1006, "", True))  # the old reader's last word
    await peer.send(json.dumps([3, call[1], {"status": "Accepted"}]))
    assert (await asyncio.wait_for(task, 2)).status == "Accepted"
    await peer.close()


async def test_forget_drops_only_the_actions_named(harness):
    for unique_id, action, payload in (("s1", "StatusNotification", STATUS),
                                       ("b1", "BootNotification", BOOT)):
        await harness.peer_send([2, unique_id, action, payload])
        await harness.peer_recv()
    harness.session.forget("BootNotification")
    assert (await harness.session.expect("StatusNotification", timeout=1))["connectorId"] == 1
    with pytest.raises(DeviceTimeout):
        await harness.session.expect("BootNotification", timeout=0.2)
