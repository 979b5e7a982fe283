"""The ``prompt`` driver: an operator at the terminal does the action and confirms it.

Rules:

- The operator's time is the operator's, not the device's: every question gets the operator
  timeout (PICS ``[operator] timeout``, ``--ocpp-operator-timeout``, default 120 s), whatever
  bound the case gives the action from the device's timings (:meth:`action_timeout`).
- The question names the test case and the step it is at, the instruction in plain words (the
  cable wording follows the PICS hardware), the time left (a reminder at 60, 30 and 10 s).
- It ends as soon as the wire shows the action took effect (:func:`expected_effect`: the charge
  point reported Preparing on that connector, the central system sent the operation): the
  operator need not press Enter for what the harness already saw.
- Keys typed before the question are discarded, and the operator is told so.
- Enter means done, ``n`` + Enter means it cannot be done (INCONCLUSIVE), no answer in time is
  INCONCLUSIVE. Standard input is read only when the event loop reports it readable
  (``loop.add_reader``), so the loop never blocks and a timeout leaves no reader behind, unlike a
  thread stuck in ``input()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
import stat
import sys
import time
from typing import Any, Callable, ContextManager, Iterator

from harness.drivers.base import (ActionNotDone, ActionTimedOut, Driver, check_timeout, describe,
                                  is_csms_action)
from harness.verdicts import Inconclusive

NO_TERMINAL = ("no terminal on standard input to prompt the operator; "
               "use --ocpp-driver http://... or python:...")
HOW_TO_ANSWER = "Press Enter when done, or type n and Enter if it cannot be done."
_DONE = {"", "y", "yes", "done", "ok"}
_NOT_DONE = {"n", "no"}
REMINDERS = (60.0, 30.0, 10.0)
"""Seconds left at which the question says how long is left."""

_PLUGGED = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE")

Effect = tuple[str, Callable[[str, dict], str | None]]
"""(what the harness watches for, in words; request action and payload -> what it saw, or None)."""


def _status(connector: Any, statuses: tuple[str, ...] | None = None,
            error_code: str | None = None) -> Callable[[str, dict], str | None]:
    def seen(action: str, payload: dict) -> str | None:
        if action != "StatusNotification" or payload.get("connectorId") != connector:
            return None
        if statuses is not None and payload.get("status") not in statuses:
            return None
        if error_code is not None and payload.get("errorCode") != error_code:
            return None
        return (f"the charge point reported {payload.get('status')} "
                f"({payload.get('errorCode')}) on connector {connector}")
    return seen


def expected_effect(action: str, params: dict) -> Effect | None:
    """What on the wire shows that the operator did ``action``, or None when nothing does."""
    c = params.get("connectorId")
    if action == "plug_in":
        return f"connector {c} reporting Preparing", _status(c, _PLUGGED)
    if action == "ev_suspend":
        return f"connector {c} reporting SuspendedEV", _status(c, ("SuspendedEV",))
    if action == "ev_resume":
        return f"connector {c} reporting Charging", _status(c, ("Charging",))
    if action == "report_fault":
        code = params.get("errorCode")
        return f"connector {c} reporting {code}", _status(c, None, code)
    if action == "clear_fault":
        return f"connector {c} reporting NoError", _status(c, None, "NoError")
    if action == "present_id_tag":
        tag = str(params.get("idTag", "")).casefold()

        def seen(request_action: str, payload: dict) -> str | None:
            if request_action in ("Authorize", "StartTransaction", "StopTransaction") and \
                    str(payload.get("idTag", "")).casefold() == tag:
                return f"the charge point sent {request_action} for {payload.get('idTag')!r}"
            return None
        return f"an Authorize (or StartTransaction) for {params.get('idTag')!r}", seen
    if action in ("power_cycle", "power_on", "reset_device"):
        return "a BootNotification", lambda a, p: (
            "the charge point sent BootNotification" if a == "BootNotification" else None)
    if is_csms_action(action):
        return f"{action} from the central system", lambda a, p: (
            f"the central system sent {action}" if a == action else None)
    return None


def cable_wording(action: str, params: dict, features: Any) -> str | None:
    """The plug-in and unplug instructions in the words of the connector's hardware (PICS
    ``features.cable`` and ``unplug_at_ev``), or None for the generic wording."""
    if features is None or action not in ("plug_in", "unplug", "remove_cable"):
        return None
    c = params.get("connectorId", "?")
    cable = getattr(features, "cable", "fixed" if getattr(features, "fixed_cable", False)
                    else "socket_with_lock")
    if cable == "fixed":
        if action == "plug_in":
            return f"Plug the charge point's fixed cable of connector {c} into the EV."
        if action == "unplug":
            return f"Unplug the charge point's fixed cable of connector {c} from the EV."
        return None
    if action == "plug_in":
        return (f"Plug the EV charging cable into the socket of connector {c} and into the EV"
                + (" (the socket locks it)." if cable == "socket_with_lock" else "."))
    if action == "unplug":
        if getattr(features, "unplug_at_ev", "cable_leaves") == "cable_stays":
            return (f"Unplug the cable at the EV end only (connector {c}); leave it in the "
                    f"charge point's socket.")
        return (f"Unplug the cable from the EV (connector {c}); take it out of the socket too "
                f"if the charge point releases it.")
    return None


class _EndOfInput(Exception):
    pass


class PromptDriver(Driver):
    """``stdin``/``stdout``: streams or file descriptors; None means ``sys.stdin``/``sys.stdout`` as
    they are when the prompt is shown, i.e. after pytest's capturing has been suspended.
    ``capture_manager``: pytest's capture manager, or a callable returning a context manager, to
    suspend output capturing around the prompt. ``operator_timeout``: seconds per question.
    :meth:`watch` gives it the session whose requests end a question early."""

    def __init__(self, stdin: Any = None, stdout: Any = None, *,
                 capture_manager: Any | Callable[[], ContextManager[Any]] | None = None,
                 operator_timeout: float | None = None) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._capture = capture_manager
        self.operator_timeout = None if operator_timeout is None else check_timeout(operator_timeout)
        """Seconds per question; None: the bound the case gives (the plugin always sets it)."""
        self.case_title: str | None = None
        """The test case under way ("TC_003_CS Regular Charging Session - Plugin First")."""
        self._session: Any = None
        self.features: Any = None
        """The PICS ``[features]``: the cable wording follows the hardware."""
        # Input read past an answer (a script piping several answers at once) waits for the next prompt.
        self._pending = bytearray()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def watch(self, session: Any) -> None:
        """End questions early on the requests of ``session`` (``request_observers``)."""
        self._session = session

    def action_timeout(self, timeout: float) -> float:
        return timeout if self.operator_timeout is None else self.operator_timeout

    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        timeout = check_timeout(timeout)
        instruction = cable_wording(action, params, self.features) or describe(action, params)
        step = _step_of_caller()
        async with self._serial():
            with _capture_suspended(self._capture):
                await self._ask(instruction, timeout, expected_effect(action, params), step)
        return {}

    def _serial(self) -> asyncio.Lock:
        # One question at a time. A lock per event loop: pytest-asyncio may run each test in its own
        # loop while the driver lives for the whole session.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _ask(self, instruction: str, timeout: float, effect: Effect | None = None,
                   step: str | None = None) -> None:
        stdin = sys.stdin if self._stdin is None else self._stdin
        out = sys.stdout if self._stdout is None else self._stdout
        fd = _readable_fd(stdin)
        if fd is None:
            _say(out, f"\n[operator action] {instruction}\n{NO_TERMINAL}. The test case is INCONCLUSIVE.\n")
            raise ActionNotDone(f"{NO_TERMINAL} (the action was: {instruction})")
        ignored = False
        if os.isatty(fd):
            # Keys typed before the question was shown must not confirm it.
            ignored = _discard_typeahead(fd) or bool(self._pending)
            self._pending.clear()
        until = time.strftime("%H:%M:%S", time.localtime(time.time() + timeout))
        title = " for " + self.case_title if self.case_title else ""
        question = (f"\n=== Operator action{title} ===\n"
                    + (f"At {step}\n" if step else "")
                    + f"{instruction}\n"
                    + f"You have {timeout:g} s (until {until}). {HOW_TO_ANSWER}\n"
                    + (f"The harness carries on by itself when it sees {effect[0]}.\n"
                       if effect and self._session is not None else "")
                    + ("(Keys typed before this question were ignored.)\n" if ignored else "")
                    + "> ")
        if not _say(out, question):
            raise ActionNotDone(f"cannot show the operator the instruction, standard output is closed: "
                                f"{instruction}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: asyncio.Future[str] = loop.create_future()
        observer = None
        if effect is not None and self._session is not None:
            def observer(request: Any) -> None:
                if not seen.done():
                    text = effect[1](request.action, request.payload)
                    if text:
                        seen.set_result(text)
            self._session.request_observers.append(observer)
        reminders = [deadline - left for left in REMINDERS if left < timeout]
        reader = _LineReader(loop, fd, self._pending)
        line: asyncio.Future[str] | None = None
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    if line is None:
                        line = asyncio.ensure_future(reader.next_line())
                    reminders = [t for t in reminders if t > loop.time()]
                    wake = min(reminders) - loop.time() if reminders else None
                    await asyncio.wait({line, seen}, timeout=wake,
                                       return_when=asyncio.FIRST_COMPLETED)
                    if seen.done():
                        _say(out, f"\nSeen on the wire: {seen.result()}. Carrying on; no need "
                                  f"to press Enter.\n")
                        return
                    if not line.done():
                        _say(out, f"\n[{max(0.0, deadline - loop.time()):.0f} s left] > ")
                        continue
                    answer = line.result().strip().lower()
                    line = None
                    if answer in _DONE:
                        _say(out, "Done, thank you.\n")
                        return
                    if answer in _NOT_DONE:
                        _say(out, "Noted: it could not be done. The test case is INCONCLUSIVE.\n")
                        raise ActionNotDone(f"the operator reported that this could not be done: "
                                            f"{instruction}")
                    _say(out, f"Not understood: {answer!r}. {HOW_TO_ANSWER} "
                              f"({max(0.0, deadline - loop.time()):.0f} s left)\n> ")
        except TimeoutError:
            _say(out, f"\nNo answer within {timeout:g} s. The test case is INCONCLUSIVE.\n")
            which = " (the operator timeout)" if self.operator_timeout is not None else ""
            raise ActionTimedOut(f"the operator did not confirm within {timeout:g} s{which}: "
                                 f"{instruction}", timeout) from None
        except _EndOfInput:
            _say(out, "\nStandard input is at end of file. The test case is INCONCLUSIVE.\n")
            raise ActionNotDone(f"standard input reached end of file before the operator confirmed: "
                                f"{instruction} ({NO_TERMINAL})") from None
        finally:
            if line is not None and not line.done():
                line.cancel()
                with contextlib.suppress(BaseException):
                    await line
            if observer is not None:
                with contextlib.suppress(ValueError):
                    self._session.request_observers.remove(observer)
            reader.close()


_STEP = re.compile(r"\s*#\s*(\d+[a-z]?(?:\s*[-\u2013]\s*\d+[a-z]?)?)\.\s*(.*)")


def _step_of_caller() -> str | None:
    """The OCTT step the test case is at: the nearest "# 2. ..." comment above the line of the
    test function that is waiting for this action (the cases number their steps so)."""
    frame = inspect.currentframe()
    try:
        while frame is not None and not frame.f_code.co_name.startswith("test_"):
            frame = frame.f_back
        if frame is None:
            return None
        try:
            lines, first = inspect.getsourcelines(frame.f_code)
        except (OSError, TypeError):
            return None
        for text in reversed(lines[:max(0, frame.f_lineno - first) + 1]):
            match = _STEP.match(text)
            if match:
                return f"step {match.group(1)}: {match.group(2).strip()}"
        return None
    finally:
        del frame


class _LineReader:
    """Lines from a terminal or pipe, read only when the loop says the descriptor is readable."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, buffer: bytearray) -> None:
        self._loop, self._fd, self._buf = loop, fd, buffer
        self._waiter: asyncio.Future[None] | None = None
        self._eof = False
        self._error: OSError | None = None
        self._registered = False

    async def next_line(self) -> str:
        while True:
            if b"\n" in self._buf:
                end = self._buf.index(b"\n")
                line = bytes(self._buf[:end])
                del self._buf[:end + 1]
                return line.decode(errors="replace")
            if self._error is not None:
                raise Inconclusive(f"could not read the operator's answer from standard input: {self._error}")
            if self._eof:
                if self._buf:  # a last answer without a newline still counts
                    line = bytes(self._buf)
                    self._buf.clear()
                    return line.decode(errors="replace")
                raise _EndOfInput
            if not self._registered:
                try:
                    self._loop.add_reader(self._fd, self._on_readable)
                except NotImplementedError:
                    raise Inconclusive("this event loop cannot wait for standard input; "
                                       "use --ocpp-driver http://... or python:...") from None
                self._registered = True
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _on_readable(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._error, data = exc, b""
        if data:
            self._buf += data
        else:
            # At end of file the descriptor stays readable for ever: stop watching it.
            self._eof = True
            self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        if self._registered:
            self._loop.remove_reader(self._fd)
            self._registered = False


def _readable_fd(stream: Any) -> int | None:
    """The descriptor to read answers from, or None when there is no terminal or pipe to ask on."""
    if stream is None or getattr(stream, "closed", False):
        return None
    if isinstance(stream, int):
        fd = stream
    else:
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # pytest's stand-in stdin has no descriptor
            return None
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return None
    if os.isatty(fd) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
        return fd
    return None  # /dev/null, a regular file: nobody is there to answer


def _discard_typeahead(fd: int) -> bool:
    """Drop what was typed before the question; whether there was anything."""
    try:
        import select
        import termios
    except ImportError:  # not a POSIX system: nothing to discard with
        return False
    try:
        waiting = bool(select.select([fd], [], [], 0)[0])
        termios.tcflush(fd, termios.TCIFLUSH)
    except (termios.error, OSError, ValueError):
        return False
    return waiting


def _say(out: Any, text: str) -> bool:
    try:
        if isinstance(out, int):
            os.write(out, text.encode())
        else:
            out.write(text)
            out.flush()
        return True
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def _capture_suspended(capture: Any) -> Iterator[None]:
    if capture is None:
        yield
    elif hasattr(capture, "global_and_fixture_disabled"):  # pytest's CaptureManager
        with capture.global_and_fixture_disabled():
            # That gives the terminal back to stdout but leaves stdin on /dev/null. Release stdin too,
            # as pytest's own pdb support does; resuming global capture afterwards resumes stdin with it.
            capture.suspend_global_capture(in_=True)
            yield
    else:
        with capture():
            yield
