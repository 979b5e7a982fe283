"""One OCPP-J connection as a simulator sees it: send CALLs and await their answers, answer the
peer's CALLs through a handler, survive whatever else arrives.

Both simulators use it, on either end of a ``websockets`` connection. It keeps OCPP-J's rules for
the sending side: one outstanding CALL at a time (OCPP-J 4.1.1), a fresh uniqueId per CALL, the
answer on the same connection. What it receives is judged leniently: broken frames are counted and
logged (``garbage_received`` in GET /status) and answered with a CALLERROR when they carry a
uniqueId, an unknown action gets ``NotImplemented``. The wire-level faults are applied here, at
the two points where a frame leaves (:meth:`Link.call` and :meth:`Link._answer`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from harness import rpc
from harness.rpc import Call, CallError, CallResult
from harness.sim.common import EventLog, log
from harness.sim.faults import Faults


class LinkDown(Exception):
    """The connection is gone (or was never there); the CALL was not answered."""


class CallFailed(Exception):
    """The peer answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: dict | None = None):
        self.code, self.description, self.details = code, description, details or {}
        super().__init__(f"{code}: {description}")


class Reply(Exception):
    """Raised by a handler to answer with a CALLERROR instead of a result."""

    def __init__(self, code: str, description: str = ""):
        self.code, self.description = code, description
        super().__init__(f"{code}: {description}")


class Withhold(Exception):
    """Raised by a handler: the CALL gets no answer at all (a fault that sheds load silently)."""


@dataclass
class Answer:
    """A handler's result: the CALLRESULT payload, and what to do once it has been sent (a
    RemoteStartTransaction is answered before the transaction starts; a Reset before the reboot)."""
    payload: dict
    then: Callable[[], Awaitable[Any] | None] | None = None


Handler = Callable[[str, dict], Awaitable["dict | Answer"]]
FrameObserver = Callable[[str, str], None]

_validator: Any = None


def validator() -> Any:
    """The schema validator, or None while the schemas are not installed: the simulators then rely
    on their handlers' own checks (a missing field still becomes a CALLERROR)."""
    global _validator
    if _validator is None:
        try:
            from harness.validation import Validator
            _validator = Validator.default()
        except Exception as exc:  # ImportError, SchemaError: degrade, do not fail the simulator
            log.warning("schema validation unavailable in the simulators: %s", exc)
            _validator = False
    return _validator or None


class Link:
    def __init__(self, ws: Any, *, me: str, handler: Handler, faults: Faults, events: EventLog,
                 spawn: Callable[[Awaitable, str], asyncio.Task], response_timeout: float = 30.0,
                 on_frame: FrameObserver | None = None, peer_id: str = ""):
        self.ws = ws
        self.me, self.peer = me, ("csms" if me == "cp" else "cp")
        self.peer_id = peer_id
        self._handler, self._faults, self._events = handler, faults, events
        self._spawn = spawn
        self.response_timeout = response_timeout
        self._on_frame = on_frame
        self._pending: dict[str, asyncio.Future] = {}
        self._call_lock = asyncio.Lock()
        self._answering: set[asyncio.Task] = set()
        self._fixed_id: str | None = None
        self._stalled = False
        """stall_after_garbage: a frame it could not read left it answering nothing."""
        self.closed = asyncio.Event()
        self.close_code: int | None = None

    # --- sending ------------------------------------------------------------------------------

    async def send_text(self, text: str) -> None:
        if self.closed.is_set():
            raise LinkDown("connection closed")
        if self._on_frame is not None:
            self._on_frame(self.me, text)
        try:
            await self.ws.send(text)
        except ConnectionClosed as exc:
            raise LinkDown(f"connection closed: {exc}") from exc

    def _unique_id(self) -> str:
        if self._faults.get("duplicate_unique_id") is not None:
            self._fixed_id = self._fixed_id or str(uuid.uuid4())
            return self._fixed_id
        return str(uuid.uuid4())

    async def call(self, action: str, payload: dict, timeout: float | None = None) -> dict:
        """Send a CALL and return the CALLRESULT payload. Raises :class:`CallFailed` for a
        CALLERROR, :class:`LinkDown` when the connection is or goes down, TimeoutError."""
        async with self._call_lock:
            if self.closed.is_set():
                raise LinkDown("connection closed")
            unique_id = self._unique_id()
            future = asyncio.get_running_loop().create_future()
            self._pending[unique_id] = future
            try:
                await self.send_text(rpc.dumps(Call(unique_id, action,
                                                    self._faults.rewrite(action, payload))))
                return await asyncio.wait_for(future, timeout or self.response_timeout)
            except TimeoutError:
                self._events.add("answer_timeout", action=action, uniqueId=unique_id)
                raise
            finally:
                self._pending.pop(unique_id, None)
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: a cancelled caller may never look at it

    # --- receiving ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Read frames until the connection closes."""
        try:
            async for text in self.ws:
                if self._on_frame is not None:
                    self._on_frame(self.peer, text if isinstance(text, str)
                                   else text.decode("utf-8", "replace"))
                self._receive(text)
        except ConnectionClosed:
            pass
        finally:
            await self._shut()

    async def _shut(self) -> None:
        self.closed.set()
        self.close_code = getattr(self.ws, "close_code", None)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkDown("connection closed before the answer"))
        tasks = list(self._answering)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _receive(self, text: str | bytes) -> None:
        if isinstance(text, bytes):
            self._events.add("garbage_received", peer=self.peer_id, reason="binary frame",
                             size=len(text))
            return
        try:
            message = rpc.parse(text)
        except rpc.FramingError as exc:
            self._garbage(text, exc)
            return
        if isinstance(message, Call):
            task = asyncio.get_running_loop().create_task(self._answer(message))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            return
        future = self._pending.get(message.unique_id)
        if future is None or future.done():
            self._events.add("unmatched_answer", peer=self.peer_id, uniqueId=message.unique_id)
            self._stall()
            return
        if isinstance(message, CallResult):
            future.set_result(message.payload)
        else:
            future.set_exception(CallFailed(message.error_code, message.error_description,
                                            message.error_details))

    def _stall(self) -> None:
        if self._faults.get("stall_after_garbage") is not None:
            self._stalled = True

    def _garbage(self, text: str, exc: rpc.FramingError) -> None:
        if exc.message_type != rpc.CALL:
            self._stall()
        rules = [f.rule for f in exc.findings]
        self._events.add("garbage_received", peer=self.peer_id, rules=rules,
                         frame=text if len(text) <= 200 else text[:200] + "...")
        if exc.unique_id is None:
            return
        if exc.message_type == rpc.CALL:
            # OCPP-J 4.2.3, the engine's one table (harness.rpc.ERROR_CODE_FOR_RULE).
            code = rpc.error_code_for(exc.findings)
            self._spawn(self._send_error(exc.unique_id, code, "; ".join(map(str, exc.findings))),
                        "callerror")
        elif exc.message_type in (rpc.CALLRESULT, rpc.CALLERROR):
            # A broken answer still settles its call, so the caller does not wait for a timeout.
            future = self._pending.get(exc.unique_id)
            if future is not None and not future.done():
                future.set_exception(CallFailed("ProtocolError", f"malformed answer: {exc}"))

    async def _send_error(self, unique_id: str, code: str, description: str) -> None:
        try:
            await self.send_text(rpc.dumps(CallError(unique_id, self._faults.error_code(code),
                                                     description[:255], {})))
        except LinkDown:
            pass

    async def _answer(self, call: Call) -> None:
        faults, action = self._faults, call.action
        if self._stalled:
            self._events.add("answer_withheld", action=action, uniqueId=call.unique_id,
                             reason="stall_after_garbage")
            return
        v = validator()
        findings = v.validate(action, False, call.payload) if v is not None else []
        then = None
        if findings:
            self._events.add("invalid_request", peer=self.peer_id, action=action,
                             findings=[str(f) for f in findings[:5]])
            error: tuple[str, str] | None = (rpc.error_code_for(findings),
                                             "; ".join(map(str, findings))[:255])
            payload = None
        else:
            try:
                result = await self._handler(action, call.payload)
                answer = result if isinstance(result, Answer) else Answer(result)
                payload, then, error = answer.payload, answer.then, None
            except Reply as exc:
                payload, error = None, (exc.code, exc.description)
            except Withhold as exc:
                self._events.add("answer_withheld", action=action, uniqueId=call.unique_id,
                                 reason=str(exc))
                return
            except (KeyError, TypeError, ValueError) as exc:
                # Without schemas a malformed request surfaces here; it is the peer's fault.
                payload, error = None, ("FormationViolation", f"malformed {action}: {exc!r}"[:255])
            except Exception as exc:  # a simulator bug: say so on the wire rather than go silent
                log.exception("%s handler for %s failed", self.me, action)
                payload, error = None, ("InternalError", f"{action} failed: {exc!r}"[:255])
        if (p := faults.for_action("late_answer", action)) is not None:
            await asyncio.sleep(p["delay_ms"] / 1000)  # the fault: a slow answer
        if (p := faults.for_action("callerror_instead_of_result", action)) is not None and error is None:
            error, then = (p["code"], "simulated fault"), None
        if faults.for_action("no_answer", action) is not None:
            self._events.add("answer_withheld", action=action, uniqueId=call.unique_id)
        elif error is not None:
            await self._send_error(call.unique_id, *error)
        else:
            try:
                await self.send_text(rpc.dumps(CallResult(call.unique_id,
                                                          faults.rewrite(action, payload))))
            except LinkDown:
                return
        if then is not None:
            outcome = then()
            if outcome is not None:
                self._spawn(outcome, f"after-{action}")

    # --- closing ------------------------------------------------------------------------------

    async def close(self, code: int = 1000, reason: str = "") -> None:
        try:
            await asyncio.wait_for(self.ws.close(code, reason), 5)
        except (TimeoutError, ConnectionClosed, OSError):
            self.abort()

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (a power cut, a network loss)."""
        transport = getattr(self.ws, "transport", None)
        if transport is not None:
            transport.abort()
