"""The ``prompt`` driver: an operator at the terminal does the action and confirms it.

The instruction is shown in plain words with the time allowed; Enter means done, ``n`` + Enter means
it cannot be done. Standard input is read only when the event loop reports it readable
(``loop.add_reader``), so the loop never blocks and a timeout leaves no reader behind, unlike a
thread stuck in ``input()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from typing import Any, Callable, ContextManager, Iterator

from harness.drivers.base import ActionNotDone, ActionTimedOut, Driver, check_timeout, describe
from harness.verdicts import Inconclusive

NO_TERMINAL = ("no terminal on standard input to prompt the operator; "
               "use --ocpp-driver http://... or python:...")
HOW_TO_ANSWER = "Press Enter when done, or type n and Enter if it cannot be done."
_DONE = {"", "y", "yes", "done", "ok"}
_NOT_DONE = {"n", "no"}


class _EndOfInput(Exception):
    pass


class PromptDriver(Driver):
    """``stdin``/``stdout``: streams or file descriptors; None means ``sys.stdin``/``sys.stdout`` as
    they are when the prompt is shown, i.e. after pytest's capturing has been suspended.
    ``capture_manager``: pytest's capture manager, or a callable returning a context manager, to
    suspend output capturing around the prompt."""

    def __init__(self, stdin: Any = None, stdout: Any = None, *,
                 capture_manager: Any | Callable[[], ContextManager[Any]] | None = None) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._capture = capture_manager
        # Input read past an answer (a script piping several answers at once) waits for the next prompt.
        self._pending = bytearray()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    async def perform(self, action: str, params: dict, *, timeout: float) -> dict:
        timeout = check_timeout(timeout)
        instruction = describe(action, params)
        async with self._serial():
            with _capture_suspended(self._capture):
                await self._ask(instruction, timeout)
        return {}

    def _serial(self) -> asyncio.Lock:
        # One question at a time. A lock per event loop: pytest-asyncio may run each test in its own
        # loop while the driver lives for the whole session.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _ask(self, instruction: str, timeout: float) -> None:
        stdin = sys.stdin if self._stdin is None else self._stdin
        out = sys.stdout if self._stdout is None else self._stdout
        fd = _readable_fd(stdin)
        if fd is None:
            _say(out, f"\n[operator action] {instruction}\n{NO_TERMINAL}. The test case is INCONCLUSIVE.\n")
            raise ActionNotDone(f"{NO_TERMINAL} (the action was: {instruction})")
        if os.isatty(fd):
            # Keys typed before the question was shown must not confirm it.
            _discard_typeahead(fd)
            self._pending.clear()
        question = f"\n=== Operator action (you have {timeout:g} s) ===\n{instruction}\n{HOW_TO_ANSWER}\n> "
        if not _say(out, question):
            raise ActionNotDone(f"cannot show the operator the instruction, standard output is closed: "
                                f"{instruction}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        reader = _LineReader(loop, fd, self._pending)
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    answer = (await reader.next_line()).strip().lower()
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
            raise ActionTimedOut(f"the operator did not confirm within {timeout:g} s: {instruction}",
                                 timeout) from None
        except _EndOfInput:
            _say(out, "\nStandard input is at end of file. The test case is INCONCLUSIVE.\n")
            raise ActionNotDone(f"standard input reached end of file before the operator confirmed: "
                                f"{instruction} ({NO_TERMINAL})") from None
        finally:
            reader.close()


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


def _discard_typeahead(fd: int) -> None:
    try:
        import termios
    except ImportError:  # not a POSIX system: nothing to discard with
        return
    try:
        termios.tcflush(fd, termios.TCIFLUSH)
    except (termios.error, OSError):
        pass


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
